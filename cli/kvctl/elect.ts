// `elect NAME`: etcd's v3electionpb.Election. With --proposal it campaigns on a session's lease,
// prints itself once elected, holds leadership until Ctrl-C and then resigns; a lost lease ends it
// (exit 4), since leadership went with it. Without --proposal it observes: prints the leader and
// every change of leader or proclamation until Ctrl-C.

import type * as grpc from "@grpc/grpc-js";
import type { Argv } from "yargs";
import type { CampaignResponse, LeaderResponse, ResignResponse } from "../../proto/index.js";
import { call, metadata } from "./client.js";
import { action, type Context, type GlobalArgs } from "./command.js";
import { KvctlError, isServiceError, toKvctlError } from "./errors.js";
import { ExitCode } from "./exit_codes.js";
import { parseDurationMs } from "./flag_values.js";
import { whenAborted } from "./interrupt.js";
import { fromEtcd, kvJson } from "./kv_views.js";
import { escapeBytes } from "./output.js";
import { Session } from "./session.js";

interface ElectArgs extends GlobalArgs {
  readonly name: string;
  readonly proposal: string | undefined;
  readonly ttl: string;
}

export function electCommand(y: Argv<GlobalArgs>): Argv<GlobalArgs> {
  return y.command(
    "elect <name>",
    "Campaign with --proposal until Ctrl-C, or observe the leaders",
    (c) =>
      c
        .positional("name", { type: "string", demandOption: true, describe: "the election's name; its keys share a shard ({name}/...)" })
        .option("proposal", { type: "string", describe: "campaign with this value; without it, observe" })
        .option("ttl", { type: "string", default: "60s", describe: "the session lease's TTL: how long a leader that died stays leader" })
        .example("$0 elect scheduler --proposal node-a", "wait to become leader, print it, hold until Ctrl-C")
        .example("$0 elect scheduler", "print the leader's value now and at every change"),
    (args) => action<ElectArgs>("elect", elect)(args),
  );
}

async function elect(args: ElectArgs, context: Context): Promise<number> {
  return args.proposal === undefined ? observe(args.name, context) : campaign(args.name, args.proposal, args.ttl, context);
}

async function campaign(name: string, proposal: string, ttl: string, { client, out, signal }: Context): Promise<number> {
  const session = await Session.open(client, parseDurationMs(ttl, "--ttl"));
  let leader: CampaignResponse["leader"] = null;
  try {
    const connection = await client.connect(`campaign in ${JSON.stringify(name)}`);
    const waiting = call<CampaignResponse>(
      (cb) => connection.client(connection.etcd().Election).Campaign({ name: Buffer.from(name), lease: session.lease, value: Buffer.from(proposal) }, metadata(), {}, cb),
      signal,
    );
    const outcome = await Promise.race([waiting, session.lost.then((reason) => new Error(reason))]).catch((error: unknown) => error);
    if (signal.aborted) return ExitCode.ok;
    if (isServiceError(outcome)) throw toKvctlError(outcome, `campaign in ${JSON.stringify(name)}`);
    if (outcome instanceof Error) throw leadershipLost(name, outcome.message);
    leader = (outcome as CampaignResponse).leader;
    const key = leader?.key ?? Buffer.alloc(0);
    out.print({
      table: () => ({ header: ["ELECTION", "KEY", "VALUE", "REV"], rows: [[name, escapeBytes(key), escapeBytes(Buffer.from(proposal)), leader?.rev ?? ""]] }),
      json: () => ({ name, key: escapeBytes(key), value: proposal, rev: Number(leader?.rev ?? 0), lease: session.leaseHex }),
      simple: () => [escapeBytes(key), escapeBytes(Buffer.from(proposal))],
    });
    const lost = await Promise.race([session.lost, whenAborted(signal).then(() => undefined)]);
    if (lost !== undefined) throw leadershipLost(name, lost);
    return ExitCode.ok;
  } finally {
    if (leader !== null) await resign(client, name, leader);
    await session.close();
  }
}

async function resign(client: Context["client"], name: string, leader: NonNullable<CampaignResponse["leader"]>): Promise<void> {
  await client
    .unary(`resign from ${JSON.stringify(name)}`, "write", (c) =>
      call<ResignResponse>((cb) => c.client(c.etcd().Election).Resign({ leader }, metadata(), client.deadline(), cb)),
    )
    .catch((error: unknown) => process.stderr.write(`kvctl: could not resign (${(error as Error).message}); revoking the lease ends the leadership\n`));
}

async function observe(name: string, { client, out, signal }: Context): Promise<number> {
  const connection = await client.connect(`observe ${JSON.stringify(name)}`);
  const stream: grpc.ClientReadableStream<LeaderResponse> = connection.client(connection.etcd().Election).Observe({ name: Buffer.from(name) }, metadata(), {});
  out.note(`kvctl: observing election ${JSON.stringify(name)} on ${connection.address}; Ctrl-C to stop`);
  return await new Promise<number>((resolve, reject) => {
    stream.on("data", (response: LeaderResponse) => {
      if (response.kv === null) return;
      const row = fromEtcd(response.kv);
      switch (out.format) {
        case "json":
          return out.row([JSON.stringify({ name, ...kvJson(row) })]);
        case "simple":
          return out.row([`${escapeBytes(row.key)}\n${escapeBytes(row.value)}`]);
        case "table":
          return out.row([escapeBytes(row.key), escapeBytes(row.value), `rev ${row.createRevision}`]);
      }
    });
    stream.on("error", (error: grpc.ServiceError) => {
      if (signal.aborted) resolve(ExitCode.ok);
      else reject(new KvctlError(ExitCode.unavailable, `Observing ${JSON.stringify(name)} on ${connection.address} failed: ${error.details}`, "run it again: any node serves it"));
    });
    stream.on("end", () => resolve(ExitCode.ok));
    void whenAborted(signal).then(() => stream.cancel());
  });
}

function leadershipLost(name: string, reason: string): KvctlError {
  return new KvctlError(ExitCode.other, `Lost leadership of ${JSON.stringify(name)}: its lease ${reason}`, "the cluster may have been unreachable for longer than --ttl; campaign again");
}
