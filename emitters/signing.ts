// `[sign]` (core/graph.ts, SignPolicy) as the emitters see it. make signs each pushed
// image with its key (emitters/make-sign.ts) and `resolve` verifies what a pipeline would
// reuse; an emitter that does not sign yet refuses a graph with [sign], rather than push
// unsigned images that every later run would then refuse to reuse.

import type { BuildGraph, SignPolicy } from "../core/graph.ts";
import { INPUTS_ANNOTATION } from "../core/changes/inputs.ts";
import { CalibanError } from "../core/errors.ts";

/** Refuses a graph with [sign], for an emitter that cannot sign (or not in the way [sign] asks): never push unsigned images silently. */
export function refuseSigning(graph: BuildGraph, emitter: string, why = `the ${emitter} emitter does not sign images yet`, hint = "emit make, which signs each pushed image with cosign; or remove [sign] to push unsigned images"): void {
  if (graph.sign === undefined) return;
  throw new CalibanError({
    code: "EMITTER",
    message: `emit ${emitter}: the matrix's [sign] asks for every pushed image to be signed, and ${why}`,
    hint,
  });
}

/**
 * `cosign verify`'s arguments for an image under the policy, bound to its inputs digest
 * (hex). `publicKey`: the key's path as the caller's cosign finds it (the matrix's, as
 * written, by default); `plainHttp` for a registry on loopback or given as insecure.
 */
export function cosignVerifyArgs(policy: SignPolicy, reference: string, inputsHex: string, options: { readonly plainHttp?: boolean; readonly publicKey?: string | undefined } = {}): string[] {
  const trust = "key" in policy ? ["--key", options.publicKey ?? policy.publicKey] : ["--certificate-identity", policy.identity, "--certificate-oidc-issuer", policy.issuer];
  return ["verify", ...trust, "-a", `${INPUTS_ANNOTATION}=${inputsHex}`, ...(policy.transparencyLog ? [] : ["--insecure-ignore-tlog=true"]), ...(options.plainHttp ? ["--allow-insecure-registry", "--allow-http-registry"] : []), reference];
}
