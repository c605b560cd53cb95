// The base given as parts in every pipeline (core/base-parts.ts): where a child's args
// hold its base's repository and tag ({from.repository}, {from.tag}), each output gives
// them so that the child's `FROM ${IMAGE_NAME}:${BASE_TAG}` is the image its run built
// (the base's content reference, in the repository REPOSITORY=... moves it to), as an arg
// holding {from} is given the whole content reference; and the plain form (content-tags=false)
// builds FROM the base's tag. Read back through each output's consumer (scripts/validators).

import { describe, expect, test } from "bun:test";
import { emitLoaded } from "../cli/emit.ts";
import { builtin, planText } from "../fixtures/test-helpers.ts";
import { cloudbuildView, githubView, readGithubWorkflow, makeView, resolveOutputs, runnerOutputs, type ImageView } from "../scripts/validators/readback.ts";
import { hasMake } from "../scripts/validators/tools.ts";
import { contentTagOf } from "../core/base-parts.ts";
import { affectedSubgraph } from "../core/changes/affected.ts";
import { emittedText } from "./contract.ts";

const TOML = `repository = "r.io/x"
[axes.v]
a = { V = "1" }
[images.base]
tag = "base-{v}"
matrix = ["v"]
[images.app]
tag = "app-{v}"
matrix = ["v"]
from = "base"
args = ["v", { IMAGE_NAME = "{from.repository}", BASE_TAG = "{from.tag}" }]
`;

const { loaded, graph } = await planText(TOML);
const base = graph.images.find((image) => image.id === "base-a")!;
const emitted = (name: string, options: string[] = []) => emitLoaded(builtin(name), loaded, graph, options).map(emittedText);
/** What `FROM ${IMAGE_NAME}:${BASE_TAG}` is with the child's args as an output gave them. */
const fromLine = (images: readonly ImageView[]) => {
  const { args } = images.find((image) => image.reference.endsWith(":app-a"))!;
  expect(args.V).toBe("1");
  return `${args.IMAGE_NAME}:${args.BASE_TAG}`;
};

describe("each pipeline builds the child FROM the base this run built", () => {
  test.skipIf(!hasMake)("make: the content tag resolve read, in the repository REPOSITORY=... moves; plain, the base's tag", () => {
    const [makefile] = emitted("make");
    expect(fromLine(makeView(makefile!, graph).images)).toBe(base.contentReference);
    expect(fromLine(makeView(makefile!, graph, ["REPOSITORY=localhost:5000/moved"]).images)).toBe(`localhost:5000/moved:${contentTagOf(base)}`);
    const [plain] = emitted("make", ["content-tags=false"]);
    expect(fromLine(makeView(plain!, graph, ["REPOSITORY=localhost:5000/moved"]).images)).toBe("localhost:5000/moved:base-a");
  });

  test("bake: the args are the base's repository variable and content tag, which is the name its contexts link to the base's target", () => {
    const [hcl] = emitted("bake");
    const target = hcl!.slice(hcl!.indexOf('target "app-a"'));
    expect(target).toContain('    "IMAGE_NAME" = "${REPOSITORY}"\n    "BASE_TAG" = "inputs-${inputs("base-a")}"\n');
    expect(target).toContain('  contexts = {\n    "${REPOSITORY}:inputs-${inputs("base-a")}" = "target:base-a"\n  }');
    const [plain] = emitted("bake", ["content-tags=false"]);
    expect(plain).toContain('    "IMAGE_NAME" = "${REPOSITORY}"\n    "BASE_TAG" = "base-a"\n');
    expect(plain).toContain('    "${REPOSITORY}:base-a" = "target:base-a"\n');
  });

  test("Cloud Build: the tag of the `base` content reference the step's prelude set", () => {
    const configs = emitLoaded(builtin("cloudbuild"), loaded, graph).filter((file) => file.path.endsWith(".json")).map(emittedText);
    expect(configs.join("")).toContain(`--build-arg 'BASE_TAG='\\"$\${base##*:}\\"`);
    expect(fromLine(cloudbuildView(configs, [], {}, graph).images)).toBe(base.contentReference);
  });

  test("GitHub: {1} of the build args' format(), the resolve job's content tag; as data (format=matrix), the content tag written", () => {
    const workflow = readGithubWorkflow(emitted("github")[0]!);
    expect(fromLine(githubView(workflow, "workflow", resolveOutputs(graph)).images)).toBe(base.contentReference);
    const entries = Object.values(runnerOutputs(emitted("github", ["format=matrix"])[0]!)).flatMap((value) => JSON.parse(value).include as Record<string, string>[]);
    expect(entries.find((entry) => entry.id === "app-a")!["build-args"]).toBe(`V=1\nIMAGE_NAME=r.io/x\nBASE_TAG=${contentTagOf(base)}`);
  });

  test("GitHub: only a graph with a tag arg has BASE_CONTENT_TAG and {1}; with {from} the workflow is as before", async () => {
    expect(emitted("github")[0]).toContain("build-args: ${{ format(matrix.build-args, env.BASE_CONTENT, env.BASE_CONTENT_TAG) }}");
    const whole = await planText(TOML.replace('{ IMAGE_NAME = "{from.repository}", BASE_TAG = "{from.tag}" }', '{ BASE_IMAGE = "{from}" }'));
    const text = emittedText(emitLoaded(builtin("github"), whole.loaded, whole.graph, [])[0]!);
    expect(text).not.toContain("BASE_CONTENT_TAG");
    expect(text).toContain("build-args: ${{ format(matrix.build-args, env.BASE_CONTENT) }}");
  });
});

describe("emit --since: a child whose base is left out builds FROM the base's content reference", () => {
  test("the tag arg holds the content tag, and the graph no longer says it is a part", () => {
    const sub = affectedSubgraph(graph, new Set(["app-a"]));
    const [app] = sub.images;
    expect(app!.from).toBeNull();
    expect(app!.fromParts).toBeUndefined();
    expect(app!.args).toEqual([
      { name: "V", value: "1" },
      { name: "IMAGE_NAME", value: "r.io/x" },
      { name: "BASE_TAG", value: contentTagOf(base) },
    ]);
  });
});
