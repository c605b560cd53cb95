// Cloud Build with [sign], a key pair: the resolve step installs cosign (the pinned release,
// or cosign-install-command) and leaves, with the other functions, `sign_reference`,
// `sign_pushed` (emitters/signing.ts) and `verified_reuse`. An image's step reuses what the
// registry has only when cosign verifies it for its inputs digest; it pushes with buildx and
// signs the digest buildx's metadata file names, and signs the tags it points at a reused
// image; the shared-tags step signs each list it makes. The private key is Cloud KMS's
// (key = "gcpkms://...", the build's account a signer of it) or a Secret Manager secret
// (key = "env://NAME", with COSIGN_PASSWORD), in the environment of the steps that push
// only; the pull-request trigger's config has neither (cloudbuild.ts).

import { CalibanError } from "../core/errors.ts";
import type { BuildGraph } from "../core/graph.ts";
import { INPUTS_ANNOTATION } from "../core/changes/inputs.ts";
import { cosignInstallCommands } from "./cosign-install.ts";
import { COSIGN_NOT_SIGNED, cosignVerifyArgs, LOOPBACK_REFERENCE_PATTERN, signShellFunctions } from "./signing.ts";
import { shellWord } from "./quoting.ts";

/**
 * Where the signing functions name the commit, in the resolve step's script: it becomes
 * Cloud Build's $COMMIT_SHA there, the one '$' not doubled (resolveStep), so that bash defines
 * sign_reference with the commit in it (empty in a build no trigger started).
 */
export const COMMIT_PLACEHOLDER = "\u0000COMMIT_SHA";

/** The functions the resolve step leaves for the others with [sign], by name (for `declare -f`). */
export const SIGNING_FUNCTIONS = ["need_cosign", "sign_reference", "sign_pushed", "verified_reuse"];

/** Refuses [sign] Cloud Build cannot honour: keyless (no identity Sigstore takes from Cloud Build here), a key file (a private key in the checkout), or no content tags. */
export function checkCloudBuildSigning(graph: BuildGraph, contentTags: boolean): void {
  const sign = graph.sign;
  if (sign === undefined) return;
  const refuse = (why: string, hint: string) => {
    throw new CalibanError({ code: "EMITTER", message: `emit cloudbuild: the matrix's [sign] ${why}`, hint });
  };
  if (!("key" in sign)) refuse("is keyless, and Cloud Build signs with a key", 'give key = "gcpkms://projects/P/locations/L/keyRings/R/cryptoKeys/K" (the build\'s account a signer of it) and public_key');
  else if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(sign.key)) refuse(`names a key file (${JSON.stringify(sign.key)}), which a build could only read from its checkout`, 'keep the private key out of the repository: key = "gcpkms://..." (Cloud KMS) or key = "env://NAME" (a Secret Manager secret NAME, with COSIGN_PASSWORD)');
  else if (!contentTags) refuse("binds each signature to an inputs digest, and with content-tags=false there is none", "leave content-tags on (the default) to sign");
}

/** The variables a signing step reads its key from: env://NAME's NAME and COSIGN_PASSWORD (Secret Manager secrets); none for a KMS key. */
export function signingSecretNames(graph: BuildGraph): string[] {
  const sign = graph.sign;
  if (sign === undefined || !("key" in sign) || !sign.key.startsWith("env://")) return [];
  return [...new Set([sign.key.slice("env://".length), "COSIGN_PASSWORD"])];
}

/**
 * The resolve step's lines that define the signing functions and install cosign; none
 * without [sign]. `verified_reuse REF HEX`: 0 when cosign verifies REF for that inputs
 * digest, 1 (and why, on stderr) when it is unsigned or signed otherwise; exit 4 when cosign
 * cannot say (the registry, the network).
 */
export function cloudbuildSigningLines(graph: BuildGraph, options: { readonly "cosign-install-command": string }): string[] {
  const sign = graph.sign;
  if (sign === undefined) return [];
  const REFERENCE = "\u0000reference";
  const HEX = "\u0000hex";
  const words = cosignVerifyArgs(sign, REFERENCE, HEX).map((word) => (word === REFERENCE ? '"$1"' : word === `${INPUTS_ANNOTATION}=${HEX}` ? `"${INPUTS_ANNOTATION}=$2"` : shellWord(word)));
  return [
    ...signShellFunctions(graph, cosignInstallCommands(options), `"${COMMIT_PLACEHOLDER}"`),
    "verified_reuse() {",
    "  local out plain=()",
    "  need_cosign",
    `  case "$1" in ${LOOPBACK_REFERENCE_PATTERN}) plain=(--allow-insecure-registry --allow-http-registry) ;; esac`,
    `  if out=$(cosign ${words.slice(0, -1).join(" ")} "\${plain[@]}" ${words.at(-1)} 2>&1 >/dev/null); then return 0; fi`,
    '  case "$out" in',
    `    ${COSIGN_NOT_SIGNED.map((said) => `*"${said}"*`).join(" | ")}) echo "$1 is in the registry, but cosign does not verify it: rebuilt, not reused" >&2; return 1 ;;`,
    "  esac",
    '  echo "error: cosign could not verify $1: $out" >&2',
    "  exit 4",
    "}",
    "need_cosign",
  ];
}
