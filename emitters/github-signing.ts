// GitHub Actions with [sign] (emitters/signing.ts). Both resolve jobs install cosign
// (sigstore/cosign-installer, pinned, or the cosign-install-command) before they ask the
// registry: `caliban-images resolve` verifies every image it has, and one that does not
// verify is rebuilt. Each publishing job signs what it pushed, bound to the image's inputs
// digest: by the digest build-push-action or `docker push` names, and by tag what
// `imagetools create` makes (a pointed tag, a joined list, a shared tag). A job that signs
// holds what signing needs and no more: keyless, `id-token: write` (cosign trades the
// runner's OIDC token for a certificate); a key pair, the env://NAME repository secret and
// COSIGN_PASSWORD in its signing steps' env alone. A pull request's jobs sign nothing and
// hold neither.

import { CalibanError } from "../core/errors.ts";
import type { BuildGraph } from "../core/graph.ts";
import { IDENTIFIER_PATTERN } from "../core/names.ts";
import { ACTIONS, RETRY } from "./github-actions.ts";
import type { GithubOptions } from "./github-types.ts";
import { yamlScalar } from "./quoting.ts";
import { SIGN_REVISION, signReferenceFunction } from "./signing.ts";
import { INPUTS_ANNOTATION, REVISION_ANNOTATION } from "../core/changes/inputs.ts";

/** A key cosign reads from a KMS or the environment (`scheme://...`), not a file. */
const KEY_URI = /^[a-z][a-z0-9+.-]*:\/\//i;

/** A job's image's inputs digest, from its content reference (the job's env CONTENT, REPOSITORY:inputs-HEX). */
export const CONTENT_HEX = '"${CONTENT##*:inputs-}"';

/** Refuses [sign] the workflow cannot honour: a key file (a private key in the checkout), an env:// name no repository secret has, or no content tags. */
export function checkGithubSigning(graph: BuildGraph, contentTags: boolean): void {
  const sign = graph.sign;
  if (sign === undefined) return;
  const refuse = (why: string, hint: string) => {
    throw new CalibanError({ code: "EMITTER", message: `emit github: the matrix's [sign] ${why}`, hint });
  };
  if (!contentTags) refuse("binds each signature to an inputs digest, and with content-tags=false there is none", "leave content-tags on (the default) to sign");
  if (!("key" in sign)) return;
  if (!KEY_URI.test(sign.key)) refuse(`names a key file (${JSON.stringify(sign.key)}), which a job could only read from its checkout`, 'keep the private key out of the repository: key = "env://NAME" (the repository secret NAME, with COSIGN_PASSWORD), a KMS key (e.g. "gcpkms://...", the job\'s cloud credentials a signer of it), or keyless identity and issuer');
  const name = sign.key.startsWith("env://") ? sign.key.slice("env://".length) : undefined;
  if (name !== undefined && (!IDENTIFIER_PATTERN.test(name) || /^GITHUB_/i.test(name))) refuse(`reads its key from ${JSON.stringify(name)}, which is no name a repository secret can have`, "name a secret of letters, digits and _, not starting with a digit or GITHUB_");
}

/** The repository secrets a signing step reads: env://NAME's NAME and COSIGN_PASSWORD; none for a KMS key or keyless. */
function keySecrets(graph: BuildGraph): string[] {
  const sign = graph.sign;
  if (sign === undefined || !("key" in sign) || !sign.key.startsWith("env://")) return [];
  return [...new Set([sign.key.slice("env://".length), "COSIGN_PASSWORD"])];
}

/** A signing job's permission beyond its login's: keyless, the OIDC token cosign signs with. */
export function signingPermissions(graph: BuildGraph): string[] {
  return graph.sign !== undefined && !("key" in graph.sign) ? ["  id-token: write"] : [];
}

/** The step that puts cosign on the PATH (a `steps:` item at two spaces), with its `if:` (or none for ""); nothing without [sign]. */
export function cosignSetupStep(graph: BuildGraph, options: Pick<GithubOptions, "cosign-install-command">, condition: string): string[] {
  if (graph.sign === undefined) return [];
  const when = condition === "" ? [] : [`    if: ${condition}`];
  const command = options["cosign-install-command"];
  if (command.trim() !== "") return ["  - name: Install cosign", ...when, `    run: ${yamlScalar(command)}`];
  // The installer's own pinned release (cosign v3.0.6), checked against the sha256 it carries.
  return [`  - uses: ${ACTIONS.cosignInstaller}`, ...when];
}

/**
 * A signing step (a `steps:` item at two spaces): `condition` its `if:` ("" for none), `env`
 * its own values (`NAME: value` lines at six spaces), `script` its bash lines after the
 * signing functions: `retry`, `sign_reference REF [HEX]` (emitters/signing.ts; cosign is
 * on the PATH already: cosignSetupStep) and, when the script calls it, `sign_tags`. The
 * key's secrets are in this step's env alone. Nothing without [sign].
 */
export function signingStep(graph: BuildGraph, name: string, condition: string, env: readonly string[], script: readonly string[]): string[] {
  const secrets = keySecrets(graph).map((secret) => `      ${yamlScalar(secret)}: \${{ secrets.${secret} }}`);
  if (graph.sign === undefined) return [];
  const functions = [RETRY, ...signReferenceFunction(graph.sign, SIGN_REVISION.github), ...(script.some((line) => line.includes("sign_tags ")) ? SIGN_TAGS : [])];
  return [
    `  - name: ${yamlScalar(name)}`,
    ...(condition === "" ? [] : [`    if: ${condition}`]),
    ...(env.length + secrets.length > 0 ? ["    env:", ...env, ...secrets] : []),
    "    run: |",
    ...[...functions, ...script].flatMap((line) => line.split("\n")).map((line) => `      ${line}`),
  ];
}

/**
 * `sign_tags --tag REF ...` (imagetools create's words): the tags one imagetools create
 * made, bound to the job's inputs digest. It wrote one manifest under every tag, and a
 * signature is the repository's for that digest: one tag a repository is signed.
 */
const SIGN_TAGS = [
  "sign_tags() {",
  '  local seen=" "',
  '  while [ "$#" -gt 1 ]; do',
  `    case "$seen" in *" \${2%:*} "*) ;; *) sign_reference "$2" ${CONTENT_HEX}; seen="$seen\${2%:*} " ;; esac`,
  "    shift 2",
  "  done",
  "}",
];

/** The digest a build-push-action step (and its retries: retriedStep) pushed, as an expression. */
export function pushedDigest(id: string): string {
  return `\${{ steps.${id}.outputs.digest || steps.${id}-2.outputs.digest || steps.${id}-3.outputs.digest }}`;
}

/**
 * The signing step after a build-push-action step `id` that pushed the job's image:
 * REPOSITORY@DIGEST, the repository its content reference names (every tag the build
 * pushed is in it), bound to its inputs digest.
 */
export function signBuildStep(graph: BuildGraph, id: string, condition: string): string[] {
  if (graph.sign === undefined) return [];
  return signingStep(graph, "Sign what it pushed", condition, [`      DIGEST: ${pushedDigest(id)}`], [
    'if [ -z "$DIGEST" ]; then echo "::error::the build named no digest of $CONTENT: not signed"; exit 1; fi',
    `sign_reference "\${CONTENT%:*}@$DIGEST" ${CONTENT_HEX}`,
  ]);
}

/**
 * A bash function for a script that pushes with `docker push` and signs: `push_signed REF`
 * pushes REF and signs REPOSITORY@DIGEST, the digest the registry answered the push with
 * (docker's last line, `TAG: digest: sha256:... size: N`): what was pushed, not what the
 * tag names a moment later. A digest already signed (another tag of the same image) is
 * not signed again.
 */
export const PUSH_SIGNED = [
  "push_signed() {",
  '  local log digest; log=$(mktemp)',
  '  retry docker push "$1" | tee "$log"',
  "  digest=$(sed -n 's/^.*digest: \\(sha256:[0-9a-f]\\{64\\}\\) size: .*$/\\1/p' \"$log\" | tail -n 1)",
  '  rm -f "$log"',
  '  if [ -z "$digest" ]; then echo "::error::docker push named no digest of $1: not signed"; exit 1; fi',
  '  case " ${signed:-} " in *" $digest "*) return 0 ;; esac',
  `  sign_reference "\${1%:*}@$digest" ${CONTENT_HEX}`,
  '  signed="${signed:-} $digest"',
  "}",
];

/** With --format matrix the user's workflow pushes, and so signs: said, with what [sign] asks of it. */
export function signingMatrixWarning(graph: BuildGraph): string | undefined {
  if (graph.sign === undefined) return undefined;
  return `emit github --format matrix: the matrix's [sign] asks for every pushed image to be signed, and the matrices sign nothing: your workflow signs what it pushes (cosign sign --recursive -a ${INPUTS_ANNOTATION}=<inputs digest> -a ${REVISION_ANNOTATION}=$GITHUB_SHA REPOSITORY@DIGEST), and verifies before it reuses (caliban-images docs/signing.md)`;
}
