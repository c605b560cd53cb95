// Every action the emitted workflows use, in one table, each pinned by the full commit
// SHA of a release (a tag can be moved; a commit cannot), with the release as a comment
// on the line. A maintainer moves one to a new release here, in one place: the release's
// tag in the action's own repository, and `git rev-parse TAG^{commit}` for its SHA.
// Each is the current major, on the Node 24 runtime GitHub's runners moved actions to.

/** `owner/name@SHA # vX.Y.Z`: what follows `uses:`, the version a YAML comment. */
function pinned(action: string, sha: string, version: string): string {
  return `${action}@${sha} # ${version}`;
}

export const ACTIONS = {
  checkout: pinned("actions/checkout", "3d3c42e5aac5ba805825da76410c181273ba90b1", "v7.0.1"),
  uploadArtifact: pinned("actions/upload-artifact", "bbbca2ddaa5d8feaa63e36b76fdaad77386f024f", "v7.0.0"),
  downloadArtifact: pinned("actions/download-artifact", "3e5f45b2cfb9172054b4087a40e8e0b5a5461e7c", "v8.0.1"),
  buildPush: pinned("docker/build-push-action", "53b7df96c91f9c12dcc8a07bcb9ccacbed38856a", "v7.3.0"),
  login: pinned("docker/login-action", "4907a6ddec9925e35a0a9e82d7399ccc52663121", "v4.1.0"),
  setupBuildx: pinned("docker/setup-buildx-action", "37fe631027851001ddb9b187196cc803df7f5f0e", "v4.3.0"),
  setupQemu: pinned("docker/setup-qemu-action", "96fe6ef7f33517b61c61be40b68a1882f3264fb8", "v4.2.0"),
  googleAuth: pinned("google-github-actions/auth", "7c6bc770dae815cd3e89ee6cdf493a5fab2cc093", "v3.0.0"),
} as const;

/**
 * A bash function for a step's script: what talks to a registry (a push, a moved tag) is
 * asked again when it fails (a 5xx, "unknown blob", the network), 4 tries with 5, 20 and
 * 45 s between them; the last failure fails the step with the registry's words.
 */
export const RETRY = 'retry() { for try in 1 2 3; do if "$@"; then return 0; fi; echo "::warning::failed, asked again: $* (try $try)"; sleep $((try * try * 5)); done; "$@"; }';

/**
 * A checkout step, as lines of a job's `steps:` list. The job's token is not left in the
 * clone's git config (`persist-credentials: false`) unless the job pushes commits itself.
 */
export function checkoutStep(pushesCommits = false): string[] {
  return [`- uses: ${ACTIONS.checkout}`, ...(pushesCommits ? [] : ["  with:", "    persist-credentials: false"])];
}
