// published = false and rebuild = "always" through each output's real consumer: make run
// with a recording docker, Cloud Build's step scripts run by bash, the workflow's steps
// evaluated by GitHub's own expression evaluator with what the real `caliban-images
// resolve` says of a registry on loopback, bake's file read by HashiCorp's HCL parser.
// An internal image is pushed under its content reference only, and its children build
// FROM that; an image rebuilt every run is built though the registry has it.

import { describe, expect, test } from "bun:test";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parse as parseHcl } from "@cdktf/hcl2json";
import { parse as parseYaml } from "yaml";
import type { BuildGraph, ImageNode } from "../core/graph.ts";
import { CalibanError } from "../core/errors.ts";
import { emitLoaded } from "../cli/emit.ts";
import { builtin, loopbackServer, planText, runCliAsync, writeMatrix } from "../fixtures/test-helpers.ts";
import { buildPushActionList, cloudbuildView, jobEnv, makeView, needsResolve, REVISION, runScripts, type ResolveOutputs } from "../scripts/validators/readback.ts";
import { evaluate, evaluateTemplate, truthy, type Context } from "../scripts/validators/github-expressions.ts";
import { hasMake, hasShellcheck, shellcheckPath } from "../scripts/validators/tools.ts";
import { cloudbuildScripts, githubRunScripts, makeScripts, shellcheck } from "../scripts/validators/shellcheck.ts";
import { emittedText } from "./contract.ts";
import { actionlint } from "../scripts/validators/actionlint.ts";
import { renderPlan } from "./plan-text.ts";
import { scratchFolder } from "../scripts/validators/scratch.ts";

/** An internal CUDA base per version; a torch image FROM each, with an alias; the cu126 one rebuilt every run. */
const matrix = (repository: string, platforms = false) => `repository = "${repository}"
[axes.cuda]
cu124 = { CUDA = "12.4" }
cu126 = { CUDA = "12.6" }
[axes.python]
py312 = { PYTHON_VERSION = "3.12" }
[images.cuda]
tag = "cuda-{cuda}"
matrix = ["cuda"]
published = false
${platforms ? 'platforms = ["linux/amd64", "linux/arm64"]' : ""}
[images.torch]
tag = "torch-{cuda}-{python}"
matrix = ["cuda", "python"]
from = "cuda"
aliases = ["t-{cuda}"]
${platforms ? 'platforms = ["linux/amd64", "linux/arm64"]' : ""}
[[images.torch.when]]
match = { cuda = "cu126" }
rebuild = "always"
`;

/** The images by role: the internal bases, the torch image the registry may skip, the one rebuilt every run. */
function roles(graph: BuildGraph) {
  const byId = (id: string) => graph.images.find((image) => image.id === id)!;
  const alias = (image: ImageNode) => `${image.repository}:${image.aliases[0]}`;
  return { internal: graph.images.filter((image) => image.family === "cuda"), skipped: byId("torch-cu124-py312"), always: byId("torch-cu126-py312"), alias };
}

const plain = await planText(matrix("localhost:5000/ml"));
const multi = await planText(matrix("localhost:5000/ml", true));
const contentOf = (graph: BuildGraph) => graph.images.map((image) => image.contentReference);
const sorted = <T>(items: readonly T[]) => [...items].sort();

describe("the graph and plan", () => {
  test("plan says which images are internal and which are rebuilt every run", () => {
    const text = renderPlan(plain.graph, "m.toml");
    expect(text).toContain("  cuda-cu124\n    image       localhost:5000/ml:cuda-cu124\n    internal    pushed as localhost:5000/ml:inputs-<digest> only, for the images built FROM it\n");
    expect(text).toContain("  torch-cu126-py312\n    image       localhost:5000/ml:torch-cu126-py312\n    rebuild     rebuilt every run, even when the registry has its inputs digest\n");
    expect(text.match(/rebuilt every run/g)).toHaveLength(1);
  });
});

describe.each([
  ["docker build", plain],
  ["buildx (platforms)", multi],
] as const)("make push, %s", (_, { loaded, graph }) => {
  const makefile = emittedText(emitLoaded(builtin("make"), loaded, graph)[0]!);
  const { internal, skipped, always, alias } = roles(graph);

  test.skipIf(!hasMake)("an empty registry: an internal image is built and pushed under its content reference alone, and its child builds FROM that", () => {
    const view = makeView(makefile, graph, [], []);
    const published = [skipped, always].flatMap((image) => [image.contentReference, image.reference, alias(image)]);
    expect(sorted(view.pushes)).toEqual(sorted([...internal.map((image) => image.contentReference), ...published]));
    for (const image of internal) expect(view.images.find((built) => built.reference === image.contentReference)?.settings?.aliases ?? []).toEqual([]);
    expect(view.images.find((built) => built.reference === skipped.reference)!.args.BASE_IMAGE).toBe(internal[0]!.contentReference);
  });

  test.skipIf(!hasMake)("a registry holding every image: only the one rebuilt every run is built; no tag is pointed at an internal image", () => {
    const view = makeView(makefile, graph, [], contentOf(graph));
    expect(view.order).toEqual([always.reference]);
    expect(sorted(view.pushes)).toEqual(sorted([always.contentReference, always.reference, alias(always)]));
    expect(sorted(view.retags)).toEqual(sorted([[skipped.reference, skipped.contentReference], [alias(skipped), skipped.contentReference]]));
  });
});

describe.each([
  ["docker build", plain],
  ["buildx (platforms)", multi],
] as const)("Cloud Build, %s", (_, { loaded, graph }) => {
  const configs = emitLoaded(builtin("cloudbuild"), loaded, graph).filter((file) => file.path.endsWith(".json")).map(emittedText);
  const { internal, skipped, always, alias } = roles(graph);
  /** Every reference a call pushed: `docker push`, buildx's --push -t, imagetools create's --tag, `docker tag` (then pushed). */
  const pushed = (calls: readonly string[][]) =>
    calls.flatMap((call) => (call[0] === "push" ? [call[1]!] : call[0] === "buildx" && call.includes("--push") ? call.flatMap((word, i) => (call[i - 1] === "-t" ? [word] : [])) : call[1] === "imagetools" ? call.flatMap((word, i) => (call[i - 1] === "--tag" ? [word] : [])) : []));

  test("an empty registry: every image built; an internal one pushed under its content reference alone", () => {
    const view = cloudbuildView(configs, [], {}, graph);
    const published = [skipped, always].flatMap((image) => [image.contentReference, image.reference, alias(image)]);
    expect(sorted([...new Set(pushed(view.calls))])).toEqual(sorted([...internal.map((image) => image.contentReference), ...published]));
    expect(view.calls.filter((call) => call[0] === "tag")).toEqual([]);
  });

  test("a registry holding every image: the one rebuilt every run is built without asking; an internal one is only pulled, no tag pointed at it", () => {
    const view = cloudbuildView(configs, contentOf(graph), {}, graph);
    expect(view.images.map((image) => image.reference)).toEqual([always.reference]);
    const asked = view.calls.filter((call) => call[0] === "manifest").map((call) => call.at(-1));
    expect(sorted(asked)).toEqual(sorted([...internal, skipped].map((image) => image.contentReference)));
    expect(sorted([...new Set(pushed(view.calls))])).toEqual(sorted([skipped.reference, alias(skipped), always.contentReference, always.reference, alias(always)]));
    for (const image of internal) expect(view.calls.flat()).not.toContain(image.reference);
  });
});

describe("GitHub: what the real resolve says of a registry decides, and an internal image's tag is never pushed", () => {
  /** tag → the registry's answer: every manifest there (200), or none (404). */
  let present = true;
  const asked: string[] = [];
  const server = loopbackServer((request, url) => {
    const match = /^\/v2\/(.+)\/manifests\/([^/]+)$/.exec(url.pathname);
    if (!match) return new Response("", { status: 404 });
    if (request.method === "HEAD") asked.push(match[2]!);
    return present ? new Response(null, { headers: { "docker-content-digest": `sha256:${"d".repeat(64)}` } }) : new Response('{"errors":[{"code":"MANIFEST_UNKNOWN"}]}', { status: 404 });
  });
  type Step = { id?: string; name?: string; if?: string; uses?: string; run?: string; env?: Record<string, string>; with?: Record<string, string> };
  type Job = { env: Record<string, string>; strategy: { matrix: { include: Record<string, string>[] } }; steps: Step[] };

  /** The workflow, the graph and resolve's outputs, all from the CLI in one project folder. */
  const project = async () => {
    const root = scratchFolder("policy-");
    writeMatrix(join(root, "matrix.toml"), matrix(`${server.host}/ml`));
    const workflow = parseYaml((await runCliAsync(root, "emit", "github")).stdout) as { jobs: Record<string, Job> };
    const graph = JSON.parse((await runCliAsync(root, "plan", "--json")).stdout) as BuildGraph;
    asked.length = 0;
    const resolve = await runCliAsync(root, "resolve", "--registry", `${server.host}/ml`, "--format", "github");
    expect(resolve.code).toBe(0);
    const line = (name: string) => resolve.stdout.split("\n").find((l) => l.startsWith(`${name}=`))!.slice(name.length + 1);
    const resolved: ResolveOutputs = { inputs: line("inputs"), present: line("present"), publish: "true" };
    return { workflow, graph, resolved, stderr: resolve.stderr };
  };

  /** Each entry of the publishing build jobs: the tags build-push-action pushes when its step runs, and the references the tag-pointing step points. */
  const run = (workflow: { jobs: Record<string, Job> }, resolved: ResolveOutputs) => {
    const built: Record<string, string[]> = {};
    const pointed: string[][] = [];
    for (const [name, job] of Object.entries(workflow.jobs)) {
      if (job.strategy === undefined || name.startsWith("pr_")) continue;
      const answer = job.steps.find((step) => step.id === "registry")!;
      const point = job.steps.find((step) => step.name === "Point the tag at it")!;
      const build = job.steps.find((step) => step.uses?.startsWith("docker/build-push-action"))!;
      for (const entry of job.strategy.matrix.include) {
        const jobVariables = jobEnv(job.env, entry, resolved);
        const context: Context = { github: { event_name: "push", sha: REVISION }, matrix: entry, needs: needsResolve(resolved), env: jobVariables };
        const has = String(evaluateTemplate(answer.env!.HAS!, context));
        const withHas = { ...context, steps: { registry: { outputs: { has } } } };
        if (truthy(evaluate(point.if!, withHas))) {
          const env = Object.fromEntries(Object.entries(point.env!).map(([key, value]) => [key, String(evaluateTemplate(value, withHas))]));
          pointed.push(...runScripts([point.run!], [], { ...jobVariables, ...env })[0]!);
        }
        if (truthy(evaluate(build.if!, withHas))) built[entry.id!] = buildPushActionList(String(evaluateTemplate(build.with!.tags!, withHas)), false);
      }
    }
    return { built, pointed };
  };

  test("an empty registry: every image built; an internal one's only tag is its content reference", async () => {
    present = false;
    const { workflow, graph, resolved } = await project();
    const { internal, skipped, always, alias } = roles(graph);
    const { built, pointed } = run(workflow, resolved);
    expect(pointed).toEqual([]);
    for (const image of internal) expect(built[image.id]).toEqual([image.contentReference]);
    for (const image of [skipped, always]) expect(built[image.id]).toEqual([image.reference, image.contentReference, alias(image)]);
  });

  test("a registry holding every image: resolve does not ask for the one rebuilt every run, which is built; no tag is pointed at an internal image", async () => {
    present = true;
    const { workflow, graph, resolved, stderr } = await project();
    const { internal, skipped, always, alias } = roles(graph);
    // plan --json carries them.
    expect([always.rebuild, ...internal.map((image) => image.published), "rebuild" in skipped, "published" in skipped]).toEqual(["always", false, false, false, false]);
    expect(asked.sort()).toEqual(graph.images.filter((image) => image.id !== always.id).map((image) => `inputs-${image.inputs.slice(7)}`).sort());
    expect(JSON.parse(resolved.present)).not.toContain(always.id);
    expect(stderr).toContain('(1 rebuilt every run, rebuild = "always": not asked for)');
    const { built, pointed } = run(workflow, resolved);
    expect(Object.keys(built)).toEqual([always.id]);
    expect(pointed).toEqual([["buildx", "imagetools", "create", "--tag", skipped.reference, "--tag", alias(skipped), skipped.contentReference]]);
  });

  test("actionlint finds nothing in the workflow: every entry has `published`, as the steps read it", async () => {
    for (const { loaded, graph } of [plain, multi]) {
      const options = graph === multi.graph ? ["platform-runners=linux/amd64=ubuntu-latest,linux/arm64=ubuntu-24.04-arm"] : [];
      expect(await actionlint(emittedText(emitLoaded(builtin("github"), loaded, graph, options)[0]!), "build-images.yml")).toEqual([]);
    }
  });

  test("native platform jobs: an internal image's platforms are joined under its content reference alone, and nothing is done when the registry has it", () => {
    const files = emitLoaded(builtin("github"), multi.loaded, multi.graph, ["platform-runners=linux/amd64=ubuntu-latest,linux/arm64=ubuntu-24.04-arm"]);
    const workflow = parseYaml(emittedText(files[0]!)) as { jobs: Record<string, Job> };
    const merge = Object.values(workflow.jobs).find((job) => job.steps?.some((step) => step.name === "Join the platforms under every tag"))!;
    const join_ = merge.steps.find((step) => step.name === "Join the platforms under every tag")!;
    const image = roles(multi.graph).internal[0]!;
    const entry = merge.strategy.matrix.include.find((each) => each.id === image.id)!;
    expect(String(evaluateTemplate(join_.env!.PUBLISHED!, { matrix: entry }))).toBe("false");
    const temp = scratchFolder("runner-temp-");
    mkdirSync(join(temp, "digests"));
    for (const hex of ["a", "b"]) writeFileSync(join(temp, "digests", hex.repeat(64)), "");
    const env = { IMAGE: image.reference, PUBLISHED: "false", CONTENT: image.contentReference, REPOSITORY: image.repository, ALIASES: "", PLATFORMS: "2", RUNNER_TEMP: temp };
    const [joined] = runScripts([join_.run!], [], { ...env, HAS: "false" });
    expect(joined).toEqual([["buildx", "imagetools", "create", "--tag", image.contentReference, `${image.repository}@sha256:${"a".repeat(64)}`, `${image.repository}@sha256:${"b".repeat(64)}`]]);
    expect(runScripts([join_.run!], [], { ...env, HAS: "true" })[0]).toEqual([]);
    // A published image of the same graph: its tag as before.
    expect(runScripts([join_.run!], [], { ...env, PUBLISHED: "true", HAS: "true" })[0]).toEqual([["buildx", "imagetools", "create", "--tag", image.reference, image.contentReference]]);
  });
});

describe("bake", () => {
  test("an internal image's target is tagged with its content reference alone; its child's context links that name", async () => {
    const hcl = emittedText(emitLoaded(builtin("bake"), plain.loaded, plain.graph)[0]!);
    const parsed = (await parseHcl("docker-bake.hcl", hcl)) as { target: Record<string, [{ tags: string[]; contexts?: Record<string, string> }]> };
    expect(parsed.target["cuda-cu124"]![0].tags).toEqual(['${REPOSITORY}:inputs-${inputs("cuda-cu124")}']);
    expect(parsed.target["torch-cu124-py312"]![0].tags).toEqual(["${REPOSITORY}:torch-cu124-py312", '${REPOSITORY}:inputs-${inputs("torch-cu124-py312")}', "${REPOSITORY}:t-cu124"]);
    expect(parsed.target["torch-cu124-py312"]![0].contexts).toEqual({ '${REPOSITORY}:inputs-${inputs("cuda-cu124")}': "target:cuda-cu124" });
  });
});

test.skipIf(!hasShellcheck || !hasMake)("shellcheck finds nothing in the scripts these images get: make's recipes, Cloud Build's steps, the workflow's run blocks (native jobs too)", async () => {
  const scripts = [plain, multi].flatMap(({ loaded, graph }, index) => {
    const out = (name: string, options: string[] = []) => emitLoaded(builtin(name), loaded, graph, options).map(emittedText);
    const where = (name: string) => `${index === 0 ? "plain" : "multi"}/${name}`;
    return [
      ...makeScripts(out("make")[0]!, graph, where("make")),
      ...out("cloudbuild").filter((text) => text.startsWith("{")).flatMap((text) => cloudbuildScripts(text, where("cloudbuild")).scripts),
      ...githubRunScripts(out("github", index === 0 ? [] : ["platform-runners=linux/amd64=ubuntu-latest,linux/arm64=ubuntu-24.04-arm"])[0]!, where("github")).scripts,
    ];
  });
  // A Cloud Build step sources the functions the resolve step left under $HOME, which shellcheck cannot follow (SC1091); the resolve step's script, checked here, defines them.
  const findings = (await shellcheck(shellcheckPath!, scripts)).filter((finding) => !(finding.code === 1091 && finding.where.includes("/cloudbuild: step ")));
  expect(findings.map((finding) => `${finding.where}: SC${finding.code} ${finding.message}\n    ${finding.line}`)).toEqual([]);
});

describe("without content references (content-tags=false) an internal image has nothing to be pushed under: each emitter refuses, naming the option", () => {
  for (const name of ["make", "bake", "cloudbuild", "github", "gitlab"]) {
    test(name, () => {
      const emit = () => emitLoaded(builtin(name), plain.loaded, plain.graph, ["content-tags=false"]);
      expect(emit).toThrow(CalibanError);
      expect(emit).toThrow(`emit ${name}: content-tags=false pushes each image under its tag only, and images cuda-cu124, cuda-cu126 are internal (published = false)`);
    });
  }
  test("github --format matrix too; with content tags its entries say which images are published", () => {
    expect(() => emitLoaded(builtin("github"), plain.loaded, plain.graph, ["content-tags=false", "format=matrix"])).toThrow("content-tags=false");
    const lines = emittedText(emitLoaded(builtin("github"), plain.loaded, plain.graph, ["format=matrix"])[0]!);
    const entries = lines.trim().split("\n").flatMap((line) => (JSON.parse(line.slice(line.indexOf("=") + 1)) as { include: { id: string; published: boolean }[] }).include);
    expect(Object.fromEntries(entries.map((entry) => [entry.id, entry.published]))).toEqual({ "cuda-cu124": false, "cuda-cu126": false, "torch-cu124-py312": true, "torch-cu126-py312": true });
  });
});
