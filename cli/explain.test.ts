// `caliban-images explain REF` (issue 32): the inputs that built an image, read back from
// its verified signature (its inputs digest and commit) and the matrix planned at that
// commit. A fake cosign stands for the real one here (it prints the payloads it is told
// to); scripts/e2e/signing.e2e.ts explains what `make push` built and Debian's cosign signed.

import { describe, expect, test } from "bun:test";
import { appendFileSync, chmodSync, cpSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { REPO_ROOT } from "../fixtures/golden.ts";
import { runCliAsync as run } from "../fixtures/test-helpers.ts";
import { scratchFolder } from "../scripts/validators/scratch.ts";

/** Prints `cosign-payloads` as `cosign verify` prints what it verified, or fails as `cosign-answer` says; records its arguments. */
const FAKE_COSIGN = `#!/bin/sh
echo "$*" >> cosign-calls
case "$(cat cosign-answer)" in
  unsigned) echo "Error: no matching signatures: invalid signature" >&2; exit 10 ;;
  refused) echo 'Error: GET https://registry/v2/: dial tcp: connection refused' >&2; exit 1 ;;
esac
cat cosign-payloads
`;

const REPOSITORY = "localhost/caliban-e2e/chain";

function git(root: string, ...args: string[]): string {
  const result = Bun.spawnSync(["git", "-c", "user.name=t", "-c", "user.email=t@example.com", "-c", "commit.gpgsign=false", ...args], { cwd: root, stdout: "pipe", stderr: "pipe" });
  if (result.exitCode !== 0) throw new Error(`git ${args.join(" ")}: ${result.stderr.toString()}`);
  return result.stdout.toString().trim();
}

/** fixtures/chain-build, with [sign] (a key pair) or without, committed in a new repository: its root and the commit. */
function project(signed: boolean): { root: string; commit: string } {
  const root = scratchFolder("explain-");
  cpSync(join(REPO_ROOT, "fixtures/chain-build"), root, { recursive: true, filter: (path) => !path.includes("/expected") });
  if (signed) appendFileSync(join(root, "matrix.toml"), '\n[sign]\nkey = "env://COSIGN_PRIVATE_KEY"\npublic_key = "keys/cosign.pub"\n');
  git(root, "init", "-q");
  git(root, "add", "-A");
  git(root, "commit", "-q", "-m", "matrix");
  writeFileSync(join(root, "cosign"), FAKE_COSIGN);
  chmodSync(join(root, "cosign"), 0o755);
  writeFileSync(join(root, "cosign-answer"), "");
  writeFileSync(join(root, "cosign-calls"), "");
  return { root, commit: git(root, "rev-parse", "HEAD") };
}

type Planned = { images: { id: string; tag: string; inputs: string; contentReference: string }[] };
const planOf = async (root: string) => JSON.parse((await run(root, "plan", "--json")).stdout) as Planned;

/** A payload as cosign verify prints one: the image's digest, the signature's annotations. */
function payloads(...annotations: Record<string, string>[]): string {
  return JSON.stringify(annotations.map((optional) => ({ critical: { identity: { "docker-reference": REPOSITORY }, image: { "docker-manifest-digest": `sha256:${"e".repeat(64)}` }, type: "cosign container image signature" }, optional })));
}

type Explained = {
  verified: boolean;
  revision: string | null;
  image: { id: string; inputs: string; dockerfile: { path: string }; context: { path: string; files: { path: string; kind: string; blob: string }[] }; args: { name: string; value: string }[]; base: { id: string } | null };
};

describe("explain", () => {
  test("with [sign]: the signature's inputs digest and commit; the image planned there, its context's files with git's own blob ids, even after the tree moved on", async () => {
    const { root, commit } = project(true);
    const image = (await planOf(root)).images.find((candidate) => candidate.id.startsWith("torch"))!;
    writeFileSync(join(root, "cosign-payloads"), payloads({ "caliban-images.inputs": image.inputs.slice(7), "caliban-images.revision": commit }));
    // The working tree moves on: the image's inputs are no longer the tree's, only the commit's.
    appendFileSync(join(root, "docker/app/main.py"), "\nprint('changed')\n");
    const result = await run(root, "explain", `${REPOSITORY}:torch-tag`, "--cosign", "./cosign", "--json");
    expect({ code: result.code, stderr: result.code === 0 ? "" : result.stderr }).toEqual({ code: 0, stderr: "" });
    const explained = JSON.parse(result.stdout) as Explained;
    expect({ verified: explained.verified, revision: explained.revision, id: explained.image.id, inputs: explained.image.inputs }).toEqual({ verified: true, revision: commit, id: image.id, inputs: image.inputs });
    expect(explained.image.base).not.toBeNull();
    // The files as git has them at that commit (ls-tree: mode, type, blob id, path), the context's, less what its .dockerignore leaves out.
    const listed = git(root, "ls-tree", "-r", commit, "--", `${explained.image.context.path}/`).split("\n").map((line) => {
      const [mode, , blob, path] = line.split(/\s+/);
      return { path: path!.slice(explained.image.context.path.length + 1), kind: mode === "100755" ? "exec" : "file", blob: blob! };
    });
    expect(readFileSync(join(root, "docker/.dockerignore"), "utf8")).toContain("*.Dockerfile\nnotes/\n");
    expect(explained.image.context.files).toEqual(listed.filter((file) => !file.path.endsWith(".Dockerfile") && !file.path.startsWith("notes/")));
    // cosign was asked to verify under the matrix's key, for any inputs digest (the signature names it).
    const call = readFileSync(join(root, "cosign-calls"), "utf8");
    expect(call).toContain(`--key ${join(root, "keys/cosign.pub")}`);
    expect(call).not.toContain("caliban-images.inputs");
    // The text form says the same, a line per input.
    const text = await run(root, "explain", `${REPOSITORY}:torch-tag`, "--cosign", "./cosign");
    expect(text.stdout).toContain(`  planned at  ${commit}\n`);
    expect(text.stdout).toContain(`  inputs      ${image.inputs}\n`);
    for (const file of explained.image.context.files) expect(text.stdout).toContain(` ${file.blob} ${file.path}\n`);
  });

  test("a signature naming inputs no image of its commit has is refused, naming them; --revision plans another commit", async () => {
    const { root, commit } = project(true);
    const before = (await planOf(root)).images[0]!;
    writeFileSync(join(root, "cosign-payloads"), payloads({ "caliban-images.inputs": "a".repeat(64), "caliban-images.revision": commit }));
    const missing = await run(root, "explain", `${REPOSITORY}:x`, "--cosign", "./cosign");
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain(`no image of the matrix at ${commit} has the inputs sha256:${"a".repeat(64)}`);
    // An image built before a change, signed without a revision: found by naming its commit.
    appendFileSync(join(root, "docker/app/main.py"), "\n# later\n");
    git(root, "commit", "-q", "-am", "later");
    writeFileSync(join(root, "cosign-payloads"), payloads({ "caliban-images.inputs": before.inputs.slice(7) }));
    const unnamed = await run(root, "explain", `${REPOSITORY}:x`, "--cosign", "./cosign");
    expect(unnamed.code).toBe(2);
    expect(unnamed.stderr).toContain("--revision REV");
    const named = await run(root, "explain", `${REPOSITORY}:x`, "--cosign", "./cosign", "--revision", "HEAD~1", "--json");
    expect({ code: named.code, id: named.code === 0 ? (JSON.parse(named.stdout) as Explained).image.id : named.stderr }).toEqual({ code: 0, id: before.id });
  });

  test("an image whose signature does not verify is exit 4, nothing explained; a content tag signed as another image's is refused", async () => {
    const { root, commit } = project(true);
    const [first, second] = (await planOf(root)).images;
    writeFileSync(join(root, "cosign-answer"), "unsigned");
    const unsigned = await run(root, "explain", first!.contentReference, "--cosign", "./cosign");
    expect({ code: unsigned.code, stdout: unsigned.stdout }).toEqual({ code: 4, stdout: "" });
    expect(unsigned.stderr).toContain("does not verify under the matrix's [sign] (no matching signatures: invalid signature)");
    writeFileSync(join(root, "cosign-answer"), "");
    writeFileSync(join(root, "cosign-payloads"), payloads({ "caliban-images.inputs": second!.inputs.slice(7), "caliban-images.revision": commit }));
    const moved = await run(root, "explain", first!.contentReference, "--cosign", "./cosign");
    expect(moved.code).toBe(2);
    expect(moved.stderr).toContain(`is signed as the image of ${second!.inputs}, not of the inputs its tag names`);
  });

  test("one digest signed by two builds of other inputs (their images came out the same): its tag says which; a bare digest is refused, naming both", async () => {
    const { root, commit } = project(true);
    const [first, second] = (await planOf(root)).images;
    writeFileSync(join(root, "cosign-payloads"), payloads({ "caliban-images.inputs": first!.inputs.slice(7), "caliban-images.revision": commit }, { "caliban-images.inputs": second!.inputs.slice(7), "caliban-images.revision": commit }));
    for (const image of [first!, second!]) {
      const byTag = await run(root, "explain", `${REPOSITORY}:${image.tag}`, "--cosign", "./cosign", "--json");
      expect({ code: byTag.code, id: byTag.code === 0 ? (JSON.parse(byTag.stdout) as Explained).image.id : byTag.stderr }).toEqual({ code: 0, id: image.id });
    }
    const byDigest = await run(root, "explain", `${REPOSITORY}@sha256:${"e".repeat(64)}`, "--cosign", "./cosign");
    expect(byDigest.code).toBe(2);
    expect(byDigest.stderr).toContain(`is signed as the image of 2 inputs digests, ${first!.inputs} (${first!.id}), ${second!.inputs} (${second!.id})`);
  });

  test("without [sign]: a content tag is explained from the working tree, said to be unverified; any other tag is refused", async () => {
    const { root } = project(false);
    const image = (await planOf(root)).images[2]!;
    const result = await run(root, "explain", image.contentReference, "--json");
    expect(result.code).toBe(0);
    const explained = JSON.parse(result.stdout) as Explained;
    expect({ verified: explained.verified, revision: explained.revision, id: explained.image.id }).toEqual({ verified: false, revision: null, id: image.id });
    const aliased = await run(root, "explain", `${REPOSITORY}:latest`);
    expect(aliased.code).toBe(2);
    expect(aliased.stderr).toContain("is no content reference (REPOSITORY:inputs-HEX), and without [sign]");
    const bad = await run(root, "explain", "Not A Reference");
    expect(bad.code).toBe(2);
  });
});
