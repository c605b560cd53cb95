// Build-time values of aliases in the emitters, beyond the readback (emitters/readback.test.ts
// reads fixtures/build-time-tags back through every consumer, with a hostile branch): the
// one rule in every shell the outputs run, no time in any emitted file, and what each
// emitter refuses or says.

import { describe, expect, setSystemTime, test } from "bun:test";
import { existsSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { branchTag } from "../core/build-time.ts";
import { emitLoaded } from "../cli/emit.ts";
import { fixtureCases, loadFixture } from "../fixtures/golden.ts";
import { builtin } from "../fixtures/test-helpers.ts";
import { hasMake } from "../scripts/validators/tools.ts";
import { buildTimeLines } from "./make-build-time.ts";
import { branchTagCommand } from "./build-time.ts";
import { builtinEmitters } from "./index.ts";
import { emittedText } from "./contract.ts";
import { githubView, readGithubWorkflow, planView, resolveOutputs, REVISION } from "../scripts/validators/readback.ts";
import { scratchFolder } from "../scripts/validators/scratch.ts";

const fixture = async () => loadFixture(fixtureCases().find((f) => f.name === "build-time-tags")!);

/** Branches a pusher may choose, and a few no git allows, which the rule must still make tags of. */
const BRANCHES = ["main", "feature/x", "release/2.0", "ünïcödé/ブランチ", "it's $(touch /tmp/caliban-pwned) `id` \"q\"", ".dot", "-dash", "a--b..c__d", "tab\tand\nnewline", "a\u{1F600}b", "$(shell touch /tmp/caliban-pwned)", "x".repeat(200)];

describe("one rule makes a branch a tag in every shell the outputs run", () => {
  test("sh and bash (GitHub's and Cloud Build's scripts, make's recipes) give core's branchTag, byte for byte", () => {
    for (const shell of ["sh", "bash"]) {
      for (const branch of BRANCHES) {
        const run = Bun.spawnSync([shell, "-c", `out=$(${branchTagCommand('"$CALIBAN_BRANCH"')}); printf '%s' "$out"`], { env: { PATH: process.env.PATH!, CALIBAN_BRANCH: branch } });
        expect([shell, branch, run.stdout.toString()]).toEqual([shell, branch, branchTag(branch)]);
      }
    }
  });

  test.skipIf(!hasMake)("make reads BRANCH= from its command line or the environment as given: it expands no '$' in it, and runs nothing of it", async () => {
    const { graph } = await fixture();
    const directory = scratchFolder("make-branch-");
    writeFileSync(join(directory, "Makefile"), `${buildTimeLines(graph).join("\n")}\nshow:\n\t@printf '%s' '$(build-time/branch)'\n`);
    rmSync("/tmp/caliban-pwned", { force: true });
    for (const branch of BRANCHES.filter((name) => !name.includes("\n"))) {
      for (const given of ["command line", "environment"]) {
        const args = ["make", "-s", "show", "REVISION=0123456789abcdef0123456789abcdef01234567", ...(given === "command line" ? [`BRANCH=${branch}`] : [])];
        const run = Bun.spawnSync(args, { cwd: directory, env: { ...process.env, ...(given === "environment" ? { BRANCH: branch } : {}) } });
        expect([given, branch, run.stderr.toString(), run.stdout.toString()]).toEqual([given, branch, "", branchTag(branch)]);
      }
    }
    expect(existsSync("/tmp/caliban-pwned")).toBe(false);
    rmSync(directory, { recursive: true });
  });
});

describe("no emitted file depends on when it is emitted", () => {
  test("every emitter, both forms, at two dates: the same bytes, naming no date", async () => {
    const { loaded, graph } = await fixture();
    const emitAll = () => builtinEmitters.flatMap((emitter) => [[], ["content-tags=false"]].flatMap((options) => emitLoaded(emitter, loaded, graph, options).map((file) => `${file.path}\n${emittedText(file)}`)));
    try {
      setSystemTime(new Date("2024-02-29T23:59:59Z"));
      const before = emitAll();
      setSystemTime(new Date("2031-07-01T00:00:01Z"));
      expect(emitAll()).toEqual(before);
      expect(before.join("\n")).not.toMatch(/20240229|20310701/);
    } finally {
      setSystemTime();
    }
  });
});

describe("GitHub's native runners", () => {
  test("a multi-platform image built a job per platform: its merge job tags it with the aliases' values, as the resolve job found them", async () => {
    const { loaded, graph } = await fixture();
    const workflow = readGithubWorkflow(emittedText(emitLoaded(builtin("github"), loaded, graph, ["platform-runners=linux/amd64=ubuntu-latest,linux/arm64=ubuntu-24.04-arm"])[0]!));
    expect(Object.keys(workflow.jobs)).toContain("stage1_merge");
    const view = githubView(workflow, "workflow", resolveOutputs(graph));
    const plan = planView(graph, true, "gha", new Set(graph.images.filter((image) => image.platforms.length > 1).map((image) => image.id)));
    expect(view.images).toEqual(plan.images);
    expect(view.images.find((image) => image.reference.endsWith(":base-cu124"))!.settings!.aliases).toEqual([`ghcr.io/your-org/nightly:base-cu124-${REVISION}`]);
  });
});

describe("what each emitter says or refuses", () => {
  test("github --format matrix: the entries keep the values as the graph writes them, and it says so", async () => {
    const { loaded, graph } = await fixture();
    const warnings: string[] = [];
    const [file] = emitLoaded(builtin("github"), loaded, graph, ["format=matrix"], undefined, undefined, (message) => warnings.push(message));
    expect(emittedText(file!)).toContain('"aliases":"ghcr.io/your-org/nightly:nightly.{date}.{short_commit}-py311-cu124');
    const [plain] = emitLoaded(builtin("github"), loaded, graph, ["format=matrix", "content-tags=false"], undefined, undefined, () => {});
    expect(emittedText(plain!)).toContain('"aliases":"ghcr.io/your-org/nightly:nightly.{date}.{short_commit}-py311-cu124');
    expect(warnings).toEqual(['emit github --format matrix: some aliases name build-time values ({date}, {commit}, {short_commit}, {branch}), which the entries keep as written: your workflow fills them in (caliban-images docs/image-settings.md, "Build-time values")']);
  });

  test("bake: the repository's variable cannot be one a build-time value is read from", async () => {
    const { loaded, graph } = await fixture();
    for (const variable of ["REVISION", "BUILD_DATE", "BRANCH"]) expect(() => emitLoaded(builtin("bake"), loaded, graph, [`variable=${variable}`])).toThrow(`the variable "${variable}" holds`);
  });
});
