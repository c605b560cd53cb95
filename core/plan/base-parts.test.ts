// The base given as parts (core/base-parts.ts): `{from.repository}` and `{from.tag}` in a
// `from` family's args, read, planned (ImageNode.fromParts, the inputs digest), and
// checked against the Dockerfile as a pipeline gives them (core/plan/base-parts-chain.ts).

import { describe, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { formatDiagnostic } from "../errors.ts";
import { planText, problemsOf, runCli, type CliRun } from "../../fixtures/test-helpers.ts";
import { REPO_ROOT } from "../../fixtures/golden.ts";
import { graphShape } from "../changes/graph-shape.ts";
import { scratchFolder } from "../../scripts/validators/scratch.ts";

const HEAD = `repository = "r.io/x"
[axes.v]
a = { V = "1" }
b = { V = "2" }
[images.base]
tag = "base-{v}"
matrix = ["v"]
dockerfile = "base.Dockerfile"
`;

/** A family FROM base with these args (a TOML array) and Dockerfile. */
const child = (name: string, args: string, extra = "") => `[images.${name}]\ntag = "${name}-{v}"\nmatrix = ["v"]\nfrom = "base"\ndockerfile = "${name}.Dockerfile"\nargs = ${args}\n${extra}`;

const PARTS = '["v", { IMAGE_NAME = "{from.repository}", BASE_TAG = "{from.tag}" }]';

/** Each problem's first line, as the CLI prints it. */
const errorsOf = async (toml: string) => (await problemsOf(toml)).map((d) => formatDiagnostic(d).split("\n")[0]!);

/** The line of `key = ` in `[images.family]` of a matrix text (1-based). */
function lineOf(toml: string, family: string, key: string): number {
  const lines = toml.split("\n");
  const start = lines.indexOf(`[images.${family}]`);
  return start + lines.slice(start).findIndex((line) => line.startsWith(`${key} = `)) + 1;
}

describe("reading: {from.repository} and {from.tag} where {from} may be, and nowhere else", () => {
  test("without `from`, or outside the args, refused at the line with a hint", async () => {
    const toml = `${HEAD}[images.lone]\ntag = "lone"\nargs = [{ T = "{from.tag}" }]\n[images.tagged]\ntag = "t-{from.repository}"\nfrom = "base"\nmatrix = ["v"]\n`;
    const problems = await problemsOf(toml);
    expect(problems.map((p) => formatDiagnostic(p).split("\n")[0])).toEqual([
      `error: m.toml:${lineOf(toml, "lone", "args")}:11: images.lone.args[0].T: {from.tag} is only defined in the build args of a family with \`from\``,
      `error: m.toml:${lineOf(toml, "tagged", "tag")}:1: images.tagged.tag: {from.repository} is only defined in the build args of a family with \`from\``,
    ]);
    expect(problems[0]!.hint).toBe('a family with from = "FAMILY" names its base\'s parts in its args, e.g. args = [{ IMAGE_NAME = "{from.repository}", BASE_TAG = "{from.tag}" }]');
  });

  test("{from.X} for another X is no part: the hint lists the three", async () => {
    const [problem, ...rest] = await problemsOf(`${HEAD}${child("app", '[{ D = "{from.digest}" }]')}`);
    expect(rest).toEqual([]);
    expect(problem!.message).toBe("{from.digest} is no part of the base image");
    expect(problem!.hint).toBe("write {from} (the base's reference, repository:tag), {from.repository} or {from.tag}");
  });

  test("a part is an arg's whole value: inside other text it is refused", async () => {
    const toml = `${HEAD}${child("app", '[{ T = "{from.tag}-slim" }]')}`;
    expect(await errorsOf(toml)).toEqual([
      `error: m.toml:${lineOf(toml, "app", "args")}:11: images.app.args[0].T: {from.tag} must be the whole value of its arg: a pipeline that builds FROM the image this run built replaces that whole value (a tag by the base's content tag, inputs-<hex>; a repository as REPOSITORY moves it)`,
    ]);
    const [problem] = await problemsOf(`${HEAD}${child("app", '[{ R = "{from.repository}:{from.tag}" }]')}`);
    expect(problem!.hint).toContain("or, for the base's whole reference, write {from}");
  });
});

describe("planning: the parts are the base's repository and tag, and the graph says which args hold them", () => {
  test("each arg holds its part; no BASE_IMAGE is added; fromArg is null, fromParts names them", async () => {
    const { graph } = await planText(`${HEAD}${child("app", PARTS)}`);
    const app = graph.images.find((image) => image.id === "app-b")!;
    expect(app.args).toEqual([
      { name: "V", value: "2" },
      { name: "IMAGE_NAME", value: "r.io/x" },
      { name: "BASE_TAG", value: "base-b" },
    ]);
    expect(app.from).toBe("base-b");
    expect(app.fromArg).toBeNull();
    expect(app.fromParts).toEqual({ IMAGE_NAME: "repository", BASE_TAG: "tag" });
    // Without parts, no key at all: every graph planned before them is the same JSON.
    expect(Object.keys(graph.images.find((image) => image.id === "base-a")!)).not.toContain("fromParts");
  });

  test("{from} beside them still gives fromArg; a `when` rule that replaces a part's arg takes it out of fromParts", async () => {
    const toml = `${HEAD}${child("app", '[{ BASE = "{from}", BASE_TAG = "{from.tag}" }]', '[[images.app.when]]\nmatch = { v = "b" }\nargs = [{ BASE_TAG = "pinned" }]\n')}`;
    const { graph } = await planText(toml);
    const [a, b] = graph.images.filter((image) => image.family === "app");
    expect(a!.fromArg).toBe("BASE");
    expect(a!.fromParts).toEqual({ BASE_TAG: "tag" });
    expect(b!.args).toEqual([
      { name: "BASE", value: "r.io/x:base-b" },
      { name: "BASE_TAG", value: "pinned" },
    ]);
    expect(b!.fromParts).toBeUndefined();
  });

  test("the inputs digest and the graph's shape name the parts, not their text: the repository moves neither", async () => {
    const toml = `${HEAD}${child("app", PARTS)}`;
    const { graph } = await planText(toml);
    const here = graph.images.map((image) => image.inputs);
    const moved = (await planText(toml, "other.io/y")).graph;
    expect(moved.images.map((image) => image.inputs)).toEqual(here);
    expect(graphShape(moved)).toBe(graphShape(graph));
    expect(moved.images.find((image) => image.id === "app-a")!.args[1]).toEqual({ name: "IMAGE_NAME", value: "other.io/y" });
    // A literal arg of the same text is an input as written.
    const literal = (await planText(`${HEAD}${child("app", '["v", { IMAGE_NAME = "r.io/x", BASE_TAG = "{from.tag}" }]')}`)).graph;
    expect(literal.images.find((image) => image.id === "app-a")!.inputs).not.toBe(here[2]);
  });
});

/** A folder with a matrix and its Dockerfiles, planned by the CLI. */
function planFolder(toml: string, files: Record<string, string>): CliRun {
  const cwd = scratchFolder("base-parts-");
  writeFileSync(join(cwd, "matrix.toml"), toml);
  for (const [path, text] of Object.entries({ "base.Dockerfile": "FROM scratch\n", ...files })) writeFileSync(join(cwd, path), text);
  return runCli(["plan"], cwd);
}

describe("against the Dockerfile: a FROM of the parts is the base when a pipeline's args make it the base's content reference", () => {
  test("NVIDIA's form, ${IMAGE_NAME}:${BASE_TAG} (or $IMAGE_NAME:$BASE_TAG, in any stage), plans", () => {
    const toml = `${HEAD}${child("braced", PARTS)}${child("bare", PARTS)}${child("staged", PARTS)}`;
    const result = planFolder(toml, {
      "braced.Dockerfile": "ARG IMAGE_NAME\nARG BASE_TAG\nFROM ${IMAGE_NAME}:${BASE_TAG} AS base\n",
      "bare.Dockerfile": "ARG IMAGE_NAME BASE_TAG\nFROM $IMAGE_NAME:$BASE_TAG\n",
      "staged.Dockerfile": "ARG IMAGE_NAME\nARG BASE_TAG=latest\nFROM busybox:1.36 AS tools\nFROM ${IMAGE_NAME}:${BASE_TAG}\nCOPY --from=tools /bin/sh /sh\n",
    });
    expect(result.stderr).not.toContain("error:");
    expect(result.code).toBe(0);
  });

  const cases = {
    literal: ['["v", { IMAGE_NAME = "{from.repository}" }]', "ARG IMAGE_NAME\nFROM ${IMAGE_NAME}:base-a\n"],
    other: ['["v", { IMAGE_NAME = "{from.repository}" }]', "ARG IMAGE_NAME\nFROM ${IMAGE_NAME}:12.9.1-runtime\n"],
    suffixed: [PARTS, "ARG IMAGE_NAME\nARG BASE_TAG\nFROM ${IMAGE_NAME}:${BASE_TAG}-slim\n"],
    late: [PARTS, "ARG IMAGE_NAME\nFROM ${IMAGE_NAME}:${BASE_TAG}\nARG BASE_TAG\n"],
    repository: ['["v", { BASE_TAG = "{from.tag}" }]', "ARG BASE_TAG\nFROM r.io/x:${BASE_TAG}\n"],
    unused: [PARTS, "FROM ubuntu:22.04\n"],
  } as const;
  const toml = HEAD + Object.entries(cases).map(([name, [args]]) => child(name, args)).join("");
  const files = Object.fromEntries(Object.entries(cases).map(([name, [, text]]) => [`${name}.Dockerfile`, text]));
  const run = planFolder(toml, files);
  const at = (family: string) => `error: matrix.toml:${lineOf(toml, family, "from")}:1: images.${family}.from: `;

  test("each a problem at the family's `from`: exit 2", () => {
    expect(run.code).toBe(2);
    expect(run.stderr).toContain("6 problems");
  });

  test("the base's own tag written in the Dockerfile: no pipeline could point it at what this run built", () => {
    expect(run.stderr).toContain(
      `${at("literal")}the FROM at line 2 of "literal.Dockerfile" is "r.io/x:base-a", the image of "base", with its tag base-a written in "literal.Dockerfile": a pipeline builds FROM the image this run built by giving the base's content tag (inputs-<hex>) to the build arg that holds {from.tag}, and no build arg holds {from.tag}\n  hint: pass the tag as a build arg: ARG BASE_TAG before the first FROM, FROM \${IMAGE_NAME}:\${BASE_TAG}, and args = [{ BASE_TAG = "{from.tag}" }]`,
    );
  });

  test("another tag of the base's repository: the tag asked for and the base's, named", () => {
    expect(run.stderr).toContain(
      `${at("other")}the FROM at line 2 of "other.Dockerfile" is "r.io/x:12.9.1-runtime" once the build args are in: it asks for the tag 12.9.1-runtime of r.io/x, but the image of "base" that other builds FROM is tagged base-a\n  hint: write the tag as {from.tag}: args = [{ BASE_TAG = "{from.tag}" }] and FROM \${IMAGE_NAME}:\${BASE_TAG} in "other.Dockerfile"; or fix that FROM of "other.Dockerfile"`,
    );
    expect(run.stderr).toContain(`${at("suffixed")}the FROM at line 3 of "suffixed.Dockerfile" is "r.io/x:base-a-slim" once the build args are in: it asks for the tag base-a-slim of r.io/x, but the image of "base" that suffixed builds FROM is tagged base-a`);
  });

  test("a part's arg declared only after the first FROM; the repository written in the Dockerfile; no FROM of the parts", () => {
    expect(run.stderr).toContain(`${at("late")}the FROM at line 2 of "late.Dockerfile" uses the build arg BASE_TAG, which holds the tag of "base"'s image, but "late.Dockerfile" declares no ARG BASE_TAG before its first FROM, so docker leaves it empty there`);
    expect(run.stderr).toContain(`${at("repository")}the FROM at line 2 of "repository.Dockerfile" is "r.io/x:base-a", the image of "base", with its repository written in "repository.Dockerfile"`);
    expect(run.stderr).toContain('hint: pass the repository as a build arg: ARG IMAGE_NAME before the first FROM, FROM ${IMAGE_NAME}:${BASE_TAG}, and args = [{ IMAGE_NAME = "{from.repository}" }]');
    expect(run.stderr).toContain(`${at("unused")}family "unused" builds FROM "base", but "unused.Dockerfile" would not: none of its FROM lines uses IMAGE_NAME or BASE_TAG, the build args that hold parts of its base's reference`);
  });
});

describe("the whole reference where a FROM writes a tag after it; NVIDIA's own layout", () => {
  test("{from} with a tag after it in the FROM: the hint gives the base as parts", () => {
    const run = planFolder(`${HEAD}${child("app", '[{ IMAGE_NAME = "{from}" }]')}`, { "app.Dockerfile": "ARG IMAGE_NAME\nFROM ${IMAGE_NAME}:12.9.1-runtime\n" });
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('the FROM at line 2 of "app.Dockerfile" is "r.io/x:base-a:12.9.1-runtime" once the build args are in, not r.io/x:base-a');
    expect(run.stderr).toContain('give the base as parts, args = [{ IMAGE_NAME = "{from.repository}", BASE_TAG = "{from.tag}" }] and FROM ${IMAGE_NAME}:${BASE_TAG}');
  });

  test("fixtures/real-world/nvidia-cuda (FROM ${IMAGE_NAME}:${BASE_TAG} in every child) plans through the CLI, its FROM lines checked", () => {
    const run = runCli(["plan"], join(REPO_ROOT, "fixtures", "real-world", "nvidia-cuda"));
    expect(run.stderr).not.toContain("error:");
    expect(run.code).toBe(0);
  });
});
