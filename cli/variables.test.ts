// --var NAME=VALUE on every command that plans: plan, emit, emit --all and check, resolve,
// affected, lock, emitters. A mistake on the command line is a usage error; a name the
// matrix does not declare is reported at its [vars] line with the near name (exit 2).

import { describe, expect, test } from "bun:test";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { runCli, writeMatrix } from "../fixtures/test-helpers.ts";
import { scratchFolder } from "../scripts/validators/scratch.ts";

const MATRIX = `repository = "ghcr.io/acme/images"

[vars]
TAG_PREFIX = ""

[axes.python]
py312 = { PYTHON_VERSION = "3.12" }

[images.base]
tag = "{$TAG_PREFIX}base"

[images.app]
tag = "{$TAG_PREFIX}app-{python}"
matrix = ["python"]
from = "base"

[outputs]
make = "Makefile"
bake = "docker-bake.hcl"
`;

function project(text = MATRIX): string {
  const root = scratchFolder("vars-cli-");
  writeMatrix(join(root, "matrix.toml"), text);
  return root;
}

function git(cwd: string, ...args: string[]): void {
  const result = Bun.spawnSync(["git", "-c", "user.name=test", "-c", "user.email=test@example.com", "-c", "commit.gpgsign=false", ...args], { cwd });
  if (result.exitCode !== 0) throw new Error(result.stderr.toString());
}

describe("every command that plans takes --var", () => {
  test("plan: the values change what it prints, as JSON and as text", () => {
    const root = project();
    const plain = JSON.parse(runCli(["plan", "--json"], root).stdout) as { images: { reference: string }[] };
    const nightly = runCli(["plan", "--json", "--var", "TAG_PREFIX=nightly-"], root);
    expect(nightly.code).toBe(0);
    expect(plain.images.map((image) => image.reference)).toEqual(["ghcr.io/acme/images:base", "ghcr.io/acme/images:app-py312"]);
    expect((JSON.parse(nightly.stdout) as typeof plain).images.map((image) => image.reference)).toEqual(["ghcr.io/acme/images:nightly-base", "ghcr.io/acme/images:nightly-app-py312"]);
    expect(runCli(["plan", "--var", "TAG_PREFIX=rc-"], root).stdout).toContain("ghcr.io/acme/images:rc-app-py312");
    // The value is everything after the first '=', '=' included: here it breaks the tag, reported as such.
    expect(runCli(["plan", "--var", "TAG_PREFIX=a=b"], root).stderr).toContain('the tag "a=bbase" (for the single image) is not a valid Docker tag');
  });

  test("emit --all with --var, then check: with the same values it passes, without them it names the stale files (exit 3); lock keeps them", () => {
    const root = project();
    expect(runCli(["emit", "--all", "--var", "TAG_PREFIX=nightly-"], root).code).toBe(0);
    expect(readFileSync(join(root, "Makefile"), "utf8")).toContain("MATRIX_VARS := --var 'TAG_PREFIX=nightly-'");
    expect(readFileSync(join(root, "docker-bake.hcl"), "utf8")).toContain('# caliban-images var: TAG_PREFIX="nightly-"');
    expect(runCli(["check", "--var", "TAG_PREFIX=nightly-"], root).code).toBe(0);
    const stale = runCli(["check"], root);
    expect(stale.code).toBe(3);
    expect(stale.stdout).toBe("stale    Makefile\nstale    docker-bake.hcl\n");
    expect(stale.stderr).toContain("2 of 2 output files are not what `caliban-images emit --all` (with the --var values they were emitted with, given to check too) writes");
    // lock writes [outputs] again, with the values it is given (the Dockerfiles build FROM scratch: nothing to ask).
    expect(runCli(["lock", "--var", "TAG_PREFIX=nightly-"], root).code).toBe(0);
    expect(runCli(["check", "--var", "TAG_PREFIX=nightly-"], root).code).toBe(0);
    // resolve --for the bake file plans with the values it names.
    expect(runCli(["resolve", "--for", "docker-bake.hcl", "--format", "lines"], root).stdout).toMatch(/^nightly-base [0-9a-f]{64}\nnightly-app-py312 [0-9a-f]{64}\n$/);
  });

  test("emit NAME, resolve, emitters", () => {
    const root = project();
    expect(runCli(["emit", "make", "--var", "TAG_PREFIX=nightly-"], root).stdout).toContain("--var 'TAG_PREFIX=nightly-'");
    expect(runCli(["resolve", "--var", "TAG_PREFIX=nightly-", "--format", "lines"], root).stdout).toMatch(/^nightly-base /);
    expect(runCli(["emitters", "--var", "TAG_PREFIX=nightly-"], root).code).toBe(0);
    expect(runCli(["emit", "make", "--help"], root).stdout).toContain("[--var NAME=VALUE ...]");
  });

  test("affected --since: both sides planned with the values; a revision that declares no such variable plans without it", () => {
    const root = project(MATRIX.replaceAll("{$TAG_PREFIX}", "").replace('[vars]\nTAG_PREFIX = ""\n', ""));
    git(root, "init", "-q");
    git(root, "add", "-A");
    git(root, "commit", "-q", "-m", "before [vars]");
    writeFileSync(join(root, "matrix.toml"), MATRIX);
    const same = runCli(["affected", "--since", "HEAD", "--var", "TAG_PREFIX="], root);
    expect({ code: same.code, stdout: same.stdout, stderr: same.stderr }).toEqual({ code: 0, stdout: "", stderr: "using matrix ./matrix.toml\n0 of 2 images affected since HEAD\n" });
    const renamed = runCli(["affected", "--since", "HEAD", "--var", "TAG_PREFIX=nightly-"], root);
    expect(renamed.stdout).toBe("ghcr.io/acme/images:nightly-base\nghcr.io/acme/images:nightly-app-py312\n");
  });
});

describe("mistakes: exit 2, nothing done", () => {
  test("on the command line: no '=', a name that is none, a variable given twice", () => {
    const root = project();
    for (const [args, message] of [
      [["--var", "TAG_PREFIX"], 'error: --var "TAG_PREFIX": give NAME=VALUE, a variable of the matrix\'s [vars] and its value'],
      [["--var", "TAG-PREFIX=x"], 'error: --var "TAG-PREFIX=x": give NAME=VALUE'],
      [["--var", "TAG_PREFIX=a", "--var", "TAG_PREFIX=b"], "error: --var TAG_PREFIX is given twice"],
    ] as const) {
      const result = runCli(["plan", ...args], root);
      expect(result.code).toBe(2);
      expect(result.stderr).toContain(message);
    }
  });

  test("a variable the matrix does not declare: at [vars]'s line, with the near name; in a matrix without [vars], how to declare it", () => {
    const result = runCli(["emit", "make", "--var", "TAG_PRFIX=x"], project());
    expect(result.code).toBe(2);
    expect(result.stdout).toBe("");
    expect(result.stderr).toContain('error: matrix.toml:3:1: vars: --var TAG_PRFIX: the matrix declares no variable "TAG_PRFIX"\n  hint: did you mean "TAG_PREFIX"?');
    const plain = runCli(["resolve", "--var", "TAG_PREFIX=x"], project('repository = "ghcr.io/acme/images"\n[images.base]\ntag = "base"\n'));
    expect(plain.code).toBe(2);
    expect(plain.stderr).toContain('error: matrix.toml: --var TAG_PREFIX: the matrix declares no variable "TAG_PREFIX"\n  hint: declare it with its default: [vars] TAG_PREFIX = "..."');
  });
});
