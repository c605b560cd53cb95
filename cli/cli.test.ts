// The command line as a user meets it: a real process, its exit code, stdout and stderr.

import { describe, expect, test } from "bun:test";
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { REPO_ROOT } from "../fixtures/golden.ts";
import { expectCleanUsageError, MAIN, problemsOf, runCli, writeMatrix } from "../fixtures/test-helpers.ts";
import { generateMatrix } from "../scripts/bench/generate.ts";
import { runnerOutputs } from "../scripts/validators/readback.ts";
import { sharedFolder } from "../fixtures/shared-data.ts";
import { scratchFolder } from "../scripts/validators/scratch.ts";

const REFS = sharedFolder("refs/caliban", "the import tests of Caliban's own files") ?? "";

const run = runCli;


describe("matrix resolution", () => {
  test("with no ./matrix.toml, the embedded default, said on stderr", () => {
    const result = run(["plan"]);
    expect(result.code).toBe(0);
    expect(result.stderr).toContain("using the embedded default matrix");
    expect(result.stdout).toContain("gpu-cuda101-py38");
    expect(result.stdout).toBe(readFileSync(join(REPO_ROOT, "fixtures/default/expected/plan.txt"), "utf8").replace("matrix:     matrix.toml", "matrix:     <embedded matrix.toml>"));
  });

  test("from a folder of a repository, the nearest matrix.toml above, up to the repository's root; outside one, not a parent's", () => {
    const outer = scratchFolder("cli-");
    writeMatrix(join(outer, "matrix.toml"), 'repository = "r.io/outside"\n[images.out]\ntag = "out"\n');
    const project = join(outer, "project");
    mkdirSync(join(project, "ci", "deep"), { recursive: true });
    mkdirSync(join(project, ".git"));
    writeMatrix(join(project, "matrix.toml"), 'repository = "r.io/project"\n[images.one]\ntag = "one"\n');
    const deep = run(["plan"], join(project, "ci", "deep"));
    expect(deep.stderr).toContain("using matrix ../../matrix.toml (the nearest above this folder, in this repository)");
    expect(deep.stdout).toContain("r.io/project:one");
    // Nothing in the repository: the matrix above its root is not the project's.
    rmSync(join(project, "matrix.toml"));
    expect(run(["plan"], join(project, "ci")).stderr).toContain("using the embedded default matrix");
    // No repository at all: only this folder counts.
    const lone = join(outer, "lone");
    mkdirSync(lone);
    expect(run(["plan"], lone).stderr).toContain("using the embedded default matrix");
  });

  test("./matrix.toml when present; --matrix over both", () => {
    const cwd = scratchFolder("cli-");
    writeMatrix(join(cwd, "matrix.toml"), 'repository = "r.io/here"\n[images.one]\ntag = "one"\n');
    writeMatrix(join(cwd, "other.toml"), 'repository = "r.io/other"\n[images.two]\ntag = "two"\n');
    const here = run(["plan", "--json"], cwd);
    expect(here.stderr).toContain("using matrix ./matrix.toml");
    expect(JSON.parse(here.stdout).images.map((i: { reference: string }) => i.reference)).toEqual(["r.io/here:one"]);
    const other = run(["plan", "--json", "--matrix", "other.toml"], cwd);
    expect(JSON.parse(other.stdout)).toMatchObject({ version: 1, repository: "r.io/other" });
  });

  test("a matrix that does not exist, or is a directory", () => {
    expectCleanUsageError(run(["plan", "--matrix", "nope.toml"]), "error: matrix file nope.toml does not exist");
    expectCleanUsageError(run(["plan", "--matrix", "."]), "error: matrix file . is a directory, not a file");
  });
});

describe("reading and writing", () => {
  test("a matrix from a pipe, an empty one, one with a byte order mark, one that cannot be read", () => {
    const cwd = scratchFolder("cli-");
    const text = 'repository = "r.io/piped"\n[images.one]\ntag = "one"\n';
    // Process substitution and stdin cannot be mapped into memory: read another way, same result.
    // A piped matrix's paths are relative to the current folder (not to /dev).
    writeFileSync(join(cwd, "Dockerfile"), "FROM scratch\n");
    const piped = Bun.spawnSync([process.execPath, MAIN, "plan", "--json", "--matrix", "/dev/stdin"], { cwd, stdin: Buffer.from(text) });
    expect(piped.exitCode).toBe(0);
    expect(JSON.parse(piped.stdout.toString()).images[0].reference).toBe("r.io/piped:one");
    writeMatrix(join(cwd, "empty.toml"), "");
    expectCleanUsageError(run(["plan", "--matrix", "empty.toml"], cwd), "error: empty.toml: `repository` is missing");
    writeMatrix(join(cwd, "bom.toml"), `\uFEFF${text}`);
    expect(run(["plan", "--matrix", "bom.toml"], cwd).code).toBe(0);
    expectCleanUsageError(run(["plan", "--matrix", "bom.toml/x.toml"], cwd), "error: cannot read matrix file bom.toml/x.toml: ENOTDIR");
  });

  test("a reader that stops early (| head) ends the run quietly, with the shell's SIGPIPE status", () => {
    const cwd = scratchFolder("cli-");
    writeMatrix(join(cwd, "big.toml"), generateMatrix("cross", 2000));
    const result = Bun.spawnSync(["bash", "-c", `"${process.execPath}" "${MAIN}" emit make --matrix big.toml | head -c 100 >/dev/null; echo "\${PIPESTATUS[0]}" >&2`], { cwd });
    expect(result.stderr.toString()).toBe("using matrix big.toml\n141\n");
  });
});

describe("output redirected to a file", () => {
  // Bun.write to stdout or stderr preallocates the file from offset 0 (fallocate), which
  // an appending fd (`>> log`) turns into a block of NUL bytes (oven-sh/bun#41685).
  test("`>>` and `2>>` append exactly what was printed, small and large outputs alike", () => {
    const cwd = scratchFolder("cli-");
    writeMatrix(join(cwd, "big.toml"), generateMatrix("cross", 3000));
    writeMatrix(join(cwd, "bad.toml"), 'repository = "r.io/x"\n[images.x]\ntagg = "x"\n');
    const sh = (command: string) => Bun.spawnSync(["bash", "-c", command.replaceAll("CLI", `"${process.execPath}" "${MAIN}"`)], { cwd });
    const plan = run(["plan"], cwd).stdout;
    const makefile = run(["emit", "make", "--matrix", "big.toml"], cwd).stdout;
    const error = run(["plan", "--matrix", "bad.toml"], cwd).stderr;
    expect(makefile.length).toBeGreaterThan(1 << 20);
    writeFileSync(join(cwd, "out.log"), "header\n");
    writeFileSync(join(cwd, "err.log"), "header\n");
    sh("CLI plan >> out.log 2>/dev/null; CLI emit make --matrix big.toml >> out.log 2>/dev/null; CLI plan >> out.log 2>/dev/null");
    sh("CLI plan --matrix bad.toml 2>> err.log; CLI plan --matrix bad.toml 2>> err.log");
    expect(readFileSync(join(cwd, "out.log"), "utf8")).toBe(`header\n${plan}${makefile}${plan}`);
    expect(readFileSync(join(cwd, "err.log"), "utf8")).toBe(`header\n${error}${error}`);
    // And `>` still replaces the file whole.
    sh("CLI plan > out.log 2>/dev/null");
    expect(readFileSync(join(cwd, "out.log"), "utf8")).toBe(plan);
  });

  test("docs/ci-github.md's `>> \"$GITHUB_OUTPUT\"` step, run as written after an earlier output, leaves what GitHub's runner reads as the matrices", () => {
    const page = readFileSync(join(REPO_ROOT, "docs/ci-github.md"), "utf8");
    const step = /run: (\.\/caliban-images emit github --format matrix >> "\$GITHUB_OUTPUT")\n/.exec(page)?.[1];
    expect(step).toBeDefined();
    const cwd = scratchFolder("cli-");
    writeFileSync(join(cwd, "caliban-images"), `#!/bin/sh\nexec "${process.execPath}" "${MAIN}" "$@"\n`, { mode: 0o755 });
    const outputFile = join(cwd, "github-output");
    writeFileSync(outputFile, "earlier=1\n");
    const result = Bun.spawnSync(["bash", "-e", "-c", step!], { cwd, env: { ...process.env, GITHUB_OUTPUT: outputFile } });
    expect(result.exitCode).toBe(0);
    const printed = run(["emit", "github", "--format", "matrix"], cwd).stdout;
    expect(printed.length).toBeGreaterThan(1024); // past the size at which Bun.write preallocates
    const outputs = runnerOutputs(readFileSync(outputFile, "utf8"));
    expect(outputs).toEqual({ earlier: "1", ...runnerOutputs(printed) });
    const stages = Object.keys(outputs).filter((key) => key !== "earlier");
    expect(stages.length).toBeGreaterThan(1);
    for (const key of stages) expect(JSON.parse(outputs[key]!).include.length).toBeGreaterThan(0);
  });

  test("a stdout that cannot be written is a clear error, exit 2: a full device, a file open for reading only", () => {
    const cwd = scratchFolder("cli-");
    writeFileSync(join(cwd, "read-only.txt"), "");
    for (const redirect of ["> /dev/full", "1< read-only.txt"]) {
      for (const command of ["plan", "emit make"]) {
        const result = Bun.spawnSync(["bash", "-c", `"${process.execPath}" "${MAIN}" ${command} ${redirect}`], { cwd });
        expect(result.exitCode).toBe(2);
        expect(result.stderr.toString()).toMatch(/\nerror: cannot write to stdout: (ENOSPC|EBADF) .+\n$/);
      }
    }
  });
});

describe("errors", () => {
  test("a TOML syntax error: file:line:col, the line, a caret", () => {
    const cwd = scratchFolder("cli-");
    writeMatrix(join(cwd, "m.toml"), 'repository = "r.io/x"\n[axes.py]\npy37 = { V = 3.7 ]\n');
    const result = run(["plan", "--matrix", "m.toml"], cwd);
    expectCleanUsageError(result, "error: m.toml:3:18: invalid TOML");
    expect(result.stderr).toContain("  3 | py37 = { V = 3.7 ]\n    |                  ^");
  });

  test("all semantic problems at once, with lines and hints, and a count", () => {
    const cwd = scratchFolder("cli-");
    writeMatrix(join(cwd, "m.toml"), 'repository = "r.io/x"\n[axes.py]\npy37 = {}\n[images.a]\ntag = "a-{py}"\nmatrix = ["py"]\nfrom = "nope"\n[images.b]\ntagg = "b"\n');
    const result = run(["plan", "--matrix", "m.toml"], cwd);
    expectCleanUsageError(result, 'error: m.toml:7:1: images.a.from: no image family named "nope"');
    expect(result.stderr).toContain('error: m.toml:8:1: images.b: family "b" has no `tag`\n  hint: add tag = "b"');
    expect(result.stderr).toContain('error: m.toml:9:1: images.b.tagg: unknown key "tagg" here\n  hint: did you mean "tag"?');
    expect(result.stderr).toContain("3 problems");
  });

  test("unknown commands, emitters, options and flags", () => {
    expectCleanUsageError(run(["plna"]), 'error: unknown command "plna"');
    expectCleanUsageError(run(["emit", "cloudbiuld"]), 'error: unknown emitter "cloudbiuld"\n  hint: did you mean "cloudbuild"?');
    expectCleanUsageError(run(["plan", "--bogus"]), "error: Unknown option `--bogus`");
    expectCleanUsageError(run(["emit", "cloudbuild", "--option", "timout=10s"]), 'error: --option timout: emitter "cloudbuild" has no option "timout"\n  hint: did you mean "timeout"?');
    expectCleanUsageError(run(["emit", "cloudbuild", "--option", "timeout=90000s"]), "Cloud Build allows at most 86400s (24 hours)");
    expectCleanUsageError(run(["emit", "cloudbuild", "--base-url", "gcr.io/Bad:tag"]), 'error: --base-url "gcr.io/Bad:tag"');
  });

  test("an emitter option in the matrix is checked and located", () => {
    const cwd = scratchFolder("cli-");
    writeMatrix(join(cwd, "m.toml"), 'repository = "r.io/x"\n[images.a]\ntag = "a"\n[emit.cloudbuild]\ntimeout = 3600\n');
    expectCleanUsageError(run(["emit", "cloudbuild", "--matrix", "m.toml"], cwd), 'error: m.toml:5:1: emit.cloudbuild.timeout: option "timeout" of emitter "cloudbuild": expected a string, found 3600');
  });
});

describe("import", () => {
  test.skipIf(!REFS)("(needs ../shared/refs/caliban) writes a matrix that plans; -o writes it to a file", () => {
    const result = run(["import", join(REFS, "2020-08", "cloudbuild_config.json")]);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('[images.gpu-base]\ndockerfile = "dockerfiles/Dockerfile.gpu"');
    expect(result.stderr).toContain("cuda110 not used by any image; left out");
    const cwd = scratchFolder("cli-");
    expect(run(["import", join(REFS, "2020-06", "cloudbuild_config.json"), "-o", "matrix.toml"], cwd).code).toBe(0);
    // A matrix imported into a project with Caliban's Dockerfiles plans there.
    expect(run(["plan", "--json"], cwd).stderr).toContain('the dockerfile "dockerfiles/Dockerfile.gpu" is not there');
    mkdirSync(join(cwd, "dockerfiles"));
    for (const name of ["Dockerfile", "Dockerfile.gpu"]) writeFileSync(join(cwd, "dockerfiles", name), readFileSync(join(import.meta.dir, "..", "dockerfiles", name)));
    const planned = run(["plan", "--json"], cwd);
    expect(JSON.parse(planned.stdout).images).toHaveLength(8);
  });

  test("a file that is not JSON, or a config the old generator would refuse", () => {
    const cwd = scratchFolder("cli-");
    writeFileSync(join(cwd, "bad.json"), "{ nope");
    expectCleanUsageError(run(["import", "bad.json"], cwd), "error: bad.json: invalid JSON");
    writeFileSync(join(cwd, "refused.json"), '{"python_versions": {}, "gpu_versions": {}, "images": [{"python": "py37"}]}');
    expectCleanUsageError(run(["import", "refused.json"], cwd), 'error: refused.json: images[0].python: "py37" is not in python_versions');
  });
});

describe("help and version", () => {
  test("--help for the program and each command; emit NAME --help lists options with defaults", () => {
    expect(run(["--help"]).stdout).toContain("emit [emitter]");
    expect(run(["plan", "--help"]).stdout).toContain("--json");
    const emitHelp = run(["emit", "cloudbuild", "--help"]);
    expect(emitHelp.code).toBe(0);
    // Names are padded to the longest; the rest of the line is as written.
    expect(emitHelp.stdout).toMatch(/\n {2}timeout +<string> {2}timeout of each build, in seconds with an 's' \(at most 86400s\) \(default: "86400s"\)\n/);
    expect(run(["emitters"]).stdout).toContain("cloudbuild");
  });

  test("--version prints the name and the version alone, anywhere on the line; no command prints the help to stderr, exit 2", () => {
    const version = JSON.parse(readFileSync(join(REPO_ROOT, "package.json"), "utf8")).version;
    for (const args of [["--version"], ["-v"], ["plan", "--version"]]) expect(run(args)).toMatchObject({ code: 0, stdout: `caliban-images ${version}\n` });
    const bare = run([]);
    expect(bare.code).toBe(2);
    expect(bare.stdout).toBe("");
    expect(bare.stderr).toContain("Usage:");
  });
});

describe("a repository that is not one, said plainly", () => {
  test("a URL scheme is named, with the repository to write; a registry with no path is refused, in the matrix and in --base-url", async () => {
    const messages = async (repository: string) => (await problemsOf(`repository = "${repository}"\n[images.a]\ntag = "a"\n`)).map((d) => d.message);
    expect(await messages("https://ghcr.io/x")).toEqual(['"https://ghcr.io/x" names a URL scheme (https://): a repository is the registry host and path alone, e.g. "ghcr.io/x"']);
    expect((await messages("ghcr.io"))[0]).toStartWith('"ghcr.io" is a registry host with no repository path: its images would be ghcr.io:TAG');
    expect((await messages("localhost:5000"))[0]).toContain("no repository path");
    const baseUrl = run(["plan", "--base-url", "gcr.io"]);
    expect(baseUrl.code).toBe(2);
    expect(baseUrl.stderr).toContain('error: --base-url "gcr.io" is a registry host with no repository path');
    // A Docker Hub name with no host is still a repository.
    expect(run(["plan", "--base-url", "myimages"]).code).toBe(0);
  });
});

test("docs/publishing.md's complete example is the publish-example fixture's matrix, word for word (its outputs are golden files, checked by their consumers)", () => {
  const page = readFileSync(join(REPO_ROOT, "docs/publishing.md"), "utf8");
  const matrix = readFileSync(join(REPO_ROOT, "fixtures/publish-example/matrix.toml"), "utf8");
  expect(page).toContain("```toml\n" + matrix + "```");
});

test("emit github -o FILE: the workflow's paths filter names FILE, relative to the repository's root, from any folder", () => {
  const root = scratchFolder("own-path-");
  Bun.spawnSync(["git", "init", "-q"], { cwd: root });
  mkdirSync(join(root, "ci"));
  writeMatrix(join(root, "matrix.toml"), 'repository = "r.io/x"\n[images.a]\ntag = "a"\n');
  const fromSubfolder = run(["emit", "github", "-o", "../.github/workflows/b.yml"], join(root, "ci"));
  expect(fromSubfolder.code).toBe(0);
  const workflow = readFileSync(join(root, ".github/workflows/b.yml"), "utf8");
  expect(workflow).toContain("- .github/workflows/b.yml");
  expect(workflow).not.toContain("build-images.yml");
  // An output option says otherwise: it wins.
  expect(run(["emit", "github", "-o", "w.yml", "--option", "output=x/y.yml"], root).code).toBe(0);
  expect(readFileSync(join(root, "w.yml"), "utf8")).toContain("- x/y.yml");
});
