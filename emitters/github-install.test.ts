// The emitted workflow's install step, run as GitHub runs it (bash -e, RUNNER_TEMP,
// GITHUB_PATH) against a release served on loopback with scripts/release.ts's names and
// SHA256SUMS: it installs the runner's binary, and refuses one that does not match, a
// SHA256SUMS that does not match its pin, and a release that is not there.

import { afterAll, expect, test } from "bun:test";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parse as parseYaml } from "yaml";
import packageJson from "../package.json" with { type: "json" };
import { checksums } from "../scripts/release.ts";
import { actionlint } from "../scripts/validators/actionlint.ts";
import { installStep, RELEASES_URL, type InstallOptions } from "./github-install.ts";
import { runEmitter } from "./run.ts";
import { planText } from "../fixtures/test-helpers.ts";
import { github } from "./github.ts";
import { ACTIONS } from "./github-actions.ts";
import { scratchFolder } from "../scripts/validators/scratch.ts";

/** An action as YAML reads the `uses:` line: the pinned reference, its version comment gone. */
const uses = (action: string) => action.split(" ")[0]!;

const release = scratchFolder("release-");
const binary = "#!/bin/sh\necho 'caliban-images 9.9.9'\n";
const arch = process.arch === "arm64" ? "linux-arm64" : "linux-x64";
writeFileSync(join(release, `caliban-images-${arch}`), binary);
writeFileSync(join(release, "caliban-images-darwin-arm64"), "another platform's\n");
writeFileSync(join(release, "SHA256SUMS"), checksums(release, [`caliban-images-${arch}`, "caliban-images-darwin-arm64"]));
const sumsDigest = () => new Bun.CryptoHasher("sha256").update(readFileSync(join(release, "SHA256SUMS"))).digest("hex");

const server = Bun.serve({
  port: 0,
  hostname: "127.0.0.1",
  fetch(request) {
    const path = new URL(request.url).pathname;
    const prefix = "/releases/download/v9.9.9/";
    if (!path.startsWith(prefix)) return new Response("not found", { status: 404 });
    const file = Bun.file(join(release, path.slice(prefix.length)));
    return file.size > 0 ? new Response(file) : new Response("not found", { status: 404 });
  },
});
afterAll(() => server.stop(true));

const options = (more: Partial<InstallOptions> = {}): InstallOptions => ({
  "install-command": "",
  "cosign-install-command": "",
  "caliban-images-version": "9.9.9",
  "release-url": `http://127.0.0.1:${server.port}/releases/download`,
  "release-sha256sums": "",
  ...more,
});

/** The step's `run`, read from YAML as GitHub reads it, run by bash -e as GitHub runs it. */
async function runStep(step: InstallOptions): Promise<{ code: number; output: string; path: string }> {
  const yaml = `steps:\n${installStep(step).map((line) => `  ${line}`).join("\n")}\n`;
  const script = (parseYaml(yaml) as { steps: { run: string }[] }).steps[0]!.run;
  const runnerTemp = scratchFolder("runner-");
  const githubPath = join(runnerTemp, "github_path");
  writeFileSync(githubPath, "");
  const proc = Bun.spawn(["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", script], { env: { ...process.env, RUNNER_TEMP: runnerTemp, GITHUB_PATH: githubPath }, stdout: "pipe", stderr: "pipe" });
  const [code, out, err] = await Promise.all([proc.exited, new Response(proc.stdout).text(), new Response(proc.stderr).text()]);
  return { code, output: out + err, path: readFileSync(githubPath, "utf8") };
}

test("it installs the runner's binary of the pinned release, on the PATH the next steps get", async () => {
  for (const pin of ["", sumsDigest()]) {
    const result = await runStep(options({ "release-sha256sums": pin }));
    expect(result.output).not.toContain("FAILED");
    expect(result.code).toBe(0);
    const directory = result.path.trim();
    const installed = Bun.spawnSync([join(directory, "caliban-images"), "--version"]);
    expect(installed.stdout.toString()).toBe("caliban-images 9.9.9\n");
  }
});

test("a binary that is not the one SHA256SUMS names, a SHA256SUMS that is not the pinned one, a missing release: the step fails", async () => {
  const pinned = sumsDigest();
  writeFileSync(join(release, `caliban-images-${arch}`), `${binary}# changed\n`);
  const tampered = await runStep(options());
  expect(tampered.code).not.toBe(0);
  expect(tampered.output).toContain("FAILED");
  expect(tampered.path).toBe("");
  // Whoever replaced the binary replaced SHA256SUMS too: only the pin catches it.
  writeFileSync(join(release, "SHA256SUMS"), checksums(release, [`caliban-images-${arch}`, "caliban-images-darwin-arm64"]));
  expect((await runStep(options())).code).toBe(0);
  const caught = await runStep(options({ "release-sha256sums": pinned }));
  expect(caught.code).not.toBe(0);
  expect(caught.output).toContain("SHA256SUMS: FAILED");
  const missing = await runStep(options({ "caliban-images-version": "1.0.0" }));
  expect(missing.code).not.toBe(0);
  expect(missing.path).toBe("");
  writeFileSync(join(release, `caliban-images-${arch}`), binary);
  writeFileSync(join(release, "SHA256SUMS"), checksums(release, [`caliban-images-${arch}`, "caliban-images-darwin-arm64"]));
});

test("by default it is this version, from this project's releases; options are checked, install-command replaces the step", async () => {
  const { graph } = await planText('repository = "ghcr.io/o/i"\n[publish]\nschedule = "0 4 * * 1"\n[images.a]\ntag = "a"\n');
  const locked = { ...graph, lock: { file: "m.lock", unlocked: [] } };
  const workflow = (commandLine: string[]) => runEmitter(github, locked, { matrixFile: "m.toml", fromCommandLine: commandLine })[0]!.contents as string;
  const text = workflow([]);
  expect(await actionlint(text, "images.yml")).toEqual([]);
  const step = parseYaml(text).jobs["update-lock"].steps[1];
  expect(step.name).toBe(`Install caliban-images ${packageJson.version}`);
  expect(step.run).toStartWith(`base='${RELEASES_URL}/v${packageJson.version}'\n`);
  expect(RELEASES_URL).toBe("https://github.com/caliban-images/caliban-images/releases/download");
  expect(() => workflow(["caliban-images-version=latest"])).toThrow('"latest" is not a version');
  expect(() => workflow(["release-sha256sums=abc"])).toThrow("must be 64 lowercase hex digits");
  expect(() => workflow(["release-url=https://x/${{ secrets.A }}"])).toThrow("which GitHub would evaluate here");
  const own = parseYaml(workflow(["install-command=pip install caliban-images"])).jobs["update-lock"].steps[1];
  expect(own).toEqual({ name: "Install caliban-images", run: "pip install caliban-images" });
});

test("check-outputs (on with [outputs]): a job that installs caliban-images and runs check, which fails the run when an output is stale; the generated files trigger the workflow", async () => {
  const { MAIN, runCli: run } = await import("../fixtures/test-helpers.ts");
  const root = scratchFolder("check-job-");
  expect(Bun.spawnSync(["git", "init", "-q"], { cwd: root }).exitCode).toBe(0);
  expect(run(["init", "--ci", "github,make"], root).code).toBe(0);
  // init's matrix lists [outputs]: the job is there by default, and its files are in the path filters.
  const emitted = run(["emit", "github"], root).stdout;
  expect(await actionlint(emitted, "build-images.yml")).toEqual([]);
  expect(parseYaml(emitted).on.push.paths).toEqual(expect.arrayContaining(["Makefile", ".github/workflows/build-images.yml"]));
  const job = parseYaml(emitted).jobs["check-outputs"];
  expect(job.if).toBe("github.event_name != 'schedule'");
  expect(job.permissions).toEqual({ contents: "read" });
  expect(job.steps.map((step: { name?: string; uses?: string }) => step.name ?? step.uses)).toEqual([uses(ACTIONS.checkout), `Install caliban-images ${packageJson.version}`, "caliban-images check"]);
  expect(parseYaml(run(["emit", "github", "--option", "check-outputs=false"], root).stdout).jobs["check-outputs"]).toBeUndefined();
  // The check step, run by bash in the checkout, with caliban-images on the PATH.
  const bin = scratchFolder("bin-");
  writeFileSync(join(bin, "caliban-images"), `#!/bin/sh\nexec "${process.execPath}" "${MAIN}" "$@"\n`, { mode: 0o755 });
  const check = () => Bun.spawnSync(["bash", "-eo", "pipefail", "-c", job.steps[2].run], { cwd: root, env: { ...process.env, ...job.env, PATH: `${bin}:${process.env.PATH}` } });
  expect(check().exitCode).toBe(0);
  writeFileSync(join(root, "matrix.toml"), readFileSync(join(root, "matrix.toml"), "utf8").replace('py312 = { PYTHON_VERSION = "3.12"', 'py313 = { PYTHON_VERSION = "3.13"'));
  const stale = check();
  expect(stale.exitCode).toBe(3);
  expect(stale.stdout.toString()).toContain("stale    Makefile");
});
