// GitLab's scheduled lock job, as the GitHub workflow has one (github-lock-job.ts): in a
// pipeline a schedule created (with [publish] schedule and a lock file), `caliban-images
// lock` asks the registries whether an upstream base image moved. When one did, the lock
// and the outputs that name its digests are committed to a branch of their own, which is
// pushed with a merge request opened by git's push options (`merge_request.create`), so
// branch protection reviews it like any change and merging it builds exactly the images
// built FROM what moved. A later run force-pushes the same branch: its merge request
// gets the newest digests.
//
// The job token cannot push to the repository: a project access token with
// write_repository does, from the CI/CD variable the `lock-token-variable` option names
// (masked). It is put into the checkout's own remote URL (the runner's, with its job
// token taken out), so the push goes where the clone came from; git shows that URL
// without its credentials.

import type { BuildGraph } from "../core/graph.ts";
import type { EmitContext, OptionSpec } from "./contract.ts";
import type { YamlMap } from "./gitlab-yaml.ts";
import { lockCommitLines } from "./lock-commit.ts";
import { variableNameProblem } from "./options.ts";

export const GITLAB_LOCK_JOB = "update-lock";

export const GITLAB_LOCK_OPTIONS = {
  "lock-token-variable": {
    type: "string",
    default: "CALIBAN_LOCK_TOKEN",
    description: "with a schedule and a lock: the CI/CD variable (masked) holding a project access token with write_repository, with which the scheduled lock job pushes its branch and opens a merge request",
    check: variableNameProblem,
  },
} satisfies Record<string, OptionSpec>;

/**
 * The job, in GitLab's `.pre` stage (before every other, whatever the pipeline's stages),
 * run only in a scheduled pipeline and needing nothing, so the images build beside it with
 * the lock as committed. `install`: the lines that put caliban-images on the PATH.
 */
export function gitlabLockJob(graph: BuildGraph, output: string, tokenVariable: string, context: Pick<EmitContext, "matrixFile" | "matrixPath" | "variables">, install: readonly string[]): YamlMap {
  const token = `\${${tokenVariable}:-}`;
  const [lock, checks] = lockCommitLines(graph, output, tokenVariable, `set the CI/CD variable ${tokenVariable} (masked) to a project access token with write_repository: this job pushes the moved digests to a branch and opens a merge request with it`, context);
  return {
    stage: ".pre",
    rules: [{ if: '$CI_PIPELINE_SOURCE == "schedule"' }],
    needs: [],
    script: [
      ...install,
      "registry_login",
      lock!,
      [
        checks!,
        'branch="caliban-images/update-lock/$CI_COMMIT_BRANCH"',
        'git -c "user.name=${GITLAB_USER_NAME:-caliban-images}" -c "user.email=${GITLAB_USER_EMAIL:-caliban-images@noreply.invalid}" commit --quiet --message "Update the base image digests (caliban-images lock)"',
        // The clone's own URL, its job token (before the first '@') replaced by the variable's; a path stays a path.
        "remote=$(git remote get-url origin)",
        'case "$remote" in *://*@*) remote="${remote%%://*}://${remote#*@}" ;; esac',
        `case "$remote" in *://*) remote="\${remote%%://*}://oauth2:${token}@\${remote#*://}" ;; esac`,
        `git push --force -o merge_request.create -o "merge_request.target=$CI_COMMIT_BRANCH" -o 'merge_request.title=Update the base image digests' "$remote" "HEAD:refs/heads/$branch"`,
        'echo "Pushed $branch: its merge request into $CI_COMMIT_BRANCH has the newest digests"',
      ].join("\n"),
    ],
  };
}
