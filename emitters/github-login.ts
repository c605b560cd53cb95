// The workflow's registry login: workload identity for Google's registries, else a user
// and a secret. Every job that logs in writes it through here, with its own condition.

import type { GithubOptions } from "./github-types.ts";
import { yamlScalar } from "./quoting.ts";
import type { TextWriter } from "./text.ts";
import { ACTIONS, retriedStep } from "./github-actions.ts";

/**
 * A job's own permissions, beside the workflow's read-only ones: what its login uses
 * (`packages` on ghcr.io, GitHub's own token; `id-token` for Google's workload identity).
 * `access`: write for a job that pushes, read for one that only asks. `signing`: what a
 * job that signs needs besides (github-signing.ts, signingPermissions).
 */
export function jobPermissions(registry: string, options: GithubOptions, access: "read" | "write", signing: readonly string[] = []): string[] {
  const extra = [
    ...(options.login && registry === "ghcr.io" ? [`  packages: ${access}`] : []),
    // Workload identity: the job asks GitHub for an OIDC token, which Google exchanges.
    ...(options.login && options["workload-identity-provider"] ? ["  id-token: write"] : []),
  ];
  // Keyless signing asks for the same token: one line of it.
  for (const line of signing) if (!extra.includes(line)) extra.push(line);
  return extra.length === 0 ? [] : ["permissions:", "  contents: read", ...extra];
}

/** The registry login: workload identity for Google's registries, else a user and a secret; `condition` ("" for none) keeps it off pull requests. */
export function writeLogin(out: TextWriter, registry: string, options: GithubOptions, condition: string): void {
  const when = condition === "" ? [] : [`    if: ${condition}`];
  // A login the registry fails (a 5xx, the network) is tried again (retriedStep).
  const login = (lines: readonly string[]) => out.lines(retriedStep([`  - uses: ${ACTIONS.login}`, ...when, "    with:", ...lines], "login", "true", "The registry login"));
  if (options.login && options["workload-identity-provider"]) {
    // Google's registries without a stored key: an access token for the service account, by workload identity.
    out.lines([
      `  - uses: ${ACTIONS.googleAuth}`,
      "    id: auth",
      ...when,
      "    with:",
      `      workload_identity_provider: ${yamlScalar(options["workload-identity-provider"])}`,
      `      service_account: ${yamlScalar(options["service-account"])}`,
      "      token_format: access_token",
    ]);
    login([`      registry: ${yamlScalar(registry)}`, "      username: oauth2accesstoken", "      password: ${{ steps.auth.outputs.access_token }}"]);
  } else if (options.login) {
    // A pull request logs in nowhere and reads no secret: a fork's has none.
    const secret = options["password-secret"] || (registry === "ghcr.io" ? "GITHUB_TOKEN" : "REGISTRY_PASSWORD");
    login([
      ...(registry !== "docker.io" ? [`      registry: ${yamlScalar(registry)}`] : []),
      `      username: ${yamlScalar(options.username)}`,
      `      password: ${yamlScalar(`\${{ secrets.${secret} }}`)}`,
    ]);
  }
}
