// bake: the build-time values of aliases (core/build-time.ts), from variables bake reads
// from the environment: REVISION (the commit, as for the labels that name it), BRANCH,
// and BUILD_DATE (UTC, YYYYMMDD; by default the day bake runs: HCL's timestamp()). bake
// runs no shell, so HCL says the branch's rule itself (regex_replace), for each of them,
// and stops (`Call to function "tag_value" failed`) when one is empty, rather than tag
// an image `nightly-` for a commit it was never told.

import { SHORT_COMMIT_LENGTH } from "../core/build-time.ts";
import type { BuildGraph } from "../core/graph.ts";
import { renderAlias, valuesNamed } from "./build-time.ts";

/** The variables the file declares for the commit and the build-time values (none of them may hold the repository). */
export function buildTimeVariables(graph: BuildGraph): string[] {
  const named = valuesNamed(graph.images);
  const labels = graph.images.some((image) => image.labels.some((label) => label.revision));
  return [...(labels || named.has("commit") || named.has("short_commit") ? ["REVISION"] : []), ...(named.has("date") ? ["BUILD_DATE"] : []), ...(named.has("branch") ? ["BRANCH"] : [])];
}

/** The declarations: REVISION, for the labels and aliases that name the commit; the other values and the rule, for aliases. */
export function buildTimeLines(graph: BuildGraph): string[] {
  const named = valuesNamed(graph.images);
  const commit = named.has("commit") || named.has("short_commit");
  const lines: string[] = [];
  if (buildTimeVariables(graph).includes("REVISION")) {
    // A label the CI sets at build time (the commit): REVISION=$(git rev-parse HEAD) docker buildx bake.
    lines.push("", `# The commit being built, for the ${commit ? "labels and aliases" : "labels"} that name it: REVISION=$(git rev-parse HEAD) docker buildx bake`, 'variable "REVISION" {', '  default = ""', "}");
  }
  if (named.size === 0) return lines;
  const given = [...(commit ? ["REVISION=$(git rev-parse HEAD)"] : []), ...(named.has("branch") ? ["BRANCH=$(git symbolic-ref --short HEAD)"] : [])];
  lines.push(
    "",
    "# The values of the aliases that name them (caliban-images docs/image-settings.md, \"Build-time values\"), each made a tag by the",
    `# branch's rule; bake stops (Call to function "tag_value" failed) when one is empty${given.length > 0 ? ":" : "."}`,
    ...(given.length > 0 ? [`#   ${given.join(" ")} docker buildx bake`] : []),
  );
  if (named.has("date")) lines.push("# BUILD_DATE (UTC, YYYYMMDD) is the day bake runs unless the environment gives it.", 'variable "BUILD_DATE" {', '  default = formatdate("YYYYMMDD", timestamp())', "}");
  if (named.has("branch")) lines.push('variable "BRANCH" {', '  default = ""', "}");
  lines.push('function "tag_value" {', "  params = [value]", '  result = value != "" ? regex_replace(regex_replace(value, "[^A-Za-z0-9_.-]+", "-"), "^[.-]", "_") : jsondecode("{}")["empty"]', "}");
  return lines;
}

/** An alias as the text of an HCL string (a tag needs no escaping): each value an interpolation. */
export function bakeAlias(alias: string): string {
  const value = { date: "tag_value(BUILD_DATE)", commit: "tag_value(REVISION)", short_commit: `substr(tag_value(REVISION), 0, ${SHORT_COMMIT_LENGTH})` } as const;
  return renderAlias(alias, (text) => text, (part) => `\${${part.value === "branch" ? `substr(tag_value(BRANCH), 0, ${part.length})` : value[part.value]}}`);
}
