// Protobuf messages as JSON, the way etcd's grpc-gateway writes and reads them (golang/protobuf's
// jsonpb with OrigName, as etcd 3.4 configures it): field names as the .proto writes them
// (`create_revision`, `TTL`, `dbSize`); bytes as base64; 64-bit integers as decimal strings; enums
// by name; fields at their default value left out. Reading accepts what jsonpb accepts: the .proto
// name or its lowerCamelCase JSON name, integers as numbers or strings, enums by name or number,
// base64 with either alphabet; unknown fields are ignored. Messages travel as protobuf bytes between
// this and the gRPC handlers, so a JSON call meets exactly the code a gRPC call meets.

import protobuf from "protobufjs";
import { join } from "node:path";
import { etcdProtoFiles, protoRoot } from "./load.js";

/** A JSON body that does not fit the message: the gateway answers INVALID_ARGUMENT with it. */
export class JsonMappingError extends Error {}

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** The etcd .proto files as protobufjs types, for the JSON mapping (proto/load.ts serves gRPC). */
export function loadEtcdJsonTypes(): protobuf.Root {
  const root = new protobuf.Root();
  root.resolvePath = (_origin, target) => join(protoRoot, target);
  root.loadSync([...etcdProtoFiles], { keepCase: true });
  root.resolveAll();
  return root;
}

const LONG_TYPES = new Set(["int64", "uint64", "sint64", "fixed64", "sfixed64"]);
const INT32_TYPES = new Set(["int32", "uint32", "sint32", "fixed32", "sfixed32"]);
const BASE64 = /^[A-Za-z0-9+/\-_]*={0,2}$/;

function jsonName(field: protobuf.Field): string {
  return field.name.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());
}

/** The protobuf bytes of `type` that `json` (a parsed body) describes; throws JsonMappingError. */
export function jsonToProtobuf(type: protobuf.Type, json: unknown): Uint8Array {
  return type.encode(type.fromObject(plainMessage(type, json, type.name))).finish();
}

function plainMessage(type: protobuf.Type, json: unknown, where: string): Record<string, unknown> {
  if (typeof json !== "object" || json === null || Array.isArray(json)) {
    throw new JsonMappingError(`${where}: expected a JSON object for ${type.name}, got ${describe(json)}`);
  }
  const byName = new Map<string, protobuf.Field>();
  for (const field of type.fieldsArray) {
    byName.set(field.name, field);
    byName.set(jsonName(field), field);
  }
  const plain: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(json)) {
    const field = byName.get(key);
    if (field === undefined || value === null) continue; // jsonpb skips unknown fields and nulls
    const at = `${where}.${field.name}`;
    if (field.repeated) {
      if (!Array.isArray(value)) throw new JsonMappingError(`${at}: expected a JSON array, got ${describe(value)}`);
      plain[field.name] = value.map((item, i) => plainValue(field, item, `${at}[${i}]`));
    } else {
      plain[field.name] = plainValue(field, value, at);
    }
  }
  return plain;
}

function plainValue(field: protobuf.Field, value: unknown, at: string): unknown {
  const resolved = field.resolvedType;
  if (resolved instanceof protobuf.Type) return plainMessage(resolved, value, at);
  if (resolved instanceof protobuf.Enum) {
    if (typeof value === "string" && value in resolved.values) return resolved.values[value];
    if (typeof value === "number" && Number.isInteger(value)) return value;
    throw new JsonMappingError(`${at}: expected one of ${Object.keys(resolved.values).join(", ")} (or its number), got ${describe(value)}`);
  }
  if (field.type === "bytes") {
    if (typeof value !== "string" || !BASE64.test(value) || value.replace(/=+$/, "").length % 4 === 1) {
      throw new JsonMappingError(`${at}: expected base64 (as "Zm9v" for "foo"), got ${describe(value)}`);
    }
    return Buffer.from(value, "base64");
  }
  if (LONG_TYPES.has(field.type) || INT32_TYPES.has(field.type)) {
    const text = typeof value === "number" && Number.isInteger(value) ? String(value) : typeof value === "string" ? value : undefined;
    const unsigned = field.type.startsWith("u") || field.type === "fixed64" || field.type === "fixed32";
    if (text === undefined || !(unsigned ? /^\d+$/ : /^-?\d+$/).test(text)) {
      throw new JsonMappingError(`${at}: expected ${unsigned ? "a non-negative" : "an"} integer (a number or a decimal string), got ${describe(value)}`);
    }
    const big = BigInt(text);
    const bits = LONG_TYPES.has(field.type) ? 64n : 32n;
    const [min, max] = unsigned ? [0n, (1n << bits) - 1n] : [-(1n << (bits - 1n)), (1n << (bits - 1n)) - 1n];
    if (big < min || big > max) throw new JsonMappingError(`${at}: ${text} is out of range for ${field.type}`);
    return LONG_TYPES.has(field.type) ? text : Number(text);
  }
  if (field.type === "bool") {
    if (typeof value !== "boolean") throw new JsonMappingError(`${at}: expected true or false, got ${describe(value)}`);
    return value;
  }
  if (field.type === "string") {
    if (typeof value !== "string") throw new JsonMappingError(`${at}: expected a string, got ${describe(value)}`);
    return value;
  }
  if (field.type === "double" || field.type === "float") {
    if (typeof value !== "number") throw new JsonMappingError(`${at}: expected a number, got ${describe(value)}`);
    return value;
  }
  throw new JsonMappingError(`${at}: fields of type ${field.type} are not read from JSON`);
}

function describe(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 40 ? `${text.slice(0, 40)}...` : text;
}

/** `bytes` (a message of `type`) as jsonpb writes it: defaults left out, 64-bit integers as strings. */
export function protobufToJson(type: protobuf.Type, bytes: Uint8Array): Json {
  return messageJson(type, type.decode(bytes) as unknown as Record<string, unknown>);
}

function messageJson(type: protobuf.Type, message: Record<string, unknown>): { [key: string]: Json } {
  const json: { [key: string]: Json } = {};
  for (const field of type.fieldsArray) {
    if (!Object.prototype.hasOwnProperty.call(message, field.name)) continue;
    const value = message[field.name];
    if (value === null || value === undefined) continue;
    if (field.repeated) {
      const items = value as unknown[];
      if (items.length > 0) json[field.name] = items.map((item) => valueJson(field, item));
      continue;
    }
    const converted = valueJson(field, value);
    if (isDefault(field, converted)) continue;
    json[field.name] = converted;
  }
  return json;
}

function valueJson(field: protobuf.Field, value: unknown): Json {
  const resolved = field.resolvedType;
  if (resolved instanceof protobuf.Type) return messageJson(resolved, value as Record<string, unknown>);
  if (resolved instanceof protobuf.Enum) return resolved.valuesById[value as number] ?? (value as number);
  if (field.type === "bytes") return Buffer.from(value as Uint8Array).toString("base64");
  if (LONG_TYPES.has(field.type)) return String(value); // a number, or a Long that prints itself with its sign
  return value as Json;
}

function isDefault(field: protobuf.Field, value: Json): boolean {
  if (field.resolvedType instanceof protobuf.Type) return false; // a message that is set is written, even empty
  if (field.resolvedType instanceof protobuf.Enum) return field.resolvedType.values[value as string] === 0 || value === 0;
  return value === 0 || value === "0" || value === "" || value === false;
}

/**
 * The JSON values of `text`, one after another (whitespace between them, as a streaming body sends
 * them); each is parsed on its own, so a SyntaxError names the broken one. An integer too long for a
 * double (a lease id like 7587899332107575063, which etcd's examples write unquoted) is read as its
 * decimal string, which the JSON mapping takes for any integer field, so that no digit is lost.
 */
export function jsonValues(text: string): unknown[] {
  const values: unknown[] = [];
  let value = "";
  let depth = 0;
  const flush = (): void => {
    if (value.trim() !== "") values.push(JSON.parse(value));
    value = "";
  };
  for (let i = 0; i < text.length; ) {
    const c = text[i]!;
    if (c === '"') {
      const end = stringEnd(text, i);
      value += text.slice(i, end);
      i = end;
    } else if (c === "-" || (c >= "0" && c <= "9")) {
      const number = /^-?\d+(\.\d+)?([eE][+-]?\d+)?/.exec(text.slice(i))?.[0] ?? c;
      value += number.length > 15 && /^-?\d+$/.test(number) ? `"${number}"` : number;
      i += number.length;
    } else {
      value += c;
      i++;
      if (c === "{" || c === "[") depth++;
      else if (c === "}" || c === "]") depth--;
      else if (depth === 0 && /\s/.test(c)) flush(); // a bare value ends at whitespace
      if (depth === 0 && (c === "}" || c === "]")) flush();
    }
  }
  flush();
  return values;
}

/** Where the JSON string starting at `start` (its opening quote) ends, past its closing quote. */
function stringEnd(text: string, start: number): number {
  for (let i = start + 1; i < text.length; i++) {
    if (text[i] === "\\") i++;
    else if (text[i] === '"') return i + 1;
  }
  return text.length; // unterminated: JSON.parse says so
}
