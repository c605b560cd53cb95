// Build secrets through the emitters (issue 32): every built-in emitter hands each image's
// secrets to BuildKit by name (read back: make's docker arguments as a shell hands them to
// docker, bake's file through HashiCorp's HCL parser; docker buildx bake --print in the
// e2e suite). The CI emitters, and what a pull or merge request's build gets, are in
// secrets-ci.test.ts.

import { describe, expect, test } from "bun:test";
import { parse as parseHcl } from "@cdktf/hcl2json";
import { fixtureCases, loadFixture } from "../fixtures/golden.ts";
import { builtin, planText } from "../fixtures/test-helpers.ts";
import { hasMake } from "../scripts/validators/tools.ts";
import { makeView, planView } from "../scripts/validators/readback.ts";
import { emitLoaded } from "../cli/emit.ts";
import { emittedText } from "./contract.ts";
import { builtinEmitters } from "./index.ts";
import { secretEnvNames, secretsHeader } from "./secrets.ts";

const fixture = fixtureCases().find((f) => f.name === "secrets")!;
const { loaded, graph } = await loadFixture(fixture);

test("no value reaches an emitted file, whatever the environment holds: caliban-images never reads one", () => {
  const values = { CALIBAN_E2E_TOKEN: "token-value-4f1c", PIP_INDEX_URL: "https://user:pip-value-9b2e@pypi.example/simple" };
  const saved = Object.fromEntries(Object.keys(values).map((name) => [name, process.env[name]]));
  Object.assign(process.env, values);
  try {
    for (const emitter of builtinEmitters) {
      for (const options of [[], ["content-tags=false"]]) {
        const texts = emitLoaded(emitter, loaded, graph, options).map(emittedText);
        expect(texts.length).toBeGreaterThan(0);
        for (const text of texts) for (const value of Object.values(values)) expect(text).not.toContain(value);
        // Each variable is named (by a --secret, a secret-envs line or a Secret Manager entry) in every emitter's output.
        for (const name of Object.keys(values)) expect([emitter.name, texts.some((text) => text.includes(name))]).toEqual([emitter.name, true]);
      }
    }
  } finally {
    for (const [name, value] of Object.entries(saved)) if (value === undefined) delete process.env[name];
    else process.env[name] = value;
  }
});

test("the variables, each once and sorted; the header names them and says a pull request gets none", () => {
  expect(secretEnvNames(graph.images)).toEqual(["CALIBAN_E2E_TOKEN", "PIP_INDEX_URL"]);
  expect(secretsHeader(graph, "the store", "A pull request's build")).toEqual([
    "# Build secrets reach the builds only as BuildKit secrets (--secret), from the store: CALIBAN_E2E_TOKEN, PIP_INDEX_URL.",
    "# A file secret is read at its path in the checkout, where an earlier step must have written it.",
    '# A pull request\'s build gets none: its Dockerfiles must build without them (caliban-images docs/secrets.md).',
  ]);
  expect(secretsHeader({ ...graph, images: graph.images.map(({ secrets: _, ...image }) => image) }, "the store", "A pull request's build")).toEqual([]);
});

describe("make and bake pass each image's secrets, by name", () => {
  const expected = ["id=token,env=CALIBAN_E2E_TOKEN"];
  const tools = ["id=ngc.key,src=keys/ngc $key's ${HOME} %{x} `id` #1 \\ back.txt", "id=pip_index,env=PIP_INDEX_URL"];

  test("the plan's view of them", () => {
    expect(planView(graph).images.map((image) => image.secrets)).toEqual([expected, tools, tools]);
  });

  for (const contentTags of [true, false]) {
    test.skipIf(!hasMake)(`make: \`make -j2 push\` runs docker with --secret for each, as the plan says${contentTags ? "" : " (content-tags=false)"}`, () => {
      const makefile = emittedText(emitLoaded(builtin("make"), loaded, graph, contentTags ? [] : ["content-tags=false"])[0]!);
      const view = makeView(makefile, graph);
      expect(view.stderr).toBe("");
      expect(view.images).toEqual(planView(graph, contentTags).images);
      expect(view.calls.filter((call) => call[0] === "build").map((call) => call.filter((_, i) => call[i - 1] === "--secret"))).toEqual([expected, tools.slice().reverse(), tools.slice().reverse()]);
    });
  }

  test("bake: HashiCorp's HCL parser reads each target's `secret` list", async () => {
    const parsed = (await parseHcl("docker-bake.hcl", emittedText(emitLoaded(builtin("bake"), loaded, graph, [])[0]!))) as { target: Record<string, { secret?: string[] }[]> };
    const secrets = Object.fromEntries(Object.entries(parsed.target).map(([id, [target]]) => [id, target!.secret]));
    // hcl2json keeps a template's escapes: `$${` is HCL's literal `${`.
    const literal = (spec: string) => spec.replace("$${", "${").replace("%%{", "%{");
    expect(Object.fromEntries(Object.entries(secrets).map(([id, list]) => [id, list?.map(literal).sort()]))).toEqual({ token: expected, "tools-plain": tools, "tools-fancy": tools });
  });
});

test.skipIf(!hasMake)("make: an image built by buildx (platforms, a cache) gets its secrets on every buildx build, the --push one included", async () => {
  const planned = await planText('repository = "r.io/p/img"\n[images.gpu]\ntag = "gpu"\nplatforms = ["linux/amd64", "linux/arm64"]\ntest = "true"\nsecrets = { hf = { env = "HF_TOKEN" } }\n[cache]\ntype = "registry"\n');
  const view = makeView(emittedText(emitLoaded(builtin("make"), planned.loaded, planned.graph, [])[0]!), planned.graph);
  expect(view.images).toEqual(planView(planned.graph).images);
  const builds = view.calls.filter((call) => call[0] === "buildx" && call[1] === "build");
  expect(builds.length).toBeGreaterThan(1); // the test's --load build, then the --push one
  for (const call of builds) expect(call.filter((_, i) => call[i - 1] === "--secret")).toEqual(["id=hf,env=HF_TOKEN"]);
});
