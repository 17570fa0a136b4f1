// Keeps a lease alive for as long as a command holds something on it (lease keep-alive, lock, elect):
// one LeaseKeepAlive stream, a renewal every third of the TTL, and a `lost` promise that settles the
// moment the lease is gone (the server answers TTL 0) or cannot be renewed on any endpoint. A stream
// that breaks is opened again on the next endpoint that connects: the lease lives in the cluster, not
// in the node we happened to talk to.

import type * as grpc from "@grpc/grpc-js";
import type { LeaseKeepAliveRequest, LeaseKeepAliveResponse, Writable } from "../../proto/index.js";
import { type ClusterClient, metadata } from "./client.js";

const RENEW_INTERVAL_MS_MIN = 500;

export class LeaseKeeper {
  /** Settles with the reason once the lease is gone or cannot be kept; never rejects. */
  readonly lost: Promise<string>;
  private markLost: (reason: string) => void = () => undefined;
  private stream: grpc.ClientDuplexStream<Writable<LeaseKeepAliveRequest>, LeaseKeepAliveResponse> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(
    private readonly client: ClusterClient,
    /** Decimal, as on the wire. */
    private readonly id: string,
    ttlSeconds: number,
    /** Called with each renewal's TTL in seconds (lease keep-alive prints them). */
    private readonly onRenew: (ttlSeconds: number) => void = () => undefined,
  ) {
    this.lost = new Promise((resolve) => (this.markLost = resolve));
    const intervalMs = Math.max(RENEW_INTERVAL_MS_MIN, (ttlSeconds * 1000) / 3);
    void this.open();
    this.timer = setInterval(() => this.stream?.write({ ID: this.id }), intervalMs);
  }

  /** Stops renewing (the lease then lives out its TTL unless revoked). */
  stop(): void {
    this.stopped = true;
    clearInterval(this.timer);
    this.stream?.end();
    this.stream?.cancel();
  }

  private async open(): Promise<void> {
    let connection;
    try {
      connection = await this.client.connect("keep the lease alive");
    } catch (error) {
      return this.fail(`no endpoint answered to renew it (${(error as Error).message})`);
    }
    if (this.stopped) return;
    const stream = connection.client(connection.etcd().Lease).LeaseKeepAlive(metadata(), {});
    this.stream = stream;
    stream.on("data", (response: LeaseKeepAliveResponse) => {
      const ttl = Number(response.TTL);
      if (ttl <= 0) this.fail("it expired or was revoked");
      else this.onRenew(ttl);
    });
    stream.on("error", (error: grpc.ServiceError) => {
      if (this.stopped || this.stream !== stream) return;
      // The node went away: renew through another one before the TTL runs out.
      this.stream = undefined;
      process.stderr.write(`kvctl: the keep-alive stream to ${connection.address} failed (${error.details}); reconnecting\n`);
      void this.open();
    });
    stream.write({ ID: this.id });
  }

  private fail(reason: string): void {
    if (this.stopped) return;
    this.stop();
    this.markLost(reason);
  }
}
