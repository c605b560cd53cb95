// One error type for every mistake a user can make. A CalibanError carries one
// or more diagnostics so that all problems in a matrix are reported together.

import { displayName } from "./printable.ts";

/** Every kind of diagnostic, declared once. The code is stable: scripts may match on it. */
export const ERROR_CODES = {
  FILE_NOT_FOUND: "a file named on the command line or in the matrix does not exist",
  FILE_UNREADABLE: "a file exists but cannot be read (a directory, no permission)",
  TOML_SYNTAX: "the matrix is not valid TOML",
  JSON_SYNTAX: "a legacy config is not valid JSON",
  WRONG_TYPE: "a value has the wrong type (a number where a string belongs, ...)",
  UNKNOWN_KEY: "a key the matrix format does not define",
  MISSING_KEY: "a required key is absent",
  INVALID_NAME: "a name breaks the naming rules",
  INVALID_VALUE: "a value is malformed (a tag, a reference, a template, a build-arg value)",
  UNKNOWN_REFERENCE: "a reference to an axis, value, attribute or family that does not exist",
  CYCLE: "families build FROM each other in a loop",
  NO_BASE_IMAGE: "an image's `from` family has no image with the same axis values",
  DUPLICATE: "two things that must be unique are not (image references, combinations)",
  EMPTY: "the matrix, or a family, produces no images",
  USAGE: "the command line is wrong",
  EMITTER: "an emitter is unknown or its options are wrong",
  PLUGIN: "a plugin emitter could not be loaded, or misbehaved",
  LIMIT: "the output would break a hard limit of the tool that reads it",
  OUTPUT: "an output file could not be written",
  LEGACY_CONFIG: "a legacy Caliban config the old generator would not accept",
  LOCK: "the lock file beside the matrix is not one caliban-images wrote",
  REGISTRY: "a registry could not tell an image's digest (unreachable, refused, no such image): exit 4, worth a retry",
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;

/** A key path inside a matrix file: `images.gpu.args[1]` is ["images", "gpu", "args", 1]. */
export type KeyPath = readonly (string | number)[];

export interface Diagnostic {
  readonly code: ErrorCode;
  readonly message: string;
  readonly hint?: string;
  readonly file?: string;
  readonly keyPath?: KeyPath;
  readonly line?: number;
  readonly column?: number;
  /** Lines of source to show under the message, already formatted (e.g. the line and a caret). */
  readonly excerpt?: string;
}

export class CalibanError extends Error {
  readonly diagnostics: readonly Diagnostic[];

  constructor(diagnostics: Diagnostic | readonly Diagnostic[]) {
    const list = Array.isArray(diagnostics) ? diagnostics : [diagnostics as Diagnostic];
    super(list.map(formatDiagnostic).join("\n"));
    this.name = "CalibanError";
    this.diagnostics = list;
  }

  get code(): ErrorCode {
    return this.diagnostics[0]!.code;
  }
}

export function fail(code: ErrorCode, message: string, extra: Omit<Diagnostic, "code" | "message"> = {}): never {
  throw new CalibanError({ code, message, ...extra });
}

const BARE_KEY = /^[A-Za-z0-9_-]+$/;

export function formatKeyPath(path: KeyPath): string {
  let out = "";
  for (const segment of path) {
    if (typeof segment === "number") out += `[${segment}]`;
    else out += (out ? "." : "") + (BARE_KEY.test(segment) ? segment : JSON.stringify(segment));
  }
  return out;
}

/** `error: file:line:col: key.path: message`, then the excerpt and the hint, each indented. */
export function formatDiagnostic(d: Diagnostic): string {
  let where = "";
  if (d.file) {
    where = displayName(d.file);
    if (d.line !== undefined) where += `:${d.line}`;
    if (d.line !== undefined && d.column !== undefined) where += `:${d.column}`;
    where += ": ";
  }
  const path = d.keyPath && d.keyPath.length > 0 ? `${formatKeyPath(d.keyPath)}: ` : "";
  let out = `error: ${where}${path}${d.message}`;
  if (d.excerpt) out += `\n${d.excerpt}`;
  if (d.hint) out += `\n  hint: ${d.hint}`;
  return out;
}

/** The closest candidate by edit distance, for "did you mean" hints; undefined when nothing is close. */
export function closest(word: string, candidates: Iterable<string>): string | undefined {
  const lower = word.toLowerCase();
  // Only a candidate closer than the best so far can replace it: the limit falls as one is found.
  let limit = Math.max(1, Math.floor(word.length / 3));
  let best: string | undefined;
  for (const candidate of candidates) {
    const distance = editDistanceWithin(lower, candidate.toLowerCase(), limit);
    if (distance > limit) continue;
    best = candidate;
    if (distance === 0) break;
    limit = distance - 1;
  }
  return best;
}

export function didYouMean(word: string, candidates: Iterable<string>): string | undefined {
  const list = [...candidates];
  const guess = closest(word, list);
  if (guess) return `did you mean "${guess}"?`;
  if (list.length > 0 && list.length <= 12) return `expected one of: ${list.map((c) => `"${c}"`).join(", ")}`;
  return undefined;
}

/**
 * The edit distance of a and b when it is at most `limit`, else limit + 1: only the
 * cells within `limit` of the diagonal are computed, and a row beyond the limit ends it.
 * (Hints compare a word with every value of an axis, which can be thousands.)
 */
function editDistanceWithin(a: string, b: string, limit: number): number {
  if (Math.abs(a.length - b.length) > limit) return limit + 1;
  if (limit === 0) return a === b ? 0 : 1;
  const beyond = limit + 1;
  let previous = new Array<number>(b.length + 1);
  let current = new Array<number>(b.length + 1);
  for (let j = 0; j <= b.length; j++) previous[j] = j <= limit ? j : beyond;
  for (let i = 1; i <= a.length; i++) {
    const from = Math.max(1, i - limit);
    const to = Math.min(b.length, i + limit);
    current.fill(beyond);
    current[0] = i <= limit ? i : beyond;
    let rowMinimum = current[0]!;
    for (let j = from; j <= to; j++) {
      const substitution = previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1);
      const cell = Math.min(previous[j]! + 1, current[j - 1]! + 1, substitution, beyond);
      current[j] = cell;
      if (cell < rowMinimum) rowMinimum = cell;
    }
    if (rowMinimum > limit) return beyond;
    [previous, current] = [current, previous];
  }
  return Math.min(previous[b.length]!, beyond);
}
