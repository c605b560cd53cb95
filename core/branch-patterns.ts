// `[publish] branches` are GitHub's filter patterns (docs: "Filter pattern cheat sheet"),
// and mean the same on every CI: `*` any characters but '/', `**` any characters, `?`
// zero or one of the character before it, `+` one or more of it, `[...]` one of a set,
// a leading `!` leaves the branches it matches out again. Patterns are read in order;
// the last one that matches a branch decides.

import type { Publish } from "./matrix-publish.ts";

/**
 * A pattern (without its `!`) as a regular expression's source, anchored by the caller.
 * RE2 (Cloud Build's triggers) and JavaScript read it alike: only `.`, `*`, `?`, `+`,
 * classes and escapes are used.
 */
export function branchPatternSource(pattern: string): string {
  let out = "";
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c === "*" && pattern[i + 1] === "*") {
      out += ".*";
      i++;
    } else if (c === "*") out += "[^/]*";
    // Quantifiers of the character before, as GitHub reads them.
    else if (c === "?" || c === "+") out += c;
    else if (c === "[" || c === "]") out += c;
    else out += /[.(){}|^$\\]/.test(c) ? `\\${c}` : c;
  }
  return out;
}

/** Whether a push to `branch` publishes: the last pattern that matches it is not a `!` one. */
export function branchPublishes(branches: readonly string[], branch: string): boolean {
  let publishes = false;
  for (const pattern of branches) {
    const negated = pattern.startsWith("!");
    if (new RegExp(`^(?:${branchPatternSource(negated ? pattern.slice(1) : pattern)})$`).test(branch)) publishes = !negated;
  }
  return publishes;
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
