// `lock NAME [-- command]`: etcd's v3lockpb.Lock on a session's lease. Without a command it prints the
// lock's key and holds it until Ctrl-C; with one it runs it while holding the lock, passing the key
// and its fencing token (the key's create revision: it only grows from one holder to the next, so a
// resource can refuse a holder older than one it saw) in the environment. Either way it unlocks and
// revokes the lease on the way out; a lost lease ends the command, because the lock went with it.

import { type ChildProcess, spawn } from "node:child_process";
import type { Argv } from "yargs";
import type { LockResponse, RangeResponse, UnlockResponse } from "../../proto/index.js";
import { call, metadata } from "./client.js";
import { action, type Context, type GlobalArgs } from "./command.js";
import { KvctlError, isServiceError, toKvctlError } from "./errors.js";
import { ExitCode } from "./exit_codes.js";
import { parseDurationMs } from "./flag_values.js";
import { whenAborted } from "./interrupt.js";
import { escapeBytes, jsonBytes } from "./output.js";
import { Session } from "./session.js";

interface LockArgs extends GlobalArgs {
  readonly name: string;
  readonly ttl: string;
  readonly _: readonly (string | number)[];
}

export function lockCommand(y: Argv<GlobalArgs>): Argv<GlobalArgs> {
  return y.command(
    "lock <name>",
    "Hold a lock until Ctrl-C, or while a command after -- runs",
    (c) =>
      c
        .positional("name", { type: "string", demandOption: true, describe: "the lock's name; its keys share a shard ({name}/...)" })
        .option("ttl", { type: "string", default: "60s", describe: "the session lease's TTL: how long a holder that died keeps others waiting" })
        .example("$0 lock deploy", "print the lock's key once held; Ctrl-C releases it")
        .example("$0 lock deploy -- ./deploy.sh prod", "run a command while holding the lock; kvctl exits with its code")
        .example("$0 lock db-migrate -- sh -c 'migrate --fence $KVCTL_FENCING_TOKEN'", "the fencing token in the environment")
        .epilogue(
          "The command gets KVCTL_LOCK_KEY (the lock's key), KVCTL_FENCING_TOKEN (its create revision: larger for every later holder), " +
            "KVCTL_LEASE_ID (hex), and etcdctl's ETCD_LOCK_KEY and ETCD_LOCK_REV.",
        ),
    (args) => action<LockArgs>("lock", lock)(args),
  );
}

interface Held {
  readonly key: Buffer;
  /** The revision the Lock call answered with (etcdctl's ETCD_LOCK_REV). */
  readonly revision: string;
}

async function lock(args: LockArgs, context: Context): Promise<number> {
  const { client, out, signal } = context;
  const command = args._.slice(1).map(String);
  const session = await Session.open(client, parseDurationMs(args.ttl, "--ttl"));
  let held: Held | undefined;
  try {
    held = await acquire(args.name, session, context);
    if (held === undefined) return ExitCode.ok;
    const key = held.key;
    const token = await fencingToken(client, key);
    if (command.length === 0) {
      out.print({
        table: () => ({ header: ["KEY", "FENCING_TOKEN", "LEASE"], rows: [[escapeBytes(key), token, session.leaseHex]] }),
        json: () => ({ ...jsonBytes("key", key), fencing_token: Number(token), lease: session.leaseHex }),
        simple: () => [escapeBytes(key)],
      });
      const lost = await Promise.race([session.lost, whenAborted(signal).then(() => undefined)]);
      if (lost !== undefined) throw lockLost(args.name, lost);
      return ExitCode.ok;
    }
    const env = {
      ...process.env,
      KVCTL_LOCK_KEY: key.toString(),
      KVCTL_FENCING_TOKEN: token,
      KVCTL_LEASE_ID: session.leaseHex,
      ETCD_LOCK_KEY: key.toString(),
      ETCD_LOCK_REV: held.revision,
    };
    return await runHolding(command, env, session, args.name, signal);
  } finally {
    if (held !== undefined) await unlock(client, args.name, held.key);
    await session.close();
  }
}

/** Waits for the lock (no deadline); undefined when Ctrl-C came first (the server then drops our key). */
async function acquire(name: string, session: Session, { client, signal }: Context): Promise<Held | undefined> {
  const connection = await client.connect(`lock ${JSON.stringify(name)}`);
  const waiting = call<LockResponse>(
    (cb) => connection.client(connection.etcd().Lock).Lock({ name: Buffer.from(name), lease: session.lease }, metadata(), {}, cb),
    signal,
  );
  const outcome = await Promise.race([waiting, session.lost.then((reason) => new Error(reason))]).catch((error: unknown) => error);
  if (signal.aborted) return undefined;
  if (isServiceError(outcome)) throw toKvctlError(outcome, `lock ${JSON.stringify(name)}`);
  if (outcome instanceof Error) throw lockLost(name, outcome.message);
  const response = outcome as LockResponse;
  return { key: Buffer.from(response.key), revision: response.header?.revision ?? "0" };
}

/** Deletes our key; a failure is only reported, since revoking the session's lease deletes it too. */
async function unlock(client: Context["client"], name: string, key: Buffer): Promise<void> {
  await client
    .unary(`unlock ${JSON.stringify(name)}`, "write", (c) => call<UnlockResponse>((cb) => c.client(c.etcd().Lock).Unlock({ key }, metadata(), client.deadline(), cb)))
    .catch((error: unknown) => process.stderr.write(`kvctl: could not unlock (${(error as Error).message}); revoking the lease releases it\n`));
}

/** The key's create revision: what orders holders, and so what a guarded resource should compare. */
async function fencingToken(client: Context["client"], key: Buffer): Promise<string> {
  const response = await client.unary("read the lock's key", "read", (c) =>
    call<RangeResponse>((cb) => c.client(c.etcd().KV).Range({ key }, metadata(), client.deadline(), cb)),
  );
  const kv = response.kvs[0];
  if (kv === undefined) throw new KvctlError(ExitCode.other, "The lock's key vanished right after the lock was granted", "the session's lease expired: retry, or raise --ttl");
  return kv.create_revision;
}

/** Runs the command; stops it (SIGTERM) on Ctrl-C or when the lock is lost. Resolves with its exit code. */
async function runHolding(command: readonly string[], env: NodeJS.ProcessEnv, session: Session, name: string, signal: AbortSignal): Promise<number> {
  const child: ChildProcess = spawn(command[0]!, command.slice(1), { stdio: "inherit", env });
  const exited = new Promise<number>((resolve, reject) => {
    child.on("error", (error) => reject(new KvctlError(ExitCode.other, `Cannot run ${JSON.stringify(command[0])}: ${error.message}`, "check the command after --")));
    child.on("exit", (code, killedBy) => resolve(code ?? 128 + (killedBy === null ? 0 : signalNumber(killedBy))));
  });
  const stopChild = (): void => {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
  };
  signal.addEventListener("abort", stopChild, { once: true });
  let lostReason: string | undefined;
  void session.lost.then((reason) => {
    lostReason = reason;
    stopChild();
  });
  const code = await exited;
  if (lostReason !== undefined) throw lockLost(name, lostReason);
  return code;
}

function signalNumber(name: NodeJS.Signals): number {
  const numbers: Partial<Record<NodeJS.Signals, number>> = { SIGHUP: 1, SIGINT: 2, SIGKILL: 9, SIGTERM: 15 };
  return numbers[name] ?? 0;
}

function lockLost(name: string, reason: string): KvctlError {
  return new KvctlError(ExitCode.other, `Lost lock ${JSON.stringify(name)}: its lease ${reason}`, "the cluster may have been unreachable for longer than --ttl; take the lock again");
}
