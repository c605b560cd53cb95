// Issue 31's proof for Buildkite: the emitted .buildkite/pipeline.yml, its steps run as the
// agent runs them (scripts/e2e/buildkite-run.ts: each in a fresh clone, in depends_on
// order, a failed step's dependents not run) against a real docker engine (started here,
// stopped at the end) and a registry on 127.0.0.1, on the chain fixture committed on
// `main`. The resolve step runs this checkout's caliban-images (install-command=true, the
// CLI first on PATH). Through the four cases of issue 27 (pipeline-runs.ts): a first build
// pushes every image, a rerun builds nothing, a Dockerfile edit committed without emitting
// again builds exactly the affected images, a lost registry or a stale file stops the
// build before anything is built. Then a pull request's build builds and pushes nothing,
// and a failing smoke test stops only its image and the images built FROM it.

import { afterAll, beforeAll, expect, test } from "bun:test";
import { appendFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { runCli } from "../../fixtures/test-helpers.ts";
import { runBuildkite } from "./buildkite-run.ts";
import { startDockerEngine, type DockerEngine } from "./docker-engine.ts";
import { chainRepository, cliShim, loopbackRegistry, recorded, recordingShim, throughTheFourCases, type PipelineRun } from "./pipeline-runs.ts";

let engine: DockerEngine;
// Sockets need a short path.
const scratch = mkdtempSync("/tmp/e2e-buildkite-");

beforeAll(async () => {
  engine = await startDockerEngine(join(scratch, "engine"));
}, 120_000);
afterAll(async () => {
  await engine?.stop();
  rmSync(scratch, { recursive: true, force: true });
});

test("Buildkite's steps, run as the agent runs them: they decide from the commit checked out, (a) to (d); a pull request's build pushes nothing; a failing smoke test stops only its image's descendants", async () => {
  const registry = await loopbackRegistry(join(scratch, "registry"));
  const work = join(scratch, "chain");
  const git = chainRepository(work);
  const repository = `127.0.0.1:${registry.port}/bk`;
  const emit = () => expect(runCli(["emit", "buildkite", "--base-url", repository, "--option", "install-command=true", "-o", ".buildkite/pipeline.yml"], work).code).toBe(0);
  emit();
  git("add", "-A");
  git("commit", "-q", "-m", "images");
  const bin = join(scratch, "bin");
  mkdirSync(bin);
  const calls = join(bin, "calls.log");
  recordingShim(join(bin, "docker"), engine.docker, calls);
  cliShim(join(bin, "caliban-images"));
  const env = { ...(process.env as Record<string, string>), ...engine.env, PATH: `${bin}:${process.env.PATH}` };
  const run = (pullRequest: string | null = null): PipelineRun => {
    writeFileSync(calls, "");
    const result = runBuildkite(work, { branch: "main", pullRequest }, env, scratch);
    return { exit: result.exit, stderr: result.log, ...recorded(calls) };
  };
  try {
    await throughTheFourCases({
      work,
      git,
      registry,
      repository,
      run: () => run(),
      emitAgain: emit,
      unreachable: (result) => expect(result.stderr).toContain(`cannot reach 127.0.0.1:${registry.port}`),
      stale: (result) => expect(result.stderr).toContain("error: .buildkite/pipeline.yml is stale for matrix.toml: run caliban-images emit NAME -o .buildkite/pipeline.yml"),
    });
    // A pull request's build after an edit: the affected images are built and tested, nothing is pushed.
    appendFileSync(join(work, "docker/torch.Dockerfile"), "LABEL edited=yes\n");
    git("commit", "-q", "-am", "edit the torch image");
    const request = run("7");
    expect({ exit: request.exit, pushes: request.pushes }).toEqual({ exit: 0, pushes: 0 });
    expect(request.built).toEqual(["torch-cuda11-py310", "torch-cuda11-py311", "torch-cuda11-py312", "torch-cuda12-py310", "torch-cuda12-py311", "torch-cuda12-py312"]);

    // A smoke test that fails for python 3.11 only (the test engine has no bridge network: a RUN step has none).
    appendFileSync(join(work, "docker/cuda.Dockerfile"), 'RUN --network=none ["/bin/busybox", "--install", "-s", "/bin"]\n');
    appendFileSync(join(work, "docker/python.Dockerfile"), 'RUN --network=none echo "$PYTHON_VERSION" > /python-version\n');
    const matrix = readFileSync(join(work, "matrix.toml"), "utf8");
    writeFileSync(join(work, "matrix.toml"), matrix.replace('from = "cuda"\n', 'from = "cuda"\ntest = "! grep -qx 3.11 /python-version"\n'));
    emit();
    git("commit", "-q", "-am", "a smoke test that 3.11 fails");
    const failing = (id: string) => /^py-.*-py311$/.test(id);
    const descendants = (id: string) => /^torch-.*-py311$/.test(id);
    const affected = runCli(["affected", "--since", "HEAD~1", "--json"], work);
    expect(affected.code).toBe(0);
    const images = (JSON.parse(affected.stdout) as { images: { id: string }[] }).images.map((image) => image.id);
    expect(images.some(failing) && images.some(descendants)).toBe(true);
    const tested = run();
    expect(tested.exit).not.toBe(0);
    expect(tested.built).toEqual(images.filter((id) => !descendants(id)).sort());
    const pushed = readFileSync(calls, "utf8").split("\n").filter((line) => line.startsWith("push ")).map((line) => line.slice(line.lastIndexOf(":") + 1).replace(/'/g, ""));
    expect(pushed.filter((tag) => !tag.startsWith("inputs-")).sort()).toEqual(images.filter((id) => !failing(id) && !descendants(id)).sort());
  } finally {
    await registry.stop();
  }
}, 900_000);
