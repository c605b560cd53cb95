// Every action the emitted workflows use, in one table: a maintainer moves them to a new
// release here, in one place, and every workflow follows.

export const ACTIONS = {
  checkout: "actions/checkout@v4",
  uploadArtifact: "actions/upload-artifact@v4",
  downloadArtifact: "actions/download-artifact@v4",
  buildPush: "docker/build-push-action@v6",
  login: "docker/login-action@v3",
  setupBuildx: "docker/setup-buildx-action@v3",
  setupQemu: "docker/setup-qemu-action@v3",
  googleAuth: "google-github-actions/auth@v2",
} as const;

/**
 * A checkout step, as lines of a job's `steps:` list. The job's token is not left in the
 * clone's git config (`persist-credentials: false`) unless the job pushes commits itself.
 */
export function checkoutStep(pushesCommits = false): string[] {
  return [`- uses: ${ACTIONS.checkout}`, ...(pushesCommits ? [] : ["  with:", "    persist-credentials: false"])];
}
