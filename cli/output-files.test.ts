// The CLI's output files: replaced whole or not at all, left as they are when they would
// not change, Cloud Build's configs where -o says, and several files all or none.

import { describe, expect, test } from "bun:test";
import { chmodSync, readFileSync, readdirSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { REPO_ROOT } from "../fixtures/golden.ts";
import { expectCleanUsageError, MAIN, runCli, writeMatrix } from "../fixtures/test-helpers.ts";
import { generateMatrix } from "../scripts/bench/generate.ts";
import { scratchFolder } from "../scripts/validators/scratch.ts";

const run = runCli;

describe("output files are replaced whole or not at all", () => {
  test("-o writes the file; an error leaves an existing file exactly as it was", () => {
    const cwd = scratchFolder("cli-");
    const ok = run(["emit", "cloudbuild", "-o", "cloudbuild.json"], cwd);
    expect(ok.code).toBe(0);
    expect(ok.stdout).toBe("");
    expect(JSON.parse(readFileSync(join(cwd, "cloudbuild.json"), "utf8")).steps).toHaveLength(9); // the resolve step, and a step per image of the embedded matrix
    writeFileSync(join(cwd, "cloudbuild.json"), "precious");
    writeMatrix(join(cwd, "matrix.toml"), "broken = \n");
    expect(run(["emit", "cloudbuild", "-o", "cloudbuild.json"], cwd).code).toBe(2);
    expect(readFileSync(join(cwd, "cloudbuild.json"), "utf8")).toBe("precious");
    expect(readdirSync(cwd).sort()).toEqual(["cloudbuild.json", "matrix.toml"]);
  });

  test("an unwritable output path is a clear error, and leaves no temporary file", () => {
    const cwd = scratchFolder("cli-");
    writeFileSync(join(cwd, "file"), "");
    const result = run(["emit", "cloudbuild", "-o", "file/sub/out.json"], cwd);
    expectCleanUsageError(result, "error: cannot write");
    expect(result.stderr).toContain("hint: nothing was written");
    const readOnly = scratchFolder("cli-ro-");
    chmodSync(readOnly, 0o500);
    // As root, permissions do not stop a write; the ENOTDIR case above covers this machine.
    if (process.getuid?.() !== 0) expect(run(["emit", "cloudbuild", "-o", join(readOnly, "x.json")], cwd).code).toBe(2);
    expect(readdirSync(cwd)).toEqual(["file"]);
  });
});

describe("an output file that would not change is left as it is", () => {
  const identity = (file: string) => {
    const stat = statSync(file);
    return { inode: stat.ino, modified: stat.mtimeMs };
  };

  test("a rerun replaces no file (same inode, same time stamp); a change replaces each file that changed", () => {
    const cwd = scratchFolder("cli-");
    writeMatrix(join(cwd, "matrix.toml"), generateMatrix("cross", 700));
    expect(run(["emit", "cloudbuild", "-o", "out/"], cwd).code).toBe(0);
    const names = readdirSync(join(cwd, "out")).sort();
    expect(names.length).toBeGreaterThan(3);
    const before = Object.fromEntries(names.map((name) => [name, identity(join(cwd, "out", name))]));
    expect(run(["emit", "cloudbuild", "-o", "out/"], cwd).code).toBe(0);
    expect(Object.fromEntries(names.map((name) => [name, identity(join(cwd, "out", name))]))).toEqual(before);
    expect(readdirSync(join(cwd, "out")).sort()).toEqual(names); // no temporary left behind

    // Another repository changes every config (not submit.sh): those are replaced, and read as a fresh write does.
    expect(run(["emit", "cloudbuild", "--base-url", "localhost:5000/moved", "-o", "out/"], cwd).code).toBe(0);
    expect(run(["emit", "cloudbuild", "--base-url", "localhost:5000/moved", "-o", "fresh/"], cwd).code).toBe(0);
    for (const name of names) {
      expect(readFileSync(join(cwd, "out", name), "utf8")).toBe(readFileSync(join(cwd, "fresh", name), "utf8"));
      if (name === "submit.sh") expect(identity(join(cwd, "out", name))).toEqual(before[name]!);
      else expect(identity(join(cwd, "out", name)).inode).not.toBe(before[name]!.inode);
    }
  });

  test("a file that differs late, is longer, or is shorter is replaced by exactly the output", () => {
    const cwd = scratchFolder("cli-");
    writeMatrix(join(cwd, "matrix.toml"), generateMatrix("cross", 3000));
    expect(run(["emit", "make", "-o", "Makefile"], cwd).code).toBe(0);
    const expected = readFileSync(join(cwd, "Makefile"), "utf8");
    expect(expected.length).toBeGreaterThan(1 << 20); // several batches: the difference is far from the first
    const near = expected.length - 1000;
    for (const old of [`${expected.slice(0, near)}#${expected.slice(near + 1)}`, `${expected}extra`, expected.slice(0, -1), ""]) {
      writeFileSync(join(cwd, "Makefile"), old);
      expect(run(["emit", "make", "-o", "Makefile"], cwd).code).toBe(0);
      expect(readFileSync(join(cwd, "Makefile"), "utf8")).toBe(expected);
    }
    expect(readdirSync(cwd).sort()).toEqual(["Makefile", "docker", "matrix.toml"]);
  });

  test("a FIFO at the output path is written into, for its reader, as `>` would; it stays a FIFO", () => {
    const cwd = scratchFolder("cli-");
    expect(Bun.spawnSync(["mkfifo", join(cwd, "out.json")]).exitCode).toBe(0);
    const result = Bun.spawnSync(["bash", "-c", `cat out.json > read.json & timeout 10 "${process.execPath}" "${MAIN}" emit cloudbuild -o out.json; status=$?; wait; exit $status`], { cwd });
    expect(result.exitCode).toBe(0);
    expect(JSON.parse(readFileSync(join(cwd, "read.json"), "utf8")).steps).toHaveLength(9); // the resolve step, and a step per image of the embedded matrix
    expect(statSync(join(cwd, "out.json")).isFIFO()).toBe(true);
  });
});

describe("where Cloud Build's configs go", () => {
  const listing = (directory: string) => readdirSync(directory).sort();

  test("stdout and -o FILE get the one config; -o DIRECTORY gets it and submit.sh, which submits it", () => {
    const cwd = scratchFolder("cli-");
    const onStdout = run(["emit", "cloudbuild"], cwd);
    expect(onStdout.code).toBe(0);
    expect(JSON.parse(onStdout.stdout).steps).toHaveLength(9); // the resolve step, and a step per image of the embedded matrix
    expect(run(["emit", "cloudbuild", "-o", "one.json"], cwd).code).toBe(0);
    expect(readFileSync(join(cwd, "one.json"), "utf8")).toBe(onStdout.stdout);
    expect(run(["emit", "cloudbuild", "-o", "ci/"], cwd).code).toBe(0);
    expect(listing(join(cwd, "ci"))).toEqual(["cloudbuild.json", "submit.sh"]);
    expect(readFileSync(join(cwd, "ci/cloudbuild.json"), "utf8")).toBe(onStdout.stdout);
    expect(readFileSync(join(cwd, "ci/submit.sh"), "utf8")).toContain(`gcloud builds submit --config "$here"/'cloudbuild.json' "$@" .`);
    expect(listing(cwd)).toEqual(["ci", "one.json"]);
  });

  test("-o FILE for a split config is refused before anything is written, with the directory to use", () => {
    const cwd = scratchFolder("cli-");
    writeMatrix(join(cwd, "matrix.toml"), generateMatrix("cross", 400));
    for (const [target, directory] of [["cloudbuild.json", "cloudbuild/"], ["ci/build.json", "ci/build/"]] as const) {
      const result = run(["emit", "cloudbuild", "-o", target], cwd);
      expectCleanUsageError(result, `error: -o ${target} names a file, but emit cloudbuild writes 3 files for this graph: cloudbuild-01.json, cloudbuild-02.json, submit.sh`);
      expect(result.stderr).toContain(`hint: pass a directory, such as -o ${directory}; nothing was written`);
    }
    writeFileSync(join(cwd, "notes"), "a file of the user's");
    expectCleanUsageError(run(["emit", "cloudbuild", "-o", "notes"], cwd), "hint: pass a directory, such as -o DIRECTORY/");
    expect(listing(cwd)).toEqual(["docker", "matrix.toml", "notes"]);
    // A new name without an extension is a directory, as before.
    expect(run(["emit", "cloudbuild", "-o", "generated"], cwd).code).toBe(0);
    expect(listing(join(cwd, "generated"))).toEqual(["cloudbuild-01.json", "cloudbuild-02.json", "submit.sh"]);
  });

  test("when the graph shrinks to one config, the directory's submit.sh submits only it", () => {
    const cwd = scratchFolder("cli-");
    writeMatrix(join(cwd, "matrix.toml"), generateMatrix("cross", 400));
    expect(run(["emit", "cloudbuild", "-o", "ci/"], cwd).code).toBe(0);
    writeMatrix(join(cwd, "matrix.toml"), generateMatrix("cross", 10));
    expect(run(["emit", "cloudbuild", "-o", "ci/"], cwd).code).toBe(0);
    const submitted = readFileSync(join(cwd, "ci/submit.sh"), "utf8").split("\n").filter((line) => line.startsWith("gcloud"));
    expect(submitted).toEqual([`gcloud builds submit --config "$here"/'cloudbuild.json' "$@" .`]);
  });
});

describe("multi-file output is all or nothing", () => {
  const plugin = join(REPO_ROOT, "fixtures/plugins/two-files.js");

  test("-o DIRECTORY writes every file; without -o it is a usage error", () => {
    const cwd = scratchFolder("cli-");
    expect(run(["emit", "twofiles", "--plugin", plugin, "-o", "out"], cwd).code).toBe(0);
    expect(readFileSync(join(cwd, "out/a.txt"), "utf8")).toBe("8 images\n");
    expect(readFileSync(join(cwd, "out/sub/b.txt"), "utf8")).toBe("second\n");
    expectCleanUsageError(run(["emit", "twofiles", "--plugin", plugin], cwd), "this output is 2 files; pass -o DIRECTORY to write them");
  });

  test("when one file cannot be written, none is, and existing files are unchanged", () => {
    const cwd = scratchFolder("cli-");
    Bun.spawnSync(["mkdir", "-p", join(cwd, "out")]);
    writeFileSync(join(cwd, "out/a.txt"), "old a");
    writeFileSync(join(cwd, "out/sub"), "a file where a directory must go");
    const result = run(["emit", "twofiles", "--plugin", plugin, "-o", "out"], cwd);
    expectCleanUsageError(result, "error: cannot write");
    expect(readFileSync(join(cwd, "out/a.txt"), "utf8")).toBe("old a");
    expect(readdirSync(join(cwd, "out")).sort()).toEqual(["a.txt", "sub"]);
  });

  test("a target that is a directory stops the write before any file is replaced", () => {
    const cwd = scratchFolder("cli-");
    Bun.spawnSync(["mkdir", "-p", join(cwd, "out/sub/b.txt")]);
    writeFileSync(join(cwd, "out/a.txt"), "old a");
    expectCleanUsageError(run(["emit", "twofiles", "--plugin", plugin, "-o", "out"], cwd), "is a directory");
    expect(readFileSync(join(cwd, "out/a.txt"), "utf8")).toBe("old a");
    expect(readdirSync(join(cwd, "out")).sort()).toEqual(["a.txt", "sub"]);
    expect(readdirSync(join(cwd, "out/sub"))).toEqual(["b.txt"]);
  });
});
