// The system tools some checks feed our outputs to (Google's Cloud Build loader from
// the gcloud SDK, GNU make, shellcheck). This project's machines and CI have them. On a
// machine with only Node.js and npm, those checks are skipped (reported as skipped, with
// the reason), never passed; under CI=true a missing tool fails the run instead.

import { existsSync } from "node:fs";
import { join } from "node:path";
import { findCloudSdk } from "./cloudbuild.ts";

function available(tool: string, present: boolean): boolean {
  if (present) return true;
  if (process.env.CI === "true") throw new Error(`${tool} is missing on this CI machine: its checks cannot be skipped here`);
  console.warn(`SKIPPING the checks that need ${tool}: it is not installed on this machine`);
  return false;
}

export const hasCloudBuildLoader = available("the gcloud SDK (Cloud Build's config loader)", findCloudSdk() !== undefined);
export const hasMake = available("GNU make", Bun.which("make") !== null);
/** Where `bash scripts/e2e/install-tools.sh shellcheck` unpacks Debian's package (.ci/run runs it before npm test). */
const CACHED_SHELLCHECK = join(import.meta.dir, "..", "..", ".cache", "e2e", "shellcheck", "usr", "bin", "shellcheck");
/** shellcheck: on PATH, else the one install-tools.sh unpacked. */
export const shellcheckPath = Bun.which("shellcheck") ?? (existsSync(CACHED_SHELLCHECK) ? CACHED_SHELLCHECK : undefined);
export const hasShellcheck = available("shellcheck (Debian's package `shellcheck`: `bash scripts/e2e/install-tools.sh shellcheck` unpacks it into .cache/e2e, or apt-get install shellcheck)", shellcheckPath !== undefined);
