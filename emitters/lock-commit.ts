// What a scheduled lock job does before it pushes, in GitLab (gitlab-lock-job.ts) and
// Buildkite (buildkite-lock-step.ts) alike, as POSIX sh: `caliban-images lock` asks the
// registries whether an upstream base image moved; nothing moved, nothing to do; a moved
// digest is committed only with the pipeline file that names it (the [outputs] lock writes
// again), and only with the token the push needs.

import type { BuildGraph } from "../core/graph.ts";
import type { EmitContext } from "./contract.ts";
import { matrixFromRoot } from "./input-paths.ts";
import { shellVarFlags } from "./pipeline-variables.ts";
import { shellWord } from "./quoting.ts";

/**
 * The lines up to the commit: `output`, the pipeline file (from the root); `tokenVariable`,
 * the variable holding the push's token, and `noToken`, the error when it is empty.
 */
export function lockCommitLines(graph: BuildGraph, output: string, tokenVariable: string, noToken: string, context: Pick<EmitContext, "matrixFile" | "matrixPath" | "variables">): string[] {
  const matrix = matrixFromRoot(context);
  const lock = `${matrix.slice(0, matrix.lastIndexOf("/") + 1)}${graph.lock!.file}`;
  return [
    `caliban-images lock --matrix ${shellWord(matrix)}${shellVarFlags(context.variables)}`,
    [
      "git add --all",
      "if git diff --cached --quiet; then",
      '  echo "No upstream base image moved: nothing to build"',
      "  exit 0",
      "fi",
      `if git diff --cached --quiet -- ${shellWord(output)}; then`,
      `  echo ${shellWord(`error: ${lock} changed, but ${output} names the old digests: list it in the matrix's [outputs], which lock writes again`)} >&2`,
      "  exit 1",
      "fi",
      `if [ -z "\${${tokenVariable}:-}" ]; then`,
      `  echo ${shellWord(`error: ${noToken}`)} >&2`,
      "  exit 1",
      "fi",
    ].join("\n"),
  ];
}
