// Issue 31's proof for GitLab CI: gitlab-ci-local (a dev dependency) runs the emitted
// .gitlab-ci.yml with its shell executor (no job names an image), against a real docker
// engine (started here, stopped at the end) and a registry on 127.0.0.1, on the chain
// fixture in a git repository on `main`. The resolve job runs this checkout's
// caliban-images (install-command=true, the CLI first on PATH). Through the four cases of
// issue 27 (scripts/e2e/pipeline-runs.ts): a first run pushes every image, a rerun builds
// nothing, a Dockerfile edit committed without emitting again builds exactly the affected
// images, a lost registry or a stale file stops the pipeline before anything is built.
// Then a merge request's pipeline builds and pushes nothing, and a failing smoke test stops
// only its image and the images built FROM it.

import { expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { runCli } from "../../fixtures/test-helpers.ts";
import { gitlabCiLocal } from "../validators/readback-gitlab.ts";
import { engineForFile } from "./docker-engine.ts";
import { chainRepository, loopbackRegistry, pullRequestThenFailingTest, recorded, shimmedTools, throughTheFourCases, type PipelineRun } from "./pipeline-runs.ts";

const { scratch, engine } = engineForFile("e2e-gitlab-");

test("gitlab-ci-local runs the pipeline: it decides from the commit checked out, (a) to (d); a merge request's pipeline pushes nothing; a failing smoke test stops only its image's descendants", async () => {
  const registry = await loopbackRegistry(join(scratch, "registry"));
  const work = join(scratch, "chain");
  const git = chainRepository(work);
  // What gitlab-ci-local and the resolve job leave in the checkout is no part of it.
  writeFileSync(join(work, ".gitignore"), ".gitlab-ci-local/\n.caliban-images/\n");
  const repository = `127.0.0.1:${registry.port}/gl`;
  const emit = () => expect(runCli(["emit", "gitlab", "--base-url", repository, "--option", "install-command=true", "-o", ".gitlab-ci.yml"], work).code).toBe(0);
  emit();
  git("add", "-A");
  git("commit", "-q", "-m", "images");
  const { calls, env } = shimmedTools(join(scratch, "bin"), engine());
  const run = (variables: readonly string[] = []): PipelineRun => {
    writeFileSync(calls, "");
    const result = gitlabCiLocal(work, ["--concurrency", "2", ...variables.flatMap((v) => ["--variable", v])], env);
    // gitlab-ci-local writes the jobs' output on stdout: a failed job's message is there.
    return { exit: result.exitCode, stderr: `${result.stdout}\n${result.stderr}`, ...recorded(calls) };
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
      stale: (result) => expect(result.stderr).toContain("error: .gitlab-ci.yml is stale for matrix.toml: run caliban-images emit NAME -o .gitlab-ci.yml"),
    });
    pullRequestThenFailingTest({ work, git, emitAgain: emit, run: (pullRequest) => run(pullRequest ? ["CI_PIPELINE_SOURCE=merge_request_event"] : []), calls });
  } finally {
    await registry.stop();
  }
}, 900_000);
