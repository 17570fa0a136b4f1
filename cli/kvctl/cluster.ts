// `member list`, `shard list` and `endpoint status|health`: the operator's view. Members and shards
// come from whichever node answers (each answers from its own view, see admin.proto); endpoint
// commands ask every endpoint in turn, without failover, since the point is to see each one.

import type { Argv } from "yargs";
import type { MemberListResponse, RangeResponse, StatusResponse } from "../../proto/index.js";
import type { shardkv } from "../../proto/index.js";
import { call, type Connection, metadata } from "./client.js";
import { action, type Context, type GlobalArgs } from "./command.js";
import { toKvctlError } from "./errors.js";
import { ExitCode } from "./exit_codes.js";

export function clusterCommands(y: Argv<GlobalArgs>): Argv<GlobalArgs> {
  return y
    .command("member", "The cluster's members", (member) =>
      member
        .command("list", "List the members with their ids and addresses", (c) => c.example("$0 member list", "every member"), (args) => action<GlobalArgs>("list members", memberList)(args))
        .demandCommand(1, "Name a member command: list"),
    )
    .command("shard", "The cluster's shards", (shard) =>
      shard
        .command(
          "list",
          "List the shards: hash range, replicas, leader, term, applied index and size, as the answering node sees them",
          (c) => c.example("$0 shard list", "every shard").example("$0 shard list --endpoints 127.0.0.1:22379", "as the second node sees them"),
          (args) => action<GlobalArgs>("list shards", shardList)(args),
        )
        .demandCommand(1, "Name a shard command: list"),
    )
    .command("endpoint", "Check each endpoint", (endpoint) =>
      endpoint
        .command(
          "status",
          "Each endpoint's member id, version, database size, Raft term and indexes (of its first data shard)",
          (c) => c.example("$0 endpoint status", "every endpoint in --endpoints"),
          (args) => action<GlobalArgs>("read endpoint status", endpointStatus)(args),
        )
        .command(
          "health",
          "Whether each endpoint serves a linearizable read, and how long it took (exit 3 if any does not)",
          (c) => c.example("$0 endpoint health", "every endpoint in --endpoints"),
          (args) => action<GlobalArgs>("check endpoint health", endpointHealth)(args),
        )
        .demandCommand(1, "Name an endpoint command: status or health"),
    );
}

const hex = (id: string): string => BigInt(id).toString(16);

async function memberList(_args: GlobalArgs, { client, out }: Context): Promise<void> {
  const response = await client.unary("list members", "read", (c) =>
    call<MemberListResponse>((cb) => c.client(c.etcd().Cluster).MemberList({ linearizable: false }, metadata(), client.deadline(), cb)),
  );
  const members = response.members.map((m) => ({ id: hex(m.ID), name: m.name, peers: m.peerURLs.join(","), clients: m.clientURLs.join(","), learner: m.isLearner }));
  out.print({
    table: () => ({ header: ["ID", "NAME", "PEER_ADDRS", "CLIENT_ADDRS", "LEARNER"], rows: members.map((m) => [m.id, m.name, m.peers, m.clients, String(m.learner)]) }),
    json: () => ({ members }),
    simple: () => members.map((m) => `${m.id}, started, ${m.name}, ${m.peers}, ${m.clients}, ${m.learner}`),
  });
}

/** Bytes as a person reads them: 0 B, 12.3 KiB, 4.0 MiB. */
export function humanBytes(bytes: number): string {
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return unit === 0 ? `${value} B` : `${value.toFixed(1)} ${units[unit]}`;
}

async function shardList(_args: GlobalArgs, { client, out }: Context): Promise<void> {
  const response = await client.unary("list shards", "read", (c) =>
    call<shardkv.ShardMapResponse>((cb) => c.client(c.shardkv().Admin).ShardMap({ shard_ids: [] }, metadata(), client.deadline(), cb)),
  );
  const range = (s: shardkv.ShardStatus): string => `[${hex32(String(s.hash_start))}, ${hex32(s.hash_end)})`;
  const leader = (s: shardkv.ShardStatus): string => (s.leader === "0" ? "none" : s.leader);
  out.print({
    table: () => ({
      header: ["SHARD", "HASH_RANGE", "REPLICAS", "LEADER", "TERM", "APPLIED", "SIZE", "HERE"],
      rows: response.shards.map((s) => [String(s.id), range(s), s.replicas.join(","), leader(s), s.term, s.applied_index, humanBytes(Number(s.size_bytes)), s.held_here ? "yes" : "no"]),
    }),
    json: () => ({
      member_id: hex(response.member_id),
      map_epoch: Number(response.map_epoch),
      shards: response.shards.map((s) => ({
        id: s.id,
        hash_start: s.hash_start,
        hash_end: Number(s.hash_end),
        replicas: s.replicas.map(Number),
        leader: Number(s.leader),
        term: Number(s.term),
        committed_index: Number(s.committed_index),
        applied_index: Number(s.applied_index),
        size_bytes: Number(s.size_bytes),
        epoch: Number(s.epoch),
        held_here: s.held_here,
      })),
    }),
    simple: () => response.shards.map((s) => `${s.id}, ${range(s)}, replicas ${s.replicas.join(" ")}, leader ${leader(s)}, term ${s.term}, applied ${s.applied_index}, ${s.size_bytes} bytes`),
  });
  if (out.format === "table") out.note(`kvctl: shard map epoch ${response.map_epoch} as member ${hex(response.member_id)} sees it; replicas and leaders are Raft node ids (1 for the first member in --initial-cluster)`);
}

/** A point of the 32-bit hash space in fixed-width hex (the last shard ends at 2^32). */
function hex32(value: string): string {
  return `0x${BigInt(value).toString(16).padStart(8, "0")}`;
}

/** One call on one endpoint, without failover: the endpoint's own answer or its failure. */
async function onEach<T>(client: Context["client"], what: string, run: (c: Connection) => Promise<T>): Promise<{ address: string; result?: T; error?: string }[]> {
  return await Promise.all(
    client.all().map(async (c) => {
      try {
        await c.ready(client.options.dialTimeoutMs);
        return { address: c.address, result: await run(c) };
      } catch (error) {
        return { address: c.address, error: toKvctlError(error, what).message };
      }
    }),
  );
}

async function endpointStatus(_args: GlobalArgs, { client, out }: Context): Promise<number> {
  const answers = await onEach(client, "read the status", (c) =>
    call<StatusResponse>((cb) => c.client(c.etcd().Maintenance).Status({}, metadata(), client.deadline(), cb)),
  );
  const ok = answers.flatMap((a) => (a.result === undefined ? [] : [{ address: a.address, status: a.result }]));
  out.print({
    table: () => ({
      header: ["ENDPOINT", "ID", "VERSION", "DB_SIZE", "LEADER", "TERM", "INDEX", "APPLIED", "ERRORS"],
      rows: ok.map(({ address, status: s }) => [address, hex(s.header?.member_id ?? "0"), s.version, humanBytes(Number(s.dbSize)), hex(s.leader), s.raftTerm, s.raftIndex, s.raftAppliedIndex, s.errors.join("; ")]),
    }),
    json: () =>
      answers.map((a) =>
        a.result === undefined
          ? { endpoint: a.address, error: a.error }
          : { endpoint: a.address, member_id: hex(a.result.header?.member_id ?? "0"), version: a.result.version, db_size: Number(a.result.dbSize), leader: hex(a.result.leader), raft_term: Number(a.result.raftTerm), raft_index: Number(a.result.raftIndex), raft_applied_index: Number(a.result.raftAppliedIndex), errors: a.result.errors },
      ),
    simple: () => ok.map(({ address, status: s }) => `${address}, ${hex(s.header?.member_id ?? "0")}, ${s.version}, ${s.dbSize}, leader ${hex(s.leader)}, term ${s.raftTerm}, index ${s.raftIndex}, applied ${s.raftAppliedIndex}`),
  });
  return reportFailures(answers);
}

async function endpointHealth(_args: GlobalArgs, { client, out }: Context): Promise<number> {
  // etcdctl's check: a linearizable read of one key, which needs its shard's leader and a quorum.
  const answers = await onEach(client, "read through it", async (c) => {
    const started = process.hrtime.bigint();
    await call<RangeResponse>((cb) => c.client(c.etcd().KV).Range({ key: Buffer.from("health") }, metadata(), client.deadline(), cb));
    return Number(process.hrtime.bigint() - started) / 1e6;
  });
  const took = (ms: number | undefined): string => (ms === undefined ? "" : `${ms.toFixed(1)}ms`);
  out.print({
    table: () => ({ header: ["ENDPOINT", "HEALTH", "TOOK", "ERROR"], rows: answers.map((a) => [a.address, String(a.error === undefined), took(a.result), a.error ?? ""]) }),
    json: () => answers.map((a) => ({ endpoint: a.address, health: a.error === undefined, ...(a.result === undefined ? {} : { took_ms: a.result }), ...(a.error === undefined ? {} : { error: a.error }) })),
    simple: () => answers.map((a) => (a.error === undefined ? `${a.address} is healthy: successfully served a linearizable read: took = ${took(a.result)}` : `${a.address} is unhealthy: ${a.error}`)),
  });
  return answers.some((a) => a.error !== undefined) ? ExitCode.unavailable : ExitCode.ok;
}

function reportFailures(answers: readonly { address: string; error?: string }[]): number {
  const failed = answers.filter((a) => a.error !== undefined);
  for (const a of failed) process.stderr.write(`kvctl: ${a.address}: ${a.error}\n`);
  return failed.length > 0 ? ExitCode.unavailable : ExitCode.ok;
}
