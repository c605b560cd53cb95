// Build-time values: what only the CI knows when it builds, for the aliases that name them
// (`nightly.{date}.{short_commit}`, `{python}-{branch}`): the date (UTC, YYYYMMDD), the
// commit, its first 7 characters, and the branch made a tag. An image's tag, id, content
// reference and inputs digest never depend on them, so that a plan and every emitted file
// are the same from run to run: an alias keeps them in the graph as written (`{date}`),
// and each emitter has its CI fill them in when it builds, by the rules below.

import { TAG_PATTERN, TAG_RULE } from "./names.ts";

export const BUILD_TIME_VALUES = ["date", "commit", "short_commit", "branch"] as const;
export type BuildTimeValue = (typeof BUILD_TIME_VALUES)[number];

/** `{short_commit}`: the commit's first 7 characters, as git abbreviates at least, and Cloud Build's $SHORT_SHA. */
export const SHORT_COMMIT_LENGTH = 7;
/** Docker's longest tag. */
const MAX_TAG_LENGTH = 128;
/** Each value's length but the branch's: the date YYYYMMDD, a git commit id (SHA-1, 40 hex digits), its short form. */
const LENGTHS = { date: 8, commit: 40, short_commit: SHORT_COMMIT_LENGTH } as const;

export function isBuildTimeValue(name: string): name is BuildTimeValue {
  return (BUILD_TIME_VALUES as readonly string[]).includes(name);
}

/** A part of an alias: its text, or a value the CI fills in; the branch is cut to `length`, the room the rest of the alias leaves it. */
export type BuildTimePart = string | { readonly value: "date" | "commit" | "short_commit" } | { readonly value: "branch"; readonly length: number };

/** Whether an alias names a build-time value, `{date}` as written: a tag holds no '{' otherwise (core/graph.ts). */
export function namesBuildTime(alias: string): boolean {
  return alias.includes("{") && /\{(?:date|commit|short_commit|branch)\}/.test(alias);
}

const PLACEHOLDER = /\{(date|commit|short_commit|branch)\}/g;

/** An alias's text and build-time values, in order; the branch's length is what 128 characters leave it (at least 1 once planned). */
export function buildTimeParts(alias: string): BuildTimePart[] {
  const parts: BuildTimePart[] = [];
  let fixed = 0;
  let at = 0;
  for (const match of alias.matchAll(PLACEHOLDER)) {
    if (match.index > at) parts.push(alias.slice(at, match.index));
    fixed += match.index - at;
    const value = match[1] as BuildTimeValue;
    if (value === "branch") parts.push({ value, length: 0 });
    else {
      parts.push({ value });
      fixed += LENGTHS[value];
    }
    at = match.index + match[0].length;
  }
  if (at < alias.length) parts.push(alias.slice(at));
  fixed += alias.length - at;
  return parts.map((part) => (typeof part !== "string" && part.value === "branch" ? { value: "branch", length: MAX_TAG_LENGTH - fixed } : part));
}

/** The lengths `aliases` cut the branch to, ascending, each once. */
export function branchRooms(aliases: readonly string[]): number[] {
  const rooms = new Set<number>();
  for (const alias of aliases) if (namesBuildTime(alias)) for (const part of buildTimeParts(alias)) if (typeof part !== "string" && part.value === "branch") rooms.add(part.length);
  return [...rooms].sort((a, b) => a - b);
}

/**
 * A branch name made a tag, the rule every emitter's CI applies: each run of characters
 * outside [A-Za-z0-9_.-] becomes one '-' (`feature/ü x` → `feature-x`), and a leading
 * '.' or '-' becomes '_' (a tag cannot begin with one), as docker/metadata-action makes
 * a ref a tag. Then cut to the room its alias leaves it.
 */
export function branchTag(branch: string): string {
  return branch.replace(/[^A-Za-z0-9_.-]+/g, "-").replace(/^[.-]/, "_");
}

/** The values a CI builds with: the date (YYYYMMDD, UTC), the commit id, the branch as it names it. */
export interface BuildTimeValues {
  readonly date: string;
  readonly commit: string;
  readonly branch: string;
}

/** The tag an alias is when the CI builds with `values`: what each emitter's output is checked against. */
export function expandBuildTime(alias: string, values: BuildTimeValues): string {
  return buildTimeParts(alias)
    .map((part) => {
      if (typeof part === "string") return part;
      if (part.value === "branch") return branchTag(values.branch).slice(0, part.length);
      return part.value === "short_commit" ? values.commit.slice(0, SHORT_COMMIT_LENGTH) : values[part.value];
    })
    .join("");
}

/**
 * Why an alias (as planned: its axes filled in) is no tag, or, naming build-time values,
 * cannot be one for every value they take: undefined when it always is.
 */
export function aliasProblem(alias: string): { message: string; hint: string } | undefined {
  if (!namesBuildTime(alias)) return TAG_PATTERN.test(alias) ? undefined : { message: "is not a valid Docker tag", hint: TAG_RULE };
  const parts = buildTimeParts(alias);
  if (parts.filter((part) => typeof part !== "string" && part.value === "branch").length > 1) {
    return { message: "names {branch} twice", hint: "name it once: the branch is cut to the room the rest of the alias leaves it" };
  }
  // The shortest the values make it: a branch of one character, the others at their length.
  const shortest = parts.map((part) => (typeof part === "string" ? part : part.value === "branch" ? "0" : "0".repeat(LENGTHS[part.value]))).join("");
  if (shortest.length > MAX_TAG_LENGTH) {
    return { message: `is ${shortest.length} characters once the CI fills in its build-time values (the date 8, the commit 40, the short commit ${SHORT_COMMIT_LENGTH}${parts.some((part) => typeof part !== "string" && part.value === "branch") ? ", the branch at least 1" : ""}); a tag has at most ${MAX_TAG_LENGTH}`, hint: "shorten the alias" };
  }
  return TAG_PATTERN.test(shortest) ? undefined : { message: "is not a valid Docker tag, whatever its build-time values", hint: `${TAG_RULE}; {date}, {commit}, {short_commit} and {branch} are filled in by the CI` };
}
