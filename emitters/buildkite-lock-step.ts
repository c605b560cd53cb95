// Buildkite's scheduled lock step, as GitHub's and GitLab's lock jobs (github-lock-job.ts,
// gitlab-lock-job.ts): in a build a schedule created (with [publish] schedule and a lock
// file), `caliban-images lock` asks the registries whether an upstream base image moved.
// When one did, the lock and the pipeline that names its digests are committed to a
// branch of their own, force-pushed, and a pull request is opened from it, so branch
// protection reviews it and merging it builds exactly what is built FROM what moved.
//
// Buildkite is no code host: the repository is the one the build cloned
// ($BUILDKITE_REPO), on GitHub (git@github.com:OWNER/NAME.git or https://github.com/...).
// An agent's own key is often a read-only deploy key, so the push and the pull request
// use a token from the environment variable the `lock-token-variable` option names (set
// by an agent hook or a secrets plugin): GitHub takes it as the password of an https URL,
// and as the bearer of the REST API's pull request ($GITHUB_API_URL, else
// api.github.com). A pull request already open from the branch (422) has just been
// updated by the push.

import type { BuildGraph } from "../core/graph.ts";
import type { EmitContext, OptionSpec } from "./contract.ts";
import { lockCommitLines } from "./lock-commit.ts";
import { variableNameProblem } from "./options.ts";

export const BUILDKITE_LOCK_STEP = "update-lock";

export const BUILDKITE_LOCK_OPTIONS = {
  "lock-token-variable": {
    type: "string",
    default: "CALIBAN_LOCK_TOKEN",
    description: "with a schedule and a lock: the environment variable holding a GitHub token (contents and pull requests: write) with which the scheduled lock step pushes its branch and opens a pull request",
    check: variableNameProblem,
  },
} satisfies Record<string, OptionSpec>;

/** The step's command after the prelude and the install: lock, commit, push, pull request. */
export function buildkiteLockCommands(graph: BuildGraph, output: string, tokenVariable: string, context: Pick<EmitContext, "matrixFile" | "matrixPath" | "variables">): string[] {
  const token = `\${${tokenVariable}}`;
  const [lock, checks] = lockCommitLines(graph, output, tokenVariable, `set the agent's environment variable ${tokenVariable} (a secret) to a GitHub token with contents and pull requests write: this step pushes the moved digests to a branch and opens a pull request with it`, context);
  return [
    "registry_login",
    lock!,
    [
      checks!,
      'case "${BUILDKITE_REPO:-}" in',
      "  git@github.com:*) slug=${BUILDKITE_REPO#git@github.com:} ;;",
      "  https://github.com/* | ssh://git@github.com/*) slug=${BUILDKITE_REPO#*github.com/} ;;",
      '  *) echo "error: the lock step opens its pull request on GitHub; this build\'s repository is ${BUILDKITE_REPO:-unknown}" >&2; exit 1 ;;',
      "esac",
      "slug=${slug%.git}",
      'branch="caliban-images/update-lock/$BUILDKITE_BRANCH"',
      'git -c "user.name=${BUILDKITE_BUILD_CREATOR:-caliban-images}" -c "user.email=${BUILDKITE_BUILD_CREATOR_EMAIL:-caliban-images@noreply.invalid}" commit --quiet --message "Update the base image digests (caliban-images lock)"',
      `git push --force "https://x-access-token:${token}@github.com/$slug.git" "HEAD:refs/heads/$branch"`,
      // A branch name may hold '"' (never '\\' or a control character): JSON-escaped.
      `base=$(printf '%s' "$BUILDKITE_BRANCH" | sed 's/"/\\\\"/g')`,
      `head=$(printf '%s' "$branch" | sed 's/"/\\\\"/g')`,
      "answer=$(mktemp)",
      `status=$(curl --silent --show-error --retry 3 --output "$answer" --write-out '%{http_code}' -X POST -H "Authorization: Bearer ${token}" -H 'Accept: application/vnd.github+json' "\${GITHUB_API_URL:-https://api.github.com}/repos/$slug/pulls" -d "{\\"title\\":\\"Update the base image digests\\",\\"head\\":\\"$head\\",\\"base\\":\\"$base\\",\\"body\\":\\"caliban-images lock found an upstream base image moved; merging this builds what is built FROM it.\\"}")`,
      'case "$status" in',
      '  201) echo "Opened a pull request from $branch into $BUILDKITE_BRANCH" ;;',
      '  422) echo "Pushed $branch: its pull request into $BUILDKITE_BRANCH has the newest digests" ;;',
      '  *) echo "error: GitHub answered $status to the pull request from $branch:" >&2; cat "$answer" >&2; exit 1 ;;',
      "esac",
    ].join("\n"),
  ];
}
