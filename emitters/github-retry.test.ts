// The workflow's registry steps tried again (retriedStep): the emitted workflow run as a
// runner runs it (scripts/e2e/github-run.ts: every `if`, `continue-on-error` and step
// outcome by GitHub's rules, every `run:` by bash), with a docker whose pushes the
// registry fails a given number of times, and a `sleep` that does not wait.

import { expect, test } from "bun:test";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { runCli } from "../fixtures/test-helpers.ts";
import { runWorkflow } from "../scripts/e2e/github-run.ts";
import { cliShim } from "../scripts/e2e/pipeline-runs.ts";
import { scratchFolder } from "../scripts/validators/scratch.ts";

const WORKFLOW = ".github/workflows/build-images.yml";

/** A repository of one image, its workflow emitted; a docker whose first `failures` pushes fail; `caliban-images` on the PATH. */
function setUp(failures: number) {
  const root = scratchFolder("retry-");
  const work = join(root, "work");
  mkdirSync(work);
  writeFileSync(join(work, "matrix.toml"), 'repository = "registry.example.com/team/images"\n[images.base]\ntag = "base"\ndockerfile = "image/Dockerfile"\ncontext = "image"\n');
  mkdirSync(join(work, "image"));
  writeFileSync(join(work, "image/Dockerfile"), "FROM scratch\n");
  // The plain form: the resolve job asks no registry (nothing here answers one).
  const emitted = runCli(["emit", "github", "--option", "install-command=true", "--option", "content-tags=false", "-o", WORKFLOW], work);
  expect(emitted.code).toBe(0);
  const bin = join(root, "bin");
  mkdirSync(bin);
  const log = join(root, "docker.log");
  writeFileSync(join(root, "failures"), String(failures));
  // Each push the registry fails says so and counts down; a build always works.
  writeFileSync(
    join(bin, "docker"),
    `#!/bin/sh\necho "$1" >> ${log}\nif [ "$1" = push ]; then left=$(cat ${root}/failures); if [ "$left" -gt 0 ]; then echo $((left - 1)) > ${root}/failures; echo "received unexpected HTTP status: 502 Bad Gateway" >&2; exit 1; fi; fi\nexit 0\n`,
    { mode: 0o755 },
  );
  writeFileSync(join(bin, "sleep"), `#!/bin/sh\necho "sleep $1" >> ${log}\n`, { mode: 0o755 });
  cliShim(join(bin, "caliban-images"));
  const run = runWorkflow(readFileSync(join(work, WORKFLOW), "utf8"), { cwd: work, event: "push", ref: "refs/heads/main", docker: join(bin, "docker"), env: { ...process.env, PATH: `${bin}:${process.env.PATH}` } });
  return { run, calls: readFileSync(log, "utf8").trim().split("\n") };
}

test("a push the registry fails is tried again after a wait: twice failed, the third try ships it; the job succeeds", () => {
  const { run, calls } = setUp(2);
  expect({ exit: run.exit, results: run.results }).toEqual({ exit: 0, results: { resolve: "success", stage1: "success", pr_resolve: "skipped", pr_stage1: "skipped" } });
  expect(calls).toEqual(["build", "push", "sleep 15", "build", "push", "sleep 45", "build", "push"]);
});

test("a push that fails three times fails the job, with the registry's words; nothing after it runs", () => {
  const { run, calls } = setUp(3);
  expect(run.exit).not.toBe(0);
  expect(run.results.stage1).toBe("failure");
  expect(run.stderr).toContain("502 Bad Gateway");
  expect(calls).toEqual(["build", "push", "sleep 15", "build", "push", "sleep 45", "build", "push"]);
});

test("a push that goes through at once is not tried again", () => {
  const { run, calls } = setUp(0);
  expect(run.exit).toBe(0);
  expect(calls).toEqual(["build", "push"]);
});
