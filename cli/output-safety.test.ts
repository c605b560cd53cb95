// What -o guarantees, on a real filesystem: a regular file is replaced whole through an
// exclusively created temporary file, with its mode and owner, through links to it;
// a device or FIFO is written into, never replaced; several files land where they
// were asked to, each once; an interrupted run leaves nothing behind.

import { describe, expect, test } from "bun:test";
import { chmodSync, chownSync, existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { generateMatrix } from "../scripts/bench/generate.ts";
import { MAIN, runCli, writeMatrix } from "../fixtures/test-helpers.ts";
import { scratchFolder } from "../scripts/validators/scratch.ts";

const MATRIX = (repository: string) => `repository = "${repository}"\n[axes.v]\na = {}\nb = {}\n[images.x]\ntag = "x-{v}"\nmatrix = ["v"]\n`;
const isRoot = process.getuid?.() === 0;

function workspace(): string {
  const cwd = scratchFolder("output-");
  writeMatrix(join(cwd, "matrix.toml"), MATRIX("r.io/x"));
  return cwd;
}

const leftovers = (directory: string) => readdirSync(directory).filter((name) => name.endsWith(".tmp") || name.includes(".tmp-"));

describe("a target that is not a regular file", () => {
  test.skipIf(!isRoot)("-o DEVICE (as root, a null device of the test's own) writes into the device and leaves it a device", () => {
    // Not /dev/null itself: a regression would replace the machine's.
    const cwd = workspace();
    expect(Bun.spawnSync(["mknod", "-m", "666", join(cwd, "null"), "c", "1", "3"]).exitCode).toBe(0);
    // Out of the build context, which refuses a device (it is never read).
    writeFileSync(join(cwd, ".dockerignore"), "null\n");
    const result = runCli(["emit", "bake", "-o", "null"], cwd);
    expect(result.code).toBe(0);
    expect(statSync(join(cwd, "null")).isCharacterDevice()).toBe(true);
    expect(leftovers(cwd)).toEqual([]);
  });

  test("-o /dev/stdout writes to stdout, whatever it is", () => {
    const cwd = workspace();
    // A link of the test's own, as /dev/stdout is: a regression would replace the machine's.
    symlinkSync("/proc/self/fd/1", join(cwd, "stdout"));
    const piped = runCli(["emit", "bake", "-o", "stdout"], cwd);
    expect(piped.code).toBe(0);
    expect(piped.stdout).toBe(runCli(["emit", "bake"], cwd).stdout);
    expect(lstatSync(join(cwd, "stdout")).isSymbolicLink()).toBe(true);
  });

  test("in a directory of outputs, a FIFO where a file goes is refused, and nothing is written", () => {
    const cwd = workspace();
    writeMatrix(join(cwd, "matrix.toml"), generateMatrix("cross", 400));
    mkdirSync(join(cwd, "out"));
    expect(Bun.spawnSync(["mkfifo", join(cwd, "out", "cloudbuild-02.json")]).exitCode).toBe(0);
    const result = runCli(["emit", "cloudbuild", "-o", "out/"], cwd);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("is a FIFO, not a regular file");
    expect(readdirSync(join(cwd, "out"))).toEqual(["cloudbuild-02.json"]);
  });
});

describe("the temporary file", () => {
  test("a link planted under the old predictable name (DEST.tmp-PID) is not followed", () => {
    const cwd = workspace();
    writeFileSync(join(cwd, "victim"), "unchanged\n");
    // exec keeps the shell's process id for the program: the link's name is its old temporary name.
    const result = Bun.spawnSync(["bash", "-c", `ln -s victim "out.hcl.tmp-$$"; exec "${process.execPath}" "${MAIN}" emit bake -o out.hcl`], { cwd });
    expect(result.exitCode).toBe(0);
    expect(readFileSync(join(cwd, "victim"), "utf8")).toBe("unchanged\n");
    expect(readFileSync(join(cwd, "out.hcl"), "utf8")).toContain('target "x-a"');
  });

  test.skipIf(!isRoot || Bun.which("unshare") === null)("two writers with the same process id (each PID 1 of its own namespace) never put a mixed file in place", async () => {
    const cwd = workspace();
    writeMatrix(join(cwd, "one.toml"), generateMatrix("cross", 2000).replace("registry.example.com/bench/images", "r.io/one"));
    writeMatrix(join(cwd, "two.toml"), generateMatrix("cross", 2000).replace("registry.example.com/bench/images", "r.io/two"));
    const expected = ["one", "two"].map((name) => runCli(["emit", "bake", "--matrix", `${name}.toml`], cwd).stdout);
    for (let round = 0; round < 6; round++) {
      const writers = ["one", "two"].map((name) =>
        Bun.spawn(["unshare", "--pid", "--fork", process.execPath, MAIN, "emit", "bake", "--matrix", `${name}.toml`, "-o", "docker-bake.hcl"], { cwd, stdout: "ignore", stderr: "pipe" }),
      );
      expect(await Promise.all(writers.map((writer) => writer.exited))).toEqual([0, 0]);
      expect(expected).toContain(readFileSync(join(cwd, "docker-bake.hcl"), "utf8"));
      expect(leftovers(cwd)).toEqual([]);
    }
  });
});

describe("what is replaced keeps what it was", () => {
  test("-o through a link replaces the file it names; the link stays a link", () => {
    const cwd = workspace();
    mkdirSync(join(cwd, "real"));
    writeFileSync(join(cwd, "real", "Makefile"), "old\n");
    symlinkSync("real/Makefile", join(cwd, "Makefile"));
    expect(runCli(["emit", "make", "-o", "Makefile"], cwd).code).toBe(0);
    expect(lstatSync(join(cwd, "Makefile")).isSymbolicLink()).toBe(true);
    expect(readFileSync(join(cwd, "real", "Makefile"), "utf8")).toContain("build/x-a:");
    // A link to a file not there yet: the file is made where the link points.
    symlinkSync("real/new.hcl", join(cwd, "dangling.hcl"));
    expect(runCli(["emit", "bake", "-o", "dangling.hcl"], cwd).code).toBe(0);
    expect(readFileSync(join(cwd, "real", "new.hcl"), "utf8")).toContain('target "x-a"');
    expect(lstatSync(join(cwd, "dangling.hcl")).isSymbolicLink()).toBe(true);
  });

  test.skipIf(!isRoot)("a replaced file keeps its mode and owner (0600 nobody stays 0600 nobody)", () => {
    const cwd = workspace();
    writeFileSync(join(cwd, "out.hcl"), "old\n");
    chmodSync(join(cwd, "out.hcl"), 0o600);
    chownSync(join(cwd, "out.hcl"), 65534, 65534);
    expect(runCli(["emit", "bake", "-o", "out.hcl"], cwd).code).toBe(0);
    const stats = statSync(join(cwd, "out.hcl"));
    expect([stats.mode & 0o777, stats.uid, stats.gid]).toEqual([0o600, 65534, 65534]);
    expect(readFileSync(join(cwd, "out.hcl"), "utf8")).toContain('target "x-a"');
  });

  test("a new file gets the usual mode: 0666 less the umask", () => {
    const cwd = workspace();
    const result = Bun.spawnSync(["bash", "-c", `umask 027; exec "${process.execPath}" "${MAIN}" emit bake -o new.hcl`], { cwd });
    expect(result.exitCode).toBe(0);
    expect(statSync(join(cwd, "new.hcl")).mode & 0o777).toBe(0o640);
  });
});

describe("several files land where they were asked to, each once", () => {
  const plugin = (cwd: string, paths: string[]) => {
    writeFileSync(
      join(cwd, "paths.ts"),
      `export default { name: "paths", description: "", options: {}, emit: () => ${JSON.stringify(paths.map((path) => ({ path, contents: `${path}\n` })))} };\n`,
    );
  };

  test("two paths that name one file (a.txt and ./a.txt) are refused before anything is written", () => {
    const cwd = workspace();
    plugin(cwd, ["a.txt", "./a.txt"]);
    const result = runCli(["emit", "paths", "--plugin", "paths.ts", "-o", "out/"], cwd);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('error: plugin paths.ts: emitter "paths": the output files a.txt and ./a.txt are the same file');
    expect(existsSync(join(cwd, "out"))).toBe(false);
  });

  test("a path through a link inside the -o directory may not land outside it", () => {
    const cwd = workspace();
    const elsewhere = scratchFolder("elsewhere-");
    mkdirSync(join(cwd, "out"));
    symlinkSync(elsewhere, join(cwd, "out", "link"));
    plugin(cwd, ["ok.txt", "link/escaped.txt"]);
    const result = runCli(["emit", "paths", "--plugin", "paths.ts", "-o", "out/"], cwd);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('error: plugin paths.ts: emitter "paths": the output file link/escaped.txt would be written to');
    expect(result.stderr).toContain("outside out/, through a link");
    expect(readdirSync(elsewhere)).toEqual([]);
    expect(readdirSync(join(cwd, "out"))).toEqual(["link"]);
  });
});

test("SIGTERM while a large file is written: exit 143, no temporary file left, the old file as it was", async () => {
  const cwd = workspace();
  writeMatrix(join(cwd, "matrix.toml"), generateMatrix("cross", 100_000));
  writeFileSync(join(cwd, "Makefile"), "old\n");
  const writer = Bun.spawn([process.execPath, MAIN, "emit", "make", "-o", "Makefile"], { cwd, stdout: "ignore", stderr: "ignore" });
  // Wait until the temporary file exists: the write is under way. No deadline (the test's
  // timeout is the bound): a loaded machine only takes longer to get there.
  while (leftovers(cwd).length === 0 && writer.exitCode === null) await Bun.sleep(2);
  // Stopped where it is, so that it cannot finish between our look and the signal.
  writer.kill("SIGSTOP");
  expect(leftovers(cwd).length).toBe(1);
  writer.kill("SIGTERM");
  writer.kill("SIGCONT");
  expect(await writer.exited).toBe(143);
  expect(leftovers(cwd)).toEqual([]);
  expect(readFileSync(join(cwd, "Makefile"), "utf8")).toBe("old\n");
});
