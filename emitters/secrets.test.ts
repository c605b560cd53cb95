// Build secrets through the emitters (issue 32): make and bake hand each image's secrets
// to BuildKit by name (read back: make's docker arguments as a shell hands them to
// docker, bake's file through HashiCorp's HCL parser; docker buildx bake --print in the
// e2e suite); every other built-in emitter refuses a graph with secrets, naming the images.

import { describe, expect, test } from "bun:test";
import { parse as parseHcl } from "@cdktf/hcl2json";
import { restrictedFixtureCases, loadFixture } from "../fixtures/golden.ts";
import { builtin, planText } from "../fixtures/test-helpers.ts";
import { hasMake } from "../scripts/validators/tools.ts";
import { makeView, planView } from "../scripts/validators/readback.ts";
import { emitLoaded } from "../cli/emit.ts";
import { emittedText } from "./contract.ts";
import { builtinEmitters } from "./index.ts";
import { CalibanError } from "../core/errors.ts";

const fixture = restrictedFixtureCases().find((f) => f.name === "secrets")!;
const { loaded, graph } = await loadFixture(fixture);

test("the secrets fixture is only make's and bake's: the other built-in emitters are each one that refuses it", () => {
  expect(fixture.emitters).toEqual(["make", "bake"]);
  expect(builtinEmitters.map((e) => e.name).filter((name) => !fixture.emitters.includes(name)).sort()).toEqual(["buildkite", "cloudbuild", "github", "gitlab"]);
});

describe("every emitter that does not pass secrets refuses a graph with them, naming the images and the families", () => {
  for (const name of ["github", "cloudbuild", "gitlab", "buildkite"]) {
    test(name, async () => {
      for (const options of [[], ["content-tags=false"]]) {
        let error: unknown;
        try {
          emitLoaded(builtin(name), loaded, graph, options);
        } catch (e) {
          error = e;
        }
        expect(error).toBeInstanceOf(CalibanError);
        const diagnostic = (error as CalibanError).diagnostics[0]!;
        expect(diagnostic.code).toBe("EMITTER");
        expect(diagnostic.message).toBe(`emit ${name}: images token, tools-plain, tools-fancy (families base, tools) need build secrets, and the ${name} emitter does not pass build secrets yet`);
        expect(diagnostic.hint).toStartWith("emit make or emit bake");
      }
    });
  }

  test("one image of many is enough; a graph without secrets is emitted as before", async () => {
    const toml = 'repository = "r.io/p/img"\n[images.a]\ntag = "one"\n[images.b]\ntag = "two"\nsecrets = { token = { env = "HF_TOKEN" } }\n';
    const planned = await planText(toml);
    expect(() => emitLoaded(builtin("github"), planned.loaded, planned.graph, [])).toThrow("emit github: image two (family b) needs build secrets");
    const plain = await planText(toml.replace(/secrets = .*\n/, ""));
    expect(emitLoaded(builtin("github"), plain.loaded, plain.graph, []).length).toBeGreaterThan(0);
  });
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
