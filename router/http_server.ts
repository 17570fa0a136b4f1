// The node's plain-HTTP side door (--listen-http), for load balancers and Prometheus rather than
// clients: GET /health in etcd's shape (200 {"health":"true"}, else 503 with the reason), GET
// /metrics in Prometheus text and GET /version in etcd's shape. Nothing else is served (404), and
// nothing here changes the node. The client port answers the same three, beside etcd's JSON
// gateway (client_port.ts, http_gateway.ts).

import { createServer, type IncomingMessage, type RequestListener, type Server, type ServerResponse } from "node:http";
import type { Store } from "../shard/store.js";
import type { Wal } from "../shard/wal/wal.js";
import { HttpGateway } from "./http_gateway.js";
import { listenOn } from "./listen_address.js";
import { ETCD_COMPATIBLE_VERSION } from "./maintenance_service.js";
import type { EtcdMetricsSources } from "./etcd_metrics.js";
import { NodeMetrics } from "./metrics.js";
import { type NodeHealth, nodeHealth } from "./node_health.js";

export interface StatusRoutes {
  health(): NodeHealth;
  metrics(): Promise<{ readonly contentType: string; readonly text: string }>;
}

/** How long close() lets a scrape in flight finish before its connection is cut, in ms. */
const CLOSE_GRACE_MS = 1_000;

export class StatusHttpServer {
  private constructor(
    private readonly server: Server,
    /** "host:port" as bound (the OS's port when asked for port 0). */
    readonly address: string,
  ) {}

  /** Listens on "host:port" ("[::1]:2381" for IPv6); resolves once bound. */
  static async start(listen: string, routes: StatusRoutes): Promise<StatusHttpServer> {
    const server = createServer(statusRequestListener(routes));
    return new StatusHttpServer(server, await listenOn(server, listen, "HTTP", "127.0.0.1:2381 (--listen-http)"));
  }

  /** Stops listening; idle keep-alive connections close at once, busy ones after CLOSE_GRACE_MS. */
  async close(): Promise<void> {
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.server.closeIdleConnections();
    const timer = setTimeout(() => this.server.closeAllConnections(), CLOSE_GRACE_MS);
    await closed;
    clearTimeout(timer);
  }
}

/** The node's metrics: the store's, the WAL's fsync times, and etcd's series from `sources`. */
export function nodeMetrics(store: Store, wal: Wal, sources: EtcdMetricsSources = {}): NodeMetrics {
  const metrics = new NodeMetrics(store, sources);
  metrics.observeWal(wal);
  return metrics;
}

/** The node's status routes: the health of `store`, and `metrics`. */
export function nodeStatusRoutes(store: Store, metrics: NodeMetrics): StatusRoutes {
  return {
    health: () => nodeHealth(store),
    metrics: async () => ({ contentType: metrics.contentType, text: await metrics.text() }),
  };
}

/** The requests of a status server, and with `gateway`, of the client port's HTTP side. */
export function statusRequestListener(routes: StatusRoutes, gateway?: HttpGateway): RequestListener {
  return (request, response) => {
    serve(routes, gateway, request, response).catch((error: unknown) => {
      if (!response.headersSent) reply(response, 500, "text/plain; charset=utf-8", `${error instanceof Error ? error.message : String(error)}\n`);
      else response.destroy();
    });
  };
}

/** What etcd's GET /version answers, with the version we answer as on gRPC. */
const VERSION_BODY = { etcdserver: ETCD_COMPATIBLE_VERSION, etcdcluster: ETCD_COMPATIBLE_VERSION.replace(/\.\d+\+.*$/, ".0") } as const;

async function serve(routes: StatusRoutes, gateway: HttpGateway | undefined, request: IncomingMessage, response: ServerResponse): Promise<void> {
  const path = (request.url ?? "/").split("?", 1)[0]!;
  if (gateway !== undefined && HttpGateway.serves(path)) {
    await gateway.handle(request, response, path);
    return;
  }
  if (request.method === "GET" && path === "/health") {
    const health = routes.health();
    // etcd answers {"health":"true"}; the reason is ours, for whoever reads a 503.
    const body = health.healthy ? { health: "true" } : { health: "false", reason: health.reason };
    reply(response, health.healthy ? 200 : 503, "application/json", `${JSON.stringify(body)}\n`);
    return;
  }
  if (request.method === "GET" && path === "/metrics") {
    const { contentType, text } = await routes.metrics();
    reply(response, 200, contentType, text);
    return;
  }
  if (request.method === "GET" && path === "/version") {
    reply(response, 200, "application/json", `${JSON.stringify(VERSION_BODY)}\n`);
    return;
  }
  const gatewayToo = gateway === undefined ? "" : ", and etcd's JSON gateway (POST /v3/kv/range...)";
  reply(response, 404, "text/plain; charset=utf-8", `Not found: this port serves GET /health, GET /metrics and GET /version${gatewayToo}\n`);
}

function reply(response: ServerResponse, status: number, contentType: string, body: string): void {
  response.writeHead(status, { "content-type": contentType, "content-length": Buffer.byteLength(body) });
  response.end(body);
}
