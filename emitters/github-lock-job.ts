// The scheduled job of a workflow whose matrix has a lock file: `caliban-images lock`
// asks the registries whether an upstream base image moved. When one did, the lock and
// the outputs that name its digests (the workflow among them) are committed.
//
// By default the commit goes to a branch of its own and a pull request is opened (or
// updated) from it: branch protection, which refuses a bot's push to the default branch,
// then reviews it like any change, and merging it builds exactly the images built FROM
// what moved. `lock-commit = "push"` pushes the commit to the branch instead and starts
// this workflow on it: a push made with the workflow's GITHUB_TOKEN starts no workflow
// (GitHub's rule against loops), a workflow_dispatch is the exception, hence
// `gh workflow run`. The same rule means a pull request opened with GITHUB_TOKEN runs no
// checks: `lock-token-secret` names a token (a GitHub App's or a fine-grained one, with
// contents and pull-requests write) that opens it as someone whose pull requests do.

import type { BuildGraph } from "../core/graph.ts";
import type { GithubOptions } from "./github-types.ts";
import type { TextWriter } from "./text.ts";
import { workflowLiteral, yamlScalar } from "./quoting.ts";
import { installStep } from "./github-install.ts";
import { checkoutStep } from "./github-actions.ts";
import type { OptionSpec, OptionValue, PipelineVariable } from "./contract.ts";
import { workflowVarEnv, workflowVarFlags } from "./pipeline-variables.ts";
import { IDENTIFIER_PATTERN } from "../core/names.ts";

export const LOCK_JOB = "update-lock";

/** `variables`: the values the workflow was emitted with (--var): lock plans with them and writes [outputs] again with them. */
export function writeLockJob(out: TextWriter, graph: BuildGraph, options: GithubOptions, matrixFile: string, variables: readonly PipelineVariable[]): void {
  const lockFile = `${matrixFile.slice(0, matrixFile.lastIndexOf("/") + 1)}${graph.lock!.file}`;
  const workflowFile = options.output.slice(options.output.lastIndexOf("/") + 1);
  const pullRequest = options["lock-commit"] === "pull-request";
  const secret = options["lock-token-secret"];
  const token = secret === "" ? "${{ github.token }}" : `\${{ secrets.${secret} }}`;
  out.lines([
    `${LOCK_JOB}:`,
    "  name: Update the base image digests",
    "  if: github.event_name == 'schedule'",
    `  runs-on: ${yamlScalar(options["runs-on"])}`,
    "  timeout-minutes: 30",
    // Only this job writes: the branch it pushes, and the pull request it opens (or the workflow it starts).
    "  permissions:",
    "    contents: write",
    pullRequest ? "    pull-requests: write" : "    actions: write",
    "  env:",
    `    MATRIX: ${yamlScalar(workflowLiteral(matrixFile))}`,
    `    LOCK: ${yamlScalar(workflowLiteral(lockFile))}`,
    `    WORKFLOW: ${yamlScalar(workflowLiteral(options.output))}`,
    ...(pullRequest ? [] : [`    WORKFLOW_FILE: ${yamlScalar(workflowLiteral(workflowFile))}`]),
    ...workflowVarEnv(variables),
    "  steps:",
    // This job pushes the commit it makes: the token stays in the clone.
    ...checkoutStep(true).map((line) => `    ${line}`),
    ...(secret === "" ? [] : ["      with:", `        token: ${token}`]),
    ...installStep(options).map((line) => `    ${line}`),
    "    - name: Ask the registries for the base images' digests",
    `      run: caliban-images lock --matrix "$MATRIX"${workflowVarFlags(variables)}`,
    `    - name: ${pullRequest ? "Propose the moved digests in a pull request" : "Commit the moved digests and build what they change"}`,
    "      env:",
    `        GH_TOKEN: ${token}`,
    "      run: |",
    ...[
      "git add --all",
      "if git diff --cached --quiet; then",
      '  echo "No upstream base image moved: nothing to build"',
      "  exit 0",
      "fi",
      'if git diff --cached --quiet -- "$WORKFLOW"; then',
      "  echo \"::error::$LOCK changed, but $WORKFLOW names the old digests: list it in the matrix's [outputs], which lock writes again\"",
      "  exit 1",
      "fi",
      "git config user.name 'github-actions[bot]'",
      "git config user.email '41898282+github-actions[bot]@users.noreply.github.com'",
      ...(pullRequest ? PULL_REQUEST_SCRIPT : ['git commit --quiet --message "Update the base image digests (caliban-images lock)"', "git push", 'gh workflow run "$WORKFLOW_FILE" --ref "$GITHUB_REF_NAME"']),
    ].map((line) => `        ${line}`),
  ]);
}

/**
 * The lock's commit on a branch of its own (one per base branch, replaced by each newer
 * lock), and a pull request from it, opened once and updated by later runs. GitHub refuses
 * a pull request from GITHUB_TOKEN unless the repository allows Actions to create them.
 */
const PULL_REQUEST_SCRIPT = [
  'branch="caliban-images/update-lock/$GITHUB_REF_NAME"',
  'git switch --quiet --create "$branch"',
  'git commit --quiet --message "Update the base image digests (caliban-images lock)"',
  'git push --force origin "$branch"',
  'open=$(gh pr list --head "$branch" --base "$GITHUB_REF_NAME" --state open --json number --jq ".[0].number")',
  'if [ -n "$open" ]; then',
  '  echo "Pull request #$open now has the newest digests"',
  "  exit 0",
  "fi",
  // The text in single quotes: the shell expands nothing in it.
  "if ! gh pr create --head \"$branch\" --base \"$GITHUB_REF_NAME\" --title 'Update the base image digests' --body 'An upstream base image moved: caliban-images lock wrote the new digests. Merging this builds the images built FROM it.'; then",
  '  echo "::error::could not open a pull request from $branch: allow GitHub Actions to create pull requests (Settings > Actions > General), or set lock-token-secret"',
  "  exit 1",
  "fi",
];

/** The lock job's options: how its commit lands, and the token it lands with. */
export const LOCK_OPTIONS = {
  "lock-commit": {
    type: "string",
    choices: ["pull-request", "push"],
    default: "pull-request",
    description: "with a schedule and a lock: the scheduled lock job opens a pull request with the moved digests (pull-request), or pushes them to the branch and starts the build (push)",
  },
  "lock-token-secret": {
    type: "string",
    default: "",
    description: "the secret holding the token the lock job pushes and opens its pull request with (default GITHUB_TOKEN, whose pull requests start no workflow, so run no checks)",
    check: (value: OptionValue) => (value === "" || IDENTIFIER_PATTERN.test(String(value)) ? undefined : `"${value}" is not a valid secret name`),
  },
} satisfies Record<string, OptionSpec>;
