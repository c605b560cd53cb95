// What every section of the matrix reader shares: the diagnostics it collects, and
// small typed readers that report a wrong type at its key path and return undefined.

import { didYouMean, type Diagnostic, type ErrorCode, type KeyPath } from "../errors.ts";
import { ARG_NAME_PATTERN, ARG_NAME_RULE, CONTROL_CHARACTER, describeControlCharacter, NAME_PATTERN, NAME_RULE } from "../names.ts";
import type { KeysAsWritten } from "./toml.ts";

export type Table = Record<string, unknown>;

/**
 * How many names all "did you mean" hints among names that may be many (an axis's
 * values, the families) may compare with, per matrix. Each hint compares the word with
 * every name, so ten thousand unknown values of an axis of ten thousand took 18 s;
 * past the budget (a few hundredths of a second), such an error comes without its hint.
 */
const HINT_COMPARISONS = 200_000;

export class MatrixReader {
  readonly diagnostics: Diagnostic[] = [];
  /** The values of [vars] (matrix-vars.ts), read first: readTemplate fills them into every template. */
  variables: ReadonlyMap<string, string> = new Map();
  private hintBudget = HINT_COMPARISONS;

  constructor(
    readonly file: string,
    /** Where order means something (axes, their values, families): the file's order, not the object's. */
    readonly keysAsWritten: KeysAsWritten,
  ) {}

  report(code: ErrorCode, keyPath: KeyPath, message: string, hint?: string): void {
    this.diagnostics.push({ code, file: this.file, keyPath, message, ...(hint ? { hint } : {}) });
  }

  /** "Did you mean" among `count` names, listed only while the budget above allows. */
  hintAmong(word: string, count: number, names: () => Iterable<string>): string | undefined {
    if (count > this.hintBudget) return undefined;
    this.hintBudget -= count;
    return didYouMean(word, names());
  }

  knownKeys(table: Table, allowed: readonly string[], path: KeyPath): void {
    for (const key of Object.keys(table)) {
      if (!allowed.includes(key)) {
        const where = path.length === 0 ? "at the top level" : "here";
        this.report("UNKNOWN_KEY", [...path, key], `unknown key "${key}" ${where}`, didYouMean(key, allowed));
      }
    }
  }

  name(name: string, path: KeyPath, what: string): void {
    if (!NAME_PATTERN.test(name)) this.report("INVALID_NAME", path, `"${name}" is not a valid ${what} name`, `use ${NAME_RULE}`);
  }

  argName(name: string, path: KeyPath): void {
    if (!ARG_NAME_PATTERN.test(name)) this.report("INVALID_NAME", path, `"${name}" is not a valid build-arg name`, `use ${ARG_NAME_RULE}`);
  }

  argValue(value: unknown, path: KeyPath): string | undefined {
    const text = this.string(value, path);
    if (text !== undefined && CONTROL_CHARACTER.test(text)) {
      this.report("INVALID_VALUE", path, `the value contains ${describeControlCharacter(text)}, which no build tool can carry in a build arg`);
      return undefined;
    }
    return text;
  }

  string(value: unknown, path: KeyPath): string | undefined {
    if (typeof value === "string") return value;
    const hint = typeof value === "number" || typeof value === "boolean" ? `quote it: "${String(value)}"` : undefined;
    this.wrongType(value, path, "a string", undefined, hint);
    return undefined;
  }

  boolean(value: unknown, path: KeyPath): boolean | undefined {
    if (typeof value === "boolean") return value;
    this.wrongType(value, path, "true or false", undefined, value === "true" || value === "false" ? `write it unquoted: ${value}` : undefined);
    return undefined;
  }

  stringList(value: unknown, path: KeyPath): string[] | undefined {
    if (value === undefined) return undefined;
    if (!Array.isArray(value)) {
      this.wrongType(value, path, "an array of strings");
      return undefined;
    }
    const out: string[] = [];
    value.forEach((item, index) => {
      const text = this.string(item, [...path, index]);
      if (text !== undefined) out.push(text);
    });
    return out;
  }

  table(value: unknown, path: KeyPath, hint?: string): Table | undefined {
    if (isTable(value)) return value;
    this.wrongType(value, path, "a table", undefined, hint);
    return undefined;
  }

  wrongType(value: unknown, path: KeyPath, expected: string, example?: string, hint?: string): void {
    this.report("WRONG_TYPE", path, `expected ${expected}, found ${describeType(value)}`, hint ?? (example ? `for example: ${example}` : undefined));
  }
}

/** A TOML table: a plain object. Dates and times are objects too (Bun gives Temporal ones), but not tables. */
export function isTable(value: unknown): value is Table {
  if (typeof value !== "object" || value === null) return false;
  const prototype = Object.getPrototypeOf(value);
  return prototype === Object.prototype || prototype === null;
}

function describeType(value: unknown): string {
  if (Array.isArray(value)) return "an array";
  if (value instanceof Date || /^Temporal\./.test(String((value as { [Symbol.toStringTag]?: unknown } | null)?.[Symbol.toStringTag] ?? ""))) return "a date or time";
  if (value === null) return "nothing";
  if (typeof value === "object") return "a table";
  if (typeof value === "string") return `the string ${JSON.stringify(value)}`;
  if (typeof value === "number") return `the number ${value}`;
  return `${typeof value} ${String(value)}`;
}
