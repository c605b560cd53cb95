// Buildkite's scheduled lock step (buildkite-lock-step.ts), its command run by bash as the
// agent runs it, in a clone of a bare origin that stands for the GitHub repository the
// build cloned (git's url.insteadOf sends the token's https URL there), with a GitHub API
// on loopback that records the pull request: a moved upstream digest is pushed to the lock
// branch and a pull request opened (a second run force-pushes, and GitHub's 422 for the
// open one is no error); nothing moved, nothing pushed; no token, the step fails saying
// which variable to set. Only a schedule's build of a publishing branch runs the step.

import { afterAll, describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fixtureCases, loadFixture, REPO_ROOT } from "../fixtures/golden.ts";
import { builtin, gitIn } from "../fixtures/test-helpers.ts";
import { emitLoaded } from "../cli/emit.ts";
import { emittedText } from "./contract.ts";
import { buildkiteSteps, stepRuns } from "../scripts/validators/readback-buildkite.ts";
import { BUILDKITE_LOCK_STEP } from "./buildkite-lock-step.ts";
import { scratchFolder } from "../scripts/validators/scratch.ts";

const scratch = scratchFolder("buildkite-lock-");
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

const git = gitIn;

describe("buildkite: the scheduled lock step", async () => {
  const fixture = fixtureCases().find((f) => f.name === "publish-example")!;
  const { loaded, graph } = await loadFixture(fixture);
  const pipeline = emittedText(emitLoaded(builtin("buildkite"), loaded, graph, ["install-command=true"], "matrix.toml")[0]!);
  const step = buildkiteSteps(pipeline).find((s) => s.key === BUILDKITE_LOCK_STEP)!;

  // GitHub's pull request API: 201 for the first, 422 ("A pull request already exists") after.
  const requests: { path: string; authorization: string | null; body: Record<string, string> }[] = [];
  const api = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    async fetch(request) {
      requests.push({ path: new URL(request.url).pathname, authorization: request.headers.get("authorization"), body: (await request.json()) as Record<string, string> });
      return Response.json({}, { status: requests.length === 1 ? 201 : 422 });
    },
  });
  afterAll(() => api.stop(true));

  /** A clone of a bare origin holding the pipeline, the matrix and its lock; `moved`: what the fake caliban-images lock appends to the lock. */
  function checkout(moved: string | undefined) {
    const origin = mkdtempSync(join(scratch, "origin-"));
    git(origin, "init", "-q", "--bare", "-b", "main");
    const work = mkdtempSync(join(scratch, "work-"));
    git(work, "clone", "-q", origin, ".");
    mkdirSync(join(work, ".buildkite"));
    writeFileSync(join(work, ".buildkite", "pipeline.yml"), pipeline);
    writeFileSync(join(work, "matrix.toml"), readFileSync(join(REPO_ROOT, fixture.matrix)));
    writeFileSync(join(work, "matrix.lock"), readFileSync(join(REPO_ROOT, fixture.matrix.replace(/matrix\.toml$/, "matrix.lock"))));
    git(work, "add", "-A");
    git(work, "commit", "-q", "-m", "images");
    git(work, "push", "-q", "origin", "main");
    const bin = mkdtempSync(join(scratch, "bin-"));
    const writes = moved === undefined ? "" : `printf '%s\\n' '${moved}' >> matrix.lock\nprintf '# digests moved\\n' >> .buildkite/pipeline.yml\n`;
    writeFileSync(join(bin, "caliban-images"), `#!/bin/sh\n[ "$1" = lock ] || exit 9\n${writes}`, { mode: 0o755 });
    return { work, origin, bin, head: git(work, "rev-parse", "HEAD").trim() };
  }

  const run = async (at: { work: string; origin: string; bin: string; head: string }, token: string | undefined) => {
    const child = Bun.spawn(["bash", "-e", "-c", step.command], {
      cwd: at.work,
      stdout: "pipe",
      stderr: "pipe",
      env: {
        PATH: `${at.bin}:${process.env.PATH}`,
        HOME: at.work,
        BUILDKITE: "true",
        BUILDKITE_BRANCH: "main",
        BUILDKITE_SOURCE: "schedule",
        BUILDKITE_REPO: "git@github.com:acme/images.git",
        GITHUB_API_URL: `http://127.0.0.1:${api.port}`,
        ...(token === undefined ? {} : { CALIBAN_LOCK_TOKEN: token }),
        // GitHub, as this test has it: the token's https URL is the bare origin.
        GIT_CONFIG_COUNT: "1",
        GIT_CONFIG_KEY_0: `url.${at.origin}.insteadOf`,
        GIT_CONFIG_VALUE_0: `https://x-access-token:${token}@github.com/acme/images.git`,
      },
    });
    const [exit, stdout, stderr] = await Promise.all([child.exited, new Response(child.stdout).text(), new Response(child.stderr).text()]);
    // Each build's clone is fresh.
    git(at.work, "checkout", "-q", "--force", "main");
    git(at.work, "reset", "-q", "--hard", at.head);
    return { exit, stdout, stderr };
  };

  test("only a schedule's build of a publishing branch runs it", () => {
    expect(stepRuns(step, { branch: "main", pullRequest: null, source: "schedule" })).toBe(true);
    expect(stepRuns(step, { branch: "main", pullRequest: null })).toBe(false);
    expect(stepRuns(step, { branch: "feature", pullRequest: null, source: "schedule" })).toBe(false);
    expect(step.depends_on ?? []).toEqual([]);
  });

  test("a moved digest: pushed to caliban-images/update-lock/main with the token, a pull request opened; a second run force-pushes, the open one updated", async () => {
    const at = checkout('"ghcr.io/moved" = "sha256:1111"');
    const first = await run(at, "s3cret");
    expect({ exit: first.exit, stderr: first.stderr }).toEqual({ exit: 0, stderr: expect.any(String) });
    expect(first.stdout).toContain("Opened a pull request from caliban-images/update-lock/main into main");
    const pushed = git(at.origin, "show", "caliban-images/update-lock/main:matrix.lock");
    expect(pushed).toContain('"ghcr.io/moved" = "sha256:1111"');
    expect(git(at.origin, "log", "-1", "--format=%s", "caliban-images/update-lock/main").trim()).toBe("Update the base image digests (caliban-images lock)");
    expect(requests[0]).toEqual({ path: "/repos/acme/images/pulls", authorization: "Bearer s3cret", body: expect.objectContaining({ head: "caliban-images/update-lock/main", base: "main", title: "Update the base image digests" }) });
    const again = await run(at, "s3cret");
    expect(again.exit).toBe(0);
    expect(again.stdout).toContain("Pushed caliban-images/update-lock/main: its pull request into main has the newest digests");
    expect(requests.length).toBe(2);
  });

  test("nothing moved: nothing pushed; a moved digest without the token: the step fails, naming the variable", async () => {
    const still = checkout(undefined);
    const quiet = await run(still, "s3cret");
    expect(quiet.exit).toBe(0);
    expect(quiet.stdout).toContain("No upstream base image moved: nothing to build");
    expect(git(still.origin, "branch", "--list", "caliban-images/*").trim()).toBe("");
    const moved = checkout('"ghcr.io/moved" = "sha256:2222"');
    const refused = await run(moved, undefined);
    expect(refused.exit).toBe(1);
    expect(refused.stderr).toContain("error: set the agent's environment variable CALIBAN_LOCK_TOKEN (a secret) to a GitHub token");
    expect(git(moved.origin, "branch", "--list", "caliban-images/*").trim()).toBe("");
  });
});
