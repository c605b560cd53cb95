// Build-time values of aliases (core/build-time.ts): the branch's rule, an alias's parts
// and room, its check at plan time, and the refusals of every other template; the
// fixture fixtures/build-time-tags runs them through every emitter's consumer.

import { describe, expect, test } from "bun:test";
import { aliasProblem, branchRooms, branchTag, buildTimeParts, expandBuildTime } from "./build-time.ts";
import { TAG_PATTERN } from "./names.ts";
import { planText, problemsOf } from "../fixtures/test-helpers.ts";

const VALUES = { date: "20240229", commit: "0123456789abcdef0123456789abcdef01234567", branch: "feature/x" };

describe("the branch made a tag", () => {
  test("each run of characters outside [A-Za-z0-9_.-] is one '-'; '.', '-' and '_' stay; a leading '.' or '-' is '_'", () => {
    const cases: [string, string][] = [
      ["main", "main"],
      ["feature/x", "feature-x"],
      ["release/2.0", "release-2.0"],
      ["a--b__c..d", "a--b__c..d"],
      ["feature/ü x", "feature-x"],
      ["ünïcödé", "_n-c-d-"],
      ["日本語/ブランチ", "_"],
      ["a\u{1F600}b", "a-b"],
      ["it's $(touch /tmp/x)", "it-s-touch-tmp-x-"],
      [".hidden", "_hidden"],
      ["-x", "_x"],
      ["/lead", "_lead"],
      ["tab\there\nnewline", "tab-here-newline"],
    ];
    for (const [branch, tag] of cases) expect([branch, branchTag(branch)]).toEqual([branch, tag]);
  });

  test("whatever the branch, the value is tag characters, never beginning with '.' or '-'", () => {
    for (const branch of ["", "x", "-", ".", "--", "..", " ", "/", "é", "a/b/c", "$(id)", "`id`", "x".repeat(300)]) {
      const tag = branchTag(branch);
      expect(tag === "" || TAG_PATTERN.test(tag.slice(0, 128))).toBe(true);
    }
  });
});

describe("an alias's build-time values", () => {
  test("parts in order; the branch is cut to what 128 characters leave it (the date 8, the commit 40, the short commit 7)", () => {
    expect(buildTimeParts("nightly.{date}.{short_commit}-py311")).toEqual(["nightly.", { value: "date" }, ".", { value: "short_commit" }, "-py311"]);
    expect(buildTimeParts("py311-{branch}")).toEqual(["py311-", { value: "branch", length: 122 }]);
    expect(buildTimeParts("{commit}-{branch}-{date}")).toEqual([{ value: "commit" }, "-", { value: "branch", length: 128 - 40 - 2 - 8 }, "-", { value: "date" }]);
    expect(buildTimeParts("{branch}")).toEqual([{ value: "branch", length: 128 }]);
    expect(branchRooms(["a-{branch}", "b-{branch}", "cc-{branch}", "latest"])).toEqual([125, 126]);
  });

  test("expanded as a CI does: the short commit is its first 7 characters; a long branch is cut so that the alias is a tag", () => {
    expect(expandBuildTime("nightly.{date}.{short_commit}-py311", VALUES)).toBe("nightly.20240229.0123456-py311");
    expect(expandBuildTime("{commit}", VALUES)).toBe(VALUES.commit);
    expect(expandBuildTime("py311-{branch}", VALUES)).toBe("py311-feature-x");
    const long = expandBuildTime("py311-{branch}-{date}", { ...VALUES, branch: "b/".repeat(100) });
    expect(long.length).toBe(128);
    expect(long).toEndWith("-20240229");
    expect(TAG_PATTERN.test(long)).toBe(true);
    expect(expandBuildTime("latest", VALUES)).toBe("latest");
  });

  test("checked at plan time for every value: too long, the branch named twice, not a tag whatever the values", () => {
    expect(aliasProblem("nightly.{date}")).toBeUndefined();
    expect(aliasProblem("{branch}")).toBeUndefined();
    expect(aliasProblem("latest")).toBeUndefined();
    expect(aliasProblem("a{b")?.message).toBe("is not a valid Docker tag");
    expect(aliasProblem("{branch}-{branch}")?.message).toBe("names {branch} twice");
    expect(aliasProblem(`${"x".repeat(80)}-{commit}-{date}`)?.message).toBe("is 130 characters once the CI fills in its build-time values (the date 8, the commit 40, the short commit 7); a tag has at most 128");
    // A branch of one character still fits: then the alias is a tag for every branch.
    expect(aliasProblem(`${"x".repeat(127)}{branch}`)).toBeUndefined();
    expect(aliasProblem(`${"x".repeat(128)}{branch}`)?.message).toStartWith("is 129 characters once the CI fills in its build-time values (the date 8, the commit 40, the short commit 7, the branch at least 1)");
  });
});

const MATRIX = `repository = "r.io/p/img"
[axes.python]
py311 = { PYTHON_VERSION = "3.11" }
py312 = { PYTHON_VERSION = "3.12" }
`;

describe("only aliases name build-time values", () => {
  const messages = async (rest: string) => (await problemsOf(`${MATRIX}${rest}`)).map((d) => `${d.line}: ${d.message}${d.hint ? ` (${d.hint})` : ""}`);

  test("the graph keeps them as written; an image's tag, id, content reference and inputs digest do not depend on them", async () => {
    const family = (aliases: string) => `[images.py]\nmatrix = ["python"]\ntag = "py-{python}"\naliases = [${aliases}]\n`;
    const { graph } = await planText(`${MATRIX}${family('"nightly.{date}.{short_commit}-{python}", "{python}-{branch}", "{commit}-{python}"')}`);
    expect(graph.images[0]!.aliases).toEqual(["nightly.{date}.{short_commit}-py311", "py311-{branch}", "{commit}-py311"]);
    const { graph: plain } = await planText(`${MATRIX}${family('"latest-{python}"')}`);
    for (const [stamped, fixed] of graph.images.map((image, i) => [image, plain.images[i]!] as const)) {
      expect({ id: stamped.id, tag: stamped.tag, reference: stamped.reference, inputs: stamped.inputs, content: stamped.contentReference }).toEqual({ id: fixed.id, tag: fixed.tag, reference: fixed.reference, inputs: fixed.inputs, content: fixed.contentReference });
    }
  });

  test("in `when` rules too; an axis of the family named like one is the axis", async () => {
    const { graph } = await planText(`${MATRIX}[axes.branch]\nmain = {}\n[images.py]\nmatrix = ["python", "branch"]\ntag = "py-{python}-{branch}"\n[[images.py.when]]\nmatch = { python = "py312" }\naliases = ["3-{branch}-{date}"]\n`);
    expect(graph.images.map((image) => image.aliases)).toEqual([[], ["3-main-{date}"]]);
  });

  test("any other template is refused at its line, with a hint; a label names the commit as {revision}", async () => {
    const lines = await messages(`[images.py]
matrix = ["python"]
tag = "py-{python}-{date}"
args = [{ X = "{branch}" }]
dockerfile = "{short_commit}.Dockerfile"
target = "t{date}"
test = "echo {commit}"
repository = "{repository}/{branch}"
labels = { "a.b" = "x-{commit}" }
`);
    const plan = 'keep the tag fixed and add this as an alias, e.g. aliases = ["nightly.{NAME}"]: the tag, args, dockerfile, context, labels, target, test and repository are known when the plan is made';
    const refused = (line: number, name: string) => `${line}: {${name}} is known only when the CI builds: only an alias may name it (${plan.replace("NAME", name)})`;
    expect(lines.sort()).toEqual(
      [
        refused(7, "date"),
        refused(8, "branch"),
        refused(9, "short_commit"),
        refused(10, "date"),
        refused(11, "commit"),
        refused(12, "branch"),
        '13: {commit} is known only when the CI builds: only an alias may name it (a label that is the commit is written "{revision}", the whole value)',
      ].sort(),
    );
  });

  test("an alias: no attribute, a tag for every value, the branch once, and two images never one alias", async () => {
    expect(await messages('[images.py]\nmatrix = ["python"]\ntag = "py-{python}"\naliases = ["{date.X}"]\n')).toEqual(["8: {date} has no attributes"]);
    expect(await messages('[images.py]\nmatrix = ["python"]\ntag = "py-{python}"\naliases = ["{python}-{branch}-{branch}"]\n')).toEqual(['8: the alias "py311-{branch}-{branch}" (for python=py311) names {branch} twice (name it once: the branch is cut to the room the rest of the alias leaves it)']);
    const long = "x".repeat(90);
    expect(await messages(`[images.py]\nmatrix = ["python"]\ntag = "py-{python}"\naliases = ["${long}-{python}-{commit}"]\n`)).toEqual([
      `8: the alias "${long}-py311-{commit}" (for python=py311) is 137 characters once the CI fills in its build-time values (the date 8, the commit 40, the short commit 7); a tag has at most 128 (shorten the alias)`,
    ]);
    expect(await messages('[images.py]\nmatrix = ["python"]\ntag = "py-{python}"\naliases = ["nightly-{date}"]\n')).toEqual([
      '8: two images would both be r.io/p/img:nightly-{date}: python=py311 of "py" and python=py312 of "py" (as an alias) (make the alias templates include every axis that tells the images apart, or give it to one image in a `when` rule: a table [[images.py.when]] with match = { python = "py311" } and aliases = ["nightly-{date}"])',
    ]);
  });
});
