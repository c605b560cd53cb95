// [publish] on Cloud Build: trigger configs beside the build configs, accepted by the
// loader `gcloud builds triggers import` runs; a pull request's trigger builds and pushes
// nothing (_PUSH=false, the steps' scripts run by bash with a recording docker); the
// GitHub repository read from git remote origin.

import { describe, expect, test } from "bun:test";
import { cpSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { emitLoaded } from "../cli/emit.ts";
import { REPO_ROOT } from "../fixtures/golden.ts";
import { builtin, planText, runCli, writeMatrix } from "../fixtures/test-helpers.ts";
import { loadWithCloudBuild } from "../scripts/validators/cloudbuild.ts";
import { cloudbuildView } from "../scripts/validators/readback.ts";
import { hasCloudBuildLoader } from "../scripts/validators/tools.ts";
import { emittedText } from "./contract.ts";
import { scratchFolder } from "../scripts/validators/scratch.ts";

const CHAIN = readFileSync(join(REPO_ROOT, "fixtures/chain-build/matrix.toml"), "utf8");
const PUBLISH = '\n[publish]\nbranches = ["main", "release/**"]\nschedule = "0 4 * * 1"\n';

const ACCOUNT = "projects/my-project/serviceAccounts/pull-requests@my-project.iam.gserviceaccount.com";
/** The options a pull-request trigger needs: an account that cannot push, whose logs go to Cloud Logging. */
const PULL_REQUESTS = [`pull-request-service-account=${ACCOUNT}`, "logging=CLOUD_LOGGING_ONLY"];

async function emitted(publish: string, options: string[] = PULL_REQUESTS) {
  const { loaded, graph } = await planText(CHAIN + publish);
  const warnings: string[] = [];
  const files = emitLoaded(builtin("cloudbuild"), loaded, graph, ["github-repository=acme/images", "directory=ci/cloudbuild", ...options], undefined, undefined, (message) => warnings.push(message));
  // The pull-request trigger's warnings (a schedule with no lock file has its own).
  return { graph, warnings: warnings.filter((warning) => warning.includes("pull-request trigger")), files: Object.fromEntries(files.map((file) => [file.path, emittedText(file)])) };
}

describe("trigger configs", () => {
  test("a push trigger on the branches, a pull-request trigger, a manual one for the schedule; each watching the inputs", async () => {
    const { files } = await emitted(PUBLISH);
    expect(Object.keys(files).sort()).toEqual(["cloudbuild.json", "submit.sh", "trigger-pull-request.json", "trigger-push.json", "trigger-schedule.json"]);
    const push = JSON.parse(files["trigger-push.json"]!);
    expect(push).toMatchObject({ name: "build-images-push", github: { owner: "acme", name: "images", push: { branch: "^(main|release/.*)$" } }, filename: "ci/cloudbuild/cloudbuild.json", substitutions: { _PUSH: "true" } });
    expect(push.includedFiles).toEqual(["docker/cuda.Dockerfile", "docker/**", "docker/python.Dockerfile", "docker/torch.Dockerfile", "docker/cpu.Dockerfile", "matrix.toml"]);
    const pullRequest = JSON.parse(files["trigger-pull-request.json"]!);
    expect(pullRequest).toMatchObject({ github: { pullRequest: { branch: "^(main|release/.*)$", commentControl: "COMMENTS_ENABLED" } }, serviceAccount: ACCOUNT, substitutions: { _PUSH: "false" } });
    expect(push.serviceAccount).toBeUndefined();
    const schedule = JSON.parse(files["trigger-schedule.json"]!);
    expect(schedule).toMatchObject({ sourceToBuild: { uri: "https://github.com/acme/images", ref: "refs/heads/main", repoType: "GITHUB" }, gitFileSource: { path: "ci/cloudbuild/cloudbuild.json" } });
    // The branch patterns as RE2 reads them.
    const branch = new RegExp(push.github.push.branch);
    expect(["main", "release/1.0", "release/a/b"].every((name) => branch.test(name))).toBe(true);
    expect(["mainline", "feature/x", "xmain"].some((name) => branch.test(name))).toBe(false);
    // Without [publish], no trigger and the config is as before.
    const without = await emitted("", []);
    expect(Object.keys(without.files).sort()).toEqual(["cloudbuild.json", "submit.sh"]);
    expect(JSON.parse(without.files["cloudbuild.json"]!).substitutions).toBeUndefined();
  });

  test("a pull request's build pushes nothing; a push's pushes every image under both references", async () => {
    for (const options of [PULL_REQUESTS, ["content-tags=false"]]) {
      const { files, graph } = await emitted(PUBLISH, options);
      const config = files["cloudbuild.json"]!;
      expect(JSON.parse(config).substitutions).toEqual({ _PUSH: "true" });
      const pulled = cloudbuildView([config], [], { _PUSH: "false" }, graph);
      expect(pulled.images).toHaveLength(graph.images.length);
      expect(pulled.calls.filter((call) => call[0] === "push")).toEqual([]);
      const pushed = cloudbuildView([config], [], { _PUSH: "true" }, graph);
      const expected = graph.images.flatMap((image) => (options === PULL_REQUESTS ? [image.reference, image.contentReference] : [image.reference]));
      expect(pushed.calls.filter((call) => call[0] === "push").map((call) => call[1]).sort()).toEqual(expected.sort());
    }
  });

  test("a graph split over several configs is run from a trigger by a build that runs submit.sh; no pull request runs one", async () => {
    const { files, warnings } = await emitted(PUBLISH, [...PULL_REQUESTS, "max-steps=4"]);
    const push = JSON.parse(files["trigger-push.json"]!);
    expect(push.filename).toBeUndefined();
    expect(push.build.steps).toEqual([{ name: "gcr.io/google.com/cloudsdktool/cloud-sdk", entrypoint: "bash", args: ["ci/cloudbuild/submit.sh", "--substitutions=_PUSH=$_PUSH"] }]);
    // submit.sh submits builds: an account allowed to may run them as the default, push-capable one.
    expect(files["trigger-pull-request.json"]).toBeUndefined();
    expect(warnings).toEqual([expect.stringContaining("not written for a graph split over several configs")]);
  });

  test("a pull request's trigger only with an account that cannot push, and only after a writer's /gcbrun", async () => {
    // Without the option: no trigger, and a warning that says how.
    const without = await emitted(PUBLISH, []);
    expect(Object.keys(without.files).sort()).toEqual(["cloudbuild.json", "submit.sh", "trigger-push.json", "trigger-schedule.json"]);
    expect(without.warnings).toEqual([expect.stringContaining("--option pull-request-service-account=projects/PROJECT/serviceAccounts/")]);
    // pull_requests = false: nothing to warn about.
    expect((await emitted(PUBLISH.replace("[publish]\n", "[publish]\npull_requests = false\n"), [])).warnings).toEqual([]);
    // COMMENTS_ENABLED: /gcbrun from a repository writer before any pull request builds, a collaborator's too
    // (COMMENTS_ENABLED_FOR_EXTERNAL_CONTRIBUTORS_ONLY would build writers' pull requests unasked).
    const pullRequest = JSON.parse((await emitted(PUBLISH)).files["trigger-pull-request.json"]!);
    expect(pullRequest.github.pullRequest.commentControl).toBe("COMMENTS_ENABLED");
    expect(pullRequest.serviceAccount).toBe(ACCOUNT);
    // A build run as an account of one's own cannot log to Cloud Build's default bucket.
    const { loaded, graph } = await planText(CHAIN + PUBLISH);
    const emit = (options: string[]) => () => emitLoaded(builtin("cloudbuild"), loaded, graph, ["github-repository=a/b", ...options]);
    expect(emit([`pull-request-service-account=${ACCOUNT}`])).toThrow("never Cloud Build's default bucket");
    expect(emit([`pull-request-service-account=${ACCOUNT}`, "logging=GCS_ONLY"])).toThrow("and logging is GCS_ONLY");
    expect(emit([`pull-request-service-account=${ACCOUNT}`, "logging=NONE"])).not.toThrow();
    // Only an account's full name, and never one of the defaults, which can push.
    expect(emit(["pull-request-service-account=pull-requests@my-project.iam.gserviceaccount.com"])).toThrow("is not projects/PROJECT/serviceAccounts/");
    expect(emit(["pull-request-service-account=projects/my-project/serviceAccounts/123456789@cloudbuild.gserviceaccount.com"])).toThrow("default service accounts, which can push");
    expect(emit(["pull-request-service-account=projects/my-project/serviceAccounts/123456789-compute@developer.gserviceaccount.com"])).toThrow("default service accounts, which can push");
  });

  test("GitHub's patterns as Cloud Build's expression: '**' and then '!' patterns invert it; a schedule builds the first plain branch", async () => {
    const { files } = await emitted('\n[publish]\nbranches = ["**", "!wip/**"]\n');
    for (const [name, event] of [["trigger-push.json", "push"], ["trigger-pull-request.json", "pullRequest"]] as const) {
      expect(JSON.parse(files[name]!).github[event]).toMatchObject({ branch: "^(wip/.*)$", invertRegex: true });
    }
    expect(JSON.parse((await emitted(PUBLISH)).files["trigger-push.json"]!).github.push.invertRegex).toBeUndefined();
    const scheduled = await emitted('\n[publish]\nbranches = ["release/**", "trunk"]\nschedule = "0 4 * * 1"\n');
    expect(JSON.parse(scheduled.files["trigger-schedule.json"]!).sourceToBuild.ref).toBe("refs/heads/trunk");
    await expect(emitted('\n[publish]\nbranches = ["release/**"]\nschedule = "0 4 * * 1"\n')).rejects.toThrow("names none plainly");
  });

  test.skipIf(!hasCloudBuildLoader)("Google's loaders accept every trigger and config", async () => {
    const directory = scratchFolder("triggers-");
    const paths: string[] = [];
    const inverted = '\n[publish]\nbranches = ["**", "!wip/**"]\n';
    for (const [index, [publish, options]] of ([[PUBLISH, PULL_REQUESTS], [PUBLISH, ["content-tags=false", ...PULL_REQUESTS]], [PUBLISH, ["max-steps=4"]], [inverted, PULL_REQUESTS]] as const).entries()) {
      const { files } = await emitted(publish, [...options]);
      for (const [name, text] of Object.entries(files)) {
        if (!name.endsWith(".json")) continue;
        const path = join(directory, name.startsWith("trigger-") ? `${name.replace(".json", "")}-${index}.json` : `config-${index}-${name}`);
        writeFileSync(path, text);
        paths.push(path);
      }
    }
    // Three configs with a pull-request trigger (serviceAccount, COMMENTS_ENABLED, invertRegex among them), a split one without.
    expect(paths.filter((path) => path.includes("trigger-")).length).toBe(10);
    for (const verdict of loadWithCloudBuild(paths)) expect(verdict).toEqual({ path: verdict.path, ok: true });
  });

  test("mistakes: no GitHub repository; a branch pattern that leaves one out is refused when the matrix is read", async () => {
    const { loaded, graph } = await planText(CHAIN + PUBLISH);
    expect(() => emitLoaded(builtin("cloudbuild"), loaded, graph)).toThrow("need the GitHub repository they watch");
    expect(emitLoaded(builtin("cloudbuild"), loaded, graph, ["triggers=false"]).map((file) => file.path)).toEqual(["cloudbuild.json", "submit.sh"]);
    await expect(planText(CHAIN + '\n[publish]\nbranches = ["main", "!main-old"]\n')).rejects.toThrow("RE2 has no lookahead");
  });
});

test.skipIf(!hasCloudBuildLoader)("machine type, disk, private pool and logging go into the config's options, which Google's loader accepts", async () => {
  const { files } = await emitted("", ["machine-type=E2_HIGHCPU_32", "disk-size-gb=500", "pool=projects/my-project/locations/us-central1/workerPools/gpu-builds", "logging=CLOUD_LOGGING_ONLY"]);
  const config = JSON.parse(files["cloudbuild.json"]!);
  expect(config.options).toEqual({ machineType: "E2_HIGHCPU_32", diskSizeGb: "500", pool: { name: "projects/my-project/locations/us-central1/workerPools/gpu-builds" }, logging: "CLOUD_LOGGING_ONLY" });
  const path = join(scratchFolder("options-"), "cloudbuild.json");
  writeFileSync(path, files["cloudbuild.json"]!);
  expect(loadWithCloudBuild([path])).toEqual([{ path, ok: true }]);
  expect(JSON.parse((await emitted("", [])).files["cloudbuild.json"]!).options).toBeUndefined();
  const { loaded, graph } = await planText(CHAIN);
  expect(() => emitLoaded(builtin("cloudbuild"), loaded, graph, ["pool=my-pool"])).toThrow("is not projects/PROJECT/locations/REGION/workerPools/NAME");
  expect(() => emitLoaded(builtin("cloudbuild"), loaded, graph, ["machine-type=E2_HUGE"])).toThrow();
});

test.skipIf(!hasCloudBuildLoader)("a registry outside Google: a login step first, its password from Secret Manager; every image waits for it", async () => {
  const { loaded, graph } = await planText(CHAIN.replace('repository = "localhost/caliban-e2e/chain"', 'repository = "registry.example.com:5000/ml/images"'));
  const secret = "projects/my-project/secrets/registry-password/versions/latest";
  const [file] = emitLoaded(builtin("cloudbuild"), loaded, graph, [`login-secret=${secret}`, "login-user=ci-bot"]);
  const config = JSON.parse(emittedText(file!));
  expect(config.availableSecrets).toEqual({ secretManager: [{ versionName: secret, env: "REGISTRY_PASSWORD" }] });
  const login = config.steps[0];
  expect(login).toMatchObject({ id: "login", secretEnv: ["REGISTRY_PASSWORD"], waitFor: ["-"] });
  // Every image waits for the login (with the resolve step), or for its base, which did.
  for (const step of config.steps.slice(1).filter((s: { id: string }) => s.id !== "resolve")) expect(step.waitFor.includes("login") || graph.images.some((image) => image.reference === step.waitFor[0])).toBe(true);
  // Run as Cloud Build runs it: the secret in the step's environment, the password on docker's stdin, never on its command line.
  const view = cloudbuildView([emittedText(file!)], [], {}, graph);
  expect(view.calls[0]).toEqual(["login", "--username", "ci-bot", "--password-stdin", "registry.example.com:5000"]);
  expect(view.images).toHaveLength(graph.images.length);
  const path = join(scratchFolder("login-"), "cloudbuild.json");
  writeFileSync(path, emittedText(file!));
  expect(loadWithCloudBuild([path])).toEqual([{ path, ok: true }]);
  expect(() => emitLoaded(builtin("cloudbuild"), loaded, graph, [`login-secret=${secret}`])).toThrow("needs both");
});

test("the CLI reads the repository from git remote origin, and the triggers' paths from -o", () => {
  const root = scratchFolder("triggers-repo-");
  cpSync(join(REPO_ROOT, "fixtures/chain-build"), root, { recursive: true });
  writeMatrix(join(root, "matrix.toml"), CHAIN + PUBLISH);
  Bun.spawnSync(["git", "init", "-q"], { cwd: root });
  Bun.spawnSync(["git", "remote", "add", "origin", "git@github.com:acme/images.git"], { cwd: root });
  const run = runCli(["emit", "cloudbuild", "-o", "ci/cloudbuild/", ...PULL_REQUESTS.flatMap((option) => ["--option", option])], root);
  expect(run.code).toBe(0);
  expect(readdirSync(join(root, "ci/cloudbuild")).sort()).toEqual(["cloudbuild.json", "submit.sh", "trigger-pull-request.json", "trigger-push.json", "trigger-schedule.json"]);
  // Without an account for pull requests: no such trigger, and the warning says how to give one.
  const without = runCli(["emit", "cloudbuild", "-o", "plain/"], root);
  expect(without.code).toBe(0);
  expect(readdirSync(join(root, "plain")).sort()).toEqual(["cloudbuild.json", "submit.sh", "trigger-push.json", "trigger-schedule.json"]);
  expect(without.stderr).toContain("warning: emit cloudbuild: [publish] pull_requests: the pull-request trigger is not written");
  expect(JSON.parse(readFileSync(join(root, "ci/cloudbuild/trigger-push.json"), "utf8"))).toMatchObject({ github: { owner: "acme", name: "images" }, filename: "ci/cloudbuild/cloudbuild.json" });
});
