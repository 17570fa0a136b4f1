// How kvctl prints: `table` for people (the default on a terminal), `simple` for scripts and pipes
// (one field per line, as etcdctl prints), `json` for programs (one JSON document per result, one per
// line for streams). Keys and values are bytes: printed as text only when they are printable UTF-8,
// escaped otherwise, so that a binary value can never garble a terminal or split a line.

export const FORMATS = ["table", "json", "simple"] as const;
export type Format = (typeof FORMATS)[number];

/** The default: a table for a person at a terminal, one field per line into a pipe. */
export function defaultFormat(isTty: boolean): Format {
  return isTty ? "table" : "simple";
}

const ESCAPES: Readonly<Record<string, string>> = { "\n": "\\n", "\r": "\\r", "\t": "\\t", "\\": "\\\\" };

/**
 * Bytes as one line of text: printable UTF-8 as it is; a backslash, a control character or a byte
 * that is not UTF-8 as an escape (`\n`, `\x00`, `\xff`). Unambiguous: a backslash is always doubled.
 */
export function escapeBytes(bytes: Uint8Array): string {
  const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let out = "";
  let at = 0;
  while (at < buffer.length) {
    const length = utf8Length(buffer, at);
    if (length === 0) {
      out += `\\x${buffer[at]!.toString(16).padStart(2, "0")}`;
      at += 1;
      continue;
    }
    const char = buffer.toString("utf8", at, at + length);
    const code = char.codePointAt(0)!;
    if (ESCAPES[char] !== undefined) out += ESCAPES[char];
    else if (code < 0x20 || code === 0x7f || (code >= 0x80 && code < 0xa0)) out += `\\x${code.toString(16).padStart(2, "0")}`;
    else out += char;
    at += length;
  }
  return out;
}

/** The length of the well-formed UTF-8 sequence at `at`, or 0 when the byte there starts none. */
function utf8Length(buffer: Buffer, at: number): number {
  const first = buffer[at]!;
  const length = first < 0x80 ? 1 : first >= 0xc2 && first < 0xe0 ? 2 : first >= 0xe0 && first < 0xf0 ? 3 : first >= 0xf0 && first < 0xf5 ? 4 : 0;
  if (length <= 1 || at + length > buffer.length) return length === 1 ? 1 : 0;
  for (let i = 1; i < length; i++) if ((buffer[at + i]! & 0xc0) !== 0x80) return 0;
  // Overlong forms and surrogates decode to U+FFFD; treat them as bytes.
  return buffer.toString("utf8", at, at + length) === "\uFFFD" ? 0 : length;
}

/** Bytes for JSON: `{text}` when they are valid UTF-8 (JSON escapes the rest), else base64. */
export function jsonBytes(name: string, bytes: Uint8Array): Record<string, string> {
  const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const text = buffer.toString("utf8");
  return Buffer.from(text, "utf8").equals(buffer) ? { [name]: text } : { [`${name}_base64`]: buffer.toString("base64") };
}

/** Rows under a header, columns padded to their widest cell. */
export function renderTable(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => (row[column] ?? "").length)));
  const line = (cells: readonly string[]): string => cells.map((cell, column) => cell.padEnd(widths[column]!)).join("  ").trimEnd();
  const rule = widths.map((width) => "-".repeat(width)).join("  ");
  return [line(header), rule, ...rows.map(line)].join("\n") + "\n";
}

/** What a result looks like in each format; the command gives all three, the printer picks one. */
export interface Views {
  readonly table: () => { readonly header: readonly string[]; readonly rows: readonly (readonly string[])[] };
  readonly json: () => unknown;
  readonly simple: () => readonly string[];
}

export class Printer {
  constructor(
    readonly format: Format,
    private readonly write: (text: string) => void = (text) => process.stdout.write(text),
  ) {}

  print(views: Views): void {
    switch (this.format) {
      case "table": {
        const { header, rows } = views.table();
        return this.write(renderTable(header, rows));
      }
      case "json":
        return this.write(`${JSON.stringify(views.json())}\n`);
      case "simple":
        return this.write(views.simple().map((line) => `${line}\n`).join(""));
    }
  }

  /** One line of a stream (watch, observe) in table format: no header, cells separated by two spaces. */
  row(cells: readonly string[]): void {
    this.write(`${cells.join("  ")}\n`);
  }

  /** A note for the person (progress, "waiting for the lock"): stderr, so stdout stays the result. */
  note(text: string): void {
    process.stderr.write(`${text}\n`);
  }
}
