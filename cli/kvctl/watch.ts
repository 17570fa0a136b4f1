// `watch`: one etcd Watch stream from the first endpoint that connects, printed event by event until
// Ctrl-C, which cancels the watch on the server (so the node frees it at once) before exiting 0.
// A watch over several shards merges their streams; each event carries its own shard's revision.
// A broken stream ends the command (exit 3) naming the revision to resume from with --rev.

import type * as grpc from "@grpc/grpc-js";
import { EventType, type Event, type WatchRequest, type WatchResponse, type Writable } from "../../proto/index.js";
import type { Argv } from "yargs";
import { metadata } from "./client.js";
import { action, type Context, type GlobalArgs } from "./command.js";
import { KvctlError } from "./errors.js";
import { ExitCode } from "./exit_codes.js";
import { prefixEnd } from "./flag_values.js";
import { whenAborted } from "./interrupt.js";
import { fromEtcd, kvJson } from "./kv_views.js";
import { escapeBytes } from "./output.js";

interface WatchArgs extends GlobalArgs {
  readonly key: string;
  readonly prefix: boolean;
  readonly rev: number | undefined;
  readonly "prev-kv": boolean;
}

/** How long Ctrl-C waits for the server to confirm the cancel before exiting anyway. */
const CANCEL_WAIT_MS = 1000;

export function watchCommand(y: Argv<GlobalArgs>): Argv<GlobalArgs> {
  return y.command(
    "watch <key>",
    "Print every change to a key, or to keys under a prefix, until Ctrl-C",
    (c) =>
      c
        .positional("key", { type: "string", demandOption: true })
        .option("prefix", { type: "boolean", default: false, describe: "every key that starts with KEY" })
        .option("rev", { type: "number", describe: "start from this revision (one shard's keys only: revisions are per shard)" })
        .option("prev-kv", { type: "boolean", default: false, describe: "also print each key's value before the change" })
        .example("$0 watch greeting", "changes to one key")
        .example("$0 watch jobs/ --prefix --output json", "changes under a prefix, one JSON object per line")
        .example("$0 watch greeting --rev 42", "replay changes since revision 42, then follow"),
    (args) => action<WatchArgs>("watch", watch)(args),
  );
}

async function watch(args: WatchArgs, { client, out, signal }: Context): Promise<number> {
  if (args.rev !== undefined && (!Number.isInteger(args.rev) || args.rev < 1)) throw KvctlError.usage(`Invalid --rev ${args.rev}: expected a positive revision`);
  const key = args.prefix && args.key === "" ? Buffer.from([0]) : Buffer.from(args.key);
  const connection = await client.connect(`watch ${JSON.stringify(args.key)}`);
  const stream: grpc.ClientDuplexStream<Writable<WatchRequest>, WatchResponse> = connection.client(connection.etcd().Watch).Watch(metadata(), {});
  let watchId: string | undefined;
  let lastRevision = 0;
  const ended = new Promise<number>((resolve, reject) => {
    stream.on("data", (response: WatchResponse) => {
      if (response.created) {
        watchId = response.watch_id;
        out.note(`kvctl: watching ${JSON.stringify(args.key)}${args.prefix ? " (prefix)" : ""} on ${connection.address}; Ctrl-C to stop`);
      }
      for (const event of response.events) {
        lastRevision = Math.max(lastRevision, Number(event.kv?.mod_revision ?? 0));
        printEvent(out, event);
      }
      if (response.canceled) {
        if (signal.aborted) return resolve(ExitCode.ok);
        const reason = response.compact_revision !== "0" ? `revision ${args.rev} was compacted; the oldest left is ${response.compact_revision}` : response.cancel_reason;
        reject(new KvctlError(ExitCode.other, `The server cancelled the watch: ${reason || "no reason given"}`, "drop --rev, or watch a narrower prefix whose keys share a hash tag"));
      }
    });
    stream.on("error", (error: grpc.ServiceError) => {
      if (signal.aborted) return resolve(ExitCode.ok);
      const resume = lastRevision > 0 ? `; resume with --rev ${lastRevision + 1}` : "";
      reject(new KvctlError(ExitCode.unavailable, `The watch stream to ${connection.address} broke: ${error.details}`, `run the watch again${resume}`));
    });
    stream.on("end", () => resolve(ExitCode.ok));
  });
  stream.write({
    create_request: {
      key,
      range_end: args.prefix ? (args.key === "" ? Buffer.from([0]) : prefixEnd(key)) : null,
      start_revision: String(args.rev ?? 0),
      prev_kv: args["prev-kv"],
    },
  });
  void whenAborted(signal).then(() => cancel(stream, watchId));
  return await ended;
}

/** Ctrl-C: ask the server to cancel, then close our side whether or not it confirmed. */
function cancel(stream: grpc.ClientDuplexStream<Writable<WatchRequest>, WatchResponse>, watchId: string | undefined): void {
  if (watchId !== undefined) stream.write({ cancel_request: { watch_id: watchId } });
  setTimeout(() => {
    stream.end();
    stream.cancel();
  }, watchId === undefined ? 0 : CANCEL_WAIT_MS).unref();
}

function printEvent(out: Context["out"], event: Event): void {
  const type = event.type === EventType.DELETE ? "DELETE" : "PUT";
  const kv = event.kv === null ? undefined : fromEtcd(event.kv);
  const prev = event.prev_kv === null ? undefined : fromEtcd(event.prev_kv);
  switch (out.format) {
    case "json":
      return out.row([JSON.stringify({ type, ...(kv === undefined ? {} : { kv: kvJson(kv) }), ...(prev === undefined ? {} : { prev_kv: kvJson(prev) }) })]);
    case "simple":
      return out.row([[type, escapeBytes(kv?.key ?? Buffer.alloc(0)), ...(type === "PUT" ? [escapeBytes(kv?.value ?? Buffer.alloc(0))] : []), ...(prev === undefined ? [] : [escapeBytes(prev.value)])].join("\n")]);
    case "table":
      return out.row([type, escapeBytes(kv?.key ?? Buffer.alloc(0)), type === "PUT" ? escapeBytes(kv?.value ?? Buffer.alloc(0)) : "", `rev ${kv?.modRevision ?? "?"}`]);
  }
}
