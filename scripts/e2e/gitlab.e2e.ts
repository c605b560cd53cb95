// Issue 31's proof for GitLab CI: gitlab-ci-local (a dev dependency) runs the emitted
// .gitlab-ci.yml with its shell executor (no job names an image), against a real docker
// engine (started here, stopped at the end) and a registry on 127.0.0.1, on the chain
// fixture in a git repository on `main`. The resolve job runs this checkout's
// caliban-images (install-command=true, the CLI first on PATH). Through the four cases of
// issue 27 (scripts/e2e/pipeline-runs.ts): a first run pushes every image, a rerun builds
// nothing, a Dockerfile edit committed without emitting again builds exactly the affected
// images, a lost registry or a stale file stops the pipeline before anything is built.
// Then a merge request's pipeline builds and pushes nothing, and a failing smoke test stops
// only its image and the images built FROM it. The same again with the pipeline split
// into child pipelines (max-jobs), which gitlab-ci-local runs (but for the failing test:
// gitlab-ci-local runs the children after a failed one, GitLab does not).

import { expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { runCli } from "../../fixtures/test-helpers.ts";
import { gitlabCiLocal } from "../validators/readback-gitlab.ts";
import { engineForFile } from "./docker-engine.ts";
import { chainRepository, loopbackRegistry, pullRequestPushesNothing, pullRequestThenFailingTest, recorded, shimmedTools, throughTheFourCases, type PipelineRun } from "./pipeline-runs.ts";

const { scratch, engine } = engineForFile("e2e-gitlab-");

/**
 * The chain through the four cases, a merge request's pipeline and a failing smoke test,
 * emitted with `options` into the checkout's root (-o FILE, or -o ./ for a split pipeline).
 */
async function throughGitlabCiLocal(name: string, options: readonly string[], output: string, stale: string, split = false): Promise<void> {
  const registry = await loopbackRegistry(join(scratch, name, "registry"));
  const work = join(scratch, name, "chain");
  const git = chainRepository(work);
  // What gitlab-ci-local and the resolve job leave in the checkout is no part of it.
  writeFileSync(join(work, ".gitignore"), ".gitlab-ci-local/\n.caliban-images/\n");
  const repository = `127.0.0.1:${registry.port}/gl`;
  const emit = () => expect(runCli(["emit", "gitlab", "--base-url", repository, "--option", "install-command=true", ...options.flatMap((option) => ["--option", option]), "-o", output], work).code).toBe(0);
  emit();
  git("add", "-A");
  git("commit", "-q", "-m", "images");
  const { calls, env } = shimmedTools(join(scratch, name, "bin"), engine());
  const run = (variables: readonly string[] = []): PipelineRun => {
    writeFileSync(calls, "");
    const result = gitlabCiLocal(work, ["--concurrency", "2", ...variables.flatMap((v) => ["--variable", v])], env);
    // gitlab-ci-local writes the jobs' output on stdout: a failed job's message is there. Its
    // child pipelines ("experimental") pass whatever their jobs do, where GitLab fails a
    // trigger job with strategy: depend with its child: a failed job's FAIL line is the failure.
    const failed = split && /^ FAIL /m.test(result.stdout);
    return { exit: failed && result.exitCode === 0 ? 1 : result.exitCode, stderr: `${result.stdout}\n${result.stderr}`, ...recorded(calls) };
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
    const runs = { work, git, emitAgain: emit, run: (pullRequest: boolean) => run(pullRequest ? ["CI_PIPELINE_SOURCE=merge_request_event"] : []), calls };
    // A failed child stops the later ones in GitLab (their stages wait for it); gitlab-ci-local runs them anyway, so a split pipeline's failing test is not played here.
    if (split) pullRequestPushesNothing(runs);
    else pullRequestThenFailingTest(runs);
  } finally {
    await registry.stop();
  }
}

test("gitlab-ci-local runs the pipeline: it decides from the commit checked out, (a) to (d); a merge request's pipeline pushes nothing; a failing smoke test stops only its image's descendants", async () => {
  await throughGitlabCiLocal("whole", [], ".gitlab-ci.yml", "error: .gitlab-ci.yml is stale for matrix.toml: run caliban-images emit NAME -o .gitlab-ci.yml");
}, 900_000);

test("split into child pipelines (max-jobs=6: children of five images, bases built by an earlier one): (a) to (d) and a merge request's pipeline, run by gitlab-ci-local's child pipelines", async () => {
  // Each child's resolve job checks the shape: a stale file stops the first child, before anything is built.
  await throughGitlabCiLocal("split", ["max-jobs=6"], "./", "error: ./ is stale for matrix.toml: run caliban-images emit NAME -o ./", true);
}, 900_000);
