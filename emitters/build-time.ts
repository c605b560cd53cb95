// What every emitter needs of the build-time values of aliases (core/build-time.ts):
// which values a graph's aliases name, and an alias as text of the emitter's language.
// And the rule in POSIX sh with POSIX tools, so that GitHub's and Cloud Build's bash and
// make's /bin/sh apply the same one: the date `date -u +%Y%m%d`, and the branch made a
// tag, each run of bytes outside [A-Za-z0-9_.-] one '-' (a UTF-8 character is a run of
// such bytes: the same '-' as core's rule gives it) and a leading '.' or '-' a '_'. bake,
// which runs no shell, says the same in HCL (emitters/bake-build-time.ts).

import { branchRooms as roomsOf, buildTimeParts, namesBuildTime, type BuildTimePart, type BuildTimeValue } from "../core/build-time.ts";
import type { BuildGraph, ImageNode } from "../core/graph.ts";

/** The date the CI builds on, as a shell command: UTC, YYYYMMDD. */
export const DATE_COMMAND = "date -u +%Y%m%d";

/** The text of a shell word (`"$BRANCH"`) made a tag by core's rule (branchTag), as a pipeline. */
export function branchTagCommand(word: string): string {
  return `printf '%s' ${word} | LC_ALL=C tr -c 'A-Za-z0-9_.-' ' ' | tr -s ' ' | tr ' ' '-' | sed 's/^[.-]/_/'`;
}

/** The first `length` characters of a shell word, as a command (POSIX printf's precision). */
export function cutCommand(word: string, length: number): string {
  return `printf '%.${length}s' ${word}`;
}

const NO_ALIASES = { fixed: [], buildTime: [] } as const;

/** The image's aliases that name build-time values, and those that do not. */
export function splitAliases(image: ImageNode): { readonly fixed: readonly string[]; readonly buildTime: readonly string[] } {
  // Most images have no alias: one answer for them all, not two arrays each time an emitter asks.
  if (image.aliases.length === 0) return NO_ALIASES;
  const fixed: string[] = [];
  const buildTime: string[] = [];
  for (const alias of image.aliases) (namesBuildTime(alias) ? buildTime : fixed).push(alias);
  return { fixed, buildTime };
}

/** Which build-time values some alias of `images` names. */
export function valuesNamed(images: readonly ImageNode[]): Set<BuildTimeValue> {
  const named = new Set<BuildTimeValue>();
  for (const image of images) for (const alias of image.aliases) if (namesBuildTime(alias)) for (const part of buildTimeParts(alias)) if (typeof part !== "string") named.add(part.value);
  return named;
}

/** Whether an alias of the graph names a build-time value. */
export function hasBuildTimeAliases(graph: BuildGraph): boolean {
  return graph.images.some((image) => image.aliases.some(namesBuildTime));
}

/** The lengths the graph's aliases cut the branch to, ascending, each once. */
export function branchRooms(graph: BuildGraph): number[] {
  return roomsOf(graph.images.flatMap((image) => image.aliases));
}

/** An alias as text of the emitter's language: `text` writes its literal parts, `value` each build-time value. */
export function renderAlias(alias: string, text: (part: string) => string, value: (part: Exclude<BuildTimePart, string>) => string): string {
  return buildTimeParts(alias)
    .map((part) => (typeof part === "string" ? text(part) : value(part)))
    .join("");
}
