// `caliban-images resolve`, the first step of every emitted pipeline: digests from the
// tree it runs in, a stale file caught before anything builds, and a registry's three
// answers (present, absent, could not ask) kept apart, against a registry on loopback
// that answers as told. (scripts/e2e runs the Makefile with it against a real registry.)

import { describe, expect, test } from "bun:test";
import { appendFileSync, cpSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { REPO_ROOT } from "../fixtures/golden.ts";
import { loopbackServer, runCliAsync as run } from "../fixtures/test-helpers.ts";
import { Registry } from "./registry.ts";
import { scratchFolder } from "../scripts/validators/scratch.ts";

/** tag → what the fake registry answers for REPOSITORY:tag (a status; 200 with a digest). */
const answers = new Map<string, number>();
let asked: string[] = [];
const server = loopbackServer((request, url) => {
  const match = /^\/v2\/(.+)\/manifests\/([^/]+)$/.exec(url.pathname);
  if (!match) return new Response("", { status: 404 });
  // Questions, not requests: an error's words are asked for again by GET.
  if (request.method === "HEAD") asked.push(match[2]!);
  const status = answers.get(match[2]!) ?? answers.get("*") ?? 404;
  if (status === 200) return new Response(null, { headers: { "docker-content-digest": `sha256:${"d".repeat(64)}` } });
  return new Response(status === 404 ? '{"errors":[{"code":"MANIFEST_UNKNOWN"}]}' : `{"errors":[{"code":"UNAVAILABLE","message":"the registry said ${status}"}]}`, { status });
});

function project(): string {
  const root = scratchFolder("resolve-");
  cpSync(join(REPO_ROOT, "fixtures/chain-build"), root, { recursive: true });
  return root;
}

type Resolved = { version: 1; shape: string; images: Record<string, { inputs: string; content: string; present?: boolean }> };

async function resolved(root: string, ...args: string[]): Promise<Resolved> {
  const result = await run(root, "resolve", ...args);
  expect({ code: result.code, stderr: result.code === 0 ? "" : result.stderr }).toEqual({ code: 0, stderr: "" });
  return JSON.parse(result.stdout);
}

describe("digests and shape from the tree it runs in", () => {
  test("a Dockerfile edit changes the digests of its images and their descendants, not the shape; plan agrees", async () => {
    const root = project();
    const before = await resolved(root);
    appendFileSync(join(root, "docker/python.Dockerfile"), "LABEL edited=yes\n");
    const after = await resolved(root, "--shape", before.shape);
    expect(after.shape).toBe(before.shape);
    const changed = Object.keys(after.images).filter((id) => after.images[id]!.inputs !== before.images[id]!.inputs);
    const plan = JSON.parse((await run(root, "plan", "--json")).stdout) as { images: { id: string; family: string; inputs: string; contentReference: string }[] };
    expect(changed).toEqual(plan.images.filter((image) => image.family === "python" || image.family === "torch").map((image) => image.id));
    for (const image of plan.images) expect(after.images[image.id]).toEqual({ inputs: image.inputs, content: image.contentReference });
  });

  test("a matrix that gives another graph: exit 3, the message names the stale file and what to run; nothing on stdout", async () => {
    const root = project();
    const { shape } = await resolved(root);
    writeFileSync(join(root, "matrix.toml"), readFileSync(join(root, "matrix.toml"), "utf8").replace('PYTHON_VERSION = "3.11"', 'PYTHON_VERSION = "3.11.9"'));
    // An attribute's value is a build arg: the graph's shape changes with it.
    const stale = await run(root, "resolve", "--shape", shape, "--for", "Makefile", "--format", "make");
    expect(stale.code).toBe(3);
    expect(stale.stdout).toBe("");
    expect(stale.stderr).toContain("error: Makefile is stale for matrix.toml: run caliban-images emit NAME -o Makefile");
    // With [outputs] listing it, the one command that writes every output.
    appendFileSync(join(root, "matrix.toml"), '\n[outputs]\nmake = "Makefile"\n');
    const listed = await run(root, "resolve", "--shape", shape, "--for", "Makefile");
    expect(listed.stderr).toContain("error: Makefile is stale for matrix.toml: run caliban-images emit --all");
    expect((await run(root, "resolve", "--shape", "nope")).stderr).toContain('--shape "nope" is not a shape');
  });

  test("the shape does not depend on the repository: --base-url and make's REPOSITORY=... move references, not the graph", async () => {
    const root = project();
    const own = await resolved(root);
    const moved = await resolved(root, "--base-url", "localhost:5000/elsewhere");
    expect(moved.shape).toBe(own.shape);
    expect(Object.values(moved.images).map((image) => image.inputs)).toEqual(Object.values(own.images).map((image) => image.inputs));
  });

  test("--format make: one line of make assignments, inputs/ID=HEX", async () => {
    const root = project();
    const json = await resolved(root);
    const make = await run(root, "resolve", "--format", "make");
    expect(make.stdout).toBe(`${Object.entries(json.images).map(([id, image]) => `inputs/${id}=${image.inputs.slice(7)}`).join(" ")}\n`);
  });
});

test("--for a file that names its shape (docker-bake.hcl): no --shape needed; --format bake is the JSON bake's CALIBAN_INPUTS takes", async () => {
  const root = project();
  expect((await run(root, "emit", "bake", "-o", "docker-bake.hcl")).code).toBe(0);
  const json = await resolved(root);
  const bake = await run(root, "resolve", "--for", "docker-bake.hcl", "--format", "bake");
  expect(bake.code).toBe(0);
  expect(JSON.parse(bake.stdout)).toEqual(Object.fromEntries(Object.entries(json.images).map(([id, image]) => [id, image.inputs.slice(7)])));
  writeFileSync(join(root, "matrix.toml"), readFileSync(join(root, "matrix.toml"), "utf8").replace('PYTHON_VERSION = "3.11"', 'PYTHON_VERSION = "3.11.9"'));
  const stale = await run(root, "resolve", "--for", "docker-bake.hcl", "--format", "bake");
  expect(stale.code).toBe(3);
  expect(stale.stderr).toContain("error: docker-bake.hcl is stale for matrix.toml");
  const none = await run(root, "resolve", "--for", "matrix.toml");
  expect(none.code).toBe(2);
  expect(none.stderr).toContain('matrix.toml names no shape ("caliban-images shape: HEX"): give --shape');
});

describe("--registry: present, absent, or no answer", () => {
  test("present and absent are told apart, each image asked by its content tag", async () => {
    const root = project();
    const { images } = await resolved(root);
    const ids = Object.keys(images);
    answers.clear();
    const have = ids.slice(0, 3);
    for (const id of have) answers.set(images[id]!.content.split(":")[1]!, 200);
    asked = [];
    const withRegistry = await run(root, "resolve", "--registry", `${server.host}/chain`);
    expect(withRegistry.code).toBe(0);
    const result = JSON.parse(withRegistry.stdout) as Resolved;
    expect(Object.entries(result.images).filter(([, image]) => image.present).map(([id]) => id)).toEqual(have);
    expect(result.images[ids[0]!]!.content).toBe(`${server.host}/chain:${images[ids[0]!]!.content.split(":")[1]}`);
    expect(asked.sort()).toEqual(Object.values(images).map((image) => image.content.split(":")[1]!).sort());
    expect(withRegistry.stderr).toContain(`3 of ${ids.length} images are in ${server.host}/chain by their inputs digest; ${ids.length - 3} to build`);
    const make = await run(root, "resolve", "--registry", `${server.host}/chain`, "--format", "make");
    expect(make.stdout.split(" ").filter((word) => word.startsWith("present/"))).toEqual(have.map((id) => `present/${id}=1`));
  });

  for (const [status, retried] of [
    [500, true],
    [503, true],
    [429, true],
    [401, false],
    [403, false],
    [400, false],
  ] as const) {
    test(`HTTP ${status} is no answer: exit 4 with the registry's words, ${retried ? "after asking again" : "at once"}; nothing on stdout`, async () => {
      const root = project();
      answers.clear();
      answers.set("*", status);
      asked = [];
      const result = await run(root, "resolve", "--registry", `${server.host}/chain`, "--retries", "1", "--format", "make");
      expect(result.code).toBe(4);
      expect(result.stdout).toBe("");
      expect(result.stderr).toContain(`HTTP ${status}`);
      expect(result.stderr).toContain(`the registry said ${status}`);
      // The first failure stops the asking: at most the questions in flight, each asked once more when retried.
      const first = asked[0]!;
      expect(asked.filter((tag) => tag === first).length).toBe(retried ? 2 : 1);
      expect(asked.length).toBeLessThanOrEqual(retried ? 16 : 8);
    });
  }

  test("an unreachable registry is no answer either: exit 4, never 'absent'", async () => {
    const root = project();
    const closed = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
    const port = closed.port;
    closed.stop(true);
    const result = await run(root, "resolve", "--registry", `127.0.0.1:${port}/chain`, "--retries", "0");
    expect(result.code).toBe(4);
    expect(result.stderr).toContain(`cannot reach 127.0.0.1:${port}`);
    expect(result.stdout).toBe("");
  });

  test("a 5xx that clears on a retry is an answer", async () => {
    const root = project();
    answers.clear();
    let calls = 0;
    const flaky = Bun.serve({
      hostname: "127.0.0.1",
      port: 0,
      fetch: () => (++calls <= 2 ? new Response("busy", { status: 502 }) : new Response("", { status: 404 })),
    });
    const result = await run(root, "resolve", "--registry", `127.0.0.1:${flaky.port}/chain`, "--retries", "2");
    flaky.stop(true);
    expect(result.code).toBe(0);
    expect(Object.values((JSON.parse(result.stdout) as Resolved).images).every((image) => image.present === false)).toBe(true);
  });

  test("loopback is asked over plain http by its address only: a host named like it (127.attacker.example) over https", async () => {
    const urls: string[] = [];
    const registry = new Registry({ retryDelays: [], fetch: (async (url: string) => (urls.push(url), new Response("", { status: 404 }))) as unknown as typeof fetch });
    for (const reference of ["127.0.0.1:5000/x:t", "localhost:5000/x:t", "127.attacker.example/x:t", "127.0.0.1.nip.io/x:t"]) expect(await registry.lookup(reference)).toEqual({ present: false });
    expect(urls).toEqual(["http://127.0.0.1:5000/v2/x/manifests/t", "http://localhost:5000/v2/x/manifests/t", "https://127.attacker.example/v2/x/manifests/t", "https://127.0.0.1.nip.io/v2/x/manifests/t"]);
  });
});
