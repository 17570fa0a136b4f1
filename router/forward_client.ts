// The sending end of forwarding: one Forward client per peer node, on the peer address. A failed
// call becomes a ForwardFailure that keeps what the sender needs to decide on a retry: whether the
// receiver refused before running anything, and which leader it named.

import * as grpc from "@grpc/grpc-js";
import { loadPeerApi, type PeerApi, type peer, type TypedClient } from "../proto/index.js";
import type { ForwardSpec } from "../proto/index.js";
import type { NodeId } from "../raft/index.js";
import { type FaultInjector, NO_FAULTS } from "../shard/fault_injector.js";
import { HINT_METADATA_KEY, RouterError } from "./errors.js";
import { FORWARD_LEADER_KEY, FORWARD_MAP_EPOCH_KEY, FORWARD_REFUSED_KEY } from "./forward_service.js";

type Client = TypedClient<ForwardSpec["methods"]>;

/** A forwarded call that failed, with what the receiver said of it. */
export class ForwardFailure extends Error {
  override readonly name = "ForwardFailure";
  constructor(
    readonly code: grpc.status,
    message: string,
    readonly hint: string | undefined,
    /** The receiver refused before running the operation: retrying it cannot apply it twice. */
    readonly refused: boolean,
    /** The leader the receiver knows (0: none). */
    readonly leader: NodeId,
    /** The receiver's newer shard map epoch, when it refused for a stale map (0 otherwise). */
    readonly mapEpoch = 0,
  ) {
    super(message);
  }

  /** What the client sees: the receiver's own status and message. */
  toRouterError(): RouterError {
    return new RouterError(this.code, this.message, this.hint);
  }
}

let api: PeerApi | undefined;

export class ForwardClient {
  private readonly clients = new Map<NodeId, { readonly address: string; readonly client: Client }>();

  constructor(
    peers: ReadonlyMap<NodeId, string>,
    /** Test faults only (shardkv --test-faults): a call to a cut-off peer fails as unreachable, unsent. */
    private readonly faults: FaultInjector = NO_FAULTS,
  ) {
    for (const [node, address] of peers) this.setPeer(node, address);
  }

  setPeer(node: NodeId, address: string): void {
    const old = this.clients.get(node);
    if (old?.address === address) return;
    old?.client.close();
    api ??= loadPeerApi();
    this.clients.set(node, { address, client: new api.Forward.Client(address, grpc.credentials.createInsecure(), { "grpc.enable_channelz": 0 }) });
  }

  call(node: NodeId, req: peer.ForwardRequest, deadlineMs: number): Promise<peer.ForwardResponse> {
    const entry = this.clients.get(node);
    if (entry === undefined) {
      return Promise.reject(new ForwardFailure(grpc.status.UNAVAILABLE, `shardkv: no address for member node ${node}`, undefined, true, 0));
    }
    if (this.faults.dropsTo(node) || this.faults.dropsFrom(node)) {
      return Promise.reject(new ForwardFailure(grpc.status.UNAVAILABLE, `shardkv: member node ${node} is unreachable (test fault)`, undefined, true, 0));
    }
    return new Promise((resolve, reject) => {
      entry.client.Call(req, new grpc.Metadata(), { deadline: deadlineMs }, (error, response) => {
        if (error === null && response !== undefined) resolve(response);
        else reject(failureOf(error, node));
      });
    });
  }

  close(): void {
    for (const { client } of this.clients.values()) client.close();
    this.clients.clear();
  }
}

function failureOf(error: grpc.ServiceError | null, node: NodeId): ForwardFailure {
  if (error === null) return new ForwardFailure(grpc.status.INTERNAL, `shardkv: node ${node} answered a forwarded call with nothing`, undefined, false, 0);
  const first = (key: string): string | undefined => {
    const value = error.metadata?.get(key)[0];
    return value === undefined ? undefined : String(value);
  };
  return new ForwardFailure(
    error.code,
    error.details,
    first(HINT_METADATA_KEY),
    first(FORWARD_REFUSED_KEY) === "1",
    Number(first(FORWARD_LEADER_KEY) ?? 0),
    Number(first(FORWARD_MAP_EPOCH_KEY) ?? 0),
  );
}
