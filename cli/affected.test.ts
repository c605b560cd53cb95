// `affected`, `emit --since` and `check`, run as a user runs them: in a git repository
// holding the chain fixture, changed the way each step of issue 18's proof changes it.
// (The real builds that must agree with these lists are in scripts/e2e.)

import { beforeAll, describe, expect, test } from "bun:test";
import { appendFileSync, cpSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parse as parseHcl } from "@cdktf/hcl2json";
import { REPO_ROOT } from "../fixtures/golden.ts";
import { runCli, writeMatrix } from "../fixtures/test-helpers.ts";
import { scratchFolder } from "../scripts/validators/scratch.ts";

function git(cwd: string, ...args: string[]): string {
  const result = Bun.spawnSync(["git", "-c", "user.name=test", "-c", "user.email=test@example.com", "-c", "commit.gpgsign=false", ...args], { cwd });
  if (result.exitCode !== 0) throw new Error(`git ${args.join(" ")}: ${result.stderr.toString()}`);
  return result.stdout.toString();
}

/** The chain fixture in a new git repository, committed. */
function chainRepository(): string {
  const root = scratchFolder("affected-");
  cpSync(join(REPO_ROOT, "fixtures/chain-build"), root, { recursive: true });
  git(root, "init", "-q", "-b", "main");
  git(root, "add", "-A");
  git(root, "commit", "-q", "-m", "chain");
  return root;
}

const listed = (stdout: string) => stdout.split("\n").filter(Boolean).map((reference) => reference.split(":")[1]);

describe("affected --since, step by step", () => {
  let root = "";
  beforeAll(() => {
    root = chainRepository();
  });
  const affected = (...args: string[]) => {
    const run = runCli(["affected", ...args], root);
    expect(run.stderr).not.toContain("error");
    expect(run.code).toBe(0);
    return run;
  };
  const commit = (message: string) => {
    git(root, "add", "-A");
    git(root, "commit", "-q", "-m", message);
  };

  test("nothing changed: no image; nothing is checked out or left behind", () => {
    const head = git(root, "rev-parse", "HEAD");
    const run = affected("--since", "HEAD");
    expect(run.stdout).toBe("");
    expect(run.stderr).toContain("0 of 12 images affected since HEAD");
    expect(git(root, "status", "--porcelain")).toBe("");
    expect(git(root, "rev-parse", "HEAD")).toBe(head);
  });

  test("the middle family's Dockerfile: that family and the one built FROM it, in plan order, each with why", () => {
    appendFileSync(join(root, "docker/python.Dockerfile"), "LABEL edited=yes\n");
    expect(listed(affected("--since", "HEAD").stdout)).toEqual([
      "py-cuda11-py310",
      "py-cuda11-py311",
      "py-cuda12-py310",
      "py-cuda12-py311",
      "torch-cuda11-py310",
      "torch-cuda11-py311",
      "torch-cuda12-py310",
      "torch-cuda12-py311",
    ]);
    const json = JSON.parse(affected("--since", "HEAD", "--json").stdout);
    expect(json.since).toBe("HEAD");
    expect(json.images[0].why).toEqual([{ kind: "dockerfile", path: "docker/python.Dockerfile" }]);
    expect(json.images[0].inputs).toMatch(/^sha256:/);
    expect(json.images[4].why).toEqual([{ kind: "base", image: "localhost/caliban-e2e/chain:py-cuda11-py310" }]);
    // From a folder of the repository, the same list.
    const sub = join(root, "docker/app");
    const fromSub = runCli(["affected", "--since", "HEAD", "--matrix", "../../matrix.toml"], sub);
    expect(listed(fromSub.stdout)).toEqual(listed(affected("--since", "HEAD").stdout));
    commit("python edited");
  });

  test("a file .dockerignore leaves out: none; a file the context sends: every image of it", () => {
    appendFileSync(join(root, "docker/notes/README.md"), "more notes\n");
    expect(affected("--since", "HEAD").stdout).toBe("");
    commit("notes");
    writeFileSync(join(root, "docker/app/main.py"), "print('changed')\n");
    const json = JSON.parse(affected("--since", "HEAD", "--json").stdout);
    expect(json.images).toHaveLength(12);
    expect(json.images[0].why).toEqual([{ kind: "files", paths: ["docker/app/main.py"] }]);
    git(root, "checkout", "-q", "--", "docker/app/main.py");
  });

  test("one axis value's attribute: exactly the images that use it and their descendants", () => {
    writeMatrix(join(root, "matrix.toml"), readFileSync(join(root, "matrix.toml"), "utf8").replace('PYTHON_VERSION = "3.11"', 'PYTHON_VERSION = "3.11.9"'));
    expect(listed(affected("--since", "HEAD").stdout)).toEqual(["py-cuda11-py311", "py-cuda12-py311", "torch-cuda11-py311", "torch-cuda12-py311", "cpu-py311"]);
    const json = JSON.parse(affected("--since", "HEAD", "--json").stdout);
    expect(json.images[0].why).toEqual([{ kind: "args", names: ["PYTHON_VERSION"] }]);
    commit("python 3.11.9");
  });

  test("an image new since REV is affected; one removed is not listed", () => {
    const text = readFileSync(join(root, "matrix.toml"), "utf8");
    writeMatrix(join(root, "matrix.toml"), text.replace('py311 = { PYTHON_VERSION = "3.11.9" }', 'py312 = { PYTHON_VERSION = "3.12" }'));
    const json = JSON.parse(affected("--since", "HEAD", "--json").stdout);
    expect(json.images.map((i: { tag: string }) => i.tag)).toEqual(["py-cuda11-py312", "py-cuda12-py312", "torch-cuda11-py312", "torch-cuda12-py312", "cpu-py312"]);
    expect(json.images.every((i: { why: unknown[] }) => JSON.stringify(i.why) === '[{"kind":"new"}]')).toBe(true);
    git(root, "checkout", "-q", "--", "matrix.toml");
  });

  test("--changed PATH... (relative to the repository's root) gives the same lists without git history", () => {
    expect(listed(affected("--changed", "docker/torch.Dockerfile").stdout)).toEqual(["torch-cuda11-py310", "torch-cuda11-py311", "torch-cuda12-py310", "torch-cuda12-py311"]);
    expect(affected("--changed", "docker/notes/README.md", "docker/notes/new.txt", "README.md").stdout).toBe("");
    expect(listed(affected("--changed", "docker/app/main.py").stdout)).toHaveLength(12);
    // The matrix's old text is unknown here: every image, said so.
    const json = JSON.parse(affected("--changed", "matrix.toml", "--json").stdout);
    expect(json.images).toHaveLength(12);
    expect(json.images[0].why).toEqual([{ kind: "matrix", path: "matrix.toml" }]);
  });

  test("emit --since renders only the affected images; an unaffected base is named by its content reference", async () => {
    appendFileSync(join(root, "docker/torch.Dockerfile"), "LABEL edited=again\n");
    const plan = JSON.parse(runCli(["plan", "--json"], root).stdout);
    const run = runCli(["emit", "bake", "--since", "HEAD"], root);
    expect(run.code).toBe(0);
    const targets = ((await parseHcl("docker-bake.hcl", run.stdout)) as { target: Record<string, { args: Record<string, string>; contexts?: unknown }[]> }).target;
    expect(Object.keys(targets)).toEqual(["torch-cuda11-py310", "torch-cuda11-py311", "torch-cuda12-py310", "torch-cuda12-py311"]);
    const base = plan.images.find((i: { id: string }) => i.id === "py-cuda11-py310");
    expect(targets["torch-cuda11-py310"]![0]!.args.BASE_IMAGE).toBe(base.contentReference);
    expect(targets["torch-cuda11-py310"]![0]!.contexts).toBeUndefined();
    git(root, "checkout", "-q", "--", "docker/torch.Dockerfile");
    const nothing = runCli(["emit", "make", "--since", "HEAD", "-o", "Makefile"], root);
    expect(nothing.code).toBe(0);
    expect(nothing.stderr).toContain("nothing to build: nothing written");
    expect(git(root, "status", "--porcelain")).toBe("");
  });
});

describe("affected: mistakes", () => {
  test("a revision that names no commit, no repository, --since with --changed, neither: exit 2, said plainly", () => {
    const root = chainRepository();
    const bad = runCli(["affected", "--since", "no-such-branch"], root);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--since "no-such-branch" names no commit');
    const both = runCli(["affected", "--since", "HEAD", "--changed", "x"], root);
    expect(both.code).toBe(2);
    expect(both.stderr).toContain("not both");
    const neither = runCli(["affected"], root);
    expect(neither.code).toBe(2);
    expect(neither.stderr).toContain("needs --since REVISION or --changed PATH...");
    const outside = scratchFolder("no-git-");
    cpSync(join(REPO_ROOT, "fixtures/chain-build"), outside, { recursive: true });
    const noRepository = runCli(["affected", "--since", "HEAD"], outside);
    expect(noRepository.code).toBe(2);
    expect(noRepository.stderr).toContain("--since needs a git repository");
    expect(noRepository.stderr).not.toContain("    at ");
  });

  test("a revision whose matrix does not exist: every image new, with a warning", () => {
    const root = scratchFolder("affected-empty-");
    git(root, "init", "-q", "-b", "main");
    writeFileSync(join(root, "README"), "x\n");
    git(root, "add", "-A");
    git(root, "commit", "-q", "-m", "first");
    cpSync(join(REPO_ROOT, "fixtures/chain-build"), root, { recursive: true });
    const run = runCli(["affected", "--since", "HEAD"], root);
    expect(run.code).toBe(0);
    expect(run.stderr).toContain("warning: matrix.toml does not exist at HEAD: every image is new");
    expect(listed(run.stdout)).toHaveLength(12);
  });
});

describe("emit --all and check", () => {
  const OUTPUTS = '\n[outputs]\nmake = "Makefile"\ngithub = ".github/workflows/images.yml"\ncloudbuild = "ci/cloudbuild/"\nbake = "docker-bake.hcl"\n';

  test("check: exit 3 listing what is missing or stale, 0 once emit --all has written it; the workflow filters its own path", () => {
    const root = chainRepository();
    appendFileSync(join(root, "matrix.toml"), OUTPUTS);
    const missing = runCli(["check"], root);
    expect(missing.code).toBe(3);
    expect(missing.stdout.split("\n").filter(Boolean)).toEqual([
      "missing  Makefile",
      "missing  .github/workflows/images.yml",
      "missing  ci/cloudbuild/cloudbuild.json",
      "missing  ci/cloudbuild/submit.sh",
      "missing  docker-bake.hcl",
    ]);
    expect(runCli(["emit", "--all"], root).code).toBe(0);
    const fresh = runCli(["check"], root);
    expect({ code: fresh.code, stdout: fresh.stdout }).toEqual({ code: 0, stdout: "" });
    expect(fresh.stderr).toContain("5 output files are up to date");
    expect(readFileSync(join(root, ".github/workflows/images.yml"), "utf8")).toContain("      - .github/workflows/images.yml\n");
    // The outputs hold digests, but are no input (the matrix names them): a second emit --all changes nothing.
    expect(runCli(["emit", "--all"], root).code).toBe(0);
    expect(runCli(["check"], root).code).toBe(0);
    // A Dockerfile edit: every pipeline reads the digests when it runs, so no output changes.
    appendFileSync(join(root, "docker/cpu.Dockerfile"), "LABEL more=yes\n");
    const edited = runCli(["check"], root);
    expect({ code: edited.code, stdout: edited.stdout }).toEqual({ code: 0, stdout: "" });
    // A changed build arg changes the graph: every output is stale.
    writeFileSync(join(root, "matrix.toml"), readFileSync(join(root, "matrix.toml"), "utf8").replace('PYTHON_VERSION = "3.11"', 'PYTHON_VERSION = "3.11.9"'));
    const stale = runCli(["check"], root);
    expect(stale.code).toBe(3);
    expect(stale.stdout).toContain("stale    Makefile\n");
    expect(stale.stdout).toContain("stale    docker-bake.hcl\n");
    expect(stale.stderr).toContain("run it, and commit what it writes");
  });

  test("-o into a build context is warned of (each emit would change the digests in it); [outputs] leaves it out", () => {
    // The matrices of --format matrix name the digests (a plan job emits them when it runs): written into a context, they loop.
    const root = chainRepository();
    const matrices = ["emit", "github", "--format", "matrix", "-o", "docker/matrix.txt"];
    const into = runCli(matrices, root);
    expect(into.code).toBe(0);
    expect(into.stderr).toContain("warning: docker/matrix.txt is in the build context of 12 images");
    const first = readFileSync(join(root, "docker/matrix.txt"), "utf8");
    expect(runCli(matrices, root).code).toBe(0);
    expect(readFileSync(join(root, "docker/matrix.txt"), "utf8")).not.toBe(first); // the loop the warning is about
    // Files that name no digest (the Makefile, the workflow, bake's file) are the same each time, but still inputs: warned of.
    expect(runCli(["emit", "make", "-o", "docker/Makefile"], root).stderr).toContain("warning: docker/Makefile is in the build context of 12 images");
    appendFileSync(join(root, "matrix.toml"), '\n[outputs]\nmake = "docker/Makefile"\n');
    const listed = runCli(["emit", "make", "-o", "docker/Makefile"], root);
    expect(listed.stderr).not.toContain("warning");
    const settled = readFileSync(join(root, "docker/Makefile"), "utf8");
    expect(runCli(["emit", "make", "-o", "docker/Makefile"], root).code).toBe(0);
    expect(readFileSync(join(root, "docker/Makefile"), "utf8")).toBe(settled);
    expect(runCli(["emit", "make", "-o", "Makefile"], root).stderr).not.toContain("warning");
  });

  test("[outputs] mistakes are reported at their line: an unknown emitter, a path that leaves the folder, none listed", () => {
    const root = chainRepository();
    const text = readFileSync(join(root, "matrix.toml"), "utf8");
    const lines = text.split("\n").length;
    writeMatrix(join(root, "matrix.toml"), `${text}\n[outputs]\nmakefile = "Makefile"\nbake = "../x.hcl"\n`);
    const run = runCli(["check"], root);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(`matrix.toml:${lines + 3}:`);
    expect(run.stderr).toContain("leaves the matrix file's directory");
    writeMatrix(join(root, "matrix.toml"), `${text}\n[outputs]\nmakefile = "Makefile"\n`);
    const unknown = runCli(["emit", "--all"], root);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain(`matrix.toml:${lines + 2}:`);
    writeMatrix(join(root, "matrix.toml"), text);
    const none = runCli(["check"], root);
    expect(none.code).toBe(2);
    expect(none.stderr).toContain("lists no [outputs]");
  });
});

test("a matrix at the repository's root with context \".\": nothing changed is nothing affected (the revision's matrix and lock are left out of its context, as the working tree's are)", () => {
  const root = scratchFolder("affected-root-");
  writeMatrix(join(root, "matrix.toml"), 'repository = "r.io/x"\n[images.a]\ntag = "a"\n');
  writeFileSync(join(root, "Dockerfile"), "FROM scratch\n");
  writeFileSync(join(root, "matrix.lock"), "version = 1\n[digests]\n");
  git(root, "init", "-q", "-b", "main");
  git(root, "add", "-A");
  git(root, "commit", "-q", "-m", "root");
  const run = runCli(["affected", "--since", "HEAD"], root);
  expect(run.code).toBe(0);
  expect(run.stderr).toContain("0 of 1 images affected since HEAD");
});

test("a symlinked Dockerfile, a symlinked context and a submodule in a context: unchanged is unaffected, run after run; an edit in the submodule names its file", () => {
  const library = scratchFolder("affected-lib-");
  writeFileSync(join(library, "lib.py"), "x = 1\n");
  git(library, "init", "-q", "-b", "main");
  git(library, "add", "-A");
  git(library, "commit", "-q", "-m", "lib");
  const root = scratchFolder("affected-links-");
  mkdirSync(join(root, "common"));
  writeFileSync(join(root, "common/app.Dockerfile"), "FROM scratch\nCOPY . /app\n");
  mkdirSync(join(root, "ctx"));
  writeFileSync(join(root, "ctx/main.py"), "print('hi')\n");
  symlinkSync("../common/app.Dockerfile", join(root, "ctx/app.Dockerfile"));
  symlinkSync("main.py", join(root, "ctx/entry.py"));
  symlinkSync("ctx", join(root, "docker"));
  writeMatrix(join(root, "matrix.toml"), 'repository = "r.io/x"\n[images.app]\ntag = "app"\ndockerfile = "docker/app.Dockerfile"\ncontext = "docker"\n');
  git(root, "init", "-q", "-b", "main");
  git(root, "-c", "protocol.file.allow=always", "submodule", "add", "-q", library, "ctx/vendor/lib");
  git(root, "add", "-A");
  git(root, "commit", "-q", "-m", "links and a submodule");
  for (let run = 0; run < 2; run++) {
    const unchanged = runCli(["affected", "--since", "HEAD"], root);
    expect(unchanged.code).toBe(0);
    expect(unchanged.stderr).toContain("0 of 1 images affected since HEAD");
  }
  appendFileSync(join(root, "ctx/vendor/lib/lib.py"), "x = 2\n");
  const edited = runCli(["affected", "--since", "HEAD", "--json"], root);
  expect(JSON.parse(edited.stdout).images[0].why).toEqual([{ kind: "files", paths: ["docker/vendor/lib/lib.py"] }]);
});
