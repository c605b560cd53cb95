// `[sign]` (core/graph.ts, SignPolicy) as the emitters see it. make signs each pushed
// image with its key (emitters/make-sign.ts) and `resolve` verifies what a pipeline would
// reuse; an emitter that does not sign yet refuses a graph with [sign], rather than push
// unsigned images that every later run would then refuse to reuse.

import type { BuildGraph, SignPolicy } from "../core/graph.ts";
import { INPUTS_ANNOTATION, REVISION_ANNOTATION } from "../core/changes/inputs.ts";
import { shellWord } from "./quoting.ts";
import { CalibanError } from "../core/errors.ts";

/** What cosign says when an image is there but carries no signature the policy accepts (anything else it says is an error). */
export const COSIGN_NOT_SIGNED = ["no signatures found", "no matching signatures", "missing or incorrect annotation"];

/** A shell `case` pattern for a reference on loopback: a plain-http registry, which cosign asks so only when told. */
export const LOOPBACK_REFERENCE_PATTERN = 'localhost[:/]* | 127.* | "[::1]"*';

/** Refuses a graph with [sign], for an emitter that cannot sign (or not in the way [sign] asks): never push unsigned images silently. */
export function refuseSigning(graph: BuildGraph, emitter: string, why = `the ${emitter} emitter does not sign images yet`, hint = "emit make or a CI's pipeline (github, gitlab, buildkite, cloudbuild), which sign each pushed image with cosign; or remove [sign] to push unsigned images"): void {
  if (graph.sign === undefined) return;
  throw new CalibanError({
    code: "EMITTER",
    message: `emit ${emitter}: the matrix's [sign] asks for every pushed image to be signed, and ${why}`,
    hint,
  });
}

/**
 * `cosign verify`'s arguments for an image under the policy, bound to its inputs digest
 * (hex; undefined: any, as `explain` reads it from the signature). `publicKey`: the key's
 * path as the caller's cosign finds it (the matrix's, as written, by default); `plainHttp`
 * for a registry on loopback or given as insecure.
 */
export function cosignVerifyArgs(policy: SignPolicy, reference: string, inputsHex: string | undefined, options: { readonly plainHttp?: boolean; readonly publicKey?: string | undefined } = {}): string[] {
  const trust = "key" in policy ? ["--key", options.publicKey ?? policy.publicKey] : ["--certificate-identity", policy.identity, "--certificate-oidc-issuer", policy.issuer];
  return ["verify", ...trust, ...(inputsHex === undefined ? [] : ["-a", `${INPUTS_ANNOTATION}=${inputsHex}`]), ...(policy.transparencyLog ? [] : ["--insecure-ignore-tlog=true"]), ...(options.plainHttp ? ["--allow-insecure-registry", "--allow-http-registry"] : []), reference];
}

/** What buildx's --metadata-file names as the digest it pushed: a sed program (a shell word), the line `  "containerimage.digest": "sha256:..."`. */
export const METADATA_DIGEST_SED = `'s/^ *"containerimage.digest": *"\\(sha256:[0-9a-f]*\\)".*/\\1/p'`;

/**
 * The shell functions (POSIX sh, bash alike) a CI job signs with, after `retry`: `need_cosign`
 * (the cosign-install-command, else the pinned release, once a job), `sign_reference REF [HEX]`
 * (cosign sign, bound to an inputs digest when HEX is given) and `sign_pushed REPOSITORY
 * METADATA HEX` (the digest buildx's metadata file names). None without [sign]. `revision`:
 * the shell expression of the commit the job builds (signRevision).
 */
export function signShellFunctions(graph: BuildGraph, installCommands: readonly string[], revision: string): string[] {
  if (graph.sign === undefined) return [];
  return [
    "need_cosign() {",
    '  [ -z "${cosign_ready:-}" ] || return 0',
    ...installCommands.map((line) => line.split("\n").map((part) => `  ${part}`).join("\n")),
    "  cosign_ready=1",
    "}",
    ...signReferenceFunction(graph.sign, revision, ["need_cosign"]),
    "sign_pushed() {",
    `  digest=$(sed -n ${METADATA_DIGEST_SED} "$2")`,
    '  rm -f "$2"',
    '  [ -n "$digest" ] || { echo "error: buildx named no digest of $1: not signed" >&2; exit 1; }',
    '  sign_reference "$1@$digest" "$3"',
    "}",
  ];
}

/**
 * How a CI's job knows the commit it builds, a shell expression (double-quoted, empty when
 * the CI does not say): what a signature's revision annotation records (GitLab's is its CI
 * variables' commit, emitters/gitlab.ts). Buildkite's BUILDKITE_COMMIT may be a name
 * (HEAD), so its job asks the checkout.
 */
export const SIGN_REVISION = {
  github: '"${GITHUB_SHA:-}"',
  buildkite: '"$(git rev-parse --verify --quiet HEAD 2>/dev/null || true)"',
} as const;

/**
 * `sign_reference REF [HEX]` alone (after `retry`), `first` its first lines (what puts cosign
 * on the PATH, when a job has not). Each signature is annotated with the inputs digest (HEX,
 * when given) and the commit (`revision`, a shell expression; none when it is empty).
 */
export function signReferenceFunction(sign: SignPolicy, revision: string, first: readonly string[] = []): string[] {
  const key = "key" in sign ? ` --key ${shellWord(sign.key)}` : "";
  return [
    "sign_reference() {",
    ...first.map((line) => `  ${line}`),
    '  set -- "$1" "${2:-}" --yes --recursive',
    // A loopback registry is plain http (a test's); cosign asks it so only when told.
    `  case "$1" in ${LOOPBACK_REFERENCE_PATTERN}) set -- "$@" --allow-insecure-registry --allow-http-registry ;; esac`,
    ...(sign.transparencyLog
      ? []
      : [
          // cosign 3 takes --tlog-upload=false only without its TUF signing config; cosign 2 has no such flag.
          '  if cosign sign --help 2>&1 | grep -q -- --use-signing-config; then set -- "$@" --use-signing-config=false; fi',
          '  set -- "$@" --tlog-upload=false',
        ]),
    `  ref=$1; hex=$2; shift 2`,
    `  if [ -n "$hex" ]; then set -- "$@" -a "${INPUTS_ANNOTATION}=$hex"; fi`,
    `  revision=${revision}`,
    `  if [ -n "$revision" ]; then set -- "$@" -a "${REVISION_ANNOTATION}=$revision"; fi`,
    `  retry cosign sign "$@"${key} "$ref"`,
    "}",
  ];
}
