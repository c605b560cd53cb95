// A build context or Dockerfile on disk that is not plain: unreadable, not a regular
// file, or changing while it is read. Each is an `error: FILE: cannot read ...` and exit
// 2 from every command, never a stack trace, and never a wait: every run that could
// block on a FIFO is a process with a time limit, so a regression fails instead of hanging.

import { describe, expect, test } from "bun:test";
import { chmodSync, mkdirSync, rmSync, symlinkSync, unlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { CalibanError } from "../core/errors.ts";
import { MAIN, writeMatrix } from "../fixtures/test-helpers.ts";
import { WorkingTree } from "./working-tree.ts";
import { scratchFolder } from "../scripts/validators/scratch.ts";

const MATRIX = 'repository = "r.io/x"\n[images.a]\ntag = "a"\ndockerfile = "docker/a.Dockerfile"\ncontext = "docker"\n[outputs]\nmake = "Makefile"\n';
/** What a user runs on a project: each must say what is wrong with the file. */
const COMMANDS = [["plan"], ["resolve"], ["emit", "make"], ["affected", "--changed", "docker/a.Dockerfile"], ["check"]];
const LIMIT_MS = 15_000;
/** A test that runs the CLI a few times: each run is bounded, and the first that fails ends it. */
const CLI_TEST_MS = 90_000;

function project(): string {
  const root = scratchFolder("working-tree-");
  writeMatrix(join(root, "matrix.toml"), MATRIX);
  writeFileSync(join(root, "docker/main.py"), "print('hi')\n");
  return root;
}

function mkfifo(path: string): void {
  expect(Bun.spawnSync(["mkfifo", path]).exitCode).toBe(0);
}

/** The CLI as a process killed after LIMIT_MS: a FIFO opened for reading would wait for a writer forever. */
function runBounded(args: readonly string[], cwd: string, as: readonly string[] = []) {
  const result = Bun.spawnSync([...as, process.execPath, MAIN, ...args], { cwd, env: { ...process.env, NO_COLOR: "1", HOME: cwd }, timeout: LIMIT_MS, killSignal: "SIGKILL" });
  return { code: result.exitCode, stderr: result.stderr.toString() };
}

function expectRefused(root: string, file: string, says: string, as: readonly string[] = []): void {
  for (const command of COMMANDS) {
    const run = runBounded(command, root, as);
    expect({ command, code: run.code }).toEqual({ command, code: 2 });
    expect(run.stderr).toContain(`error: ${file}: cannot read: ${says}`);
    expect(run.stderr).not.toContain("internal error");
  }
}

describe("a Dockerfile or a context file that is not a regular file is refused by name, never opened", () => {
  test("a FIFO as the Dockerfile", () => {
    const root = project();
    unlinkSync(join(root, "docker/a.Dockerfile"));
    mkfifo(join(root, "docker/a.Dockerfile"));
    expectRefused(root, "docker/a.Dockerfile", "it is a FIFO (named pipe), not a file");
  }, CLI_TEST_MS);

  test("a FIFO in the context; left out by .dockerignore, it is no input and no error", () => {
    const root = project();
    mkfifo(join(root, "docker/pipe"));
    expectRefused(root, "docker/pipe", "it is a FIFO (named pipe), not a file");
    writeFileSync(join(root, "docker/.dockerignore"), "pipe\n");
    expect(runBounded(["plan"], root).code).toBe(0);
  }, CLI_TEST_MS);

  test("a socket in the context", () => {
    const root = project();
    const listener = Bun.listen({ unix: join(root, "docker/agent.sock"), socket: { data() {} } });
    try {
      expectRefused(root, "docker/agent.sock", "it is a socket, not a file");
    } finally {
      listener.stop(true);
    }
  }, CLI_TEST_MS);

  test.skipIf(process.getuid?.() !== 0)("(as root: mknod) a device as the Dockerfile and in the context", () => {
    const root = project();
    unlinkSync(join(root, "docker/a.Dockerfile"));
    expect(Bun.spawnSync(["mknod", join(root, "docker/a.Dockerfile"), "c", "1", "3"]).exitCode).toBe(0);
    expectRefused(root, "docker/a.Dockerfile", "it is a device, not a file");
    const other = project();
    expect(Bun.spawnSync(["mknod", join(other, "docker/zero"), "c", "1", "5"]).exitCode).toBe(0);
    expectRefused(other, "docker/zero", "it is a device, not a file");
  }, CLI_TEST_MS);

  test("a context file that becomes a FIFO after it was listed: refused as it is opened, without waiting", () => {
    const root = project();
    const script = join(root, "swap.ts");
    writeFileSync(
      script,
      `import { mkdirSync, unlinkSync } from "node:fs";
import { WorkingTree } from ${JSON.stringify(join(import.meta.dir, "working-tree.ts"))};
const tree = new WorkingTree(${JSON.stringify(root)});
const files = tree.listFiles("docker", () => false)!;
unlinkSync(${JSON.stringify(join(root, "docker/main.py"))});
Bun.spawnSync(["mkfifo", ${JSON.stringify(join(root, "docker/main.py"))}]);
try { tree.digests("docker", files); console.log("read"); } catch (error) { console.log(String(error)); }
`,
    );
    const run = Bun.spawnSync([process.execPath, script], { timeout: LIMIT_MS, killSignal: "SIGKILL" });
    expect(run.exitCode).toBe(0);
    expect(run.stdout.toString()).toContain("error: docker/main.py: cannot read: it is a FIFO (named pipe), not a file");
  }, LIMIT_MS * 2);
});

// As root, chmod 000 denies nothing: the CLI then runs as nobody (setpriv), which it does deny.
const isRoot = process.getuid?.() === 0;
const asNobody = isRoot && Bun.which("setpriv") !== null ? ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"] : [];
const cannotDeny = isRoot && asNobody.length === 0;
if (cannotDeny) console.warn("working-tree.test.ts: skipping the unreadable-file tests: running as root, and without setpriv nothing can be made unreadable");

describe(`unreadable files and folders in a context${cannotDeny ? " (skipped: root without setpriv, where chmod 000 denies nothing)" : ""}`, () => {
  /** A project whose every folder the other user can enter, as a checkout is. */
  const shared = () => {
    const root = project();
    chmodSync(root, 0o755);
    return root;
  };

  test.skipIf(cannotDeny)("an unreadable file: `error: FILE: cannot read: permission denied`, exit 2, from every command", () => {
    const root = shared();
    writeFileSync(join(root, "docker/secret.env"), "TOKEN=x\n");
    chmodSync(join(root, "docker/secret.env"), 0o000);
    expectRefused(root, "docker/secret.env", "permission denied", asNobody);
    // Left out by .dockerignore, it is never read: no error.
    writeFileSync(join(root, "docker/.dockerignore"), "secret.env\n");
    expect(runBounded(["plan"], root, asNobody).code).toBe(0);
  }, CLI_TEST_MS);

  test.skipIf(cannotDeny)("an unreadable folder, and an unreadable Dockerfile (not taken for a missing one)", () => {
    const root = shared();
    mkdirSync(join(root, "docker/private"));
    chmodSync(join(root, "docker/private"), 0o000);
    expectRefused(root, "docker/private", "permission denied", asNobody);
    const other = shared();
    chmodSync(join(other, "docker/a.Dockerfile"), 0o000);
    expectRefused(other, "docker/a.Dockerfile", "permission denied", asNobody);
  }, CLI_TEST_MS);
});

describe("a context that changes while it is read: an error naming the file, never a crash", () => {
  const failure = (read: () => unknown) => {
    try {
      read();
    } catch (error) {
      if (error instanceof CalibanError) return error.diagnostics[0]!;
      throw error;
    }
    throw new Error("read without an error");
  };

  test("a folder removed after it was listed", () => {
    const root = project();
    mkdirSync(join(root, "docker/sub"));
    writeFileSync(join(root, "docker/sub/x"), "");
    const tree = new WorkingTree(root);
    // `skip` is asked just before a folder is entered: the moment to take it away.
    const problem = failure(() => tree.listFiles("docker", (path) => (rmSync(join(root, "docker", path), { recursive: true }), false)));
    expect(problem).toMatchObject({ code: "FILE_UNREADABLE", file: "docker/sub", message: "cannot read: it changed while it was being read" });
  });

  test("files removed while their folder is walked, or before they are read", () => {
    const root = project();
    mkdirSync(join(root, "docker/sub"));
    const names = Array.from({ length: 20 }, (_, i) => `f${i}`);
    for (const name of names) writeFileSync(join(root, "docker", name), name);
    const removeAll = () => names.forEach((name) => rmSync(join(root, "docker", name)));
    // Those listed before `sub` are gone when read; those after it, when looked at.
    const tree = new WorkingTree(root);
    const problem = failure(() => tree.digests("docker", tree.listFiles("docker", () => (removeAll(), false))!));
    expect(problem.code).toBe("FILE_UNREADABLE");
    expect(names.map((name) => `docker/${name}`)).toContain(problem.file!);
    expect(problem.message).toBe("cannot read: it changed while it was being read");
  });

  test("a file replaced by a link after it was listed is not read through the link", () => {
    const root = project();
    writeFileSync(join(root, "outside"), "not in the context\n");
    const tree = new WorkingTree(root);
    const files = tree.listFiles("docker", () => false)!;
    unlinkSync(join(root, "docker/main.py"));
    symlinkSync(join(root, "outside"), join(root, "docker/main.py"));
    expect(failure(() => tree.digests("docker", files))).toMatchObject({ file: "docker/main.py", message: "cannot read: it changed while it was being read" });
  });
});

test("a context file whose name is not UTF-8: said so, not taken for a file that went away", () => {
  const root = project();
  writeFileSync(Buffer.concat([Buffer.from(join(root, "docker/bad-")), Buffer.from([0xff]), Buffer.from(".txt")]), "");
  expect(() => new WorkingTree(root).listFiles("docker", () => false)).toThrow("cannot read: its name is not UTF-8");
});
