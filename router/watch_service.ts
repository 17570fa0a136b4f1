// etcd's Watch service: one bidirectional stream per client connection, carrying many watches
// (watch_stream.ts), served from this node's replicas' applied state as etcd serves a watch from the
// member's own store. Revisions are per shard (ARCHITECTURE.md, "Revisions in a sharded etcd"): a
// watch whose range spans several shards merges their streams, each response holding one shard's
// events under that shard's revision, and it may start only "now" (start_revision 0); a watch that
// stays in one shard (one key, or a prefix holding a whole hash tag) behaves exactly like etcd's.

import type { ServiceHandlers, watchSpec } from "../proto/index.js";
import { RouterError } from "./errors.js";
import type { ShardAccess } from "./shard_access.js";
import { resolveWatchLimits, WatchBudget, type WatchLimits } from "./watch_limits.js";
import { type WatchCall, WatchStream } from "./watch_stream.js";

type WatchHandlers = Required<ServiceHandlers<typeof watchSpec.methods>>;

export class WatchService {
  readonly limits: WatchLimits;
  /** The node's shard feeds, all streams together. */
  readonly budget: WatchBudget;

  constructor(
    private readonly access: ShardAccess,
    limits: Partial<WatchLimits> = {},
  ) {
    this.limits = resolveWatchLimits(limits);
    this.budget = new WatchBudget(this.limits.feedsPerNodeMax);
  }

  private readonly streams = new Set<WatchStream>();
  private closed = false;

  /** The grpc-js handlers, for `server.addService(etcd.Watch.definition, service.handlers())`. */
  handlers(): WatchHandlers {
    return { Watch: (call: WatchCall) => this.open(call) };
  }

  /** Streams open now (tests, metrics). */
  get streamCount(): number {
    return this.streams.size;
  }

  /**
   * Ends every stream with UNAVAILABLE and refuses new ones: a watch never finishes on its own, so a
   * server waiting for its calls to finish would wait forever. Clients resume their watches elsewhere.
   */
  close(): void {
    this.closed = true;
    for (const stream of [...this.streams]) stream.fail(stopping());
  }

  private open(call: WatchCall): void {
    const stream = new WatchStream(call, this.access, this.budget, this.limits, () => this.streams.delete(stream));
    this.streams.add(stream);
    stream.start();
    if (this.closed) stream.fail(stopping());
  }
}

function stopping(): RouterError {
  return RouterError.unavailable("shardkv: this node is shutting down", "the client resumes its watches on another node from the last revision it saw");
}
