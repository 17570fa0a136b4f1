// Unary calls by method and status, as etcd exposes them (go-grpc-prometheus, etcd's default "basic"
// metrics): grpc_server_started_total and grpc_server_handled_total, labelled grpc_type, grpc_service,
// grpc_method and, for handled, grpc_code with Go's names ("OK", "Unavailable"). The etcd mixin's
// etcdHighNumberOfFailedGRPCRequests reads them. A call only bumps plain numbers; the counters catch
// up when scraped (metrics.ts's rule: an unscraped node pays nothing more).

import * as grpc from "@grpc/grpc-js";
import { Counter, type Registry } from "prom-client";

/** Go's names of the gRPC codes (codes.Code.String()), by number. */
const GO_CODE_NAMES = [
  "OK", "Canceled", "Unknown", "InvalidArgument", "DeadlineExceeded", "NotFound", "AlreadyExists", "PermissionDenied",
  "ResourceExhausted", "FailedPrecondition", "Aborted", "OutOfRange", "Unimplemented", "Internal", "Unavailable", "DataLoss", "Unauthenticated",
] as const;

interface MethodCounts {
  readonly service: string;
  readonly method: string;
  started: number;
  /** By code number; reported holds what the counters already have. */
  readonly handled: number[];
  startedReported: number;
  readonly handledReported: number[];
}

export class GrpcCallStats {
  private readonly methods: MethodCounts[] = [];

  constructor(registry: Registry) {
    const methods = this.methods;
    const labelNames = ["grpc_type", "grpc_service", "grpc_method"] as const;
    new Counter({
      name: "grpc_server_started_total",
      help: "Unary RPCs started on the client port",
      labelNames,
      registers: [registry],
      collect(this: Counter<"grpc_type" | "grpc_service" | "grpc_method">) {
        for (const m of methods) {
          if (m.started > m.startedReported) this.inc({ grpc_type: "unary", grpc_service: m.service, grpc_method: m.method }, m.started - m.startedReported);
          m.startedReported = m.started;
        }
      },
    });
    new Counter({
      name: "grpc_server_handled_total",
      help: "Unary RPCs answered on the client port, by status",
      labelNames: [...labelNames, "grpc_code"],
      registers: [registry],
      collect(this: Counter<"grpc_type" | "grpc_service" | "grpc_method" | "grpc_code">) {
        for (const m of methods) {
          const labels = { grpc_type: "unary", grpc_service: m.service, grpc_method: m.method };
          for (const [code, count] of m.handled.entries()) {
            const gained = count - m.handledReported[code]!;
            if (gained > 0) this.inc({ ...labels, grpc_code: GO_CODE_NAMES[code] ?? String(code) }, gained);
            m.handledReported[code] = count;
          }
        }
      },
    });
  }

  /** `handlers` with each unary one counted; the definition says which are unary and their names. */
  instrument(definition: grpc.ServiceDefinition, handlers: grpc.UntypedServiceImplementation): grpc.UntypedServiceImplementation {
    const counted: grpc.UntypedServiceImplementation = {};
    for (const [name, handler] of Object.entries(handlers)) {
      const method = definition[name];
      if (method === undefined || method.requestStream || method.responseStream) {
        counted[name] = handler;
        continue;
      }
      // "/etcdserverpb.KV/Range" -> service "etcdserverpb.KV", method "Range"
      const [, service = "", methodName = name] = method.path.split("/");
      const codes = GO_CODE_NAMES.length;
      const counts: MethodCounts = { service, method: methodName, started: 0, handled: new Array<number>(codes).fill(0), startedReported: 0, handledReported: new Array<number>(codes).fill(0) };
      this.methods.push(counts);
      counted[name] = countOne(handler as grpc.handleUnaryCall<unknown, unknown>, counts);
    }
    return counted;
  }
}

function countOne(handler: grpc.handleUnaryCall<unknown, unknown>, counts: MethodCounts): grpc.handleUnaryCall<unknown, unknown> {
  return (call, callback) => {
    counts.started++;
    handler(call, (error, value, trailer, flags) => {
      const code = error === null || error === undefined ? grpc.status.OK : ((error as { code?: number }).code ?? grpc.status.UNKNOWN);
      counts.handled[code] = (counts.handled[code] ?? 0) + 1;
      callback(error, value, trailer, flags);
    });
  };
}
