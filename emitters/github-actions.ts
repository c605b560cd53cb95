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
  // Installs cosign v3.0.6, checked against the sha256 the action carries (emitters/cosign-install.ts pins the same release).
  cosignInstaller: pinned("sigstore/cosign-installer", "6f9f17788090df1f26f669e9d70d6ae9567deba6", "v4.1.2"),
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

/** Seconds between a registry step's tries (a login, a build that pushes): 15, then 45. */
const TRY_AGAIN_AFTER = [15, 45] as const;

/**
 * A step of an action that talks to a registry (login-action; build-push-action when it
 * pushes), tried up to three times: an action has no retry of its own, so the first tries
 * may fail (`continue-on-error`, only while `retried` holds) and a wait and the same step
 * follow each failure; the last try fails the job with the registry's words. `step`: the
 * step's lines (`  - uses: ...`, then its keys at four spaces, an `if:` among them or not);
 * `id`: its id, the tries' `ID-2` and `ID-3` (a later step reads an output as
 * `steps.ID.outputs.X || steps.ID-2.outputs.X || steps.ID-3.outputs.X`).
 * A build that fails for itself, not for the registry, is tried again too: the builder's
 * cache makes the tries short, and a publishing run builds what its pull request built.
 */
export function retriedStep(step: readonly string[], id: string, retried: string, what: string): string[] {
  const [first, ...rest] = step;
  const condition = rest.find((line) => line.startsWith("    if: "))?.slice("    if: ".length);
  const keys = rest.filter((line) => !line.startsWith("    if: ") && !line.startsWith("    id: "));
  const when = (extra: string) => `    if: ${condition === undefined ? extra : `${unwrapped(condition)} && ${extra}`}`;
  const ids = [id, `${id}-2`, `${id}-3`];
  const lines = [first!, `    id: ${id}`, ...(condition === undefined ? [] : [`    if: ${condition}`]), `    continue-on-error: \${{ ${retried} }}`, ...keys];
  TRY_AGAIN_AFTER.forEach((seconds, index) => {
    const failed = `steps.${ids[index]}.outcome == 'failure'`;
    lines.push(
      `  - name: ${what} failed; wait ${seconds} s and try again`,
      when(failed),
      `    run: echo "::warning::${what} failed (try ${index + 1} of 3); trying again in ${seconds} s" && sleep ${seconds}`,
      first!,
      `    id: ${ids[index + 1]}`,
      when(failed),
      ...(index === 0 ? [`    continue-on-error: true`] : []),
      ...keys,
    );
  });
  return lines;
}

/** An `if:` condition without its `${{ }}`, to be joined with another. */
function unwrapped(condition: string): string {
  const bare = /^\$\{\{(.*)\}\}$/s.exec(condition.trim())?.[1]?.trim() ?? condition;
  return `(${bare})`;
}
