// The standard gRPC health service (grpc.health.v1.Health) on the client port, as etcd serves it
// there: "" (the server as a whole) is SERVING while the node takes requests and NOT_SERVING once it
// stops, for load balancers, Kubernetes' gRPC probes and grpc-health-probe. The service itself is
// grpc-health-check's (the gRPC project's own). Its Watch streams never end on their own: stopping
// tells each NOT_SERVING and then ends it, so that none holds up the node's graceful shutdown.

import * as grpc from "@grpc/grpc-js";
import { HealthImplementation } from "grpc-health-check";

/** The health of the whole server, in the protocol's terms: the empty service name. */
const WHOLE_SERVER = "";

export class GrpcHealth {
  private readonly health = new HealthImplementation({ [WHOLE_SERVER]: "SERVING" });
  private readonly watches = new Set<grpc.ServerWritableStream<unknown, unknown>>();

  constructor(server: grpc.Server) {
    this.health.addToServer({
      addService: (definition, implementation) => {
        const watch = implementation["watch"] as grpc.handleServerStreamingCall<unknown, unknown>;
        const tracked: grpc.handleServerStreamingCall<unknown, unknown> = (call) => {
          this.watches.add(call);
          call.on("cancelled", () => this.watches.delete(call));
          watch(call);
        };
        server.addService(definition as grpc.ServiceDefinition, { ...(implementation as grpc.UntypedServiceImplementation), watch: tracked });
      },
    });
  }

  /** The node is stopping: NOT_SERVING to every watcher, whose streams then end. */
  close(): void {
    this.health.setStatus(WHOLE_SERVER, "NOT_SERVING");
    for (const call of this.watches) call.end();
    this.watches.clear();
  }
}
