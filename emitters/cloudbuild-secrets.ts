// Build secrets in Cloud Build: each environment variable a secret is read from is a
// Secret Manager secret of the same name in the build's project (`availableSecrets`,
// version `latest`), put in the environment of the image's step only (`secretEnv`); the
// step's builds hand it to BuildKit with `--secret id=ID,env=NAME` (a file secret:
// `src=PATH`, from /workspace, the checkout). A build that pushes nothing ($_PUSH false,
// a pull request's) passes none and unsets them first. The pull-request trigger runs a
// config of its own without any (cloudbuild.ts), so that its account needs no access.
// The scripts' side is in cloudbuild-steps.ts (secretScriptParts).

import { CalibanError } from "../core/errors.ts";
import type { BuildGraph, ImageNode } from "../core/graph.ts";
import { secretEnvNames } from "./secrets.ts";

/** The env of the login step's password (cloudbuild.ts): no secret may take it. */
export const REGISTRY_PASSWORD_ENV = "REGISTRY_PASSWORD";

/** Refuses a secret read from the login step's password variable, when there is a login: checked before any config is written. */
export function checkSecretNames(graph: BuildGraph, loginSecret: string): void {
  if (loginSecret === "" || !secretEnvNames(graph.images).includes(REGISTRY_PASSWORD_ENV)) return;
  throw new CalibanError({
    code: "EMITTER",
    message: `emit cloudbuild: a build secret is read from ${REGISTRY_PASSWORD_ENV}, which is also the login step's password (login-secret)`,
    hint: "read the secret from a variable of another name (secrets = { ID = { env = \"NAME\" } })",
  });
}

/** `availableSecrets.secretManager`'s entries: the login's password first, when there is a login; then one per variable the images' secrets are read from, sorted. */
export function secretManagerEntries(images: readonly ImageNode[], loginSecret: string): { versionName: string; env: string }[] {
  return [
    ...(loginSecret === "" ? [] : [{ versionName: loginSecret, env: REGISTRY_PASSWORD_ENV }]),
    // $PROJECT_ID: Cloud Build's own substitution, the project the build runs in.
    ...secretEnvNames(images).map((name) => ({ versionName: `projects/$PROJECT_ID/secrets/${name}/versions/latest`, env: name })),
  ];
}

/** An image without secrets (most): one answer for all of them, spread into its step, never changed. */
const NO_SECRET_ENV: { secretEnv?: string[] } = {};

/** The `secretEnv` of an image's step: the variables its secrets are read from (none: no field). */
export function secretEnvField(image: ImageNode): { secretEnv?: string[] } {
  // Answered without the arrays and the set that find the names.
  if (image.secrets === undefined) return NO_SECRET_ENV;
  const names = secretEnvNames([image]);
  return names.length === 0 ? {} : { secretEnv: names };
}
