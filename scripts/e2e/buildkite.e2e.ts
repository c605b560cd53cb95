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

import { test } from "bun:test";
import { runBuildkite } from "./buildkite-run.ts";
import { throughTheCasesOnCi } from "./ci-scenario.ts";
import { engineForFile } from "./docker-engine.ts";
import { pullRequestThenFailingTest } from "./pipeline-runs.ts";

const { scratch, engine } = engineForFile("e2e-buildkite-");

/** The chain through the four cases, a pull request's build and a failing smoke test, emitted with `options` (-o FILE, or -o ./ when split). */
function throughTheAgent(name: string, options: readonly string[], output: string, stale: string): Promise<void> {
  return throughTheCasesOnCi({
    scratch,
    engine,
    name,
    emitter: "buildkite",
    path: "bk",
    options,
    output,
    stale,
    run: (work, env, pullRequest) => {
      const result = runBuildkite(work, { branch: "main", pullRequest: pullRequest ? "7" : null }, env, scratch);
      return { exit: result.exit, stderr: result.log };
    },
    then: pullRequestThenFailingTest,
  });
}

test("Buildkite's steps, run as the agent runs them: they decide from the commit checked out, (a) to (d); a pull request's build pushes nothing; a failing smoke test stops only its image's descendants", async () => {
  await throughTheAgent("whole", [], ".buildkite/pipeline.yml", "error: .buildkite/pipeline.yml is stale for matrix.toml: run caliban-images emit NAME -o .buildkite/pipeline.yml");
}, 900_000);

test("split across uploads (max-steps=6: the first file's upload-parts step uploads the rest): the same cases", async () => {
  await throughTheAgent("split", ["max-steps=6"], "./", "error: ./ is stale for matrix.toml: run caliban-images emit NAME -o ./");
}, 900_000);
