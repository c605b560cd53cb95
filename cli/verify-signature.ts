// Verified reuse (docs/signing.md): with [sign], an image the registry has under its
// content tag is reused only when cosign verifies its signature by the matrix's public
// key, or by the identity and issuer the CI signs with keylessly. Anyone with push rights
// can write under a content tag; only the pipeline's key (or identity) can sign. cosign
// itself verifies: the signature format, the certificate chain and the transparency log
// are its to check, not ours to reimplement.
//
// An unsigned image, or one signed otherwise, is rebuilt (and the log says why). cosign
// failing for any other reason (the registry, the network, a key it cannot read) is an
// error, exit 4 as for any registry question: never taken for "not signed" or "signed".

import { isAbsolute, join } from "node:path";
import { CalibanError } from "../core/errors.ts";
import type { SignPolicy } from "../core/graph.ts";
import { COSIGN_NOT_SIGNED, cosignVerifyArgs } from "../emitters/signing.ts";

export type Verdict = { readonly verified: true } | { readonly verified: false; readonly why: string };

/** Verifies `REPOSITORY@DIGEST` as the image of an inputs digest (its hex); `plainHttp` for a registry asked over http (loopback, --insecure-registry). */
export type Verifier = (reference: string, inputsHex: string, plainHttp: boolean) => Promise<Verdict>;

/** How long one `cosign verify` may take: a registry or Rekor that hangs fails the run rather than stalls it. */
const VERIFY_TIMEOUT_MS = 120_000;


/** A key as cosign reads one: a URI (env://, gcpkms://, https://, ...) as given, a file relative to the matrix's folder. */
export function keyReference(key: string, matrixDirectory: string): string {
  return /^[a-z][a-z0-9+.-]*:\/\//i.test(key) || isAbsolute(key) ? key : join(matrixDirectory, key);
}

/** A verifier that runs `cosign` (a command name or path) under the policy. */
export function cosignVerifier(cosign: string, policy: SignPolicy, matrixDirectory: string): Verifier {
  return async (reference, inputsHex, plainHttp) => {
    const answer = await cosignVerify(cosign, policy, matrixDirectory, reference, inputsHex, plainHttp);
    return answer.verified ? { verified: true } : answer;
  };
}

/** One signature's payload as `cosign verify` prints it: the image's digest, and the annotations it was signed with. */
export interface SignaturePayload {
  readonly digest: string;
  readonly annotations: Readonly<Record<string, string>>;
}

/**
 * What the signatures cosign verifies for `reference` under the policy say, whatever inputs
 * they name (`explain`): their payloads, or why there is none (unsigned, signed otherwise).
 */
export async function verifiedPayloads(cosign: string, policy: SignPolicy, matrixDirectory: string, reference: string, plainHttp: boolean): Promise<{ readonly verified: true; readonly payloads: readonly SignaturePayload[] } | { readonly verified: false; readonly why: string }> {
  const answer = await cosignVerify(cosign, policy, matrixDirectory, reference, undefined, plainHttp);
  if (!answer.verified) return answer;
  let printed: unknown;
  try {
    printed = JSON.parse(answer.stdout);
  } catch {
    printed = undefined;
  }
  if (!Array.isArray(printed)) throw new CalibanError({ code: "REGISTRY", message: `cosign verified ${reference}, but printed no payloads this version of caliban-images can read` });
  return {
    verified: true,
    payloads: printed.map((payload: { critical?: { image?: { "docker-manifest-digest"?: unknown } }; optional?: Record<string, unknown> | null }) => ({
      digest: String(payload.critical?.image?.["docker-manifest-digest"] ?? ""),
      annotations: Object.fromEntries(Object.entries(payload.optional ?? {}).filter((entry): entry is [string, string] => typeof entry[1] === "string")),
    })),
  };
}

/** `cosign verify` of a reference, bound to an inputs digest when one is given: verified (with what it printed), or why not. */
async function cosignVerify(cosign: string, policy: SignPolicy, matrixDirectory: string, reference: string, inputsHex: string | undefined, plainHttp: boolean): Promise<{ readonly verified: true; readonly stdout: string } | { readonly verified: false; readonly why: string }> {
  let child: ReturnType<typeof Bun.spawn>;
  try {
    const args = cosignVerifyArgs(policy, reference, inputsHex, { plainHttp, publicKey: "key" in policy ? keyReference(policy.publicKey, matrixDirectory) : undefined });
    child = Bun.spawn([cosign, ...args], { stdin: "ignore", stdout: "pipe", stderr: "pipe", timeout: VERIFY_TIMEOUT_MS, killSignal: "SIGKILL" });
  } catch {
    throw new CalibanError({ code: "REGISTRY", message: `[sign] is set, and cosign (${JSON.stringify(cosign)}) cannot be run: each image the registry has is verified with it`, hint: "install cosign (https://docs.sigstore.dev/cosign/system_config/installation/), or name it with --cosign PATH" });
  }
  const [code, stdout, stderr] = await Promise.all([child.exited, new Response(child.stdout as ReadableStream).text(), new Response(child.stderr as ReadableStream).text()]);
  if (code === 0) return { verified: true, stdout };
  const lines = stderr.split("\n").map((line) => line.trim()).filter((line) => line !== "");
  const said = lines.find((line) => COSIGN_NOT_SIGNED.some((phrase) => line.toLowerCase().includes(phrase)));
  if (said !== undefined) return { verified: false, why: said.replace(/^Error: /, "") };
  const last = lines.at(-1) ?? (child.signalCode ? `stopped by ${child.signalCode} after ${VERIFY_TIMEOUT_MS / 1000} s` : `exit ${code}`);
  throw new CalibanError({ code: "REGISTRY", message: `cosign could not verify ${reference}: ${last}`, hint: "run again once the registry answers (a key cosign cannot read is named above)" });
}
