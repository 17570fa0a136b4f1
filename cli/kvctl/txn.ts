// `txn`: one etcd transaction, compares then operations, written in etcdctl's language from flags
// (--compare, --then, --else, each repeatable) or from stdin. Its keys must share a shard (use a hash
// tag: `{user:42}/name`); the server refuses others with FAILED_PRECONDITION. Exit 0 when the compares
// held, 1 when they did not, so a script can branch on it as on `test`.

import type { Argv } from "yargs";
import type { ResponseOp, TxnResponse } from "../../proto/index.js";
import { call, metadata } from "./client.js";
import { action, type Context, type GlobalArgs } from "./command.js";
import { ExitCode } from "./exit_codes.js";
import { fromEtcd, kvJson, kvTableRow } from "./kv_views.js";
import { escapeBytes } from "./output.js";
import { readStdin } from "./stdin.js";
import { parseTxnText, TXN_SYNTAX, txnRequest } from "./txn_parse.js";

interface TxnArgs extends GlobalArgs {
  readonly compare: readonly string[] | undefined;
  readonly then: readonly string[] | undefined;
  readonly else: readonly string[] | undefined;
}

export function txnCommand(y: Argv<GlobalArgs>): Argv<GlobalArgs> {
  return y.command(
    "txn",
    "Run a transaction: compares, then --then or --else operations",
    (c) =>
      c
        .option("compare", { type: "string", array: true, describe: 'a compare, such as value("k") = "v" (repeatable)' })
        .option("then", { type: "string", array: true, describe: "an operation when the compares hold (repeatable)" })
        .option("else", { type: "string", array: true, describe: "an operation when they do not (repeatable)" })
        .example(`$0 txn --compare 'version("{cfg}/a") = "0"' --then 'put {cfg}/a 1' --else 'get {cfg}/a'`, "create a key unless it exists")
        .example(`printf 'mod("{u:1}/n") > "0"\\n\\nput {u:1}/n x\\n\\nget {u:1}/n\\n' | $0 txn`, "etcdctl's form from stdin: compares, blank line, success, blank line, failure")
        .epilogue(`Without flags the transaction is read from stdin.\n${TXN_SYNTAX}\nKeys of one transaction must share a shard: give them one hash tag, like {user:42}/name.`),
    (args) => action<TxnArgs>("run the txn", txn)(args),
  );
}

async function txn(args: TxnArgs, { client, out }: Context): Promise<number> {
  const fromFlags = args.compare !== undefined || args.then !== undefined || args.else !== undefined;
  const request = fromFlags ? txnRequest(args.compare ?? [], args.then ?? [], args.else ?? []) : parseTxnText((await readStdin("transaction")).toString());
  // Only gets: nothing changes, so it may be sent again on another endpoint.
  const readOnly = [...(request.success ?? []), ...(request.failure ?? [])].every((op) => op !== null && "request_range" in op);
  const response = await client.unary("run the txn", readOnly ? "read" : "write", (c) =>
    call<TxnResponse>((cb) => c.client(c.etcd().KV).Txn(request, metadata(), client.deadline(), cb)),
  );
  const status = response.succeeded ? "SUCCESS" : "FAILURE";
  out.print({
    table: () => ({ header: ["OP", "KEY", "VALUE", "VERSION", "CREATE_REV", "MOD_REV", "LEASE/TTL"], rows: [["txn", status], ...response.responses.flatMap(tableRows)] }),
    json: () => ({ succeeded: response.succeeded, revision: Number(response.header?.revision ?? 0), responses: response.responses.map(jsonResponse) }),
    simple: () => [status, ...response.responses.flatMap(simpleLines)],
  });
  return response.succeeded ? ExitCode.ok : ExitCode.notFound;
}

function tableRows(op: ResponseOp): string[][] {
  switch (op.response) {
    case "response_range":
      return op.response_range.kvs.length === 0 ? [["get", "(none)"]] : op.response_range.kvs.map((kv) => ["get", ...kvTableRow(fromEtcd(kv))]);
    case "response_put":
      return [["put", "OK"]];
    case "response_delete_range":
      return [["del", `deleted ${op.response_delete_range.deleted}`]];
    case "response_txn":
      return [["txn", op.response_txn.succeeded ? "SUCCESS" : "FAILURE"]];
    default:
      return [["?", "unknown response"]];
  }
}

/** etcdctl's simple form: a blank line, then each response (OK, key and value lines, a count). */
function simpleLines(op: ResponseOp): string[] {
  switch (op.response) {
    case "response_range":
      return ["", ...op.response_range.kvs.flatMap((kv) => [escapeBytes(kv.key), escapeBytes(kv.value)])];
    case "response_put":
      return ["", "OK"];
    case "response_delete_range":
      return ["", op.response_delete_range.deleted];
    case "response_txn":
      return ["", op.response_txn.succeeded ? "SUCCESS" : "FAILURE"];
    default:
      return ["", "?"];
  }
}

function jsonResponse(op: ResponseOp): unknown {
  switch (op.response) {
    case "response_range":
      return { op: "get", kvs: op.response_range.kvs.map((kv) => kvJson(fromEtcd(kv))) };
    case "response_put":
      return { op: "put" };
    case "response_delete_range":
      return { op: "del", deleted: Number(op.response_delete_range.deleted) };
    case "response_txn":
      return { op: "txn", succeeded: op.response_txn.succeeded };
    default:
      return { op: "unknown" };
  }
}
