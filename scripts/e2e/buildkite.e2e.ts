// Issue 31's proof for Buildkite: the emitted .buildkite/pipeline.yml, its steps run as the
// agent runs them (scripts/e2e/buildkite-run.ts: each in a fresh clone, in depends_on
// order, a failed step's dependents not run) against a real docker engine (started here,
// stopped at the end) and a registry on 127.0.0.1, on the chain fixture committed on
// `main`. The resolve step runs this checkout's caliban-images (install-command=true, the
// CLI first on PATH). Through the four cases of issue 27 (pipeline-runs.ts): a first build
// pushes every image, a rerun builds nothing, a Dockerfile edit committed without emitting
// again builds exactly the affected images, a lost registry or a stale file stops the
// build before anything is built. Then a pull request's build builds and pushes nothing,
// and a failing smoke test stops only its image and the images built FROM it. The same
// again with the pipeline split across uploads (max-steps).

import { expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { runCli } from "../../fixtures/test-helpers.ts";
import { runBuildkite } from "./buildkite-run.ts";
import { engineForFile } from "./docker-engine.ts";
import { chainRepository, loopbackRegistry, pullRequestThenFailingTest, recorded, shimmedTools, throughTheFourCases, type PipelineRun } from "./pipeline-runs.ts";

const { scratch, engine } = engineForFile("e2e-buildkite-");

/** The chain through the four cases, a pull request's build and a failing smoke test, emitted with `options` (-o FILE, or -o ./ when split). */
async function throughTheAgent(name: string, options: readonly string[], output: string, stale: string): Promise<void> {
  const registry = await loopbackRegistry(join(scratch, name, "registry"));
  const work = join(scratch, name, "chain");
  const git = chainRepository(work);
  const repository = `127.0.0.1:${registry.port}/bk`;
  const emit = () => expect(runCli(["emit", "buildkite", "--base-url", repository, "--option", "install-command=true", ...options.flatMap((option) => ["--option", option]), "-o", output], work).code).toBe(0);
  emit();
  git("add", "-A");
  git("commit", "-q", "-m", "images");
  const { calls, env } = shimmedTools(join(scratch, name, "bin"), engine());
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
      stale: (result) => expect(result.stderr).toContain(stale),
    });
    pullRequestThenFailingTest({ work, git, emitAgain: emit, run: (pullRequest) => run(pullRequest ? "7" : null), calls });
  } finally {
    await registry.stop();
  }
}

test("Buildkite's steps, run as the agent runs them: they decide from the commit checked out, (a) to (d); a pull request's build pushes nothing; a failing smoke test stops only its image's descendants", async () => {
  await throughTheAgent("whole", [], ".buildkite/pipeline.yml", "error: .buildkite/pipeline.yml is stale for matrix.toml: run caliban-images emit NAME -o .buildkite/pipeline.yml");
}, 900_000);

test("split across uploads (max-steps=6: the first file's upload-parts step uploads the rest): the same cases", async () => {
  await throughTheAgent("split", ["max-steps=6"], "./", "error: ./ is stale for matrix.toml: run caliban-images emit NAME -o ./");
}, 900_000);
