// Every shell script our outputs hand a shell, through shellcheck (Debian's package), in
// every fixture's golden outputs (golden.test.ts proves them what the emitters write): each
// `run:` block of a workflow, each bash step of a Cloud Build config after Cloud Build's
// substitutions (the config's own and each trigger's), submit.sh, each recipe and
// $(shell) of a Makefile as make hands it to /bin/sh, each GitLab job's script and each
// Buildkite step's command. shellcheck finds nothing, or the
// finding is allowed below with its reason; an allowance nothing needs any more fails too.

import { describe, expect, test } from "bun:test";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fixtureCases, loadFixture, restrictedFixtureCases, type FixtureCase } from "../fixtures/golden.ts";
import { hasMake, hasShellcheck, shellcheckPath } from "../scripts/validators/tools.ts";
import { buildkiteScripts, cloudbuildScripts, githubRunScripts, gitlabScripts, makeScripts, shellcheck, type ShellcheckFinding, type ShellScript } from "../scripts/validators/shellcheck.ts";

interface Allowance {
  readonly code: number;
  /** Matches the finding's place: `fixture/output: step or recipe, line N`. */
  readonly where: RegExp;
  readonly reason: string;
}

/** Findings allowed, each with why; keep it small. */
const ALLOWED: readonly Allowance[] = [
  {
    code: 2016,
    where: /^variables\/(?:make__Makefile: reading it, script "[^"]*caliban-images resolve|cloudbuild__cloudbuild\.json: step "resolve")/,
    reason: "the fixture's --var value holds '$USER' and ${y} as text, single-quoted on purpose (shellWord) for caliban-images resolve, which takes it as written; shellcheck's info cannot know that (it exempts docker's args, not ours)",
  },
  {
    code: 1091,
    where: /^[\w-]+\/cloudbuild__[^:]*\.json: step /,
    reason: "a content-tags step sources the functions the resolve step left in $HOME/.caliban-images/functions.sh, a file of the build, not of the checkout, which shellcheck cannot follow; the functions are checked as code in the resolve step's own script, which defines them",
  },
  {
    code: 2016,
    where: /^[\w-]+\/(?:plain__)?(?:gitlab__\.gitlab-ci\.yml: job |buildkite__\.buildkite__pipeline\.yml: step )/,
    reason: "a value holding '$' as text (an arg, a label, a --var value), single-quoted on purpose (shellWord) for \"$DOCKER\" or caliban-images; shellcheck exempts a command named docker, not one a variable names",
  },
  {
    code: 2016,
    where: /^secrets\/(?:plain__)?cloudbuild__cloudbuild\.json: step "[^"]*:tools-(?:plain|fancy)"/,
    reason: "the fixture's file secret's path holds '$' and ${HOME} as text, single-quoted on purpose (shellWord) in the array of --secret words the step's docker builds take; shellcheck exempts docker's own args, not an array's",
  },
  {
    code: 2016,
    where: /^annotations\/(?:plain__)?cloudbuild__cloudbuild\.json: step /,
    reason: "the fixture's description holds \"$HOME\" as text, single-quoted on purpose (scriptWord) for docker, which a content-tags step runs through `retry`; shellcheck exempts docker's own args, not those of a command it runs",
  },
];

const allFindings: ShellcheckFinding[] = [];

function unexplained(findings: readonly ShellcheckFinding[]): string[] {
  allFindings.push(...findings);
  return findings
    .filter((finding) => !ALLOWED.some((allowed) => allowed.code === finding.code && allowed.where.test(finding.where)))
    .map((finding) => `${finding.where}: SC${finding.code} (${finding.level}) ${finding.message}\n    ${finding.line}`);
}

/**
 * One script per shape, its digits folded: scripts that differ only in digits (an image's
 * version, `py30-d00-slim`, `3.11` or `3.12`, `12.4.1`) have the same words, quoted the
 * same way, so shellcheck's findings on one are its findings on all. The one kept is
 * checked as it is written. The Makefiles, Cloud Build, GitLab and Buildkite files of the
 * large fixtures (github-job-cap's 273 images, the real-world matrices) repeat each shape
 * many times: checking every copy took about 40 s of npm test's five minutes. (make also
 * runs one target per shape of name.) GitHub's run blocks are checked whole.
 */
function onePerShape<T>(items: readonly T[], text: (item: T) => string = (item) => { const script = item as ShellScript; return `${script.shell}\0${script.options ?? ""}\0${script.text}`; }): T[] {
  const seen = new Set<string>();
  return items.filter((item) => {
    const shape = text(item).replace(/\d/g, "0");
    if (seen.has(shape)) return false;
    seen.add(shape);
    return true;
  });
}

/** A fixture's golden outputs, by file name (the `plain__` ones are content-tags=false). */
const goldenFiles = (fixture: FixtureCase) => ({
  fixture,
  files: Object.fromEntries(readdirSync(fixture.expected, { withFileTypes: true }).filter((entry) => entry.isFile() && !entry.name.endsWith("__REFUSED.txt")).map((entry) => [entry.name, readFileSync(join(fixture.expected, entry.name), "utf8")])) as Record<string, string>,
});
const goldens = fixtureCases().map(goldenFiles);
const restrictedGoldens = restrictedFixtureCases().map(goldenFiles);
/** With the fixtures only some emitters accept (signing), where those write a file: its name says which. */
const allGoldens = [...goldens, ...restrictedGoldens];

describe("shellcheck on every shell script we emit", () => {
  test.skipIf(!hasShellcheck)("shellcheck answers as this test reads it: an unquoted $1 is SC2086 at its line; a runner's -e is read", async () => {
    const findings = await shellcheck(shellcheckPath!, [
      { where: "control", shell: "sh", text: "true\necho $1\n" },
      // `bash -e FILE`: a cd that fails stops the script (no SC2164), and lines are the script's own.
      { where: "with -e", shell: "bash", options: "set -e", text: 'cd /tmp\necho $1\n' },
    ]);
    expect(findings.map((finding) => `${finding.where}: SC${finding.code}`).sort()).toEqual(["control, line 2: SC2086", "with -e, line 2: SC2086"]);
  });

  test("github: no run block pastes a ${{ }} expression into its script (values reach a script through env:)", () => {
    const pasted = allGoldens.flatMap(({ fixture, files }) =>
      Object.entries(files)
        .filter(([name]) => /^(plain__)?github__.*\.yml$/.test(name))
        .flatMap(([name, text]) => githubRunScripts(text, `${fixture.name}/${name}`).expressions),
    );
    expect(pasted).toEqual([]);
  });

  test.skipIf(!hasShellcheck)("github: every run block, as the runner's bash -e runs it", async () => {
    const scripts = allGoldens.flatMap(({ fixture, files }) =>
      Object.entries(files)
        .filter(([name]) => /^(plain__)?github__.*\.yml$/.test(name))
        .flatMap(([name, text]) => githubRunScripts(text, `${fixture.name}/${name}`).scripts),
    );
    expect(scripts.length).toBeGreaterThan(goldens.length);
    expect(unexplained(await shellcheck(shellcheckPath!, scripts))).toEqual([]);
  });

  /** Every Cloud Build shell script, with each set of values a build can run with (a trigger's substitutions override the config's own), and submit.sh. */
  const cloudbuild = allGoldens.flatMap(({ fixture, files }) =>
    ["", "plain__"].flatMap((prefix) => {
      const own = (pattern: RegExp) => Object.entries(files).filter(([name]) => name.startsWith(`${prefix}cloudbuild__`) && pattern.test(name.slice(`${prefix}cloudbuild__`.length)));
      const values = [{}, ...own(/^trigger-.*\.json$/).map(([, text]) => (JSON.parse(text) as { substitutions?: Record<string, string> }).substitutions ?? {})];
      const configs = own(/^(?!trigger-).*\.json$/).flatMap(([name, text]) => values.map((set) => cloudbuildScripts(text, `${fixture.name}/${name}`, set))).map(({ scripts, pasted }) => ({ scripts: onePerShape(scripts), pasted }));
      const submit: ShellScript[] = own(/^submit\.sh$/).map(([name, text]) => ({ where: `${fixture.name}/${name}`, shell: "bash", text }));
      return [...configs, { scripts: submit, pasted: [] }];
    }),
  );

  test("cloudbuild: no bash step pastes a substitution a pusher chooses (a branch or tag name) into its script", () => {
    expect(cloudbuild.flatMap(({ pasted }) => pasted)).toEqual([]);
  });

  test.skipIf(!hasShellcheck)("cloudbuild: every bash step after Cloud Build's substitutions ($$, $_PUSH as the config and each trigger set it), and submit.sh", async () => {
    const scripts = cloudbuild.flatMap(({ scripts }) => scripts);
    expect(scripts.length).toBeGreaterThan(goldens.length);
    expect(unexplained(await shellcheck(shellcheckPath!, scripts))).toEqual([]);
  });

  test.skipIf(!hasShellcheck || !hasMake)("make: every recipe and $(shell) of every Makefile, as make hands it to /bin/sh", async () => {
    const scripts: ShellScript[] = [];
    // With the fixtures only some emitters accept, where make writes a Makefile for them (secrets, signing).
    for (const { fixture, files } of allGoldens) {
      const { graph } = await loadFixture(fixture);
      for (const name of ["make__Makefile", "plain__make__Makefile"]) if (files[name] !== undefined || !fixture.emitters) scripts.push(...onePerShape(makeScripts(files[name]!, graph, `${fixture.name}/${name}`, (targets) => onePerShape(targets, (target) => target))));
    }
    expect(scripts.some((script) => script.where.startsWith("signing/") && script.text.includes("cosign"))).toBe(true);
    expect(unexplained(await shellcheck(shellcheckPath!, scripts))).toEqual([]);
  });

  test.skipIf(!hasShellcheck)("gitlab: the shared before_script, then every job's script after it (its functions stubbed), as one sh script", async () => {
    const scripts = allGoldens.flatMap(({ fixture, files }) =>
      Object.entries(files)
        .filter(([name]) => /^(plain__)?gitlab__/.test(name))
        .flatMap(([name, text]) => onePerShape(gitlabScripts(text, `${fixture.name}/${name}`))),
    );
    expect(scripts.length).toBeGreaterThan(goldens.length);
    expect(unexplained(await shellcheck(shellcheckPath!, scripts))).toEqual([]);
  });

  test.skipIf(!hasShellcheck)("buildkite: every step's command (the first whole, the others with the shared functions stubbed), as sh", async () => {
    const scripts = allGoldens.flatMap(({ fixture, files }) =>
      Object.entries(files)
        .filter(([name]) => /^(plain__)?buildkite__/.test(name))
        .flatMap(([name, text]) => onePerShape(buildkiteScripts(text, `${fixture.name}/${name}`))),
    );
    expect(scripts.length).toBeGreaterThan(goldens.length);
    expect(unexplained(await shellcheck(shellcheckPath!, scripts))).toEqual([]);
  });

  test.skipIf(!hasShellcheck || !hasMake)("every allowance is still needed", () => {
    expect(ALLOWED.filter((allowed) => !allFindings.some((finding) => finding.code === allowed.code && allowed.where.test(finding.where))).map((allowed) => `SC${allowed.code} ${allowed.where}`)).toEqual([]);
  });
});
