// `lease grant|revoke|keep-alive|ttl|list`: etcd's Lease service. Lease ids are printed and taken in
// hex, as etcdctl does, so ids move between the two tools. A lease lives in one home shard and keys of
// any shard can attach to it (router/README.md, "Leases across shards"); revoking it deletes them all.

import type { Argv } from "yargs";
import type { LeaseGrantResponse, LeaseLeasesResponse, LeaseRevokeResponse, LeaseTimeToLiveResponse } from "../../proto/index.js";
import { call, metadata } from "./client.js";
import { action, type Context, type GlobalArgs } from "./command.js";
import { KvctlError } from "./errors.js";
import { ExitCode } from "./exit_codes.js";
import { leaseHex, parseDurationMs, parseLeaseId } from "./flag_values.js";
import { whenAborted } from "./interrupt.js";
import { LeaseKeeper } from "./keep_alive.js";
import { escapeBytes } from "./output.js";

interface GrantArgs extends GlobalArgs {
  readonly ttl: string;
}
interface IdArgs extends GlobalArgs {
  readonly id: string;
}
interface KeepAliveArgs extends IdArgs {
  readonly once: boolean;
}
interface TtlArgs extends IdArgs {
  readonly keys: boolean;
}

export function leaseCommands(y: Argv<GlobalArgs>): Argv<GlobalArgs> {
  return y.command("lease", "Grant, renew, inspect and revoke leases", (lease) =>
    lease
      .command(
        "grant <ttl>",
        "Grant a lease and print its id",
        (c) =>
          c
            .positional("ttl", { type: "string", demandOption: true, describe: "its time to live: 60, 60s, 5m (whole seconds, rounded up)" })
            .example("$0 lease grant 60s", "a lease that expires a minute after its last renewal")
            .example("id=$($0 lease grant 30s -o simple) && $0 put job/1 running --lease $id", "attach a key to it"),
        (args) => action<GrantArgs>("grant a lease", grant)(args),
      )
      .command(
        "revoke <id>",
        "Revoke a lease, deleting every key attached to it",
        (c) => c.positional("id", { type: "string", demandOption: true, describe: "the hex id" }).example("$0 lease revoke 694d77aa9e38260f", "revoke it"),
        (args) => action<IdArgs>("revoke the lease", revoke)(args),
      )
      .command(
        "keep-alive <id>",
        "Renew a lease until Ctrl-C (or once)",
        (c) =>
          c
            .positional("id", { type: "string", demandOption: true })
            .option("once", { type: "boolean", default: false, describe: "renew once and exit" })
            .example("$0 lease keep-alive 694d77aa9e38260f", "renew every third of its TTL until Ctrl-C")
            .example("$0 lease keep-alive 694d77aa9e38260f --once", "renew it once"),
        (args) => action<KeepAliveArgs>("keep the lease alive", keepAlive)(args),
      )
      .command(
        "ttl <id>",
        "Show a lease's remaining and granted TTL (exit 1 when it does not exist)",
        (c) =>
          c
            .positional("id", { type: "string", demandOption: true })
            .option("keys", { type: "boolean", default: false, describe: "also list the keys attached to it" })
            .example("$0 lease ttl 694d77aa9e38260f --keys", "its TTL and keys"),
        (args) => action<TtlArgs>("read the lease's TTL", ttl)(args),
      )
      .command(
        "list",
        "List the leases that exist",
        (c) => c.example("$0 lease list", "every lease id"),
        (args) => action<GlobalArgs>("list leases", list)(args),
      )
      .demandCommand(1, "Name a lease command: grant, revoke, keep-alive, ttl or list"),
  );
}

/** Grants a lease of `ttlMs` (rounded up to whole seconds, etcd's unit); returns its decimal id and TTL. */
export async function grantLease(client: Context["client"], ttlMs: number): Promise<{ id: string; ttlSeconds: number }> {
  const ttlSeconds = Math.ceil(ttlMs / 1000);
  // Granting twice makes two leases; but a grant that never reached a node is safe to send elsewhere.
  const response = await client.unary("grant a lease", "write", (c) =>
    call<LeaseGrantResponse>((cb) => c.client(c.etcd().Lease).LeaseGrant({ TTL: String(ttlSeconds), ID: "0" }, metadata(), client.deadline(), cb)),
  );
  if (response.error !== "") throw new KvctlError(ExitCode.other, `Cannot grant a lease: ${response.error}`);
  return { id: response.ID, ttlSeconds: Number(response.TTL) };
}

export async function revokeLease(client: Context["client"], id: string): Promise<void> {
  await client.unary(`revoke lease ${leaseHex(id)}`, "write", (c) =>
    call<LeaseRevokeResponse>((cb) => c.client(c.etcd().Lease).LeaseRevoke({ ID: id }, metadata(), client.deadline(), cb)),
  );
}

async function grant(args: GrantArgs, { client, out }: Context): Promise<void> {
  const { id, ttlSeconds } = await grantLease(client, parseDurationMs(args.ttl, "TTL"));
  out.print({
    table: () => ({ header: ["ID", "TTL"], rows: [[leaseHex(id), `${ttlSeconds}s`]] }),
    json: () => ({ id: leaseHex(id), ttl_seconds: ttlSeconds }),
    simple: () => [leaseHex(id)],
  });
}

async function revoke(args: IdArgs, { client, out }: Context): Promise<void> {
  const id = parseLeaseId(args.id);
  await revokeLease(client, id);
  out.print({
    table: () => ({ header: ["ID", "STATE"], rows: [[leaseHex(id), "revoked"]] }),
    json: () => ({ id: leaseHex(id), revoked: true }),
    simple: () => [`lease ${leaseHex(id)} revoked`],
  });
}

async function keepAlive(args: KeepAliveArgs, { client, out, signal }: Context): Promise<number> {
  const id = parseLeaseId(args.id);
  // The keeper's first renewal also says whether the lease exists; --once stops after it.
  let renewed: (ttl: number) => void = () => undefined;
  const first = new Promise<number>((resolve) => (renewed = resolve));
  const keeper = new LeaseKeeper(client, id, 3, (ttl) => {
    renewed(ttl);
    printRenewal(out, id, ttl);
  });
  if (args.once) {
    const outcome = await Promise.race([first.then(() => undefined), keeper.lost]);
    keeper.stop();
    if (outcome !== undefined) throw KvctlError.notFound(`Lease ${leaseHex(id)} was not renewed: ${outcome}`);
    return ExitCode.ok;
  }
  const outcome = await Promise.race([keeper.lost, whenAborted(signal).then(() => undefined)]);
  keeper.stop();
  if (outcome !== undefined) throw KvctlError.notFound(`Lease ${leaseHex(id)} is no longer kept alive: ${outcome}`, "grant a new one with `kvctl lease grant`");
  return ExitCode.ok;
}

function printRenewal(out: Context["out"], id: string, ttl: number): void {
  switch (out.format) {
    case "json":
      return out.row([JSON.stringify({ id: leaseHex(id), ttl_seconds: ttl })]);
    case "simple":
    case "table":
      return out.row([`lease ${leaseHex(id)} keepalived with TTL(${ttl})`]);
  }
}

async function ttl(args: TtlArgs, { client, out }: Context): Promise<number> {
  const id = parseLeaseId(args.id);
  const response = await client.unary(`read lease ${args.id}`, "read", (c) =>
    call<LeaseTimeToLiveResponse>((cb) => c.client(c.etcd().Lease).LeaseTimeToLive({ ID: id, keys: args.keys }, metadata(), client.deadline(), cb)),
  );
  if (Number(response.TTL) < 0) throw KvctlError.notFound(`Lease ${leaseHex(id)} not found (expired, revoked or never granted)`);
  const keys = response.keys.map(escapeBytes);
  out.print({
    table: () => ({
      header: ["ID", "TTL", "GRANTED", ...(args.keys ? ["KEYS"] : [])],
      rows: [[leaseHex(id), `${response.TTL}s`, `${response.grantedTTL}s`, ...(args.keys ? [keys.join(", ")] : [])]],
    }),
    json: () => ({ id: leaseHex(id), ttl_seconds: Number(response.TTL), granted_ttl_seconds: Number(response.grantedTTL), ...(args.keys ? { keys } : {}) }),
    simple: () => [`lease ${leaseHex(id)} granted with TTL(${response.grantedTTL}s), remaining(${response.TTL}s)${args.keys ? `, attached keys(${keys.join(", ")})` : ""}`],
  });
  return ExitCode.ok;
}

async function list(_args: GlobalArgs, { client, out }: Context): Promise<void> {
  const response = await client.unary("list leases", "read", (c) =>
    call<LeaseLeasesResponse>((cb) => c.client(c.etcd().Lease).LeaseLeases({}, metadata(), client.deadline(), cb)),
  );
  const ids = response.leases.map((lease) => leaseHex(lease.ID));
  out.print({
    table: () => ({ header: ["ID"], rows: ids.map((id) => [id]) }),
    json: () => ({ leases: ids }),
    simple: () => ids,
  });
}
