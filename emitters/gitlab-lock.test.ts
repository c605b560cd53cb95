// GitLab's scheduled lock job (gitlab-lock-job.ts), run by gitlab-ci-local as a scheduled
// pipeline runs it, in a checkout whose origin is a bare repository that takes push
// options: a moved upstream digest is pushed to the lock branch (force-pushed again by the
// next run), and nothing is pushed when nothing moved, or without the token. A pipeline
// that is not a schedule has no such job.

import { describe, expect, test } from "bun:test";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fixtureCases, loadFixture, REPO_ROOT } from "../fixtures/golden.ts";
import { builtin, gitIn } from "../fixtures/test-helpers.ts";
import { emitLoaded } from "../cli/emit.ts";
import { emittedText } from "./contract.ts";
import { gitlabCiLocal } from "../scripts/validators/readback-gitlab.ts";
import { GITLAB_LOCK_JOB } from "./gitlab-lock-job.ts";
import { scratchFolder } from "../scripts/validators/scratch.ts";

const git = gitIn;

describe("gitlab: the scheduled lock job", async () => {
  const fixture = fixtureCases().find((f) => f.name === "publish-example")!;
  const { loaded, graph } = await loadFixture(fixture);
  const pipeline = emittedText(emitLoaded(builtin("gitlab"), loaded, graph, ["install-command=true"], "matrix.toml")[0]!);

  /** A clone of a bare origin holding the pipeline, the matrix and its lock; `lock` is what the fake caliban-images lock writes into the lock file. */
  function checkout(lock: string | undefined): { work: string; origin: string; bin: string; head: string } {
    const origin = scratchFolder("lock-origin-");
    git(origin, "init", "-q", "--bare", "-b", "main");
    // GitLab takes push options (merge_request.create): the bare origin must too.
    git(origin, "config", "receive.advertisePushOptions", "true");
    // What GitLab reads them from: the options a push carries, recorded by the receiving end.
    // It reads the ref updates git feeds it, as a hook must: one that exits first leaves git writing to a closed pipe.
    writeFileSync(join(origin, "hooks", "pre-receive"), `#!/bin/sh\ncat > /dev/null\ni=0\nwhile [ "$i" -lt "\${GIT_PUSH_OPTION_COUNT:-0}" ]; do eval "option=\\"\\\${GIT_PUSH_OPTION_$i}\\""; printf '%s\\n' "$option" >> push-options; i=$((i + 1)); done\n`, { mode: 0o755 });
    const work = scratchFolder("lock-work-");
    git(work, "clone", "-q", origin, ".");
    writeFileSync(join(work, ".gitlab-ci.yml"), pipeline);
    writeFileSync(join(work, "matrix.toml"), readFileSync(join(REPO_ROOT, fixture.matrix)));
    writeFileSync(join(work, "matrix.lock"), readFileSync(join(REPO_ROOT, fixture.matrix.replace(/matrix\.toml$/, "matrix.lock"))));
    writeFileSync(join(work, ".gitignore"), ".gitlab-ci-local/\n");
    git(work, "add", "-A");
    git(work, "commit", "-q", "-m", "images");
    git(work, "push", "-q", "origin", "main");
    // caliban-images lock, as it behaves when a digest moved: the lock and the pipeline written again.
    const bin = scratchFolder("lock-bin-");
    const writes = lock === undefined ? "" : `printf '%s\\n' '${lock}' >> matrix.lock\nprintf '# digests moved\\n' >> .gitlab-ci.yml\n`;
    writeFileSync(join(bin, "caliban-images"), `#!/bin/sh\n[ "$1" = lock ] || exit 9\n${writes}`, { mode: 0o755 });
    return { work, origin, bin, head: git(work, "rev-parse", "HEAD").trim() };
  }

  /** The job run by gitlab-ci-local, whose shell executor runs it in the checkout itself: put back as it was after, as each pipeline's clone is fresh. */
  const run = (at: { work: string; bin: string; head: string }, variables: string[]) => {
    const result = gitlabCiLocal(at.work, [GITLAB_LOCK_JOB, "--no-json-schema-validation", ...variables.flatMap((v) => ["--variable", v])], { PATH: `${at.bin}:${process.env.PATH}` });
    git(at.work, "checkout", "-q", "--force", "main");
    git(at.work, "reset", "-q", "--hard", at.head);
    return result;
  };

  test("a pipeline that is not a schedule has no lock job; a schedule's has it, needing nothing, before every stage", () => {
    const at = checkout(undefined);
    const listed = (variables: string[]) => {
      const result = gitlabCiLocal(at.work, ["--list-json", ...variables.flatMap((v) => ["--variable", v])]);
      const jobs = JSON.parse(result.stdout.slice(result.stdout.search(/^\[/m))) as { name: string; stage: string; when: string }[];
      return jobs.find((job) => job.name === GITLAB_LOCK_JOB);
    };
    expect(listed([])?.when ?? "never").toBe("never");
    expect(listed(["CI_PIPELINE_SOURCE=schedule"])).toMatchObject({ stage: ".pre", when: "on_success" });
  });

  test("a moved digest: its commit is pushed to caliban-images/update-lock/main with merge request push options; a second run replaces it", () => {
    const at = checkout('"nvidia/cuda:moved" = "sha256:0000"');
    const first = run(at, ["CI_PIPELINE_SOURCE=schedule", "CALIBAN_LOCK_TOKEN=glpat-test"]);
    expect({ exit: first.exitCode, out: first.exitCode === 0 ? "" : first.stdout + first.stderr }).toEqual({ exit: 0, out: "" });
    const branch = "caliban-images/update-lock/main";
    expect(git(at.origin, "log", "--format=%s", branch)).toStartWith("Update the base image digests (caliban-images lock)\n");
    expect(git(at.origin, "show", `${branch}:matrix.lock`)).toEndWith('"nvidia/cuda:moved" = "sha256:0000"\n');
    expect(git(at.origin, "rev-parse", "main").trim()).toBe(at.head);
    expect(readFileSync(join(at.origin, "push-options"), "utf8").split("\n").slice(0, 3)).toEqual(["merge_request.create", "merge_request.target=main", "merge_request.title=Update the base image digests"]);
    const second = run(at, ["CI_PIPELINE_SOURCE=schedule", "CALIBAN_LOCK_TOKEN=glpat-test"]);
    expect({ exit: second.exitCode, output: second.exitCode === 0 ? "" : `${second.stdout}\n${second.stderr}` }).toEqual({ exit: 0, output: "" });
    expect(git(at.origin, "rev-list", "--count", branch).trim()).toBe("2");
  });

  test("nothing moved: nothing is pushed; a moved digest without the token: the job fails, saying which variable to set", () => {
    const still = checkout(undefined);
    const quiet = run(still, ["CI_PIPELINE_SOURCE=schedule", "CALIBAN_LOCK_TOKEN=glpat-test"]);
    expect(quiet.exitCode).toBe(0);
    expect(quiet.stdout).toContain("No upstream base image moved: nothing to build");
    expect(git(still.origin, "branch", "--list")).not.toContain("update-lock");
    const moved = checkout('"nvidia/cuda:moved" = "sha256:0000"');
    const refused = run(moved, ["CI_PIPELINE_SOURCE=schedule"]);
    expect(refused.exitCode).not.toBe(0);
    expect(refused.stdout + refused.stderr).toContain("set the CI/CD variable CALIBAN_LOCK_TOKEN (masked)");
    expect(git(moved.origin, "branch", "--list")).not.toContain("update-lock");
  });
});
