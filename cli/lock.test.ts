// `caliban-images lock` against a registry on loopback that speaks the distribution API
// as Docker Hub does (a 401 naming a token service, an anonymous token, then the
// manifest's digest), its image replaced between two runs: the lock moves, builds pull
// the new digest, and exactly the images built FROM it get new inputs.
// (scripts/e2e does the same with a real registry and a real image push.)

import { expect, test } from "bun:test";
import { cpSync, existsSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { REPO_ROOT } from "../fixtures/golden.ts";
import { loopbackServer, runCliAsync as run, writeMatrix } from "../fixtures/test-helpers.ts";
import { imageName } from "./registry.ts";
import { scratchFolder } from "../scripts/validators/scratch.ts";

const digestOf = (letter: string) => `sha256:${letter.repeat(64)}`;
/** What the fake registry has: path:tag → digest. */
const manifests = new Map<string, string>();
const asked: string[] = [];
const server = loopbackServer((request, url) => {
  if (url.pathname === "/token") {
    asked.push(`token ${url.searchParams.get("service")} ${url.searchParams.get("scope")}`);
    return Response.json({ token: "anonymous" });
  }
  if (request.headers.get("authorization") !== "Bearer anonymous") {
    return new Response("", { status: 401, headers: { "www-authenticate": `Bearer realm="http://${server.host}/token",service="fake-registry"` } });
  }
  const match = /^\/v2\/(.+)\/manifests\/([^/]+)$/.exec(url.pathname);
  const digest = match ? manifests.get(`${match[1]}:${match[2]}`) : undefined;
  asked.push(`${request.method} ${url.pathname}`);
  if (!digest) return new Response("", { status: 404 });
  return new Response(null, { headers: { "docker-content-digest": digest, "content-type": "application/vnd.oci.image.index.v1+json" } });
});


/** The chain fixture, its cuda family FROM an upstream image on the fake registry, the cpu family FROM another. */
function project(): string {
  const root = scratchFolder("lock-");
  cpSync(join(REPO_ROOT, "fixtures/chain-build"), root, { recursive: true });
  writeFileSync(join(root, "docker/cuda.Dockerfile"), `ARG BASE_IMAGE=${server.host}/nvidia/cuda:12.4.1-devel\nFROM $BASE_IMAGE\nARG CUDA\nLABEL cuda=$CUDA\n`);
  writeFileSync(join(root, "docker/cpu.Dockerfile"), `FROM ${server.host}/ubuntu:22.04\nARG PYTHON_VERSION\nLABEL python=$PYTHON_VERSION\n`);
  return root;
}

const plan = async (root: string) => JSON.parse((await run(root, "plan", "--json")).stdout) as { images: { id: string; family: string; inputs: string; upstream: string[]; args: { name: string; value: string }[] }[]; lock: unknown };

test("lock, the upstream image replaced, lock again: the lock moves, builds pull its digest, only what builds FROM it changes", async () => {
  const root = project();
  manifests.set("nvidia/cuda:12.4.1-devel", digestOf("a"));
  manifests.set("ubuntu:22.04", digestOf("b"));
  const unlocked = await plan(root);
  expect(unlocked.lock).toBeNull();

  const first = await run(root, "lock");
  expect(first.code).toBe(0);
  // An anonymous token for each repository, with pull scope, then the manifest by HEAD.
  expect(asked).toContain(`token fake-registry repository:nvidia/cuda:pull`);
  expect(asked).toContain("HEAD /v2/nvidia/cuda/manifests/12.4.1-devel");
  // A FROM written out in the Dockerfile cannot be pinned by an arg: said so, at its line.
  expect(first.stderr).toContain(`warning: docker/cpu.Dockerfile:1: FROM ${server.host}/ubuntu:22.04 is not one build arg, so builds pull its tag`);
  const lockFile = readFileSync(join(root, "matrix.lock"), "utf8");
  const entries = Bun.TOML.parse(lockFile) as { version: number; digests: Record<string, string> };
  expect(entries).toEqual({ version: 1, digests: { [`${server.host}/nvidia/cuda:12.4.1-devel`]: digestOf("a"), [`${server.host}/ubuntu:22.04`]: digestOf("b") } });

  const locked = await plan(root);
  expect(locked.lock).toEqual({ file: "matrix.lock", unlocked: [] });
  for (const image of locked.images.filter((image) => image.family === "cuda")) {
    // The build arg the FROM is made of names the locked digest: the build pulls exactly it.
    expect(image.args.find((arg) => arg.name === "BASE_IMAGE")!.value).toBe(`${server.host}/nvidia/cuda:12.4.1-devel@${digestOf("a")}`);
    expect(image.upstream).toEqual([`${server.host}/nvidia/cuda:12.4.1-devel@${digestOf("a")}`]);
  }
  for (const image of locked.images.filter((image) => image.family === "cpu")) expect(image.upstream).toEqual([`${server.host}/ubuntu:22.04@${digestOf("b")}`]);
  // The images built FROM the graph's own images name no upstream of their own.
  for (const image of locked.images.filter((image) => image.family === "python" || image.family === "torch")) expect(image.upstream).toEqual([]);

  // Nothing moved: lock --check says so; a second lock writes the same bytes.
  expect((await run(root, "lock", "--check")).code).toBe(0);
  expect((await run(root, "lock")).code).toBe(0);
  expect(readFileSync(join(root, "matrix.lock"), "utf8")).toBe(lockFile);

  // The upstream CUDA image is replaced under its tag.
  manifests.set("nvidia/cuda:12.4.1-devel", digestOf("c"));
  const check = await run(root, "lock", "--check");
  expect(check.code).toBe(3);
  expect(check.stderr).toContain(`moved  ${server.host}/nvidia/cuda:12.4.1-devel: ${digestOf("a")} -> ${digestOf("c")}`);
  expect(readFileSync(join(root, "matrix.lock"), "utf8")).toBe(lockFile);
  expect((await run(root, "lock")).code).toBe(0);
  const moved = await plan(root);
  const changed = moved.images.filter((image, i) => image.inputs !== locked.images[i]!.inputs).map((image) => image.family);
  // Every cuda image and everything built FROM them; the cpu images (FROM ubuntu) keep their inputs.
  expect([...new Set(changed)]).toEqual(["cuda", "python", "torch"]);
  expect(changed.length).toBe(moved.images.filter((image) => image.family !== "cpu").length);

  // affected --changed matrix.lock, as a CI system lists a commit's files: the images it pins, and what builds FROM them.
  const affected = await run(root, "affected", "--changed", "matrix.lock");
  expect(affected.stdout.split("\n").filter(Boolean).map((reference) => reference.split(":")[1]!.split("-")[0])).toEqual(["cuda", "cuda", "py", "py", "py", "py", "torch", "torch", "torch", "torch", "cpu", "cpu"]);
});

test("an image the registry does not have: exit 4 (worth a retry, not bad input), at the Dockerfile's FROM line; nothing written", async () => {
  const root = project();
  manifests.set("nvidia/cuda:12.4.1-devel", digestOf("a"));
  manifests.delete("ubuntu:22.04");
  const result = await run(root, "lock");
  expect(result.code).toBe(4);
  expect(result.stderr).toContain(`error: docker/cpu.Dockerfile:1:1: FROM ${server.host}/ubuntu:22.04: ${server.host} has no ubuntu:22.04`);
  expect(() => readFileSync(join(root, "matrix.lock"))).toThrow();
});

test("a lock file that is not one: plan says so (exit 2); lock writes it anew", async () => {
  const root = project();
  manifests.set("nvidia/cuda:12.4.1-devel", digestOf("a"));
  manifests.set("ubuntu:22.04", digestOf("b"));
  writeFileSync(join(root, "matrix.lock"), 'version = 1\n[digests]\n"ubuntu:22.04" = "latest"\n');
  const planned = await run(root, "plan");
  expect(planned.code).toBe(2);
  expect(planned.stderr).toContain("error: matrix.lock:3:1: the digest of ubuntu:22.04 is not sha256: and 64 hex digits");
  const locked = await run(root, "lock");
  expect(locked.code).toBe(0);
  expect(locked.stderr).toContain("writing it anew");
  expect((await run(root, "plan")).code).toBe(0);
});

test("a base the lock has no digest for yet: plan warns and builds pull its tag", async () => {
  const root = project();
  writeFileSync(join(root, "matrix.lock"), "version = 1\n[digests]\n");
  const planned = await run(root, "plan", "--json");
  expect(planned.code).toBe(0);
  expect(planned.stderr).toContain(`warning: matrix.lock has no digest for ${server.host}/nvidia/cuda:12.4.1-devel, ${server.host}/ubuntu:22.04: builds pull their tags (run caliban-images lock)`);
});

test("references as docker reads them: Docker Hub's library, a registry with a port, no tag", () => {
  expect(imageName("ubuntu:22.04")).toEqual({ registry: "docker.io", path: "library/ubuntu", tag: "22.04" });
  expect(imageName("nvidia/cuda:12.4.1-devel-ubuntu22.04")).toEqual({ registry: "docker.io", path: "nvidia/cuda", tag: "12.4.1-devel-ubuntu22.04" });
  expect(imageName("localhost:5000/team/base")).toEqual({ registry: "localhost:5000", path: "team/base", tag: "latest" });
  expect(imageName("quay.io/jupyter/base-notebook:2024-01-01")).toEqual({ registry: "quay.io", path: "jupyter/base-notebook", tag: "2024-01-01" });
});

test("lock writes the files [outputs] lists again, so that check still passes and the committed pipeline pulls the new digest", async () => {
  const root = project();
  writeMatrix(join(root, "matrix.toml"), `${readFileSync(join(root, "matrix.toml"), "utf8")}\n[outputs]\nmake = "Makefile"\n`);
  manifests.set("nvidia/cuda:12.4.1-devel", digestOf("a"));
  manifests.set("ubuntu:22.04", digestOf("b"));
  expect((await run(root, "lock")).code).toBe(0);
  expect((await run(root, "check")).code).toBe(0);
  expect(readFileSync(join(root, "Makefile"), "utf8")).toContain(`nvidia/cuda:12.4.1-devel@${digestOf("a")}`);
  manifests.set("nvidia/cuda:12.4.1-devel", digestOf("d"));
  expect((await run(root, "check")).code).toBe(0); // check reads the lock, not the registry
  expect((await run(root, "lock")).code).toBe(0);
  expect((await run(root, "check")).code).toBe(0);
  expect(readFileSync(join(root, "Makefile"), "utf8")).toContain(`nvidia/cuda:12.4.1-devel@${digestOf("d")}`);
});

test("lock and the outputs are one decision: when an output cannot be written, the lock file is not written either", async () => {
  const root = project();
  writeMatrix(join(root, "matrix.toml"), `${readFileSync(join(root, "matrix.toml"), "utf8")}\n[outputs]\nbake = "docker-bake.hcl"\nmake = "ci/Makefile"\n`);
  manifests.set("nvidia/cuda:12.4.1-devel", digestOf("a"));
  manifests.set("ubuntu:22.04", digestOf("b"));
  // A file where the Makefile's folder goes: the last file cannot be written.
  writeFileSync(join(root, "ci"), "a file of the user's\n");
  const failed = await run(root, "lock");
  expect(failed.code).toBe(2);
  expect(existsSync(join(root, "matrix.lock"))).toBe(false);
  expect(existsSync(join(root, "docker-bake.hcl"))).toBe(false);
  expect(failed.stderr).toContain(`error: cannot write ${join(root, "ci")}: ENOTDIR it is a file, where a folder goes`);
  expect(failed.stderr).toContain("hint: nothing was written; existing files are unchanged");
  // Out of the way: the lock and its outputs are written together, and check passes.
  rmSync(join(root, "ci"));
  expect((await run(root, "lock")).code).toBe(0);
  expect((await run(root, "check")).code).toBe(0);
});

test("matrix.lock through a link out of the repository: refused, exit 2, the file it leads to untouched", async () => {
  manifests.set("nvidia/cuda:12.4.1-devel", digestOf("a"));
  manifests.set("ubuntu:22.04", digestOf("b"));
  const linked = project();
  const outside = join(scratchFolder("elsewhere-"), "victim");
  writeFileSync(outside, "not ours\n");
  symlinkSync(outside, join(linked, "matrix.lock"));
  const refused = await run(linked, "lock");
  expect(refused.code).toBe(2);
  expect(refused.stderr).toContain(`error: matrix.lock: a link leads it out of the repository (${linked}), to ${outside}`);
  expect(readFileSync(outside, "utf8")).toBe("not ours\n");
});

test("an output on the lock file: refused before either is written", async () => {
  manifests.set("nvidia/cuda:12.4.1-devel", digestOf("a"));
  manifests.set("ubuntu:22.04", digestOf("b"));
  const shared = project();
  writeMatrix(join(shared, "matrix.toml"), `${readFileSync(join(shared, "matrix.toml"), "utf8")}\n[outputs]\nmake = "matrix.lock"\n`);
  const twice = await run(shared, "lock");
  expect(twice.code).toBe(2);
  expect(twice.stderr).toContain("error: matrix.lock: lock writes matrix.lock, and emit make writes matrix.lock: the same file");
  expect(existsSync(join(shared, "matrix.lock"))).toBe(false);
});

test("affected --since the commit before a lock moved: the images it pins, why upstream (with the new pinned reference), and their descendants, why base", async () => {
  const root = project();
  const git = (...args: string[]) => {
    const result = Bun.spawnSync(["git", "-c", "user.name=t", "-c", "user.email=t@t", "-c", "commit.gpgsign=false", ...args], { cwd: root });
    if (result.exitCode !== 0) throw new Error(result.stderr.toString());
  };
  manifests.set("nvidia/cuda:12.4.1-devel", digestOf("a"));
  manifests.set("ubuntu:22.04", digestOf("b"));
  git("init", "-q", "-b", "main");
  expect((await run(root, "lock")).code).toBe(0);
  git("add", "-A");
  git("commit", "-q", "-m", "locked");
  manifests.set("nvidia/cuda:12.4.1-devel", digestOf("e"));
  expect((await run(root, "lock")).code).toBe(0);
  const result = await run(root, "affected", "--since", "HEAD", "--json");
  expect(result.code).toBe(0);
  const images = (JSON.parse(result.stdout) as { images: { family: string; why: { kind: string; images?: string[] }[] }[] }).images;
  expect([...new Set(images.map((image) => image.family))]).toEqual(["cuda", "python", "torch"]);
  for (const image of images.filter((image) => image.family === "cuda")) {
    expect(image.why).toContainEqual({ kind: "upstream", images: [`${server.host}/nvidia/cuda:12.4.1-devel@${digestOf("e")}`] });
  }
  for (const image of images.filter((image) => image.family !== "cuda")) expect(image.why.map((reason) => reason.kind)).toEqual(["base"]);
});
