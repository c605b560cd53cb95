// The system tools some checks feed our outputs to (Google's Cloud Build loader from
// the gcloud SDK, GNU make). This project's machines and CI have both. On a machine
// with only Node.js and npm, those checks are skipped (reported as skipped, with the
// reason), never passed; under CI=true a missing tool fails the run instead.

import { findCloudSdk } from "./cloudbuild.ts";

function available(tool: string, present: boolean): boolean {
  if (present) return true;
  if (process.env.CI === "true") throw new Error(`${tool} is missing on this CI machine: its checks cannot be skipped here`);
  console.warn(`SKIPPING the checks that need ${tool}: it is not installed on this machine`);
  return false;
}

export const hasCloudBuildLoader = available("the gcloud SDK (Cloud Build's config loader)", findCloudSdk() !== undefined);
export const hasMake = available("GNU make", Bun.which("make") !== null);
