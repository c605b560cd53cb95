// The scheduled lock job of the GitHub workflow: only it writes, only on the schedule; by
// default it proposes the moved digests in a pull request (branch protection refuses a
// bot's push), or, lock-commit = "push", pushes them and starts the build. Its script is
// run by bash in a real clone, against a bare origin and a recording gh.

import { describe, expect, test } from "bun:test";
import packageJson from "../package.json" with { type: "json" };
import { parse as parseYaml } from "yaml";
import { emitLoaded } from "../cli/emit.ts";
import { builtin, chain, planText } from "../fixtures/test-helpers.ts";
import { validateWorkflow } from "../scripts/validators/action-validator.ts";
import { actionlint } from "../scripts/validators/actionlint.ts";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { emittedText } from "./contract.ts";
import { planLoaded } from "../core/load.ts";
import { scratchFolder } from "../scripts/validators/scratch.ts";

const CHAIN = chain("ghcr.io/your-org/images", '[publish]\nschedule = "0 4 * * 1"\n');

const lockedGraph = async () => {
  const { loaded } = await planText(CHAIN);
  const graph = planLoaded(loaded);
  return { loaded, graph: { ...graph, lock: { file: "m.lock", unlocked: [] } } };
};
const install = "install-command=curl -fsSL https://example.com/caliban-images -o /usr/local/bin/caliban-images && chmod +x /usr/local/bin/caliban-images";

const lockJobOf = async (options: string[] = []) => {
  const { loaded, graph } = await lockedGraph();
  const text = emittedText(emitLoaded(builtin("github"), loaded, graph, [install, ...options])[0]!);
  expect(await actionlint(text, "images.yml")).toEqual([]);
  expect(validateWorkflow(text).errors).toEqual([]);
  return { workflow: parseYaml(text), job: parseYaml(text).jobs["update-lock"] };
};

describe("a schedule with a lock file: the scheduled run updates the lock", () => {
  test("the jobs: update-lock only on the schedule, the only job that writes; the builds never on it; lint-clean", async () => {
    const { loaded, graph } = await lockedGraph();
    // Without install-command, the job installs the pinned release (emitters/github-install.test.ts runs that step).
    const released = emittedText(emitLoaded(builtin("github"), loaded, graph)[0]!);
    expect(await actionlint(released, "images.yml")).toEqual([]);
    expect(parseYaml(released).jobs["update-lock"].steps[1].name).toBe(`Install caliban-images ${packageJson.version}`);
    const { workflow, job } = await lockJobOf();
    expect(workflow.on.push.paths).toContain("m.lock");
    expect(job.if).toBe("github.event_name == 'schedule'");
    // By default: a branch and a pull request, so contents and pull-requests write, on this job alone.
    expect(job.permissions).toEqual({ contents: "write", "pull-requests": "write" });
    expect(job.env).toEqual({ MATRIX: "m.toml", LOCK: "m.lock", WORKFLOW: ".github/workflows/build-images.yml" });
    expect(job.steps[1].run).toStartWith("curl -fsSL https://example.com/caliban-images");
    expect(job.steps[3].env).toEqual({ GH_TOKEN: "${{ github.token }}" });
    for (const [name, other] of Object.entries(workflow.jobs) as [string, { if?: string; permissions?: Record<string, string> }][]) {
      if (name === "update-lock") continue;
      // A pull request's own jobs run on pull requests only; the others never on the schedule.
      expect(other.if).toContain(name.startsWith("pr_") ? "github.event_name == 'pull_request'" : "github.event_name != 'schedule'");
      expect(Object.entries(other.permissions ?? {}).filter(([scope, access]) => access === "write" && scope !== "packages")).toEqual([]);
    }
    // Pushing straight to the branch stays an option: contents and actions write (it starts the build).
    expect((await lockJobOf(["lock-commit=push"])).job.permissions).toEqual({ contents: "write", actions: "write" });
    // A token of the user's: the checkout and gh use it, so the pull request it opens runs its checks.
    const withToken = (await lockJobOf(["lock-token-secret=LOCK_TOKEN"])).job;
    expect(withToken.steps[0].with).toEqual({ token: "${{ secrets.LOCK_TOKEN }}" });
    expect(withToken.steps[3].env).toEqual({ GH_TOKEN: "${{ secrets.LOCK_TOKEN }}" });
    expect(() => emitLoaded(builtin("github"), loaded, graph, ["lock-token-secret=not a name"])).toThrow("is not a valid secret name");
    // Without a schedule, or without a lock, there is no such job and the builds run as before.
    const noSchedule = emittedText(emitLoaded(builtin("github"), loaded, { ...graph, publish: { ...graph.publish, schedule: undefined } })[0]!);
    expect(parseYaml(noSchedule).jobs["update-lock"]).toBeUndefined();
    expect(noSchedule).not.toContain("'schedule'");
  });

  const git = (cwd: string, ...args: string[]) => {
    const result = Bun.spawnSync(["git", "-c", "commit.gpgsign=false", ...args], { cwd, env: { ...process.env, GIT_AUTHOR_NAME: "t", GIT_AUTHOR_EMAIL: "t@t", GIT_COMMITTER_NAME: "t", GIT_COMMITTER_EMAIL: "t@t" } });
    if (result.exitCode !== 0) throw new Error(result.stderr.toString());
    return result.stdout.toString();
  };
  /** A clone of a bare origin with a first commit, and a gh that records its arguments and prints `ghAnswer` to `pr list`. */
  const setUp = (ghAnswer = "") => {
    const root = scratchFolder("lock-job-");
    git(root, "init", "-q", "--bare", "-b", "main", "origin.git");
    git(root, "clone", "-q", "origin.git", "clone");
    const clone = join(root, "clone");
    mkdirSync(join(clone, ".github/workflows"), { recursive: true });
    writeFileSync(join(clone, "m.lock"), "version = 1\n");
    writeFileSync(join(clone, ".github/workflows/build-images.yml"), "old\n");
    git(clone, "add", "-A");
    git(clone, "commit", "-q", "-m", "first");
    git(clone, "push", "-q", "origin", "main");
    const bin = join(root, "bin");
    mkdirSync(bin);
    writeFileSync(join(bin, "gh"), `#!/bin/sh\necho "$@" >> ${join(root, "gh.log")}\nif [ "$1 $2" = "pr list" ]; then echo "${ghAnswer}"; fi\n`, { mode: 0o755 });
    return { root, clone, bin };
  };
  const run = (where: ReturnType<typeof setUp>, job: { env: Record<string, string>; steps: { run?: string }[] }) => {
    const result = Bun.spawnSync(["bash", "-e", "-c", job.steps[3]!.run!], { cwd: where.clone, env: { ...process.env, PATH: `${where.bin}:${process.env.PATH}`, ...job.env, GH_TOKEN: "t", GITHUB_REF_NAME: "main" } });
    const gh = (() => {
      try {
        return readFileSync(join(where.root, "gh.log"), "utf8");
      } catch {
        return "";
      }
    })();
    const origin = join(where.root, "origin.git");
    const branches = git(origin, "branch", "--format=%(refname:short)").trim().split("\n");
    return { exit: result.exitCode, out: result.stdout.toString(), gh, pushed: git(origin, "log", "--format=%s", "main"), branches, proposed: branches.includes("caliban-images/update-lock/main") ? git(origin, "log", "--format=%s", "caliban-images/update-lock/main") : "" };
  };
  const moveDigests = (where: ReturnType<typeof setUp>, workflowToo = true) => {
    writeFileSync(join(where.clone, "m.lock"), "version = 1\n# moved\n");
    if (workflowToo) writeFileSync(join(where.clone, ".github/workflows/build-images.yml"), "new\n");
  };

  test("its script, by default: nothing moved; moved (a branch and a pull request, the default branch untouched); moved again (the open pull request is updated)", async () => {
    const { job } = await lockJobOf();
    expect(run(setUp(), job)).toMatchObject({ exit: 0, gh: "", pushed: "first\n", branches: ["main"] });

    const moved = setUp();
    moveDigests(moved);
    const result = run(moved, job);
    expect(result.exit).toBe(0);
    expect(result.pushed).toBe("first\n");
    expect(result.proposed).toBe("Update the base image digests (caliban-images lock)\nfirst\n");
    const calls = result.gh.trim().split("\n");
    expect(calls[0]).toBe("pr list --head caliban-images/update-lock/main --base main --state open --json number --jq .[0].number");
    // The body reaches gh as written.
    expect(calls[1]).toBe("pr create --head caliban-images/update-lock/main --base main --title Update the base image digests --body An upstream base image moved: caliban-images lock wrote the new digests. Merging this builds the images built FROM it.");
    expect(calls.length).toBe(2);

    const again = setUp("12");
    moveDigests(again);
    const updated = run(again, job);
    expect(updated).toMatchObject({ exit: 0, proposed: "Update the base image digests (caliban-images lock)\nfirst\n", pushed: "first\n" });
    expect(updated.out).toContain("Pull request #12 now has the newest digests");
    expect(updated.gh).not.toContain("pr create");

    const stale = setUp();
    moveDigests(stale, false);
    const refused = run(stale, job);
    expect(refused.exit).toBe(1);
    expect(refused.out).toContain("::error::m.lock changed, but .github/workflows/build-images.yml names the old digests");
    expect(refused.branches).toEqual(["main"]);
  });

  test("its script, lock-commit = push: the commit on the branch, and the build started on it", async () => {
    const { job } = await lockJobOf(["lock-commit=push"]);
    expect(run(setUp(), job)).toMatchObject({ exit: 0, gh: "", pushed: "first\n" });
    const moved = setUp();
    moveDigests(moved);
    const result = run(moved, job);
    expect(result.exit).toBe(0);
    expect(result.pushed).toBe("Update the base image digests (caliban-images lock)\nfirst\n");
    expect(result.gh).toBe("workflow run build-images.yml --ref main\n");
  });
});
