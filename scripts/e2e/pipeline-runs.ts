// What the end-to-end checks share for issue 27's proof: a registry on loopback that can
// be stopped and started again, the (a)-(d) scenario run through the Makefile with a
// real engine, and a check that a tag and a content tag name the same image.

import { expect } from "bun:test";
import { appendFileSync, copyFileSync, cpSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { WorkingTree } from "../../cli/working-tree.ts";
import { loadMatrix, planLoaded } from "../../core/load.ts";
import { fixtureCases, loadFixture, REPO_ROOT } from "../../fixtures/golden.ts";
import { CLI_FOR_MAKE, MAIN, runCli } from "../../fixtures/test-helpers.ts";
import { planView } from "../validators/readback.ts";

/** The chain as planned in a working copy (its files digested there). */
export async function plannedIn(directory: string) {
  const loaded = await loadMatrix(readFileSync(join(directory, "matrix.toml"), "utf8"), "matrix.toml");
  return planLoaded(loaded, { sources: new WorkingTree(directory) });
}

/**
 * A docker-registry on a free loopback port, its storage in `root`: stopped and started again on the same port and storage.
 * `deletion`: it deletes manifests (`DELETE /v2/NAME/manifests/DIGEST`; off by default, as docker-registry ships).
 */
export async function loopbackRegistry(root: string, options: { readonly deletion?: boolean } = {}): Promise<{ port: number; stop(): Promise<void>; start(): Promise<void> }> {
  const probe = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
  const port = probe.port;
  probe.stop(true);
  mkdirSync(root, { recursive: true });
  const deletion = options.deletion ? "  delete:\n    enabled: true\n" : "";
  writeFileSync(join(root, "registry.yml"), `version: 0.1\nlog:\n  level: error\nstorage:\n  filesystem:\n    rootdirectory: ${join(root, "storage")}\n${deletion}http:\n  addr: 127.0.0.1:${port}\n`);
  let process: ReturnType<typeof Bun.spawn> | undefined;
  const registry = {
    port,
    async start() {
      process = Bun.spawn(["docker-registry", "serve", join(root, "registry.yml")], { stdout: "ignore", stderr: "ignore" });
      for (let attempt = 0; attempt < 100; attempt++) {
        if (await fetch(`http://127.0.0.1:${port}/v2/`).then((r) => r.ok).catch(() => false)) return;
        await Bun.sleep(100);
      }
      throw new Error("docker-registry did not start");
    },
    async stop() {
      process?.kill();
      await process?.exited;
      process = undefined;
    },
  };
  await registry.start();
  return registry;
}

/** What one run of a pipeline did: its exit status and messages, the images it built (by tag) and how many pushes it made. */
export interface PipelineRun {
  readonly exit: number;
  readonly stderr: string;
  readonly built: readonly string[];
  readonly pushes: number;
}

/** The chain fixture (three families in a chain and an independent one) in a new git repository, busybox in its context: its git. */
export function chainRepository(work: string): (...args: string[]) => void {
  return fixtureRepository(work, "chain-build");
}

/** A fixture's files (not its goldens) in a new git repository on `main`, busybox in its docker/ for the Dockerfiles to COPY; returns git in it. */
export function fixtureRepository(work: string, fixture: string): (...args: string[]) => void {
  mkdirSync(work, { recursive: true });
  const git = (...args: string[]) => {
    const run = Bun.spawnSync(["git", "-c", "user.name=e2e", "-c", "user.email=e2e@example.com", "-c", "commit.gpgsign=false", ...args], { cwd: work });
    if (run.exitCode !== 0) throw new Error(`git ${args.join(" ")}: ${run.stderr.toString()}`);
  };
  git("init", "-q", "-b", "main");
  cpSync(join(REPO_ROOT, "fixtures", fixture), work, { recursive: true });
  rmSync(join(work, "expected"), { recursive: true });
  copyFileSync("/bin/busybox", join(work, "docker/busybox"));
  return git;
}

/**
 * A shim for an engine's CLI that records its build and push calls in `calls`, one line each.
 * The test engine has no bridge network (scripts/e2e/docker-engine.ts): a container a
 * pipeline runs (a smoke test, `docker run --rm IMAGE sh -c TEST`) is given none.
 */
export function recordingShim(path: string, real: string, calls: string): void {
  writeFileSync(path, `#!/bin/sh\ncase "$1" in build|push) printf '%s\\n' "$*" >> ${JSON.stringify(calls)};; run) shift; set -- run --network=none "$@";; esac\nexec ${JSON.stringify(real)} "$@"\n`, { mode: 0o755 });
}

/** `caliban-images` as a pipeline finds it on its PATH: this checkout's CLI. */
export function cliShim(path: string): void {
  writeFileSync(path, `#!/bin/sh\nexec ${JSON.stringify(process.execPath)} ${JSON.stringify(MAIN)} "$@"\n`, { mode: 0o755 });
}

/** The images the recorded calls built (each build's first -t is its own tag) and the number of pushes. */
export function recorded(calls: string): { built: string[]; pushes: number } {
  const logged = readFileSync(calls, "utf8").split("\n").filter(Boolean);
  const built = logged.filter((line) => line.startsWith("build")).map((line) => /-t '?[^ ']*:([^ ']+)/.exec(line.replace(/'/g, ""))![1]!).sort();
  return { built, pushes: logged.filter((line) => line.startsWith("push")).length };
}

/**
 * Issue 27, (a) to (d), through one pipeline on the chain repository `work`, its files
 * emitted once and committed by the caller:
 *   (a) the middle family's Dockerfile edited and committed, nothing emitted again:
 *       exactly the affected images are built;
 *   (c) the registry stopped: the pipeline stops, nothing built, nothing pushed (`unreachable`
 *       checks its message); back, the edit builds what it affects;
 *   (b) an axis value added, nothing emitted again: the pipeline stops before building
 *       (`stale` checks its message); emitted again (`emitAgain`), the new images, and only they;
 *   (d) nothing changed: nothing built (at the start and the end).
 * Then the registry has every image under its tag and its content tag, the tag naming
 * the content tag's image.
 */
export async function throughTheFourCases(options: {
  readonly work: string;
  readonly git: (...args: string[]) => void;
  readonly registry: { readonly port: number; stop(): Promise<void>; start(): Promise<void> };
  readonly repository: string;
  readonly run: () => PipelineRun;
  readonly emitAgain: () => void;
  readonly unreachable: (run: PipelineRun) => void;
  readonly stale: (run: PipelineRun) => void;
  /** More checks after (a), with what it built. */
  readonly afterEdit?: (built: readonly string[]) => void;
}): Promise<void> {
  const { work, git, registry, run } = options;
  const { graph } = await loadFixture(fixtureCases().find((f) => f.name === "chain-build")!);
  const tags = (...families: string[]) => graph.images.filter((image) => families.includes(image.family)).map((image) => image.tag).sort();
  const ok = (result: PipelineRun) => expect({ exit: result.exit, stderr: result.exit === 0 ? "" : result.stderr }).toEqual({ exit: 0, stderr: "" });
  const nothing = (result: PipelineRun) => expect({ built: result.built, pushes: result.pushes }).toEqual({ built: [], pushes: 0 });

  const first = run();
  ok(first);
  expect(first.built).toEqual(tags("cuda", "python", "torch", "cpu"));
  // (d) Nothing changed: nothing built.
  const again = run();
  ok(again);
  expect(again.built).toEqual([]);

  // (a) The middle family's Dockerfile, committed without emitting again.
  appendFileSync(join(work, "docker/python.Dockerfile"), "LABEL edited=yes\n");
  git("commit", "-q", "-am", "edit the python image");
  const edited = run();
  ok(edited);
  expect(edited.built).toEqual(tags("python", "torch"));
  options.afterEdit?.(edited.built);

  // (c) The registry goes away: the pipeline stops before any build or push, and says why.
  await registry.stop();
  appendFileSync(join(work, "docker/cuda.Dockerfile"), "LABEL edited=yes\n");
  git("commit", "-q", "-am", "edit the cuda image");
  const unreachable = run();
  expect(unreachable.exit).not.toBe(0);
  nothing(unreachable);
  options.unreachable(unreachable);
  // Back, the same edit builds what it affects, and nothing else.
  await registry.start();
  const back = run();
  ok(back);
  expect(back.built).toEqual(tags("cuda", "python", "torch"));

  // (b) An axis value added, nothing emitted again: stopped before building, the file named.
  writeFileSync(join(work, "matrix.toml"), readFileSync(join(work, "matrix.toml"), "utf8").replace('py311 = { PYTHON_VERSION = "3.11" }', 'py311 = { PYTHON_VERSION = "3.11" }\npy312 = { PYTHON_VERSION = "3.12" }'));
  git("commit", "-q", "-am", "python 3.12");
  const stale = run();
  expect(stale.exit).not.toBe(0);
  nothing(stale);
  options.stale(stale);
  // Emitted again: the new images, and only they.
  options.emitAgain();
  git("add", "-A");
  git("commit", "-q", "-m", "emit");
  const added = run();
  ok(added);
  expect(added.built).toEqual(["cpu-py312", "py-cuda11-py312", "py-cuda12-py312", "torch-cuda11-py312", "torch-cuda12-py312"]);
  // (d) again.
  const settled = run();
  ok(settled);
  expect(settled.built).toEqual([]);

  const repositoryPath = options.repository.slice(options.repository.indexOf("/") + 1);
  const final = planView(await plannedIn(work));
  for (const image of final.images) expect(await sameImage(registry.port, repositoryPath, image.reference.split(":")[1]!, image.content!.split(":")[1]!)).toBe(true);
}

/**
 * The four cases through the Makefile with one engine (podman or docker), wrapped to
 * record its build and push calls; the registry is real.
 */
export async function provesTheTree(
  engine: "podman" | "docker",
  real: string,
  work: string,
  setup: (registryPort: number) => { env: Record<string, string | undefined>; makeArgs: readonly string[] },
): Promise<void> {
  const registry = await loopbackRegistry(join(work, "..", `${engine}-registry`));
  const { env, makeArgs } = setup(registry.port);
  const git = chainRepository(work);
  expect(runCli(["emit", "make", "-o", "Makefile"], work).code).toBe(0);
  git("add", "-A");
  git("commit", "-q", "-m", "images");
  const shims = join(work, "..", `${engine}-shims`);
  mkdirSync(shims, { recursive: true });
  const calls = join(shims, "calls.log");
  recordingShim(join(shims, engine), real, calls);
  const repository = `127.0.0.1:${registry.port}/tree`;
  const make = (): PipelineRun => {
    writeFileSync(calls, "");
    const made = Bun.spawnSync(["make", "-j2", "push", `DOCKER=${join(shims, engine)}`, `REPOSITORY=${repository}`, CLI_FOR_MAKE, ...makeArgs], { cwd: work, env });
    return { exit: made.exitCode, stderr: made.stderr.toString(), ...recorded(calls) };
  };
  try {
    await throughTheFourCases({
      work,
      git,
      registry,
      repository,
      run: make,
      emitAgain: () => expect(runCli(["emit", "make", "-o", "Makefile"], work).code).toBe(0),
      unreachable: (run) => {
        expect(run.stderr).toContain(`cannot reach 127.0.0.1:${registry.port}`);
        expect(run.stderr).toContain("no image built: caliban-images resolve failed (resolve-status=4)");
      },
      stale: (run) => expect(run.stderr).toContain("error: Makefile is stale for matrix.toml: run caliban-images emit NAME -o Makefile"),
      afterEdit: (built) => {
        // affected --since agrees, and the Makefile is what emit writes still: the edit changed no output.
        const affected = runCli(["affected", "--since", "HEAD~1"], work).stdout.split("\n").filter(Boolean).map((reference) => reference.split(":")[1]!).sort();
        expect(affected).toEqual([...built]);
        expect(readFileSync(join(work, "Makefile"), "utf8")).toBe(runCli(["emit", "make"], work).stdout);
      },
    });
  } finally {
    await registry.stop();
  }
}

/**
 * Whether a tag names the image a content tag names: the same manifest, or (docker buildx
 * imagetools create, which points docker's tags) an index whose one manifest is it.
 */
export async function sameImage(port: number, repository: string, tag: string, content: string): Promise<boolean> {
  const accept = "application/vnd.oci.image.index.v1+json, application/vnd.docker.distribution.manifest.list.v2+json, application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json";
  const get = (reference: string) => fetch(`http://127.0.0.1:${port}/v2/${repository}/manifests/${reference}`, { headers: { accept } });
  const [own, target] = [await get(tag), await get(content)];
  if (!own.ok || !target.ok) return false;
  const ownDigest = own.headers.get("docker-content-digest");
  const targetDigest = target.headers.get("docker-content-digest");
  if (ownDigest === targetDigest) return true;
  const index = (await own.json()) as { manifests?: { digest: string }[] };
  const targetIndex = (await target.json()) as { manifests?: { digest: string }[] };
  const platforms = (manifest: { manifests?: { digest: string }[] }, digest: string | null) => (manifest.manifests ? manifest.manifests.map((m) => m.digest).sort() : [digest]);
  return JSON.stringify(platforms(index, ownDigest)) === JSON.stringify(platforms(targetIndex, targetDigest));
}

/**
 * After throughTheFourCases, on the chain: a pull request's (merge request's) build after
 * an edit builds and tests the affected images and pushes nothing; then a smoke test that
 * fails for python 3.11 only (the test engine has no bridge network: a RUN step has none):
 * those images are built and tested, never pushed, the torch images FROM them never start,
 * every other affected image is pushed, and the build fails. `run(true)` is a pull
 * request's build; `calls` is the recording shim's log.
 */
export function pullRequestThenFailingTest(options: PullRequestRuns): void {
  pullRequestPushesNothing(options);
  failingTestStopsDescendants(options);
}

export interface PullRequestRuns {
  readonly work: string;
  readonly git: (...args: string[]) => void;
  readonly emitAgain: () => void;
  readonly run: (pullRequest: boolean) => PipelineRun;
  readonly calls: string;
}

/** A merge request's pipeline after an edit: it builds the affected images and pushes nothing. */
export function pullRequestPushesNothing(options: PullRequestRuns): void {
  const { work, git, run } = options;
  appendFileSync(join(work, "docker/torch.Dockerfile"), "LABEL edited=yes\n");
  git("commit", "-q", "-am", "edit the torch image");
  const request = run(true);
  expect({ exit: request.exit, pushes: request.pushes }).toEqual({ exit: 0, pushes: 0 });
  expect(request.built).toEqual(["torch-cuda11-py310", "torch-cuda11-py311", "torch-cuda11-py312", "torch-cuda12-py310", "torch-cuda12-py311", "torch-cuda12-py312"]);
}

/** A smoke test that fails for one python: that image and those FROM it are not pushed, every other affected image is. */
export function failingTestStopsDescendants(options: PullRequestRuns): void {
  const { work, git, run } = options;
  appendFileSync(join(work, "docker/cuda.Dockerfile"), 'RUN --network=none ["/bin/busybox", "--install", "-s", "/bin"]\n');
  appendFileSync(join(work, "docker/python.Dockerfile"), 'RUN --network=none echo "$PYTHON_VERSION" > /python-version\n');
  const matrix = readFileSync(join(work, "matrix.toml"), "utf8");
  writeFileSync(join(work, "matrix.toml"), matrix.replace('from = "cuda"\n', 'from = "cuda"\ntest = "! grep -qx 3.11 /python-version"\n'));
  options.emitAgain();
  git("commit", "-q", "-am", "a smoke test that 3.11 fails");
  const failing = (id: string) => /^py-.*-py311$/.test(id);
  const descendants = (id: string) => /^torch-.*-py311$/.test(id);
  // The edit changes the cuda images and all FROM them; the cpu images the registry has.
  const affected = runCli(["affected", "--since", "HEAD~1", "--json"], work);
  expect(affected.code).toBe(0);
  const images = (JSON.parse(affected.stdout) as { images: { id: string }[] }).images.map((image) => image.id);
  expect(images.some(failing) && images.some(descendants)).toBe(true);
  const tested = run(false);
  expect(tested.exit).not.toBe(0);
  expect(tested.built).toEqual(images.filter((id) => !descendants(id)).sort());
  const pushed = readFileSync(options.calls, "utf8").split("\n").filter((line) => line.startsWith("push ")).map((line) => line.slice(line.lastIndexOf(":") + 1).replace(/'/g, ""));
  expect(pushed.filter((tag) => !tag.startsWith("inputs-")).sort()).toEqual(images.filter((id) => !failing(id) && !descendants(id)).sort());
}

/**
 * A folder `bin` under `scratch` with the engine's docker, every build and push recorded in
 * `calls`, and this checkout's caliban-images; `env` puts it first on the PATH, with the
 * engine's variables.
 */
export function shimmedTools(bin: string, engine: { readonly docker: string; readonly env: Record<string, string> }): { calls: string; env: Record<string, string> } {
  mkdirSync(bin);
  const calls = join(bin, "calls.log");
  recordingShim(join(bin, "docker"), engine.docker, calls);
  cliShim(join(bin, "caliban-images"));
  return { calls, env: { ...(process.env as Record<string, string>), ...engine.env, PATH: `${bin}:${process.env.PATH}` } };
}
