// Families in several repositories, through the commands (issue 29): --base-url moves
// the top-level repository and the families below it, says which it does not move;
// make's REPOSITORY does the same; resolve --registry asks each image in its own
// repository; a pipeline that logs in to one registry refuses images in two.

import { describe, expect, test } from "bun:test";
import { cpSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { REPO_ROOT } from "../fixtures/golden.ts";
import { loopbackServer, runCli, runCliAsync, writeMatrix } from "../fixtures/test-helpers.ts";
import { hasMake } from "../scripts/validators/tools.ts";
import { scratchFolder } from "../scripts/validators/scratch.ts";

/** A copy of fixtures/multi-repository: quay.io/jupyter, base-notebook below it, scipy-notebook in quay.io/jupyter-stacks, tools in the top-level one. */
function project(): string {
  const root = scratchFolder("repositories-");
  cpSync(join(REPO_ROOT, "fixtures/multi-repository"), root, { recursive: true });
  return root;
}

type Graph = { images: { id: string; reference: string; contentReference: string }[] };

describe("--base-url", () => {
  test("moves the top-level repository and base-notebook below it; scipy-notebook stays, and a warning names it", () => {
    const root = project();
    const moved = runCli(["plan", "--json", "--base-url", "localhost:5000/test"], root);
    expect(moved.code).toBe(0);
    expect((JSON.parse(moved.stdout) as Graph).images.map((image) => image.reference)).toEqual([
      "localhost:5000/test/base-notebook:python-3.11",
      "localhost:5000/test/base-notebook:python-3.12",
      "quay.io/jupyter-stacks/scipy-notebook:python-3.11",
      "quay.io/jupyter-stacks/scipy-notebook:python-3.12",
      "localhost:5000/test:tools-py311",
      "localhost:5000/test:tools-py312",
    ]);
    expect(moved.stderr).toContain("warning: --base-url moves no image of scipy-notebook: its repository is absolute (write it as {repository}/PATH to move with it)\n");
    // Without --base-url, and with it on a matrix whose families all move, nothing to warn of.
    expect(runCli(["plan", "--json"], root).stderr).not.toContain("warning");
    const chain = scratchFolder("repositories-");
    cpSync(join(REPO_ROOT, "fixtures/chain-build"), chain, { recursive: true });
    expect(runCli(["plan", "--base-url", "localhost:5000/test"], chain).stderr).not.toContain("warning");
  });

  test("emit make --base-url: REPOSITORY's default is the new one, scipy-notebook is named as it is", () => {
    const root = project();
    const make = runCli(["emit", "make", "--base-url", "localhost:5000/test"], root);
    expect(make.code).toBe(0);
    expect(make.stdout).toContain("REPOSITORY ?= localhost:5000/test\n");
    expect(make.stdout).toContain("# REPOSITORY moves every image but those of scipy-notebook, whose repository is absolute.\n");
    expect(make.stdout).toContain("-t 'quay.io/jupyter-stacks/scipy-notebook':'python-3.11'");
    expect(make.stdout).toContain("-t '$(REPOSITORY)/base-notebook':'python-3.11'");
  });
});

test.skipIf(!hasMake)("make's REPOSITORY=... moves base-notebook and tools, not scipy-notebook: `make help` lists each image where it goes", () => {
  const root = project();
  expect(runCli(["emit", "make", "-o", "Makefile"], root).code).toBe(0);
  const help = Bun.spawnSync(["make", "--no-print-directory", "help", "REPOSITORY=localhost:5000/moved"], { cwd: root });
  expect(help.stderr.toString()).toBe("");
  const images = help.stdout.toString().trimEnd().split("\n").slice(-6).map((line) => line.trim().split(/\s+/));
  expect(images).toEqual([
    ["base-notebook-python-3-11", "localhost:5000/moved/base-notebook:python-3.11"],
    ["base-notebook-python-3-12", "localhost:5000/moved/base-notebook:python-3.12"],
    ["scipy-notebook-python-3-11", "quay.io/jupyter-stacks/scipy-notebook:python-3.11"],
    ["scipy-notebook-python-3-12", "quay.io/jupyter-stacks/scipy-notebook:python-3.12"],
    ["tools-py311", "localhost:5000/moved:tools-py311"],
    ["tools-py312", "localhost:5000/moved:tools-py312"],
  ]);
  // A tag two repositories share names no make target (make would take the last recipe); each image's id does.
  const targets = Bun.spawnSync(["make", "-pnq", "help"], { cwd: root }).stdout.toString();
  expect(targets).not.toMatch(/^build\/python-3\.11:/m);
  expect(targets).toMatch(/^build\/base-notebook-python-3-11:$/m);
  expect(targets).toMatch(/^build\/scipy-notebook-python-3-11: build\/base-notebook-python-3-11$/m);
});

describe("resolve --registry asks each image in its own repository, --registry in the top-level one's place", () => {
  /** Every question, as REPOSITORY-PATH:TAG. */
  let asked: string[] = [];
  const server = loopbackServer((request, url) => {
    const match = /^\/v2\/(.+)\/manifests\/([^/]+)$/.exec(url.pathname);
    if (match && request.method === "HEAD") asked.push(`${match[1]}:${match[2]}`);
    return new Response('{"errors":[{"code":"MANIFEST_UNKNOWN"}]}', { status: 404 });
  });

  test("a family below the top-level repository moves with --registry, an absolute one is asked where it is", async () => {
    const root = scratchFolder("repositories-");
    writeMatrix(
      join(root, "matrix.toml"),
      `repository = "${server.host}/top"
[axes.python]
py311 = { V = "3.11" }
[images.base]
repository = "{repository}/base"
tag = "b-{python}"
matrix = ["python"]
[images.scipy]
repository = "${server.host}/stacks/scipy"
tag = "s-{python}"
matrix = ["python"]
from = "base"
[images.tools]
tag = "t-{python}"
matrix = ["python"]
from = "scipy"
`,
    );
    asked = [];
    const result = await runCliAsync(root, "resolve", "--registry", `${server.host}/moved`);
    expect(result.stderr).toContain("0 of 3 images are in their repositories by their inputs digest; 3 to build");
    expect(result.code).toBe(0);
    const images = (JSON.parse(result.stdout) as { images: Record<string, { inputs: string; content: string }> }).images;
    const hex = (id: string) => images[id]!.inputs.slice("sha256:".length);
    expect(Object.fromEntries(Object.entries(images).map(([id, image]) => [id, image.content]))).toEqual({
      "base-b-py311": `${server.host}/moved/base:inputs-${hex("base-b-py311")}`,
      "scipy-s-py311": `${server.host}/stacks/scipy:inputs-${hex("scipy-s-py311")}`,
      "t-py311": `${server.host}/moved:inputs-${hex("t-py311")}`,
    });
    expect(asked.sort()).toEqual([`moved/base:inputs-${hex("base-b-py311")}`, `moved:inputs-${hex("t-py311")}`, `stacks/scipy:inputs-${hex("scipy-s-py311")}`].sort());
    // Without --registry, each content reference is the plan's (--base-url moving it as --registry does).
    const planned = JSON.parse((await runCliAsync(root, "resolve", "--base-url", `${server.host}/moved`)).stdout) as { images: Record<string, { content: string }> };
    expect(Object.fromEntries(Object.entries(planned.images).map(([id, image]) => [id, image.content]))).toEqual(Object.fromEntries(Object.entries(images).map(([id, image]) => [id, image.content])));
  });
});

describe("a pipeline logs in to one registry", () => {
  test("emit github refuses images in two registries when it logs in, and names them; --option registry or login=false is the way out", async () => {
    const root = project();
    const text = await Bun.file(join(root, "matrix.toml")).text();
    writeFileSync(join(root, "matrix.toml"), text.replace('"quay.io/jupyter-stacks/scipy-notebook"', '"ghcr.io/jupyter/scipy-notebook"'));
    const refused = runCli(["emit", "github"], root);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain("emit github: the images are pushed to 2 registries (quay.io, ghcr.io), and the pipeline logs in to one");
    expect(refused.stderr).toContain("hint: give every family's repository one registry, or name the one the jobs log in to with --option registry=HOST");
    expect(runCli(["emit", "github", "--option", "registry=quay.io"], root).code).toBe(0);
    expect(runCli(["emit", "github", "--option", "login=false"], root).code).toBe(0);
    // One registry, several repositories: its login serves them all.
    expect(runCli(["emit", "github"], project()).stdout).toContain("registry: quay.io");
  });

  test("emit cloudbuild refuses them only with login-secret: Cloud Build's own account pushes to Google's registries without one", async () => {
    const root = project();
    const text = await Bun.file(join(root, "matrix.toml")).text();
    writeFileSync(join(root, "matrix.toml"), text.replace('"quay.io/jupyter-stacks/scipy-notebook"', '"us-docker.pkg.dev/p/stacks/scipy-notebook"'));
    expect(runCli(["emit", "cloudbuild"], root).code).toBe(0);
    const refused = runCli(["emit", "cloudbuild", "--option", "login-secret=projects/p/secrets/s/versions/1", "--option", "login-user=u"], root);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain("emit cloudbuild: the images are pushed to 2 registries (quay.io, us-docker.pkg.dev), and the pipeline logs in to one");
  });
});
