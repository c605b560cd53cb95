// Reading TOML. Bun's built-in parser is several times faster than @iarna/toml and
// passes more of the TOML test suite, but gives no position for a syntax error; so
// @iarna/toml is loaded only when Bun's parser fails, to say where. Bun's verdict
// stands: a file @iarna/toml would accept (it accepts some that TOML 1.0 forbids) is
// still refused, without a line.

import { CalibanError, formatKeyPath, type Diagnostic, type KeyPath } from "../errors.ts";
import { locateKeys, positionOf, type Position } from "./toml-locate.ts";

/** A TOML file's text, which is all that locating a key path needs. */
export interface TomlSource {
  readonly file: string;
  readonly text: string;
}

export interface TomlDocument extends TomlSource {
  readonly data: Record<string, unknown>;
}

export async function parseToml(text: string, file: string): Promise<TomlDocument> {
  try {
    return { file, text, data: Bun.TOML.parse(text) as Record<string, unknown> };
  } catch (bunError) {
    const iarna = await import("@iarna/toml");
    try {
      iarna.parse(text);
    } catch (error) {
      throw new CalibanError(syntaxDiagnostic(text, file, error, bunError));
    }
    const message = String((bunError as Error).message ?? bunError).replace(/^TOML Parse error: /, "");
    throw new CalibanError({ code: "TOML_SYNTAX", file, message: `invalid TOML: ${lowerFirst(message)}`, hint: "the TOML reader gives no line for this mistake" });
  }
}

function syntaxDiagnostic(text: string, file: string, error: unknown, bunError: unknown): Diagnostic {
  const e = error as { message?: string; line?: number; col?: number };
  const firstLine = String(e.message ?? bunError).split("\n")[0]!;
  const message = firstLine.replace(/ at row \d+, col \d+, pos \d+:?$/, "");
  if (typeof e.line !== "number" || typeof e.col !== "number") {
    return { code: "TOML_SYNTAX", file, message: `invalid TOML: ${message}` };
  }
  const line = e.line + 1;
  const column = e.col + 1;
  return {
    code: "TOML_SYNTAX",
    file,
    line,
    column,
    message: `invalid TOML: ${lowerFirst(message)}`,
    excerpt: caretExcerpt(text, line, column),
    hint: syntaxHint(text, line),
  };
}

/** The offending line with a caret under the column, as compilers print it. */
export function caretExcerpt(text: string, line: number, column: number): string {
  const source = (text.split("\n")[line - 1] ?? "").replace(/\r$/, "");
  const gutter = `${line} | `;
  const pad = " ".repeat(gutter.length - 2) + "| ";
  // Keep tabs in the padding so the caret lines up under tab-indented text.
  const lead = source.slice(0, column - 1).replace(/[^\t]/g, " ");
  return `  ${gutter}${source}\n  ${pad}${lead}^`;
}

function syntaxHint(text: string, line: number): string | undefined {
  const source = text.split("\n")[line - 1] ?? "";
  if (/=\s*[A-Za-z_][\w.-]*\s*(#.*)?$/.test(source) && !/=\s*(true|false|inf|nan)\b/.test(source)) {
    return "strings must be quoted: NAME = \"value\"";
  }
  if (/=\s*$/.test(source)) return "a value must follow '=' on the same line";
  return undefined;
}

function lowerFirst(s: string): string {
  return s.charAt(0).toLowerCase() + s.slice(1);
}

/**
 * Where each key of a document stands: scanned on first need (toml-locate), then kept,
 * so ordering number-like keys and locating errors in the same document scan it once.
 */
const scanned = new WeakMap<TomlSource, Map<string, Position>>();
function keyPositions(document: TomlSource): Map<string, Position> {
  let positions = scanned.get(document);
  if (!positions) scanned.set(document, (positions = locateKeys(document.text)));
  return positions;
}

/** Fills in line and column for diagnostics that carry a key path into this document. */
export function locateDiagnostics(document: TomlSource, diagnostics: readonly Diagnostic[]): Diagnostic[] {
  // Split once for all the diagnostics: a matrix can have thousands of wrong values.
  let lines: string[] | undefined;
  return diagnostics.map((d) => {
    if (d.line !== undefined || !d.keyPath || d.file !== document.file) return d;
    const position = positionOf(keyPositions(document), d.keyPath as KeyPath);
    if (!position) return d;
    const located = { ...d, line: position.line, column: position.column };
    if (d.code !== "WRONG_TYPE") return located;
    lines ??= document.text.split("\n");
    return { ...located, ...numberAsWritten(lines[position.line - 1] ?? "", located) };
  });
}

/**
 * "Quote it" must show the number as the user wrote it: TOML reads 3.10 as 3.1, and
 * "3.1" is exactly the wrong fix. The text is read from the source line at the key.
 */
function numberAsWritten(line: string, d: Diagnostic): Partial<Diagnostic> {
  const found = /found the number (\S+)$/.exec(d.message);
  if (!found) return {};
  const raw = /^[^=]*=\s*([-+0-9][-+0-9_.eE]*)/.exec(line.slice(d.column! - 1))?.[1];
  if (!raw) return {};
  const reading = raw === found[1] ? "" : ` (TOML reads ${raw} as the number ${found[1]})`;
  return { hint: `quote it as written: "${raw}"${reading}` };
}

/** A table's keys in the order the file gives them, given the table's key path. */
export type KeysAsWritten = (table: object, path: KeyPath) => string[];

/**
 * Key order as written. A JavaScript object lists keys that read as array indices
 * ("10", "11") before all others, whatever the file says, so an axis with values "9.2",
 * "10" and "cu8" would come out as 10, 9.2, cu8. Only a table with such a key is
 * placed by the text (scanned once, on first need); any other keeps the parser's
 * order, which is the file's.
 */
export function keysAsWritten(document: TomlSource): KeysAsWritten {
  return (table, path) => {
    const keys = Object.keys(table);
    if (!keys.some(isArrayIndex)) return keys;
    const positions = keyPositions(document);
    const placed = keys.map((key) => ({ key, at: positions.get(formatKeyPath([...path, key])) }));
    // A key the scanner did not place (it stops at what it cannot read): the parser's order is all there is.
    if (placed.some((p) => p.at === undefined)) return keys;
    return placed.sort((a, b) => a.at!.line - b.at!.line || a.at!.column - b.at!.column).map((p) => p.key);
  };
}

/** A key a JavaScript object lists first: a canonical integer below 2^32 - 1. */
function isArrayIndex(key: string): boolean {
  return /^(?:0|[1-9][0-9]{0,9})$/.test(key) && Number(key) < 2 ** 32 - 1;
}

/** A TOML basic string; JSON's escapes are a subset of TOML's. */
export function tomlString(value: string): string {
  return JSON.stringify(value);
}

/** A key: bare when TOML allows, else quoted. */
export function tomlKey(key: string): string {
  return /^[A-Za-z0-9_-]+$/.test(key) ? key : tomlString(key);
}
