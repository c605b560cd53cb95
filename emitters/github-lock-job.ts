// The scheduled job of a workflow whose matrix has a lock file: `caliban-images lock`
// asks the registries whether an upstream base image moved. When one did, the lock and
// the outputs that name its digests (the workflow among them) are committed, and this
// workflow is started on that commit, which builds exactly the images built FROM what
// moved. A push made with the workflow's GITHUB_TOKEN starts no workflow (GitHub's rule
// against loops); a workflow_dispatch is the exception, hence `gh workflow run`.

import type { BuildGraph } from "../core/graph.ts";
import type { GithubOptions } from "./github.ts";
import type { TextWriter } from "./text.ts";
import { yamlScalar } from "./quoting.ts";
import { installStep } from "./github-install.ts";
import { checkoutStep } from "./github-actions.ts";

export const LOCK_JOB = "update-lock";

/** Whether the workflow has the lock job: a schedule, and a lock file to update. */
export function hasLockJob(graph: BuildGraph): boolean {
  return graph.publish.schedule !== undefined && graph.lock !== null;
}

export function writeLockJob(out: TextWriter, graph: BuildGraph, options: GithubOptions, matrixFile: string): void {
  const lockFile = `${matrixFile.slice(0, matrixFile.lastIndexOf("/") + 1)}${graph.lock!.file}`;
  const workflowFile = options.output.slice(options.output.lastIndexOf("/") + 1);
  out.lines([
    `${LOCK_JOB}:`,
    "  name: Update the base image digests",
    "  if: github.event_name == 'schedule'",
    `  runs-on: ${yamlScalar(options["runs-on"])}`,
    "  timeout-minutes: 30",
    "  # Commit the new lock to this branch, and start this workflow on it.",
    "  permissions:",
    "    contents: write",
    "    actions: write",
    "  env:",
    `    MATRIX: ${yamlScalar(matrixFile)}`,
    `    LOCK: ${yamlScalar(lockFile)}`,
    `    WORKFLOW: ${yamlScalar(options.output)}`,
    `    WORKFLOW_FILE: ${yamlScalar(workflowFile)}`,
    "  steps:",
    // This job pushes the commit it makes: the token stays in the clone.
    ...checkoutStep(true).map((line) => `    ${line}`),
    ...installStep(options).map((line) => `    ${line}`),
    "    - name: Ask the registries for the base images' digests",
    '      run: caliban-images lock --matrix "$MATRIX"',
    "    - name: Commit the moved digests and build what they change",
    "      env:",
    "        GH_TOKEN: ${{ github.token }}",
    "      run: |",
    "        git add --all",
    "        if git diff --cached --quiet; then",
    '          echo "No upstream base image moved: nothing to build"',
    "          exit 0",
    "        fi",
    '        if git diff --cached --quiet -- "$WORKFLOW"; then',
    "          echo \"::error::$LOCK changed, but $WORKFLOW names the old digests: list it in the matrix's [outputs], which lock writes again\"",
    "          exit 1",
    "        fi",
    "        git config user.name 'github-actions[bot]'",
    "        git config user.email '41898282+github-actions[bot]@users.noreply.github.com'",
    '        git commit --quiet --message "Update the base image digests (caliban-images lock)"',
    "        git push",
    '        gh workflow run "$WORKFLOW_FILE" --ref "$GITHUB_REF_NAME"',
  ]);
}
