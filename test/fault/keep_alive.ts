// A lease kept alive over etcd's LeaseKeepAlive stream, as etcd's clients do (a request every third
// of the TTL), moving to another live node when the stream breaks. It keeps what the checkers need:
// until when the lease is provably alive, i.e. the latest (sent time + TTL) of a request that the
// server answered with TTL > 0 (it renewed at or after we sent it), the TTL measured on a leader's wall
// clock that may run up to CLOCK_SKEW_MAX fast (the `clock` nemesis): `provenLifeMs`.

import * as grpc from "@grpc/grpc-js";
import type * as t from "../../proto/etcd_types.js";
import { type NodeClients, now } from "./clients.js";
import { CLOCK_SKEW_MAX } from "./nemesis.js";

/**
 * The real time a lease surely lives once renewed: its TTL on a leader's wall clock, which within the
 * bound runs at most CLOCK_SKEW_MAX fast (steps are only ever back). A leader promoted later starts a
 * whole TTL again from its promotion (shard/mvcc/lease_clock.ts), on its own clock: offsets between
 * nodes do not shorten it.
 */
export const provenLifeMs = (ttlMs: number): number => ttlMs / (1 + CLOCK_SKEW_MAX);

export class KeepAlive {
  /** performance.now() ms until which the lease surely lives (server wall clocks within the bound). */
  aliveUntilMs: number;
  /** The server said the lease is gone (TTL 0). */
  lost = false;
  private stream: ReturnType<NodeClients["lease"]["LeaseKeepAlive"]> | undefined;
  private readonly sentAt: number[] = [];
  /** What happened to the keep-alives, one line each (for a failing run's leases.json). */
  readonly journal: string[] = [];
  private nodeName = "";
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private turn = 0;

  constructor(
    private readonly nodes: readonly NodeClients[],
    readonly leaseId: string,
    private readonly ttlMs: number,
    grantCallMs: number,
    firstNode: number,
  ) {
    this.aliveUntilMs = grantCallMs + provenLifeMs(ttlMs);
    this.turn = firstNode;
  }

  start(): void {
    this.open();
    this.timer = setInterval(() => this.send(), this.ttlMs / 3);
    this.send();
  }

  stop(): void {
    this.stopped = true;
    clearInterval(this.timer);
    this.stream?.cancel();
    this.stream = undefined;
  }

  private open(): void {
    const alive = this.nodes.filter((n) => n.node.process !== undefined);
    const node = alive[this.turn++ % Math.max(1, alive.length)] ?? this.nodes[0]!;
    const stream = node.lease.LeaseKeepAlive(new grpc.Metadata(), {});
    this.sentAt.length = 0;
    this.nodeName = node.node.name;
    stream.on("data", (response: t.LeaseKeepAliveResponse) => {
      const sent = this.sentAt.shift();
      this.journal.push(`${at(now())} ${node.node.name} answered the keep-alive sent at ${sent === undefined ? "?" : at(sent)}: TTL ${response.TTL}`);
      if (Number(response.TTL) <= 0) this.lost = true;
      else if (sent !== undefined) this.aliveUntilMs = Math.max(this.aliveUntilMs, sent + provenLifeMs(this.ttlMs));
    });
    const broken = (error?: unknown): void => {
      this.journal.push(`${at(now())} stream to ${node.node.name} ended${error === undefined ? "" : `: ${String(error)}`}`);
      if (this.stream !== stream) return;
      this.stream = undefined;
    };
    stream.on("error", broken);
    stream.on("end", broken);
    this.stream = stream;
  }

  private send(): void {
    if (this.stopped || this.lost) return;
    if (this.stream === undefined) this.open();
    this.sentAt.push(now());
    this.journal.push(`${at(now())} sent to ${this.nodeName}`);
    this.stream?.write({ ID: this.leaseId });
  }
}

const at = (ms: number): string => `${(ms / 1000).toFixed(3)} s`;
