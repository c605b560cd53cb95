// cosign (Debian's, from install-tools.sh) as the signing e2e run it: the command itself,
// a verify against the loopback registry (no transparency log here), and the signing
// fixture made ready to sign there (transparency_log = false, a generated key pair whose
// public half the matrix names).

import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fixtureRepository } from "./pipeline-runs.ts";

/** cosign ARGS in `cwd`, the key's password empty; its exit and what it printed. */
export function cosign(args: readonly string[], cwd: string, env: Record<string, string> = {}): { exit: number; output: string } {
  const run = Bun.spawnSync(["cosign", ...args], { cwd, env: { ...process.env, COSIGN_PASSWORD: "", ...env }, stdout: "pipe", stderr: "pipe" });
  return { exit: run.exitCode, output: run.stdout.toString() + run.stderr.toString() };
}

/** `cosign verify` of a reference on the loopback registry with `key`, bound to an inputs digest (hex) when given. */
export function cosignVerify(cwd: string, reference: string, hex?: string, key = "keys/cosign.pub"): { exit: number; output: string } {
  return cosign(["verify", "--key", key, "--insecure-ignore-tlog=true", "--allow-insecure-registry", "--allow-http-registry", ...(hex ? ["-a", `caliban-images.inputs=${hex}`] : []), reference], cwd);
}

/**
 * fixtures/signing as a git repository in `work`, signing without the transparency log
 * (no route to Rekor here) with a new key pair `keyPrefix`.key/.pub, whose public half is
 * the fixture's keys/cosign.pub. Returns its git and the private key's text.
 */
export function signingRepository(work: string, keyPrefix: string): { git: (...args: string[]) => void; privateKey: string } {
  const git = fixtureRepository(work, "signing");
  const matrix = join(work, "matrix.toml");
  writeFileSync(matrix, readFileSync(matrix, "utf8").replace('public_key = "keys/cosign.pub"\n', 'public_key = "keys/cosign.pub"\ntransparency_log = false\n'));
  const made = cosign(["generate-key-pair", "--output-key-prefix", keyPrefix], work);
  if (made.exit !== 0) throw new Error(`cosign generate-key-pair: ${made.output}`);
  mkdirSync(join(work, "keys"), { recursive: true });
  writeFileSync(join(work, "keys/cosign.pub"), readFileSync(`${keyPrefix}.pub`));
  return { git, privateKey: readFileSync(`${keyPrefix}.key`, "utf8") };
}
