// The values of [vars] a pipeline was emitted with reach the caliban-images it runs, as
// its consumer hands them over: the workflow's run steps by bash, each env value as
// GitHub's evaluator gives it; Cloud Build's resolve step after its substitutions; the
// Makefile's $(shell ...) by make; bake's `resolve --for`. Each runs this checkout's
// CLI, which plans with those values and accepts the file; with other values it calls
// the file stale. fixtures/variables: a hostile value, emitted with --var (its `vars`).

import { describe, expect, test } from "bun:test";
import { chmodSync, cpSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parse as parseYaml } from "yaml";
import { emitLoaded } from "../cli/emit.ts";
import { fixtureCases, fixtureVariables, loadFixture, REPO_ROOT } from "../fixtures/golden.ts";
import { builtin, MAIN, runCli } from "../fixtures/test-helpers.ts";
import { jobEnv, substitute } from "../scripts/validators/readback.ts";
import { hasMake } from "../scripts/validators/tools.ts";
import { actionlint } from "../scripts/validators/actionlint.ts";
import { emittedText } from "./contract.ts";
import { loadMatrix, planLoaded } from "../core/load.ts";
import { WorkingTree } from "../cli/working-tree.ts";
import { makeVarLines, varsIn } from "./pipeline-variables.ts";
import { scratchFolder } from "../scripts/validators/scratch.ts";

const fixture = fixtureCases().find((f) => f.name === "variables")!;
const { loaded, graph } = await loadFixture(fixture);
const given = fixtureVariables(fixture);
const emitted = (name: string, options: string[] = []) => emittedText(emitLoaded(builtin(name), loaded, graph, options)[0]!);

/** A copy of the fixture's folder: a project whose matrix, Dockerfiles and contexts resolve reads. */
function project(): string {
  const root = scratchFolder("variables-");
  cpSync(join(REPO_ROOT, "fixtures", "variables"), root, { recursive: true });
  return root;
}

/**
 * A `caliban-images` on PATH that records each call's arguments, then runs this checkout's
 * CLI (but for `--registry`, which would ask a real registry: it answers nothing there).
 */
function recordingCli(run = true): { bin: string; calls: () => string[][] } {
  const bin = scratchFolder("caliban-bin-");
  const log = join(bin, "calls");
  writeFileSync(log, "");
  writeFileSync(
    join(bin, "caliban-images"),
    `#!/bin/sh\nprintf '%s\\037' "$@" >> ${JSON.stringify(log)}\nprintf '\\036' >> ${JSON.stringify(log)}\n${run ? `for arg in "$@"; do [ "$arg" = --registry ] && exit 0; done\nexec ${JSON.stringify(process.execPath)} ${JSON.stringify(MAIN)} "$@"\n` : ""}`,
  );
  chmodSync(join(bin, "caliban-images"), 0o755);
  return { bin, calls: () => readFileSync(log, "utf8").split("\x1e").filter(Boolean).map((call) => call.split("\x1f").slice(0, -1)) };
}

/** The `--var NAME=VALUE` pairs of a call. */
function varsOf(call: readonly string[]): Map<string, string> {
  const pairs = call.flatMap((arg, i) => (call[i - 1] === "--var" ? [arg] : []));
  return new Map(pairs.map((pair) => [pair.slice(0, pair.indexOf("=")), pair.slice(pair.indexOf("=") + 1)]));
}

test("the fixture is emitted with --var values: a hostile one among them, and a variable left at its default", () => {
  expect([...given.keys()]).toEqual(["TAG_PREFIX", "PIP_INDEX"]);
  expect(given.get("PIP_INDEX")).toContain("${{ github.token }}");
  expect(loaded.matrix.variables.map((v) => [v.name, v.set])).toEqual([["TAG_PREFIX", true], ["PIP_INDEX", true], ["DISTRO", false]]);
});

test("github: every run step that runs caliban-images (both resolve jobs), by bash with the job's env as GitHub evaluates it, passes the values; resolve accepts the workflow", () => {
  const workflow = parseYaml(emitted("github")) as { jobs: Record<string, { env?: Record<string, string>; steps: { run?: string }[] }> };
  const cli = recordingCli();
  const outputs = join(cli.bin, "github-output");
  let steps = 0;
  for (const [name, job] of Object.entries(workflow.jobs)) {
    for (const step of job.steps ?? []) {
      if (step.run === undefined || !/caliban-images (resolve|check|lock) /.test(step.run)) continue;
      steps++;
      const env = { ...process.env, ...jobEnv(job.env, {}, undefined), PATH: `${cli.bin}:${process.env.PATH}`, GITHUB_OUTPUT: outputs, GITHUB_EVENT_NAME: name === "pr_resolve" ? "pull_request" : "push", GITHUB_REF: "refs/heads/main" };
      const ran = Bun.spawnSync(["bash", "-e", "-c", step.run], { cwd: REPO_ROOT, env });
      expect({ job: name, code: ran.exitCode, stderr: ran.exitCode === 0 ? "" : ran.stderr.toString() }).toEqual({ job: name, code: 0, stderr: "" });
    }
  }
  // resolve and pr_resolve: the check and the registry's question each.
  expect(steps).toBe(4);
  expect(cli.calls().length).toBe(4);
  for (const call of cli.calls()) expect(varsOf(call)).toEqual(given);
  expect(readFileSync(outputs, "utf8")).toContain("publish=true\n");
});

test("github: the check-outputs and update-lock jobs pass the values on too (check compares with what emit --all wrote with them; lock writes [outputs] again with them)", async () => {
  const toml = `${readFileSync(join(REPO_ROOT, fixture.matrix), "utf8")}\n[outputs]\ngithub = ".github/workflows/build-images.yml"\n\n[publish]\nschedule = "0 4 * * 1"\n`;
  const withOutputs = await loadMatrix(toml, fixture.matrix, { values: given });
  const locked = { ...planLoaded(withOutputs, { sources: new WorkingTree(join(REPO_ROOT, "fixtures", "variables")) }), lock: { file: "matrix.lock", unlocked: [] } };
  const text = emittedText(emitLoaded(builtin("github"), withOutputs, locked, ["install-command=true"], fixture.matrix)[0]!);
  expect(await actionlint(text, "build-images.yml")).toEqual([]);
  const workflow = parseYaml(text) as { jobs: Record<string, { env?: Record<string, string>; steps: { run?: string }[] }> };
  const cli = recordingCli(false);
  for (const name of ["check-outputs", "update-lock"]) {
    const job = workflow.jobs[name]!;
    const step = job.steps.find((s) => s.run !== undefined && /^caliban-images (check|lock) /.test(s.run))!;
    const ran = Bun.spawnSync(["bash", "-e", "-c", step.run!], { cwd: REPO_ROOT, env: { ...process.env, ...jobEnv(job.env, {}, undefined), PATH: `${cli.bin}:${process.env.PATH}` } });
    expect(ran.exitCode).toBe(0);
  }
  expect(cli.calls().map((call) => [call[0], varsOf(call)])).toEqual([["check", given], ["lock", given]]);
});

test("cloudbuild: the resolve step, after Cloud Build's substitutions, run by bash in the build's folder, passes the values; resolve accepts the config and leaves every digest, and the step its functions", () => {
  const config = JSON.parse(emitted("cloudbuild", ["install-command=true"])) as { steps: { id: string; args: string[] }[] };
  const step = config.steps.find((s) => s.id === "resolve")!;
  const cli = recordingCli();
  const home = scratchFolder("builder-home-");
  const ran = Bun.spawnSync(["bash", "-c", substitute(step.args[1]!, {})], { cwd: project(), env: { ...process.env, HOME: home, PATH: `${cli.bin}:${process.env.PATH}` } });
  expect({ code: ran.exitCode, stderr: ran.exitCode === 0 ? "" : ran.stderr.toString() }).toEqual({ code: 0, stderr: "" });
  expect(cli.calls().map(varsOf)).toEqual([given]);
  expect(readFileSync(join(home, ".caliban-images", "resolved"), "utf8").split("\n").filter(Boolean).map((line) => line.split(" ")[0])).toEqual(graph.images.map((image) => image.id));
  // ...and the functions every other step sources.
  const defined = Bun.spawnSync(["bash", "-c", '. "$HOME/.caliban-images/functions.sh" && declare -F'], { env: { ...process.env, HOME: home } });
  expect(defined.stdout.toString().split("\n").filter(Boolean)).toEqual(["declare -f inputs_of", "declare -f registry_has", "declare -f retry"]);
});

describe.skipIf(!hasMake)("make", () => {
  test("make's $(shell) hands resolve the values: it accepts the Makefile, and make goes on", () => {
    const root = project();
    writeFileSync(join(root, "Makefile"), emitted("make"));
    const cli = recordingCli();
    const made = Bun.spawnSync(["make", "-n", "all", "DOCKER=docker"], { cwd: root, env: { ...process.env, PATH: `${cli.bin}:${process.env.PATH}` } });
    // resolve's own word on stderr, which matrix it read; no error.
    expect({ code: made.exitCode, stderr: made.stderr.toString() }).toEqual({ code: 0, stderr: "using matrix matrix.toml\n" });
    expect(cli.calls().map(varsOf)).toEqual([given]);
    expect(made.stdout.toString()).toContain("nightly-3.11");
  });

  test("make NAME=VALUE of a variable of the matrix is refused, a given one or one at its default: the file fixed them", () => {
    const root = project();
    writeFileSync(join(root, "Makefile"), emitted("make"));
    for (const name of ["TAG_PREFIX", "DISTRO"]) {
      const made = Bun.spawnSync(["make", "-n", "all", `${name}=other`], { cwd: root });
      expect(made.exitCode).toBe(2);
      expect(made.stderr.toString()).toContain(`${name} is a variable of the matrix: its value is fixed when this Makefile is emitted. Run caliban-images emit make --var ${name}=VALUE`);
    }
    // From the environment, a variable of the same name changes nothing and stops nothing.
    const cli = recordingCli();
    const environment = Bun.spawnSync(["make", "-n", "all"], { cwd: root, env: { ...process.env, TAG_PREFIX: "other", PATH: `${cli.bin}:${process.env.PATH}` } });
    expect(environment.exitCode).toBe(0);
  });
});

test("make's guard leaves alone a variable named like one the Makefile or make reads itself: make DOCKER=podman stays the user's", () => {
  const lines = makeVarLines([{ name: "DOCKER", value: "docker", set: false }, { name: "MAKEFLAGS", value: "", set: false }, { name: "TAG_PREFIX", value: "", set: true }]);
  expect(lines.at(-1)).toStartWith("$(foreach name,TAG_PREFIX,");
  expect(makeVarLines([{ name: "REPOSITORY", value: "r", set: false }]).some((line) => line.startsWith("$(foreach"))).toBe(false);
});

test("bake: the file names its values; `resolve --for docker-bake.hcl` plans with them and accepts it, a --var of the command line replaces one", () => {
  const root = project();
  const text = emitted("bake");
  writeFileSync(join(root, "docker-bake.hcl"), text);
  expect(varsIn(text)).toEqual(given);
  const resolved = runCli(["resolve", "--for", "docker-bake.hcl", "--format", "bake"], root);
  expect({ code: resolved.code, stderr: resolved.code === 0 ? "" : resolved.stderr }).toEqual({ code: 0, stderr: "" });
  expect(Object.keys(JSON.parse(resolved.stdout))).toEqual(graph.images.map((image) => image.id));
  const other = runCli(["resolve", "--for", "docker-bake.hcl", "--var", "TAG_PREFIX=weekly-", "--format", "bake"], root);
  expect(other.code).toBe(3);
  expect(other.stderr).toContain("error: docker-bake.hcl is stale for matrix.toml");
});

test("resolve with the values the file was emitted with accepts it; with other values, or none, it says stale (exit 3)", () => {
  const root = project();
  const shape = /--shape ([0-9a-f]{64})/.exec(emitted("make"))![1]!;
  const flags = [...given].flatMap(([name, value]) => ["--var", `${name}=${value}`]);
  const resolve = (...more: string[]) => runCli(["resolve", "--shape", shape, "--for", "Makefile", "--format", "lines", ...more], root);
  expect(resolve(...flags).code).toBe(0);
  for (const changed of [[], ["--var", "TAG_PREFIX=nightly-"], [...flags.slice(0, 1), "TAG_PREFIX=weekly-", ...flags.slice(2)], [...flags, "--var", "DISTRO=24.04"]]) {
    const stale = resolve(...changed);
    expect(stale.code).toBe(3);
    expect(stale.stderr).toContain("error: Makefile is stale for matrix.toml");
  }
});

test("a matrix with [vars] emitted without --var: its pipelines pass no value on (the defaults are the matrix's), and resolve without --var accepts them", async () => {
  const plain = await loadMatrix(readFileSync(join(REPO_ROOT, fixture.matrix), "utf8"), fixture.matrix);
  const plainGraph = planLoaded(plain, { sources: new WorkingTree(join(REPO_ROOT, "fixtures", "variables")) });
  const text = (name: string) => emittedText(emitLoaded(builtin(name), plain, plainGraph)[0]!);
  const workflow = text("github");
  for (const name of ["github", "cloudbuild", "make", "bake"]) expect(text(name)).not.toMatch(/--var ['"]|VAR_|MATRIX_VARS|caliban-images var:/);
  // The Makefile still says its variables are fixed, and refuses make NAME=VALUE.
  expect(text("make")).toContain("# The matrix's [vars] are fixed when this file is emitted (their defaults):");
  const shape = /--shape ([0-9a-f]{64})/.exec(workflow)![1]!;
  expect(shape).not.toBe(/--shape ([0-9a-f]{64})/.exec(emitted("github"))![1]);
  expect(runCli(["resolve", "--shape", shape, "--format", "lines"], project()).code).toBe(0);
});
