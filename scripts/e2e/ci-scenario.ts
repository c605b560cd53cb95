// What GitLab's and Buildkite's end-to-end checks share: the chain fixture in a new git
// repository, a registry on loopback, the pipeline emitted and committed, the recording
// engine and this checkout's caliban-images on the PATH; then issue 27's four cases, and
// what each CI's check plays after them (a pull request's run, a failing smoke test).

import { expect } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { runCli } from "../../fixtures/test-helpers.ts";
import { chainRepository, loopbackRegistry, recorded, shimmedTools, throughTheFourCases, type PipelineRun, type PullRequestRuns } from "./pipeline-runs.ts";

export interface CiScenario {
  /** The test file's scratch folder and engine (engineForFile), and this case's folder name in it. */
  readonly scratch: string;
  readonly engine: () => { readonly docker: string; readonly env: Record<string, string> };
  readonly name: string;
  /** The emitter, the registry path its images go to, its --option values, and -o. */
  readonly emitter: string;
  readonly path: string;
  readonly options: readonly string[];
  readonly output: string;
  /** What a stale pipeline's run says. */
  readonly stale: string;
  /** Before the first commit: files of the checkout's own (a .gitignore). */
  readonly prepare?: (work: string) => void;
  /** One run of the pipeline in `work` with `env` (the shims first on its PATH); `pullRequest`: a pull (merge) request's. */
  readonly run: (work: string, env: Record<string, string>, pullRequest: boolean) => { readonly exit: number; readonly stderr: string };
  /** After the four cases. */
  readonly then: (runs: PullRequestRuns) => void;
}

export async function throughTheCasesOnCi(scenario: CiScenario): Promise<void> {
  const registry = await loopbackRegistry(join(scenario.scratch, scenario.name, "registry"));
  const work = join(scenario.scratch, scenario.name, "chain");
  const git = chainRepository(work);
  scenario.prepare?.(work);
  const repository = `127.0.0.1:${registry.port}/${scenario.path}`;
  const emit = () => expect(runCli(["emit", scenario.emitter, "--base-url", repository, "--option", "install-command=true", ...scenario.options.flatMap((option) => ["--option", option]), "-o", scenario.output], work).code).toBe(0);
  emit();
  git("add", "-A");
  git("commit", "-q", "-m", "images");
  const { calls, env } = shimmedTools(join(scenario.scratch, scenario.name, "bin"), scenario.engine());
  const run = (pullRequest: boolean): PipelineRun => {
    writeFileSync(calls, "");
    return { ...scenario.run(work, env, pullRequest), ...recorded(calls) };
  };
  try {
    await throughTheFourCases({
      work,
      git,
      registry,
      repository,
      run: () => run(false),
      emitAgain: emit,
      unreachable: (result) => expect(result.stderr).toContain(`cannot reach 127.0.0.1:${registry.port}`),
      stale: (result) => expect(result.stderr).toContain(scenario.stale),
    });
    scenario.then({ work, git, emitAgain: emit, run, calls });
  } finally {
    await registry.stop();
  }
}
