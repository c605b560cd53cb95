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

import { test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { gitlabCiLocal } from "../validators/readback-gitlab.ts";
import { engineForFile } from "./docker-engine.ts";
import { throughTheCasesOnCi } from "./ci-scenario.ts";
import { pullRequestPushesNothing, pullRequestThenFailingTest } from "./pipeline-runs.ts";

const { scratch, engine } = engineForFile("e2e-gitlab-");

/**
 * The chain through the four cases, a merge request's pipeline and a failing smoke test,
 * emitted with `options` into the checkout's root (-o FILE, or -o ./ for a split pipeline).
 */
function throughGitlabCiLocal(name: string, options: readonly string[], output: string, stale: string, split = false): Promise<void> {
  return throughTheCasesOnCi({
    scratch,
    engine,
    name,
    emitter: "gitlab",
    path: "gl",
    options,
    output,
    stale,
    // What gitlab-ci-local and the resolve job leave in the checkout is no part of it.
    prepare: (work) => writeFileSync(join(work, ".gitignore"), ".gitlab-ci-local/\n.caliban-images/\n"),
    run: (work, env, pullRequest) => {
      const result = gitlabCiLocal(work, ["--concurrency", "2", ...(pullRequest ? ["--variable", "CI_PIPELINE_SOURCE=merge_request_event"] : [])], env);
      // gitlab-ci-local writes the jobs' output on stdout: a failed job's message is there. Its
      // child pipelines ("experimental") pass whatever their jobs do, where GitLab fails a
      // trigger job with strategy: depend with its child: a failed job's FAIL line is the failure.
      const failed = split && /^ FAIL /m.test(result.stdout);
      return { exit: failed && result.exitCode === 0 ? 1 : result.exitCode, stderr: `${result.stdout}\n${result.stderr}` };
    },
    // A failed child stops the later ones in GitLab (their stages wait for it); gitlab-ci-local runs them anyway, so a split pipeline's failing test is not played here.
    then: split ? pullRequestPushesNothing : pullRequestThenFailingTest,
  });
}

test("gitlab-ci-local runs the pipeline: it decides from the commit checked out, (a) to (d); a merge request's pipeline pushes nothing; a failing smoke test stops only its image's descendants", async () => {
  await throughGitlabCiLocal("whole", [], ".gitlab-ci.yml", "error: .gitlab-ci.yml is stale for matrix.toml: run caliban-images emit NAME -o .gitlab-ci.yml");
}, 900_000);

test("split into child pipelines (max-jobs=6: children of five images, bases built by an earlier one): (a) to (d) and a merge request's pipeline, run by gitlab-ci-local's child pipelines", async () => {
  // Each child's resolve job checks the shape: a stale file stops the first child, before anything is built.
  await throughGitlabCiLocal("split", ["max-jobs=6"], "./", "error: ./ is stale for matrix.toml: run caliban-images emit NAME -o ./", true);
}, 900_000);
