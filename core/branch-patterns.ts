// `[publish] branches` are GitHub's filter patterns (docs: "Filter pattern cheat sheet"),
// and mean the same on every CI: `*` any characters but '/', `**` any characters, `?`
// zero or one of the character (or set) before it, `+` one or more of it, `[...]` one of
// a set of letters and digits (ranges a-z, A-Z, 0-9), `\+` a plain '+', and a leading
// `!` leaves the branches it matches out again. Patterns are read in order; the last one
// that matches a branch decides.
//
// GitHub reads them itself; Cloud Build takes one RE2 regular expression per trigger, so
// each pattern is also written as RE2 (`branchFilter`). Anything the two would read
// differently, or that one regex cannot say, is refused when the matrix is read
// (`branchPatternProblem`, `branchListProblems`), so both publish from the same branches.

import { CalibanError } from "./errors.ts";
import type { Publish } from "./graph.ts";

/** One character, one of a set, or a run of characters. */
type Atom =
  | { readonly kind: "char"; readonly char: string }
  | { readonly kind: "set"; readonly source: string; readonly chars: string }
  | { readonly kind: "star" }
  | { readonly kind: "globstar" };

/** An atom and how often it repeats: once, `?` (zero or one), `+` (one or more). */
interface Piece {
  readonly atom: Atom;
  repeat: "one" | "optional" | "some";
}

interface ParsedPattern {
  readonly negated: boolean;
  readonly pieces: readonly Piece[];
}

export interface PatternProblem {
  readonly message: string;
  readonly hint: string;
}

const PATTERN_RULE = "letters, digits and . _ / -, with GitHub's * ** ? + [a-z0-9] as patterns, \\+ for a plain +, and a leading ! to leave branches out";
const QUANTIFIER_HINT = "GitHub reads ? as zero or one, and + as one or more, of the character or [set] just before; write \\+ for a plain +";
const RANGES = ["az", "AZ", "09"];

/** A pattern read as GitHub reads it, or what is wrong with it. */
function parse(text: string): ParsedPattern | PatternProblem {
  const negated = text.startsWith("!");
  const body = negated ? text.slice(1) : text;
  const bad = (message: string, hint = PATTERN_RULE): PatternProblem => ({ message: `${JSON.stringify(text)}: ${message}`, hint });
  if (body === "") return bad(negated ? "a ! with no pattern after it" : "an empty pattern");
  if (!/^[A-Za-z0-9._/*?+\\[\]-]+$/.test(body) || body.startsWith("-") || body.startsWith("/")) return { message: `${JSON.stringify(text)} is not a branch name or pattern`, hint: PATTERN_RULE };
  const pieces: Piece[] = [];
  for (let i = 0; i < body.length; ) {
    const c = body[i]!;
    if (c === "*") {
      let end = i;
      while (body[end] === "*") end++;
      if (end - i > 2) return bad(`${end - i} * in a row`, "* is any characters but '/', ** any characters");
      pieces.push({ atom: end - i === 2 ? { kind: "globstar" } : { kind: "star" }, repeat: "one" });
      i = end;
    } else if (c === "?" || c === "+") {
      const last = pieces.at(-1);
      if (last === undefined) return bad(`it starts with "${c}", which repeats the character before it, and there is none`, QUANTIFIER_HINT);
      if (last.atom.kind === "star" || last.atom.kind === "globstar" || last.repeat !== "one") return bad(`"${c}" after "${body[i - 1]}" repeats no single character`, QUANTIFIER_HINT);
      last.repeat = c === "?" ? "optional" : "some";
      i++;
    } else if (c === "\\") {
      // A branch name cannot hold '\', '*', '?' or '[' (git check-ref-format): '+' is the one worth escaping.
      if (body[i + 1] !== "+") return bad("\\ escapes only a + (no branch name holds \\, *, ? or [)", PATTERN_RULE);
      pieces.push({ atom: { kind: "char", char: "+" }, repeat: "one" });
      i += 2;
    } else if (c === "[") {
      const close = body.indexOf("]", i + 1);
      if (close < 0) return bad("a [ with no ]");
      const set = setChars(body.slice(i + 1, close));
      if (typeof set !== "string") return bad(set.message, "a [...] set holds letters and digits, and ranges within a-z, A-Z or 0-9, as GitHub reads it");
      pieces.push({ atom: { kind: "set", source: body.slice(i + 1, close), chars: set }, repeat: "one" });
      i = close + 1;
    } else if (c === "]") {
      return bad("a ] with no [ before it");
    } else {
      pieces.push({ atom: { kind: "char", char: c }, repeat: "one" });
      i++;
    }
  }
  return { negated, pieces };
}

/** The characters of a set's inside (`a-z0-9_`), or what is wrong with it. */
function setChars(inside: string): string | { message: string } {
  if (inside === "") return { message: "an empty [] set" };
  let chars = "";
  for (let j = 0; j < inside.length; ) {
    const from = inside[j]!;
    if (!/^[A-Za-z0-9]$/.test(from)) return { message: `"${from}" in a [...] set` };
    if (inside[j + 1] !== "-") {
      chars += from;
      j++;
      continue;
    }
    const to = inside[j + 2];
    if (to === undefined) return { message: `the range "${from}-" has no end` };
    if (!RANGES.some((range) => range[0]! <= from && to <= range[1]! && from <= to)) return { message: `the range "${from}-${to}" is not within a-z, A-Z or 0-9, from low to high` };
    for (let code = from.charCodeAt(0); code <= to.charCodeAt(0); code++) chars += String.fromCharCode(code);
    j += 3;
  }
  return chars;
}

function isProblem(parsed: ParsedPattern | PatternProblem): parsed is PatternProblem {
  return "message" in parsed;
}

/** What is wrong with one pattern, as GitHub and Cloud Build would read it; undefined when nothing is. */
export function branchPatternProblem(text: string): PatternProblem | undefined {
  const parsed = parse(text);
  return isProblem(parsed) ? parsed : undefined;
}

function parsed(text: string): ParsedPattern {
  const result = parse(text);
  if (isProblem(result)) throw new CalibanError({ code: "INVALID_VALUE", keyPath: ["publish", "branches"], message: result.message, hint: result.hint });
  return result;
}

/** Whether a pattern (without its `!`) matches a branch, by GitHub's rules: read character by character, no regular expression. */
function matches(pieces: readonly Piece[], name: string): boolean {
  const known = new Map<number, boolean>();
  const from = (p: number, i: number): boolean => {
    if (p === pieces.length) return i === name.length;
    const key = p * (name.length + 1) + i;
    const seen = known.get(key);
    if (seen !== undefined) return seen;
    const { atom, repeat } = pieces[p]!;
    let result = false;
    if (atom.kind === "star" || atom.kind === "globstar") {
      for (let j = i; !result; j++) {
        result = from(p + 1, j);
        if (j === name.length || (atom.kind === "star" && name[j] === "/")) break;
      }
    } else {
      const one = (j: number) => j < name.length && (atom.kind === "char" ? name[j] === atom.char : atom.chars.includes(name[j]!));
      if (repeat === "one") result = one(i) && from(p + 1, i + 1);
      else if (repeat === "optional") result = from(p + 1, i) || (one(i) && from(p + 1, i + 1));
      else for (let j = i; !result && one(j); j++) result = from(p + 1, j + 1);
    }
    known.set(key, result);
    return result;
  };
  return from(0, 0);
}

/** Whether a push to `branch` publishes: the last pattern that matches it is not a `!` one. */
export function branchPublishes(branches: readonly string[], branch: string): boolean {
  let publishes = false;
  for (const text of branches) {
    const { negated, pieces } = parsed(text);
    if (matches(pieces, branch)) publishes = !negated;
  }
  return publishes;
}

/** A pattern (without its `!`) as RE2 source, which JavaScript reads alike: literals, `.`, `[^/]`, classes of letters and digits, `*`, `?`, `+`. */
function regexSource(pieces: readonly Piece[]): string {
  return pieces
    .map(({ atom, repeat }) => {
      const one = atom.kind === "star" ? "[^/]*" : atom.kind === "globstar" ? ".*" : atom.kind === "set" ? `[${atom.source}]` : /[.+]/.test(atom.char) ? `\\${atom.char}` : atom.char;
      return one + (repeat === "optional" ? "?" : repeat === "some" ? "+" : "");
    })
    .join("");
}

/**
 * Where a list of patterns cannot be one Cloud Build trigger: a trigger has one RE2
 * expression (no lookahead, so no "but not") and can only invert it whole. A list of
 * plain patterns is their alternation; `"**"` and then only `!` patterns is the
 * alternation of the `!` patterns, inverted. Any other `!` is refused.
 */
export function branchListProblems(branches: readonly string[]): { readonly index: number; readonly message: string; readonly hint: string }[] {
  const problems: { index: number; message: string; hint: string }[] = [];
  const firstNegated = branches.findIndex((text) => text.startsWith("!"));
  if (firstNegated < 0) return problems;
  const everything = branches.slice(0, firstNegated).includes("**");
  branches.forEach((text, index) => {
    if (index <= firstNegated && !text.startsWith("!")) return;
    if (!text.startsWith("!")) {
      problems.push({ index, message: `${JSON.stringify(text)} comes after a ! pattern, and puts branches back in: one Cloud Build trigger expression cannot say that`, hint: "list the patterns that publish first, then the ! ones" });
    } else if (!everything) {
      problems.push({
        index,
        message: `${JSON.stringify(text)} leaves branches out of others, which one Cloud Build trigger expression (RE2 has no lookahead) cannot say`,
        hint: 'list only the branches that publish; or, to publish from every branch but some, write "**" first and then the ! patterns (a trigger inverts its whole expression)',
      });
    }
  });
  return problems;
}

/** The branches as one Cloud Build trigger's filter: an anchored RE2 expression, inverted or not. */
export interface BranchFilter {
  readonly regex: string;
  readonly invertRegex: boolean;
}

/**
 * The list as one RE2 expression, anchored at both ends: whether Cloud Build searches the
 * branch name or matches it whole, it means the same branches as GitHub's filter.
 */
export function branchFilter(branches: readonly string[]): BranchFilter {
  const problem = branchListProblems(branches)[0];
  if (problem) throw new CalibanError({ code: "INVALID_VALUE", keyPath: ["publish", "branches", problem.index], message: problem.message, hint: problem.hint });
  const negated = branches.some((text) => text.startsWith("!"));
  const listed = branches.filter((text) => text.startsWith("!") === negated).map((text) => regexSource(parsed(text).pieces));
  return { regex: `^(${listed.join("|")})$`, invertRegex: negated };
}

/** The first pattern that is a plain branch name (a scheduled build needs one branch), or undefined. */
export function firstPlainBranch(branches: readonly string[]): string | undefined {
  for (const text of branches) {
    const { negated, pieces } = parsed(text);
    if (!negated && pieces.every(({ atom, repeat }) => atom.kind === "char" && repeat === "one")) return pieces.map(({ atom }) => (atom as { char: string }).char).join("");
  }
  return undefined;
}

/** The events that may publish: a push, a schedule, a manual run. A pull request never does. */
const PUBLISHING_EVENTS = new Set(["push", "schedule", "workflow_dispatch"]);

/**
 * Whether a CI run publishes, from its event and the git ref it runs on: only a publishing
 * event on a branch `[publish]` lists; never a pull request, a tag, or another branch.
 * `why` says so in a sentence for the run's log.
 */
export function runPublishes(publish: Publish, event: string, ref: string): { readonly publishes: boolean; readonly why: string } {
  if (!PUBLISHING_EVENTS.has(event)) return { publishes: false, why: `a ${event} run builds and publishes nothing${event === "pull_request" ? " (a pull request builds without pushing)" : ""}` };
  if (!ref.startsWith("refs/heads/")) return { publishes: false, why: `${ref} is not a branch: only the [publish] branches publish` };
  const branch = ref.slice("refs/heads/".length);
  return branchPublishes(publish.branches, branch)
    ? { publishes: true, why: `branch ${branch} publishes ([publish] branches: ${publish.branches.join(", ")})` }
    : { publishes: false, why: `branch ${branch} is not one [publish] lists (${publish.branches.join(", ")}): nothing is built or pushed` };
}
