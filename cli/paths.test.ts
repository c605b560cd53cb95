// A matrix's dockerfile and context paths must be there, relative to the matrix file's
// folder (where every build runs): a missing one is an error at its line, with a
// "did you mean" where a near name is there.

import { expect, test } from "bun:test";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { REPO_ROOT } from "../fixtures/golden.ts";
import { runCli } from "../fixtures/test-helpers.ts";
import { scratchFolder } from "../scripts/validators/scratch.ts";

function project(files: Record<string, string>): string {
  const root = scratchFolder("paths-");
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(join(root, path, ".."), { recursive: true });
    writeFileSync(join(root, path), text);
  }
  return root;
}

const MATRIX = `repository = "r.io/p/img"
[axes.python]
py311 = { V = "3.11" }
py312 = { V = "3.12" }

[images.base]
dockerfile = "dockerfile/Dockerfile.bse"
tag = "base"

[images.app]
dockerfile = "docker/{python}.Dockerfile"
context = "ap"
tag = "app-{python}"
matrix = ["python"]

[images.remote]
dockerfile = "no/such/Dockerfile"
context = "https://github.com/x/y.git#main"
tag = "remote"
`;

test("a dockerfile or context that is not there: an error at its line, once per path, with a near name", () => {
  const root = project({ "matrix.toml": MATRIX, "dockerfiles/Dockerfile.base": "", "docker/py311.Dockerfile": "", "app/x": "" });
  const result = runCli(["plan"], root);
  expect(result.code).toBe(2);
  expect(result.stdout).toBe("");
  const errors = result.stderr.split("\n").filter((line) => line.startsWith("error:") || line.startsWith("  hint:"));
  expect(errors).toEqual([
    'error: matrix.toml:7:1: images.base.dockerfile: the dockerfile "dockerfile/Dockerfile.bse" is not there: the folder has no "dockerfile" (paths are relative to the folder of matrix.toml)',
    '  hint: did you mean "dockerfiles/Dockerfile.bse"?',
    // A template is checked per image it gives: py312's is missing, py311's is there.
    'error: matrix.toml:11:1: images.app.dockerfile: the dockerfile "docker/py312.Dockerfile" is not there: "docker" has no "py312.Dockerfile" (paths are relative to the folder of matrix.toml)',
    '  hint: did you mean "docker/py311.Dockerfile"?',
    'error: matrix.toml:12:1: images.app.context: the context "ap" is not there (paths are relative to the folder of matrix.toml)',
    '  hint: did you mean "app"?',
  ]);
  expect(result.stderr).not.toContain("remote");
});

test("paths are relative to the matrix file's folder, from wherever it is run; a file is no folder and a folder no file", () => {
  const root = project({ "ci/matrix.toml": 'repository = "r.io/p/img"\n[images.a]\ntag = "a"\ndockerfile = "Dockerfile"\ncontext = "ctx"\n', "ci/Dockerfile/x": "", "ci/ctx": "" });
  const result = runCli(["plan", "--matrix", "ci/matrix.toml"], root);
  expect(result.code).toBe(2);
  expect(result.stderr).toContain('error: ci/matrix.toml:4:1: images.a.dockerfile: the dockerfile "Dockerfile" is a folder, not a file');
  expect(result.stderr).toContain('error: ci/matrix.toml:5:1: images.a.context: the context "ctx" is a file, not a folder');
  const fixed = project({ "ci/matrix.toml": 'repository = "r.io/p/img"\n[images.a]\ntag = "a"\ndockerfile = "../docker/Dockerfile"\ncontext = ".."\n', "docker/Dockerfile": "" });
  expect(runCli(["plan", "--matrix", "ci/matrix.toml"], fixed).code).toBe(0);
  expect(runCli(["plan", "--matrix", "../ci/matrix.toml"], join(fixed, "docker")).code).toBe(0);
  // A family without the key builds "Dockerfile": the hint says how to name another.
  const unnamed = runCli(["plan"], project({ "matrix.toml": 'repository = "r.io/p/img"\n\n[images.a]\ntag = "a"\n' }));
  expect(unnamed.stderr).toContain('error: matrix.toml:3:1: images.a.dockerfile: the dockerfile "Dockerfile" is not there');
  expect(unnamed.stderr).toContain('hint: name the family\'s Dockerfile: dockerfile = "docker/app.Dockerfile" (without the key, it is "Dockerfile")');
});

test("the embedded default names no file of the folder it runs in; in this repository, its Dockerfiles are there", () => {
  const outside = runCli(["plan"]);
  expect(outside.code).toBe(0);
  expect(outside.stderr).toBe("using the embedded default matrix (no matrix.toml here or above in this repository; pass --matrix FILE to choose one)\n");
  const here = runCli(["plan"], REPO_ROOT);
  expect(here.code).toBe(0);
  expect(here.stderr).toBe("using matrix ./matrix.toml\n");
});

test("path filters name the files from the repository's root, wherever the matrix is and wherever the command runs", () => {
  const root = project({
    "ci/matrix.toml": 'repository = "r.io/p/img"\n[publish]\nbranches = ["main"]\n[images.base]\ntag = "base"\ndockerfile = "docker/base.Dockerfile"\ncontext = "docker"\n[images.app]\ntag = "app"\nfrom = "base"\ndockerfile = "app/Dockerfile"\ncontext = ".."\n',
    "ci/docker/base.Dockerfile": "",
    "ci/app/Dockerfile": "ARG BASE_IMAGE\nFROM $BASE_IMAGE\n",
    ".git/HEAD": "ref: refs/heads/main\n",
  });
  const fromRoot = runCli(["emit", "github", "--matrix", "ci/matrix.toml"], root);
  expect(fromRoot.code).toBe(0);
  const fromCi = runCli(["emit", "github", "--matrix", "matrix.toml"], join(root, "ci"));
  const paths = (text: string) => text.slice(text.indexOf("    paths:\n"), text.indexOf("\n  pull_request:")).split("\n").slice(1);
  expect(paths(fromRoot.stdout)).toEqual(["      - ci/docker/base.Dockerfile", "      - ci/docker/**", "      - ci/app/Dockerfile", "      - ci/matrix.toml", "      - .github/workflows/build-images.yml"]);
  expect(paths(fromCi.stdout)).toEqual(paths(fromRoot.stdout));
  const triggers = runCli(["emit", "cloudbuild", "--matrix", "ci/matrix.toml", "-o", "out/", "--option", "github-repository=o/r"], root);
  expect(triggers.code).toBe(0);
  const push = JSON.parse(require("node:fs").readFileSync(join(root, "out", "trigger-push.json"), "utf8"));
  expect(push.includedFiles).toEqual(["ci/docker/base.Dockerfile", "ci/docker/**", "ci/app/Dockerfile", "ci/matrix.toml"]);
  // Outside a repository, the matrix's folder is the root.
  const alone = project({ "matrix.toml": 'repository = "r.io/p/img"\n[images.base]\ntag = "base"\ndockerfile = "docker/base.Dockerfile"\n', "docker/base.Dockerfile": "" });
  expect(paths(runCli(["emit", "github"], alone).stdout)).toEqual(["      - docker/base.Dockerfile", "      - matrix.toml", "      - .github/workflows/build-images.yml"]);
});
