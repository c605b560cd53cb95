// Verified reuse (issue 32): with [sign], resolve --registry reuses an image the registry
// has only when cosign verifies it for its inputs digest. A fake cosign (a script that
// answers as told, and records what it was asked) stands for the real one here; the e2e
// (scripts/e2e/signing.e2e.ts) runs Debian's cosign against a real registry.

import { describe, expect, test } from "bun:test";
import { appendFileSync, chmodSync, cpSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { REPO_ROOT } from "../fixtures/golden.ts";
import { loopbackServer, runCliAsync as run } from "../fixtures/test-helpers.ts";
import { keyReference } from "./verify-signature.ts";
import { cosignVerifyArgs } from "../emitters/signing.ts";
import { scratchFolder } from "../scripts/validators/scratch.ts";

const DIGEST = `sha256:${"d".repeat(64)}`;
const server = loopbackServer((_request, url) => {
  if (!/^\/v2\/.+\/manifests\/[^/]+$/.test(url.pathname)) return new Response("", { status: 404 });
  return new Response(null, { headers: { "docker-content-digest": DIGEST } });
});

/**
 * A cosign that records its arguments in `cosign-calls`, one call a line, and answers as
 * `cosign-answers` says: a line `HEX unsigned|refused` for the image of that inputs digest; any other verifies.
 */
const FAKE_COSIGN = `#!/bin/sh
echo "$*" >> cosign-calls
for arg in "$@"; do
  case "$arg" in caliban-images.inputs=*) hex=\${arg#caliban-images.inputs=} ;; esac
done
answer=$(sed -n "s/^$hex //p" cosign-answers)
case "$answer" in
  unsigned) echo "Error: no signatures found" >&2; echo "error during command execution: no signatures found" >&2; exit 10 ;;
  refused) echo 'Error: GET http://registry/v2/: dial tcp 127.0.0.1:1: connect: connection refused' >&2; exit 1 ;;
esac
exit 0
`;

function signedProject(): string {
  const root = scratchFolder("resolve-signed-");
  cpSync(join(REPO_ROOT, "fixtures/chain-build"), root, { recursive: true });
  appendFileSync(join(root, "matrix.toml"), '\n[sign]\nkey = "env://COSIGN_PRIVATE_KEY"\npublic_key = "keys/cosign.pub"\ntransparency_log = false\n');
  writeFileSync(join(root, "cosign"), FAKE_COSIGN);
  chmodSync(join(root, "cosign"), 0o755);
  writeFileSync(join(root, "cosign-answers"), "");
  writeFileSync(join(root, "cosign-calls"), "");
  return root;
}

type Resolved = { images: Record<string, { inputs: string; present?: boolean }> };

describe("resolve --registry with [sign]", () => {
  test("an image whose signature verifies is present; one cosign finds unsigned is rebuilt, and stderr says why", async () => {
    const root = signedProject();
    const plain = JSON.parse((await run(root, "resolve")).stdout) as Resolved;
    const ids = Object.keys(plain.images);
    const unsigned = ids[1]!;
    const hex = plain.images[unsigned]!.inputs.slice("sha256:".length);
    writeFileSync(join(root, "cosign-answers"), `${hex} unsigned\n`);
    const result = await run(root, "resolve", "--registry", `${server.host}/chain`, "--cosign", "./cosign");
    expect({ code: result.code, stderr: result.code === 0 ? "" : result.stderr }).toEqual({ code: 0, stderr: "" });
    const images = (JSON.parse(result.stdout) as Resolved).images;
    expect(ids.filter((id) => images[id]!.present)).toEqual(ids.filter((id) => id !== unsigned));
    expect(result.stderr).toContain(`${unsigned}: ${server.host}/chain:inputs-${hex} is in the registry, but cosign does not verify it (no signatures found): rebuilt, not reused`);
    expect(result.stderr).toContain(`${ids.length - 1} of ${ids.length} images are in`);
    // Each image asked for by the digest the registry named, bound to its own inputs digest, with the matrix's public key.
    const calls = readFileSync(join(root, "cosign-calls"), "utf8").trim().split("\n").sort();
    expect(calls).toHaveLength(ids.length);
    for (const call of calls) {
      expect(call).toStartWith(`verify --key ${join(root, "keys/cosign.pub")} -a caliban-images.inputs=`);
      expect(call).toContain(" --insecure-ignore-tlog=true --allow-insecure-registry --allow-http-registry ");
      expect(call.slice(call.lastIndexOf(" ") + 1)).toMatch(new RegExp(`^${server.host.replace(/\./g, "\\.")}/chain(/[a-z0-9-]+)?@${DIGEST}$`));
    }
  });

  test("cosign failing otherwise (the registry, the network) is no answer: exit 4, nothing on stdout", async () => {
    const root = signedProject();
    const plain = JSON.parse((await run(root, "resolve")).stdout) as Resolved;
    writeFileSync(join(root, "cosign-answers"), `${Object.values(plain.images)[0]!.inputs.slice(7)} refused\n`);
    const result = await run(root, "resolve", "--registry", `${server.host}/chain`, "--cosign", "./cosign", "--format", "make");
    expect(result.code).toBe(4);
    expect(result.stdout).toBe("");
    expect(result.stderr).toContain("cosign could not verify");
    expect(result.stderr).toContain("connection refused");
  });

  test("no cosign to run: exit 4, and the hint says how to name one", async () => {
    const root = signedProject();
    const result = await run(root, "resolve", "--registry", `${server.host}/chain`, "--cosign", join(root, "no-such-cosign"));
    expect(result.code).toBe(4);
    expect(result.stderr).toContain("[sign] is set, and cosign");
    expect(result.stderr).toContain("--cosign PATH");
  });

  test("without --registry nothing is verified: cosign is not run", async () => {
    const root = signedProject();
    expect((await run(root, "resolve", "--cosign", "./cosign")).code).toBe(0);
    expect(readFileSync(join(root, "cosign-calls"), "utf8")).toBe("");
  });
});

describe("cosign verify's arguments", () => {
  test("a key file is relative to the matrix's folder; a URI, env:// or an absolute path is as given", () => {
    expect(keyReference("keys/cosign.pub", "/repo")).toBe("/repo/keys/cosign.pub");
    for (const given of ["/etc/cosign.pub", "env://COSIGN_PUBLIC_KEY", "gcpkms://projects/p/locations/l/keyRings/r/cryptoKeys/k", "https://example.com/cosign.pub", "k8s://ns/key"]) expect(keyReference(given, "/repo")).toBe(given);
  });

  test("keyless: the identity and issuer to expect, the transparency log checked", () => {
    const policy = { identity: "https://github.com/acme/images/.github/workflows/images.yml@refs/heads/main", issuer: "https://token.actions.githubusercontent.com", transparencyLog: true };
    expect(cosignVerifyArgs(policy, `ghcr.io/acme/images@${DIGEST}`, "ab")).toEqual([
      "verify", "--certificate-identity", policy.identity, "--certificate-oidc-issuer", policy.issuer, "-a", "caliban-images.inputs=ab", `ghcr.io/acme/images@${DIGEST}`,
    ]);
  });
});
