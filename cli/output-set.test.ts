// What `emit --all`, `check` and `-o` write, and where they refuse to, through the CLI on
// a real file system: every file of [outputs] or none; never through a link out of the
// repository, never into .git/; two outputs that are one file refused before writing.
// (`lock`, which writes the lock file with the outputs: cli/lock.test.ts.)

import { describe, expect, test } from "bun:test";
import { existsSync, linkSync, mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { MAIN, runCli, writeMatrix } from "../fixtures/test-helpers.ts";
import { scratchFolder } from "../scripts/validators/scratch.ts";

const MATRIX = 'repository = "r.io/x"\n[axes.v]\na = {}\nb = {}\n[images.x]\ntag = "x-{v}"\nmatrix = ["v"]\n';

/** A folder with the matrix, [outputs] as given (emitter → path, in this order). */
function workspace(outputs: Record<string, string> = {}, git = false): string {
  const cwd = scratchFolder("output-set-");
  const listed = Object.entries(outputs).map(([name, path]) => `${name} = ${JSON.stringify(path)}\n`).join("");
  writeMatrix(join(cwd, "matrix.toml"), `${MATRIX}${listed === "" ? "" : `[outputs]\n${listed}`}`);
  if (git) expect(Bun.spawnSync(["git", "init", "-q"], { cwd }).exitCode).toBe(0);
  return cwd;
}

/** A file outside every workspace, and its folder. */
function elsewhere(text = "not ours\n"): { folder: string; file: string } {
  const folder = scratchFolder("elsewhere-");
  writeFileSync(join(folder, "target"), text);
  return { folder, file: join(folder, "target") };
}

const leftovers = (directory: string) => readdirSync(directory).filter((name) => name.endsWith(".tmp") || name.endsWith(".previous"));

describe("emit --all writes every output or none", () => {
  test("a later output that cannot be written (a folder at its path): the earlier ones are as they were, a new one is not made", () => {
    const cwd = workspace({ make: "Makefile", github: ".github/workflows/images.yml", cloudbuild: "ci/" });
    writeFileSync(join(cwd, "Makefile"), "old\n");
    mkdirSync(join(cwd, "ci", "cloudbuild.json"), { recursive: true });
    const result = runCli(["emit", "--all"], cwd);
    expect(result.code).toBe(2);
    expect(readFileSync(join(cwd, "Makefile"), "utf8")).toBe("old\n");
    // Not even the folders the workflow would have gone in.
    expect(existsSync(join(cwd, ".github"))).toBe(false);
    expect(result.stderr).toContain("ci/cloudbuild.json: EISDIR it is a directory, not a regular file");
    expect(result.stderr).toContain("hint: nothing was written; existing files are unchanged");
    expect(leftovers(cwd)).toEqual([]);
    expect(readdirSync(join(cwd, "ci"))).toEqual(["cloudbuild.json"]);
    // With the folder gone, all are written at once.
    Bun.spawnSync(["rmdir", join(cwd, "ci", "cloudbuild.json")]);
    expect(runCli(["emit", "--all"], cwd).code).toBe(0);
    expect(runCli(["check"], cwd).code).toBe(0);
  });

  test("a file where a later output needs a folder: nothing is written, and the file is named", () => {
    const cwd = workspace({ make: "Makefile", cloudbuild: "ci/cloudbuild/" });
    writeFileSync(join(cwd, "ci"), "a file of the user's\n");
    const result = runCli(["emit", "--all"], cwd);
    expect(result.code).toBe(2);
    expect(existsSync(join(cwd, "Makefile"))).toBe(false);
    expect(result.stderr).toContain(`error: cannot write ${join(cwd, "ci")}: ENOTDIR it is a file, where a folder goes`);
  });
});

describe("no file is written through a link out of the repository", () => {
  test("-o LINK to a file outside: refused, exit 2, the file untouched; the path itself, named outside, is written", () => {
    const cwd = workspace();
    const { folder, file } = elsewhere();
    symlinkSync(file, join(cwd, "Makefile"));
    const result = runCli(["emit", "make", "-o", "Makefile"], cwd);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(`error: Makefile: a link leads it out of the repository (${cwd}), to ${file}; nothing is written through it`);
    expect(readFileSync(file, "utf8")).toBe("not ours\n");
    // Named on the command line, a path outside is the user's choice.
    expect(runCli(["emit", "make", "-o", join(folder, "Makefile")], cwd).code).toBe(0);
    expect(readFileSync(join(folder, "Makefile"), "utf8")).toContain("build/x-a:");
  });

  test("-o LINK to a FIFO outside: refused, never opened (it would wait for a reader)", () => {
    const cwd = workspace();
    const { folder } = elsewhere();
    expect(Bun.spawnSync(["mkfifo", join(folder, "fifo")]).exitCode).toBe(0);
    symlinkSync(join(folder, "fifo"), join(cwd, "out.hcl"));
    // Opened for writing, a FIFO with no reader would wait forever: the timeout is the failure.
    const result = Bun.spawnSync([process.execPath, MAIN, "emit", "bake", "-o", "out.hcl"], { cwd, timeout: 120_000 });
    expect(result.exitCode).toBe(2);
    expect(result.stderr.toString()).toContain(`error: out.hcl: a link leads it out of the repository (${cwd}), to ${join(folder, "fifo")}`);
  });

  test("[outputs] through a linked folder: emit --all and check both refuse (exit 2), and nothing is written", () => {
    const cwd = workspace({ bake: "docker-bake.hcl", make: "ci/Makefile" });
    const { folder } = elsewhere();
    symlinkSync(folder, join(cwd, "ci"));
    for (const command of [["emit", "--all"], ["check"]]) {
      const result = runCli(command, cwd);
      expect(result.code).toBe(2);
      expect(result.stderr).toContain(`error: ci/Makefile: a link leads it out of the repository (${cwd}), to ${join(folder, "Makefile")}`);
    }
    expect(readdirSync(folder)).toEqual(["target"]);
    expect(existsSync(join(cwd, "docker-bake.hcl"))).toBe(false);
  });

  test("in a git work tree, a link from the matrix's folder to elsewhere in the work tree is followed", () => {
    const root = workspace({}, true);
    mkdirSync(join(root, "images"));
    writeMatrix(join(root, "images", "matrix.toml"), `${MATRIX}[outputs]\nmake = "Makefile"\n`);
    writeFileSync(join(root, "Makefile"), "old\n");
    symlinkSync("../Makefile", join(root, "images", "Makefile"));
    expect(runCli(["emit", "--all", "--matrix", "images/matrix.toml"], root).code).toBe(0);
    expect(readFileSync(join(root, "Makefile"), "utf8")).toContain("build/x-a:");
  });
});

describe("no file is written into .git/", () => {
  test("-o .git/hooks/pre-commit, directly or through a link, and [outputs] in .git: refused, nothing made there", () => {
    const cwd = workspace({ make: ".git/Makefile" }, true);
    const hooks = readdirSync(join(cwd, ".git", "hooks"));
    const direct = runCli(["emit", "make", "-o", ".git/hooks/pre-commit"], cwd);
    expect(direct.code).toBe(2);
    expect(direct.stderr).toContain("error: .git/hooks/pre-commit: it is inside .git/, which only git writes");
    symlinkSync(".git/hooks", join(cwd, "hooks"));
    const linked = runCli(["emit", "make", "-o", "hooks/post-checkout"], cwd);
    expect(linked.code).toBe(2);
    expect(linked.stderr).toContain("error: hooks/post-checkout: it is inside .git/, which only git writes");
    expect(readdirSync(join(cwd, ".git", "hooks"))).toEqual(hooks);
    const all = runCli(["emit", "--all"], cwd);
    expect(all.code).toBe(2);
    expect(all.stderr).toContain("error: .git/Makefile: it is inside .git/");
    expect(existsSync(join(cwd, ".git", "Makefile"))).toBe(false);
  });
});

describe("two outputs that are one file are refused before anything is written", () => {
  const cases: [string, Record<string, string>, (cwd: string) => void, string][] = [
    ["one reached through a link to the other", { make: "Makefile", bake: "build.hcl" }, (cwd) => symlinkSync("Makefile", join(cwd, "build.hcl")), "error: build.hcl: emit make writes Makefile, and emit bake writes build.hcl: the same file, through a link"],
    ["hard links to one file", { make: "Makefile", bake: "build.hcl" }, (cwd) => (writeFileSync(join(cwd, "Makefile"), "old\n"), linkSync(join(cwd, "Makefile"), join(cwd, "build.hcl"))), "error: build.hcl: emit make writes Makefile, and emit bake writes build.hcl: hard links to one file"],
    ["a folder's file and a file (cloudbuild.json in ci/, and ci/cloudbuild.json)", { cloudbuild: "ci/", bake: "ci/cloudbuild.json" }, () => {}, "error: ci/cloudbuild.json: emit cloudbuild writes cloudbuild.json, and emit bake writes ci/cloudbuild.json: the same file"],
    ["a file where another output makes a folder", { make: "ci", cloudbuild: "ci/" }, () => {}, "error: ci: emit make writes the file ci, and emit cloudbuild writes cloudbuild.json inside it, as into a folder"],
  ];
  for (const [name, outputs, arrange, message] of cases) {
    test(`${name}: emit --all and check say which, exit 2`, () => {
      const cwd = workspace(outputs);
      arrange(cwd);
      const before = readdirSync(cwd).sort();
      for (const command of [["emit", "--all"], ["check"]]) {
        const result = runCli(command, cwd);
        expect(result.stderr).toContain(message);
        expect(result.code).toBe(2);
      }
      expect(readdirSync(cwd).sort()).toEqual(before);
      if (existsSync(join(cwd, "Makefile"))) expect(readFileSync(join(cwd, "Makefile"), "utf8")).toBe("old\n");
    });
  }
});

test("check does not wait on a FIFO where an output goes: it is not the file emit --all writes", () => {
  const cwd = workspace({ make: "Makefile" });
  expect(Bun.spawnSync(["mkfifo", join(cwd, "Makefile")]).exitCode).toBe(0);
  const result = Bun.spawnSync([process.execPath, MAIN, "check"], { cwd, timeout: 120_000 });
  expect(result.exitCode).toBe(3);
  expect(result.stdout.toString()).toBe("missing  Makefile\n");
});

describe("a split pipeline in [outputs]", () => {
  test("a file, for an emitter that writes several (GitLab past max-jobs): refused at its line with a folder to name, nothing written; that folder then emits and checks", () => {
    const cwd = workspace();
    const four = MATRIX.replace("b = {}\n", "b = {}\nc = {}\nd = {}\n");
    writeMatrix(join(cwd, "matrix.toml"), `${four}[outputs]\ngitlab = ".gitlab-ci.yml"\n[emit.gitlab]\nmax-jobs = 3\n`);
    const refused = runCli(["emit", "--all"], cwd);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('error: matrix.toml:11:1: outputs.gitlab: [outputs] gitlab = ".gitlab-ci.yml" names a file, but emit gitlab writes 3 files for this graph: .gitlab-ci.yml, .gitlab-ci/images-01.yml, .gitlab-ci/images-02.yml');
    expect(refused.stderr).toContain('hint: name a folder that holds only what it writes, e.g. gitlab = "gitlab-ci/"; nothing was written');
    expect(readdirSync(cwd).sort()).toEqual(["Dockerfile", "matrix.toml"]);
    writeMatrix(join(cwd, "matrix.toml"), `${four}[outputs]\ngitlab = "gitlab-ci/"\n[emit.gitlab]\nmax-jobs = 3\n`);
    expect(runCli(["emit", "--all"], cwd).code).toBe(0);
    expect(readdirSync(join(cwd, "gitlab-ci", ".gitlab-ci")).sort()).toEqual(["images-01.yml", "images-02.yml"]);
    expect(runCli(["check"], cwd).code).toBe(0);
  });
});
