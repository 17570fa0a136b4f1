// etcdctl's txn language, parsed into etcd's TxnRequest: compares such as `value("k") = "v"` or
// `mod("k") > "0"`, and operations `get KEY [END] [--prefix]`, `put KEY VALUE [--lease=ID]`,
// `del KEY [END] [--prefix]`. Strings are double-quoted with Go's escapes (\" \\ \n \xNN) or bare
// words. Pure functions: a bad line is a usage error that quotes the line and shows a good one.

import { CompareResult, CompareTarget, type Compare, type RequestOp, type TxnRequest, type Writable } from "../../proto/index.js";
import { KvctlError } from "./errors.js";
import { parseLeaseId, prefixEnd } from "./flag_values.js";

export const TXN_SYNTAX = [
  'compares:   value("KEY") = "V" | version("KEY") > "N" | create("KEY") = "0" | mod("KEY") < "N" | lease("KEY") = "ID"   (= != < >)',
  "operations: get KEY [END] [--prefix] | put KEY VALUE [--lease=ID] | del KEY [END] [--prefix]",
].join("\n");

/** Splits a line into words: "quoted strings" (escapes decoded, as bytes) or bare words. */
export function tokenize(line: string): Buffer[] {
  const words: Buffer[] = [];
  let at = 0;
  while (at < line.length) {
    if (/\s/.test(line[at]!)) {
      at += 1;
      continue;
    }
    if (line[at] === '"') {
      const { bytes, end } = quoted(line, at);
      words.push(bytes);
      at = end;
      continue;
    }
    const end = line.slice(at).search(/\s/);
    const word = end < 0 ? line.slice(at) : line.slice(at, at + end);
    words.push(Buffer.from(word));
    at += word.length;
  }
  return words;
}

const SIMPLE_ESCAPES: Readonly<Record<string, number>> = { n: 0x0a, t: 0x09, r: 0x0d, "\\": 0x5c, '"': 0x22, "0": 0x00 };

/** A double-quoted string starting at `start`; returns its bytes and the index after its closing quote. */
function quoted(line: string, start: number): { bytes: Buffer; end: number } {
  const parts: Buffer[] = [];
  let at = start + 1;
  while (at < line.length && line[at] !== '"') {
    if (line[at] !== "\\") {
      const next = line.slice(at).search(/["\\]/);
      const text = next < 0 ? line.slice(at) : line.slice(at, at + next);
      parts.push(Buffer.from(text));
      at += text.length;
      continue;
    }
    const escape = line[at + 1] ?? "";
    if (escape === "x" && /^[0-9a-fA-F]{2}$/.test(line.slice(at + 2, at + 4))) {
      parts.push(Buffer.from([parseInt(line.slice(at + 2, at + 4), 16)]));
      at += 4;
    } else if (SIMPLE_ESCAPES[escape] !== undefined) {
      parts.push(Buffer.from([SIMPLE_ESCAPES[escape]]));
      at += 2;
    } else {
      throw KvctlError.usage(`Invalid escape "\\${escape}" in ${JSON.stringify(line)}`, 'use \\" \\\\ \\n \\t \\r \\0 or \\xNN');
    }
  }
  if (at >= line.length) throw KvctlError.usage(`Unterminated string in ${JSON.stringify(line)}`, "close it with a double quote");
  return { bytes: Buffer.concat(parts), end: at + 1 };
}

/** Known values only: an unknown one cannot be written (proto/wire_types.ts Writable). */
type Known<E> = E[keyof E];

const TARGETS: Readonly<Record<string, Known<typeof CompareTarget>>> = {
  value: CompareTarget.VALUE,
  val: CompareTarget.VALUE,
  version: CompareTarget.VERSION,
  ver: CompareTarget.VERSION,
  create: CompareTarget.CREATE,
  c: CompareTarget.CREATE,
  mod: CompareTarget.MOD,
  m: CompareTarget.MOD,
  lease: CompareTarget.LEASE,
};

const RESULTS: Readonly<Record<string, Known<typeof CompareResult>>> = { "=": CompareResult.EQUAL, "==": CompareResult.EQUAL, "!=": CompareResult.NOT_EQUAL, "<": CompareResult.LESS, ">": CompareResult.GREATER };

/** `target("key") op "value"`. */
export function parseCompare(line: string): Writable<Compare> {
  const match = /^\s*(\w+)\(\s*("(?:[^"\\]|\\.)*")\s*\)\s*(==|=|!=|<|>)\s*(.+?)\s*$/.exec(line);
  const target = match === null ? undefined : TARGETS[match[1]!];
  if (match === null || target === undefined) {
    throw KvctlError.usage(`Invalid compare ${JSON.stringify(line)}`, `write it as etcdctl does, such as value("config") = "v1"\n${TXN_SYNTAX}`);
  }
  const key = tokenize(match[2]!)[0]!;
  const words = tokenize(match[4]!);
  if (words.length !== 1) throw KvctlError.usage(`Invalid compare ${JSON.stringify(line)}: expected one value after ${match[3]}`, 'quote a value with spaces: value("k") = "a b"');
  const operand = words[0]!;
  const result = RESULTS[match[3]!]!;
  const base = { key, result, target };
  switch (target) {
    case CompareTarget.VALUE:
      return { ...base, value: operand };
    case CompareTarget.LEASE:
      return { ...base, lease: operand.toString() === "0" ? "0" : parseLeaseId(operand.toString()) };
    case CompareTarget.VERSION:
      return { ...base, version: wholeNumber(operand.toString(), line) };
    case CompareTarget.CREATE:
      return { ...base, create_revision: wholeNumber(operand.toString(), line) };
    case CompareTarget.MOD:
      return { ...base, mod_revision: wholeNumber(operand.toString(), line) };
    default:
      throw KvctlError.usage(`Invalid compare target in ${JSON.stringify(line)}`);
  }
}

function wholeNumber(text: string, line: string): string {
  if (!/^\d{1,18}$/.test(text)) throw KvctlError.usage(`Invalid number ${JSON.stringify(text)} in compare ${JSON.stringify(line)}`, "versions and revisions are whole numbers");
  return text;
}

/** `get|put|del ...` as a RequestOp. */
export function parseOperation(line: string): Writable<RequestOp> {
  const words = tokenize(line);
  const flags = words.filter((w) => w.toString().startsWith("--")).map(String);
  const args = words.filter((w) => !w.toString().startsWith("--"));
  const verb = args.shift()?.toString();
  const prefix = flags.includes("--prefix");
  const range = (): { key: Buffer; range_end: Buffer | null } => {
    const key = args[0];
    if (key === undefined) throw KvctlError.usage(`Missing key in ${JSON.stringify(line)}`, TXN_SYNTAX);
    return { key, range_end: prefix ? prefixEnd(key) : (args[1] ?? null) };
  };
  const unknown = flags.filter((f) => f !== "--prefix" && !f.startsWith("--lease="));
  if (unknown.length > 0) throw KvctlError.usage(`Unknown flag ${unknown[0]} in ${JSON.stringify(line)}`, TXN_SYNTAX);
  switch (verb) {
    case "get":
      return { request_range: range() };
    case "del":
    case "delete":
      return { request_delete_range: range() };
    case "put": {
      const [key, value] = args;
      if (key === undefined || value === undefined || args.length > 2) throw KvctlError.usage(`Invalid put ${JSON.stringify(line)}: expected put KEY VALUE [--lease=ID]`);
      const lease = flags.find((f) => f.startsWith("--lease="))?.slice("--lease=".length);
      return { request_put: { key, value, lease: lease === undefined ? "0" : parseLeaseId(lease) } };
    }
    default:
      throw KvctlError.usage(`Invalid operation ${JSON.stringify(line)}: expected get, put or del`, TXN_SYNTAX);
  }
}

/**
 * etcdctl's stdin form: compares, a blank line, the success operations, a blank line, the failure
 * operations. Lines starting with # are comments.
 */
export function parseTxnText(text: string): Writable<TxnRequest> {
  const lines = text.split(/\r?\n/).map((line) => line.trim()).filter((line) => !line.startsWith("#"));
  while (lines.length > 0 && lines[lines.length - 1] === "") lines.pop();
  // Each blank line ends a block, as in etcdctl: a leading blank line means "no compares".
  const blocks: string[][] = [[]];
  for (const line of lines) {
    if (line === "") blocks.push([]);
    else blocks[blocks.length - 1]!.push(line);
  }
  const [compares = [], success = [], failure = [], ...rest] = blocks;
  if (rest.some((block) => block.length > 0)) throw KvctlError.usage("A txn has at most three blocks: compares, success operations, failure operations (separated by blank lines)");
  return txnRequest(compares, success, failure);
}

export function txnRequest(compares: readonly string[], success: readonly string[], failure: readonly string[]): Writable<TxnRequest> {
  return { compare: compares.map(parseCompare), success: success.map(parseOperation), failure: failure.map(parseOperation) };
}
