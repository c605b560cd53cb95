// Issue 20 beyond the readback (emitters/readback.test.ts compares every output's tags,
// labels, platforms, target, cache and attestations with the plan, as a push builds them):
// what a pull request's build gets, what `make all` builds, the limits of each CI.

import { describe, expect, test } from "bun:test";
import { parse as parseYaml } from "yaml";
import { emitLoaded } from "../cli/emit.ts";
import { fixtureCases, loadFixture, REPO_ROOT } from "../fixtures/golden.ts";
import { builtin, planText } from "../fixtures/test-helpers.ts";
import { evaluate, evaluateTemplate } from "../scripts/validators/github-expressions.ts";
import { cloudbuildView, fakeResolve, githubView, readGithubWorkflow, jobEnv, makeView, needsResolve, planView, recordingDocker, resolveOutputs, REVISION } from "../scripts/validators/readback.ts";
import { actionlint } from "../scripts/validators/actionlint.ts";
import { validateWorkflow } from "../scripts/validators/action-validator.ts";
import { emittedText } from "./contract.ts";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { scratchFolder } from "../scripts/validators/scratch.ts";

const fixture = async () => loadFixture(fixtureCases().find((f) => f.name === "build-settings")!);

describe("GitHub", () => {
  test("a pull request's build is for the runner's platform, reads and writes no cache, has no attestation, and is loaded, not pushed", async () => {
    const { loaded, graph } = await fixture();
    const workflow = parseYaml(emittedText(emitLoaded(builtin("github"), loaded, graph)[0]!));
    // A pull request's run: the resolve job says it publishes nothing.
    const resolved = resolveOutputs(graph, [], false);
    let checked = 0;
    for (const job of Object.values(workflow.jobs) as { if?: string; env?: Record<string, string>; strategy?: { matrix: { include: Record<string, string>[] } }; steps: { uses?: string; if?: string; with?: Record<string, unknown> }[] }[]) {
      if (job.strategy === undefined) continue; // the resolve jobs
      // The jobs a pull request runs (its own, pr_*), as the runner evaluates their condition.
      if (job.if !== undefined && evaluate(job.if, { github: { event_name: "pull_request" }, needs: needsResolve(resolved, "pull_request") }) !== true) continue;
      for (const entry of job.strategy.matrix.include) {
        const context = { github: { event_name: "pull_request", sha: REVISION }, matrix: entry, needs: needsResolve(resolved, "pull_request"), env: jobEnv(job.env, entry, resolved, "pull_request"), steps: { registry: { outputs: { has: "false" } } } };
        const builds = job.steps.filter((step) => step.uses?.startsWith("docker/build-push-action") && (step.if === undefined || evaluate(step.if, context) === true));
        expect(builds).toHaveLength(1);
        // As build-push-action reads its inputs: text, a boolean's "true" or "false".
        const input = (name: string) => String(evaluateTemplate(String(builds[0]!.with![name] ?? ""), context));
        expect({ platforms: input("platforms"), from: input("cache-from"), to: input("cache-to"), provenance: input("provenance"), sbom: input("sbom"), push: input("push"), load: input("load") }).toEqual({
          platforms: "",
          from: "",
          to: "",
          provenance: "false",
          sbom: "false",
          push: "false",
          load: "true",
        });
        // QEMU is not set up for it either.
        expect(job.steps.find((step) => step.uses?.startsWith("docker/setup-qemu-action"))).toBeUndefined();
        checked++;
      }
    }
    expect(checked).toBe(graph.images.length);
  });
});

describe("Cloud Build", () => {
  test("with _PUSH=false (a pull request's trigger) a buildx image is built by docker build into the shared daemon, and nothing is pushed", async () => {
    // The fixture with [publish], whose triggers say whether a build pushes.
    const { loaded, graph } = await planText(`${readFileSync(join(REPO_ROOT, "fixtures/build-settings/matrix.toml"), "utf8")}\n[publish]\n`);
    const configs = emitLoaded(builtin("cloudbuild"), loaded, graph, ["triggers=false"]).filter((file) => file.path.endsWith(".json"));
    expect(cloudbuildView(configs.map(emittedText), [], {}, graph).calls.some((call) => call[0] === "buildx" && call.includes("--push"))).toBe(true);
    const view = cloudbuildView(configs.map(emittedText), [], { _PUSH: "false" }, graph);
    expect(view.calls.filter((call) => call[0] === "push" || call.includes("--push"))).toEqual([]);
    expect(view.calls.filter((call) => call[0] === "build").length).toBe(graph.images.length);
  });
  test("[cache] type gha is GitHub's own: refused", async () => {
    const { loaded, graph } = await planText('repository = "r.io/x"\n[images.a]\ntag = "a"\n[cache]\ntype = "gha"\n');
    expect(() => emitLoaded(builtin("cloudbuild"), loaded, graph)).toThrow("a Cloud Build step cannot reach");
  });
});

describe("make", () => {
  test("make all: a multi-platform image is built into buildx's cache only, a single-platform one is loaded; nothing is pushed", async () => {
    const { loaded, graph } = await planText(`repository = "r.io/x"
[images.multi]
tag = "multi"
platforms = ["linux/amd64", "linux/arm64"]
[images.single]
tag = "single"
[cache]
`);
    const docker = recordingDocker();
    const directory = mkdtempSync(join(docker.directory, "make-"));
    writeFileSync(join(directory, "Makefile"), emittedText(emitLoaded(builtin("make"), loaded, graph)[0]!));
    const run = Bun.spawnSync(["make", "all", `DOCKER=${docker.path}`, `CALIBAN_IMAGES=${fakeResolve(docker.directory, graph)}`], { cwd: directory });
    expect(run.exitCode).toBe(0);
    const builds = docker.calls().map((call) => ({ platforms: call[call.indexOf("--platform") + 1], output: call.includes("--load") ? "load" : call.includes("--push") ? "push" : call[call.indexOf("--output") + 1] }));
    expect(builds).toEqual([
      { platforms: "linux/amd64,linux/arm64", output: "type=cacheonly" },
      { platforms: "buildx", output: "load" },
    ]);
  });
});

describe("GitHub's expressions, as the readback evaluates them", () => {
  test("&& and || return an operand; '' and false are falsy; string comparison ignores case; format", () => {
    const context = { github: { event_name: "Push", sha: "abc" }, matrix: { empty: "", list: "a,b" } };
    expect(evaluate("github.event_name == 'push'", context)).toBe(true);
    expect(evaluate("matrix.list && 'x' || 'y'", context)).toBe("x");
    expect(evaluate("matrix.empty && 'x' || 'y'", context)).toBe("y");
    expect(evaluate("true && '' || 'fallback'", context)).toBe("fallback");
    expect(evaluate("!(matrix.empty != '') && matrix.list || ''", context)).toBe("a,b");
    expect(evaluate("format('{0}={1}', 'k', github.sha)", context)).toBe("k=abc");
    expect(evaluateTemplate("x-${{ matrix.list }}-y", context)).toBe("x-a,b-y");
    expect(evaluate("matrix.missing", context)).toBeNull();
  });
});

test("bake: the commit's variable is REVISION, so a repository variable of that name is refused when a label names the commit (a fuzz case)", async () => {
  const { loaded, graph } = await planText('labels = { "org.opencontainers.image.revision" = "{revision}" }\nrepository = "r.io/x"\n[images.a]\ntag = "a"\n');
  expect(() => emitLoaded(builtin("bake"), loaded, graph, ["variable=REVISION"])).toThrow('the variable "REVISION" holds the commit');
  expect(emittedText(emitLoaded(builtin("bake"), loaded, graph, ["variable=REPO"])[0]!)).toContain('variable "REVISION"');
});

test("an image the registry has: make points its tag and every alias at it, and builds nothing", async () => {
  const { loaded, graph } = await planText('repository = "r.io/x"\n[axes.p]\na = {}\n[images.app]\ntag = "app-{p}"\naliases = ["{p}", "latest-{p}"]\nmatrix = ["p"]\n');
  const image = graph.images[0]!;
  const view = makeView(emittedText(emitLoaded(builtin("make"), loaded, graph)[0]!), graph, [], [image.contentReference]);
  expect(view.images).toEqual([]);
  expect([...view.retags].sort()).toEqual([image.reference, "r.io/x:a", "r.io/x:latest-a"].map((reference) => [reference, image.contentReference]).sort());
});

describe("GitHub: a multi-platform image on native runners (platform-runners)", () => {
  const toml = `repository = "ghcr.io/your-org/images"
[axes.python]
py311 = { PYTHON_VERSION = "3.11" }
[images.base]
tag = "base"
aliases = ["b"]
platforms = ["linux/amd64", "linux/arm64"]
labels = { "org.opencontainers.image.revision" = "{revision}", "x.kind" = "base" }
[images.app]
tag = "app-{python}"
matrix = ["python"]
from = "base"
platforms = ["linux/amd64", "linux/arm64"]
[images.tested]
tag = "t-{python}"
matrix = ["python"]
from = "base"
platforms = ["linux/amd64", "linux/arm64"]
test = "true"
[cache]
[attest]
provenance = "max"
`;
  const runners = "platform-runners=linux/amd64=ubuntu-latest,linux/arm64=ubuntu-24.04-arm";

  test("a job per platform on its runner, pushed by digest, joined by a merge job; a tested image is tested on each platform's runner first; the workflow reads back to the plan", async () => {
    const { loaded, graph } = await planText(toml);
    for (const options of [[runners], [runners, "content-tags=false"]]) {
      const text = emittedText(emitLoaded(builtin("github"), loaded, graph, options)[0]!);
      expect(await actionlint(text, "images.yml")).toEqual([]);
      expect(validateWorkflow(text).errors).toEqual([]);
      const workflow = readGithubWorkflow(text);
      const contentTags = !options.includes("content-tags=false");
      // Every job needs the resolve job: whether the run publishes, and the digests.
      const resolve = ["resolve"];
      // A pull request's own jobs build every image, native ones too, for the runner's platform: no job per platform.
      expect(Object.keys(workflow.jobs)).toEqual([...resolve, "stage1", "stage1_native", "stage1_merge", "stage2", "stage2_native", "stage2_merge", "pr_resolve", "pr_stage1", "pr_stage2"]);
      expect(workflow.jobs.stage2.needs).toEqual([...resolve, "stage1", "stage1_native", "stage1_merge"]);
      expect(workflow.jobs.pr_stage2.needs).toEqual(["pr_resolve", "pr_stage1"]);
      const native = workflow.jobs.stage1_native.strategy.matrix.include as Record<string, unknown>[];
      expect(native.map((entry) => [entry.platform, entry["runs-on"]])).toEqual([
        ["linux/amd64", ["ubuntu-latest"]],
        ["linux/arm64", ["ubuntu-24.04-arm"]],
      ]);
      // The tested image too is built on each platform's runner, and tested there before its digest is pushed.
      const natives = workflow.jobs.stage2_native.strategy.matrix.include as Record<string, string>[];
      expect(natives.map((entry) => [entry.id, entry.test])).toEqual([["app-py311", ""], ["app-py311", ""], ["t-py311", "true"], ["t-py311", "true"]]);
      const steps = workflow.jobs.stage2_native.steps as { name?: string; uses?: string; if?: string; with?: Record<string, unknown> }[];
      const names = steps.map((step) => step.name ?? step.uses);
      const testStep = names.indexOf("Test the image on this platform");
      const pushBuild = steps.findIndex((step) => String(step.with?.outputs ?? "").includes("push-by-digest=true"));
      expect(testStep).toBeGreaterThan(0);
      expect(testStep).toBeLessThan(pushBuild);
      expect(steps[testStep - 1]!.with).toMatchObject({ load: true, tags: "${{ matrix.image }}" });
      expect(steps[testStep - 1]!.with!.platforms).toBeUndefined();
      const view = githubView(workflow, "workflow", resolveOutputs(graph));
      const plan = planView(graph, contentTags, "gha", new Set(graph.images.filter((image) => image.platforms.length > 1).map((image) => image.id)));
      expect(view.images).toEqual(plan.images);
    }
  });

  test("the digest hand-over and the join, run by bash: every platform's digest under every tag; a missing platform joins nothing", async () => {
    const { loaded, graph } = await planText(toml);
    const workflow = readGithubWorkflow(emittedText(emitLoaded(builtin("github"), loaded, graph, [runners])[0]!));
    const exportStep = (workflow.jobs.stage1_native.steps as { name?: string; run?: string }[]).find((step) => step.name === "Hand the digest to the merge job")!;
    const temp = scratchFolder("runner-");
    for (const digest of ["a".repeat(64), "b".repeat(64)]) {
      expect(Bun.spawnSync(["bash", "-e", "-c", exportStep.run!], { env: { ...process.env, DIGEST: `sha256:${digest}`, RUNNER_TEMP: temp } }).exitCode).toBe(0);
    }
    const join_ = (workflow.jobs.stage1_merge.steps as { name?: string; run?: string }[]).find((step) => step.name === "Join the platforms under every tag")!;
    const entry = workflow.jobs.stage1_merge.strategy.matrix.include[0] as Record<string, string>;
    // The job's env as the runner gives it: CONTENT from the resolve job's digests.
    const content = jobEnv(workflow.jobs.stage1_merge.env, entry, resolveOutputs(graph)).CONTENT!;
    expect(content).toBe(graph.images.find((image) => image.id === entry.id)!.contentReference);
    const run = (platforms: number) => {
      const docker = recordingDocker();
      const result = Bun.spawnSync(["bash", "-e", "-c", join_.run!], {
        env: { ...process.env, PATH: `${docker.directory}:${process.env.PATH}`, RUNNER_TEMP: temp, IMAGE: String(entry.image), CONTENT: content, HAS: "false", REPOSITORY: String(entry.repository), ALIASES: String(entry.aliases), PLATFORMS: String(platforms) },
      });
      return { exit: result.exitCode, out: result.stdout.toString(), calls: docker.calls() };
    };
    const joined = run(2);
    expect(joined.exit).toBe(0);
    expect(joined.calls).toEqual([
      ["buildx", "imagetools", "create", "--tag", "ghcr.io/your-org/images:base", "--tag", content, "--tag", "ghcr.io/your-org/images:b", `ghcr.io/your-org/images@sha256:${"a".repeat(64)}`, `ghcr.io/your-org/images@sha256:${"b".repeat(64)}`],
    ]);
    const short = run(3);
    expect(short.exit).toBe(1);
    expect(short.calls).toEqual([]);
    expect(short.out).toContain("2 of 3 platforms were built");
  });

  test("mistakes: not PLATFORM=RUNNER; with --format matrix, which has no merge job", async () => {
    const { loaded, graph } = await planText(toml);
    expect(() => emitLoaded(builtin("github"), loaded, graph, ["platform-runners=arm64"])).toThrow('"arm64" is not PLATFORM=RUNNER');
    expect(() => emitLoaded(builtin("github"), loaded, graph, [runners, "format=matrix"])).toThrow("platform-runners needs the whole workflow");
  });
});

test("make: a tag names its image's targets too (build/py3.10 for the id py3-10), unless it is another image's id", async () => {
  const { loaded, graph } = await planText('repository = "r.io/x"\n[axes.python]\n"3.10" = {}\n[images.a]\ntag = "py{python}"\nmatrix = ["python"]\n[images.b]\ntag = "py3-10"\n');
  expect(graph.images.map((image) => [image.id, image.tag])).toEqual([["py3-10", "py3.10"], ["py3-10-2", "py3-10"]]);
  const docker = recordingDocker();
  const directory = mkdtempSync(join(docker.directory, "make-"));
  writeFileSync(join(directory, "Makefile"), emittedText(emitLoaded(builtin("make"), loaded, graph)[0]!));
  const built = (target: string) => {
    writeFileSync(join(docker.directory, "docker.log"), "");
    expect(Bun.spawnSync(["make", target, `DOCKER=${docker.path}`, `CALIBAN_IMAGES=${fakeResolve(docker.directory, graph)}`], { cwd: directory }).exitCode).toBe(0);
    return docker.calls().map((call) => call[call.indexOf("-t") + 1]);
  };
  expect(built("build/py3.10")).toEqual(["r.io/x:py3.10"]);
  // "py3-10" is the first image's id, so build/py3-10 stays that image's; the second is build/py3-10-2.
  expect(built("build/py3-10")).toEqual(["r.io/x:py3.10"]);
  expect(built("build/py3-10-2")).toEqual(["r.io/x:py3-10"]);
});
