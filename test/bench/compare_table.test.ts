import { describe, expect, it } from "vitest";
import {
  batchingTable,
  type Cell,
  type CellFigures,
  cellOfRounds,
  combineRounds,
  countersGained,
  markdownReport,
  markdownTable,
  metricSum,
  ratio,
  README_END,
  README_START,
  type ServerCounters,
  serverCounters,
  targetVerdicts,
  withLatestTable,
} from "./compare_table.js";

const figures = (ops_per_s: number, p50_ms: number, p99_ms: number, errors = 0): CellFigures => ({ ops: ops_per_s * 10, errors, ops_per_s, p50_ms, p99_ms, cpu_ms_per_op: 0.5 });
const cell = (op: string, clients: number, etcd: CellFigures, shardkv: CellFigures): Cell => ({ op, clients, etcd, shardkv });

describe("the bench:compare table", () => {
  it("divides shardkv's throughput by etcd's, and says so when etcd did nothing", () => {
    expect(ratio(cell("put", 64, figures(1000, 1, 2), figures(1500, 1, 2)))).toBe(1.5);
    expect(ratio(cell("put", 64, figures(0, 0, 0), figures(10, 1, 2)))).toBe(Infinity);
    expect(markdownTable([cell("put", 64, figures(0, 0, 0), figures(10, 1, 2))])).toContain("| ∞ |");
  });

  it("has a row per cell with both systems' figures, and errors next to the throughput they cost", () => {
    const table = markdownTable([cell("get", 1, figures(2000, 0.4, 0.9), figures(2500, 0.3, 0.8, 7))]);
    const row = table.split("\n")[2]!;
    expect(row).toBe("| get (linearizable) | 1 | 2,000 | 0.40 / 0.90 | 0.50 | 2,500 (7 errors) | 0.30 / 0.80 | 0.50 | 1.25 |");
  });

  it("judges the targets only on the loaded cells, and the single client's linearizable read on its own", () => {
    const cells = [
      cell("put", 1, figures(500, 2, 5), figures(100, 9, 30)), // one client: no throughput target
      cell("put", 64, figures(1000, 10, 50), figures(1200, 9, 60)), // faster, but a worse p99
      cell("sget", 256, figures(3000, 50, 90), figures(2000, 60, 80)), // slower, better p99
      cell("get", 1, figures(900, 0.5, 1.2), figures(1000, 0.4, 0.7)),
    ];
    const verdicts = targetVerdicts(cells);
    expect(verdicts[0]).toBe("not met: throughput below etcd's in 1 of 2 cells of 64+ clients (sget×256)");
    expect(verdicts[1]).toBe("not met: p99 worse than etcd's in 1 of 2 cells of 64+ clients (put×64)");
    expect(verdicts[2]).toBe("met: one client's linearizable-read p99 is 0.700 ms (target < 1 ms)");
    const fast = targetVerdicts([cell("mixed", 64, figures(1000, 10, 50), figures(1100, 9, 40))]);
    expect(fast).toEqual(["met: throughput ≥ etcd's in all 1 cells of 64+ clients", "met: p99 no worse than etcd's in all 1 cells of 64+ clients"]);
  });

  it("sets one client's linearizable-read p99 beside the floor, and reports the floor under the table", () => {
    const cells = [cell("get", 1, figures(900, 0.7, 3.1), figures(1800, 0.45, 2.4))];
    const floor = { ops: 17_000, errors: 0, ops_per_s: 1_700, p50_ms: 0.5, p99_ms: 2.25 };
    expect(targetVerdicts(cells, floor)).toEqual([
      "met: throughput ≥ etcd's in all 0 cells of 64+ clients",
      "met: p99 no worse than etcd's in all 0 cells of 64+ clients",
      "not met: one client's linearizable-read p99 is 2.400 ms (target < 1 ms; a server that does nothing: 2.250 ms)",
    ]);
    const machine = { date: "2026-12-03", cpu: "cpu", cores: 2, memoryGiB: 24, node: "v20", etcd: "3.4", commit: "abc", shardkvMalloc: "jemalloc" };
    const settings = { durationS: 10, rounds: 1, keys: 10_000, valueSize: 256, shards: 8, conns: 8, leaderPlacement: "pack" as const };
    const report = markdownReport(cells, machine, settings, floor);
    expect(report).toContain("gets 1,700 ops/s at p50 / p99 0.50 / 2.25 ms");
    expect(report.indexOf("Floor:")).toBeGreaterThan(report.indexOf("not met: one client's"));
    expect(markdownReport(cells, machine, settings)).not.toContain("Floor:");
  });

  it("combines a system's rounds into medians of its figures and sums of its counts", () => {
    const run = (opsPerS: number, p99: number, cpuMs: number, fsyncs: number): CellFigures => ({ ...figures(opsPerS, 1, p99), cpu_ms_per_op: cpuMs, counters: { fsyncs, readies: 2 * fsyncs } });
    const combined = combineRounds([run(1000, 50, 0.3, 100), run(1300, 40, 0.2, 130), run(700, 90, 0.5, 70)]);
    expect(combined).toEqual({ ops: 30_000, errors: 0, ops_per_s: 1000, p50_ms: 1, p99_ms: 50, cpu_ms_per_op: 0.3, counters: { fsyncs: 300, readies: 600 } });
    expect(combineRounds([run(1000, 50, 0.3, 100), run(1200, 60, 0.4, 100)]).ops_per_s).toBe(1100);
    // A counter that one round lacks is left out rather than undercounted.
    expect(combineRounds([run(1000, 50, 0.3, 100), figures(1000, 1, 50)]).counters).toEqual({});
    expect(() => combineRounds([])).toThrow(RangeError);
  });

  it("shows each round's ratio as a range, and says which shortfalls held in every round", () => {
    const steady = cellOfRounds("put", 64, [figures(1000, 10, 50), figures(1000, 10, 50), figures(1000, 10, 50)], [figures(900, 11, 60), figures(950, 11, 60), figures(800, 11, 60)]);
    const mixed = cellOfRounds("put", 256, [figures(1000, 10, 50), figures(1000, 10, 50), figures(1000, 10, 50)], [figures(900, 11, 40), figures(1100, 11, 40), figures(980, 11, 40)]);
    expect(steady.roundRatios).toEqual([0.9, 0.95, 0.8]);
    expect(ratio(mixed)).toBe(0.98);
    const table = markdownTable([steady, mixed]).split("\n");
    expect(table[0]).toContain("| shardkv / etcd | per round |");
    expect(table[2]).toMatch(/\| 0\.90 \| 0\.80–0\.95 \|$/);
    expect(table[3]).toMatch(/\| 0\.98 \| 0\.90–1\.10 \|$/);
    expect(targetVerdicts([steady, mixed])[0]).toBe("not met: throughput below etcd's in 2 of 2 cells of 64+ clients (put×64, put×256; below in every round: put×64)");
    expect(markdownTable([cell("put", 64, figures(1000, 10, 50), figures(900, 11, 60))])).not.toContain("per round");
    expect(() => cellOfRounds("get", 1, [figures(1, 1, 1)], [])).toThrow(RangeError);
    const machine = { date: "2026-12-03", cpu: "cpu", cores: 2, memoryGiB: 24, node: "v20", etcd: "3.4", commit: "abc", shardkvMalloc: "jemalloc" };
    const settings = { durationS: 10, rounds: 3, keys: 10_000, valueSize: 256, shards: 8, conns: 8, leaderPlacement: "pack" as const };
    expect(markdownReport([steady], machine, settings)).toContain("3 rounds of every cell: each figure is the median over the rounds");
    expect(markdownReport([steady], machine, { ...settings, rounds: 1 })).not.toContain("rounds of every cell");
  });

  it("replaces what lies between the README's markers and nothing else", () => {
    const readme = `# title\n\n${README_START}\nold table\n${README_END}\n\nafter\n`;
    const updated = withLatestTable(readme, "new table\n");
    expect(updated).toBe(`# title\n\n${README_START}\nnew table\n${README_END}\n\nafter\n`);
    expect(withLatestTable(updated, "newer\n")).toBe(`# title\n\n${README_START}\nnewer\n${README_END}\n\nafter\n`);
    expect(withLatestTable("no markers here\n", "table")).toBe("no markers here\n");
  });

  it("sums a counter over its labels and over the members, and takes the difference of two scrapes", () => {
    const etcdMember = "# HELP etcd_disk_wal_fsync_duration_seconds x\netcd_disk_wal_fsync_duration_seconds_count 40\netcd_disk_wal_fsync_duration_seconds_sum 0.2\n";
    const shardkvMember = (n: number): string =>
      `shardkv_wal_fsync_duration_seconds_count ${n}\nshardkv_raft_readies_total ${2 * n}\nshardkv_raft_entries_written_total ${3 * n}\n` +
      `shardkv_raft_messages_sent_total ${5 * n}\nshardkv_reads_total{consistency="linearizable"} 7\nshardkv_reads_total{consistency="serializable"} 8\n`;
    expect(metricSum(shardkvMember(1), "shardkv_reads_total")).toBe(15);
    expect(metricSum(shardkvMember(1), "shardkv_raft_readies")).toBeUndefined();
    expect(serverCounters([etcdMember, etcdMember])).toEqual({ fsyncs: 80 });
    const before = serverCounters([shardkvMember(1), shardkvMember(2)]);
    expect(before).toEqual({ fsyncs: 3, readies: 6, entriesWritten: 9, raftMessages: 15 });
    expect(countersGained(before, serverCounters([shardkvMember(11), shardkvMember(12)]))).toEqual({ fsyncs: 20, readies: 40, entriesWritten: 60, raftMessages: 100 });
    expect(countersGained({ fsyncs: 1 }, { fsyncs: 4, readies: 9 })).toEqual({ fsyncs: 3 });
  });

  it("shows batching per operation for the cells that write, and leaves it out when nothing was counted", () => {
    const withCounters = (f: CellFigures, counters: ServerCounters): CellFigures => ({ ...f, counters });
    const cells = [
      cell("put", 64, withCounters(figures(1000, 10, 50), { fsyncs: 5_000 }), withCounters(figures(800, 12, 60), { fsyncs: 2_000, readies: 16_000, entriesWritten: 24_000, raftMessages: 32_000 })),
      cell("get", 64, withCounters(figures(1000, 10, 50), { fsyncs: 0 }), withCounters(figures(1200, 9, 40), { fsyncs: 0, readies: 100, entriesWritten: 0, raftMessages: 300 })),
    ];
    const table = batchingTable(cells)!;
    const rows = table.split("\n");
    expect(rows).toHaveLength(3);
    // 8,000 shardkv operations and 10,000 etcd ones in the 10 s of the cell.
    expect(rows[2]).toBe("| put | 64 | 0.50 | 0.25 | 2.00 | 1.50 | 4.00 |");
    expect(batchingTable([cell("put", 64, figures(1000, 10, 50), figures(800, 12, 60))])).toBeUndefined();
    const machine = { date: "2026-12-03", cpu: "cpu", cores: 2, memoryGiB: 24, node: "v20", etcd: "3.4", commit: "abc", shardkvMalloc: "jemalloc" };
    const settings = { durationS: 10, rounds: 1, keys: 10_000, valueSize: 256, shards: 8, conns: 8, leaderPlacement: "pack" as const };
    expect(markdownReport(cells, machine, settings)).toContain(table);
    expect(markdownReport(cells, machine, settings)).toContain("leaders packed on one node (`--leader-placement pack`");
    expect(markdownReport(cells, machine, { ...settings, leaderPlacement: "spread" })).toContain("leaders spread over the nodes");
    expect(markdownReport([cell("put", 64, figures(1000, 10, 50), figures(800, 12, 60))], machine, settings)).not.toContain("Readies/op");
  });
});
