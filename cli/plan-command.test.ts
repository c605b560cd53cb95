// `caliban-images plan` at any size, as a user runs it: the listing up to SUMMARY_ABOVE
// images and a summary by family past it, --full / --format full|summary, --family, and
// the mistakes among them (exit 2, `error: ...`, nothing on stdout).

import { describe, expect, test } from "bun:test";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { REPO_ROOT } from "../fixtures/golden.ts";
import { runCli, writeMatrix, type CliRun } from "../fixtures/test-helpers.ts";
import { generateMatrix } from "../scripts/bench/generate.ts";
import { SUMMARY_ABOVE } from "../emitters/plan-summary.ts";
import { PLAN_WIDTH } from "../emitters/plan-text.ts";
import { scratchFolder } from "../scripts/validators/scratch.ts";

/** A project whose matrix is `text`; generateMatrix's Dockerfile (docker/) builds FROM its base's arg, as plan checks a chain's does. */
function project(text: string): string {
  const cwd = scratchFolder("plan-");
  writeMatrix(join(cwd, "matrix.toml"), text);
  if (existsSync(join(cwd, "docker"))) writeFileSync(join(cwd, "docker", "Dockerfile"), "ARG BASE_IMAGE=scratch\nFROM $BASE_IMAGE\n");
  return cwd;
}

/** One family over one axis of `images` values: exactly that many images. */
function images(count: number): string {
  const values = Array.from({ length: count }, (_, i) => `v${i} = { V = "${i}" }`).join("\n");
  return `repository = "r.io/n"\n[axes.v]\n${values}\n[images.app]\ntag = "app-{v}"\nmatrix = ["v"]\n`;
}

function expectUsageError(result: CliRun, ...messages: string[]) {
  expect(result.code).toBe(2);
  for (const message of messages) expect(result.stderr).toContain(message);
  expect(result.stderr).not.toMatch(/^\s+at /m);
  expect(result.stdout).toBe("");
}

const isSummary = (text: string) => text.includes("\nsummary:    one entry per family (plan --full lists every image)\n");

describe("the listing up to SUMMARY_ABOVE images, a summary by family past it", () => {
  test(`${SUMMARY_ABOVE} images are listed one by one; ${SUMMARY_ABOVE + 1} are summarised, and --full lists them`, () => {
    const small = project(images(SUMMARY_ABOVE));
    const listed = runCli(["plan"], small);
    expect(listed.code).toBe(0);
    expect(isSummary(listed.stdout)).toBe(false);
    expect(listed.stdout).toContain(`stage 1 (${SUMMARY_ABOVE} images, starts at once)\n  app-v0\n    image       r.io/n:app-v0\n`);
    expect(runCli(["plan", "--full"], small).stdout).toBe(listed.stdout);

    const large = project(images(SUMMARY_ABOVE + 1));
    const summary = runCli(["plan"], large);
    expect(summary.code).toBe(0);
    expect(summary.stdout).toBe(
      [
        "matrix:     matrix.toml",
        "repository: r.io/n",
        `images:     ${SUMMARY_ABOVE + 1} in 1 stage`,
        "summary:    one entry per family (plan --full lists every image)",
        "",
        `stage 1 (${SUMMARY_ABOVE + 1} images, starts at once): app (${SUMMARY_ABOVE + 1})`,
        "",
        `family app: ${SUMMARY_ABOVE + 1} images`,
        `  axes        v  ${SUMMARY_ABOVE + 1} values: v0, v1, v2, ..., v${SUMMARY_ABOVE}`,
        `  tags        app-v0 ... app-v${SUMMARY_ABOVE}`,
        "  dockerfile  Dockerfile",
        "",
      ].join("\n"),
    );
    const full = runCli(["plan", "--full"], large);
    expect(full.stdout).toContain(`stage 1 (${SUMMARY_ABOVE + 1} images, starts at once)\n  app-v0\n`);
    expect(runCli(["plan", "--format", "full"], large).stdout).toBe(full.stdout);
    expect(runCli(["plan", "--format", "text"], large).stdout).toBe(summary.stdout);
    // --format summary at any size.
    expect(isSummary(runCli(["plan", "--format", "summary"], small).stdout)).toBe(true);
  });

  test("700 images: the summary by default, a few dozen lines; --full's every line within PLAN_WIDTH but a single longer value; the same text with any COLUMNS", () => {
    const cwd = project(generateMatrix("cross", 700));
    const summary = runCli(["plan"], cwd);
    expect(summary.code).toBe(0);
    expect(isSummary(summary.stdout)).toBe(true);
    expect(summary.stdout.split("\n").length).toBeLessThan(30);
    expect(summary.stdout).toContain("family app: 637 images\n  from        base\n");
    const full = runCli(["plan", "--full"], cwd);
    expect(full.stdout.split("\n").length).toBeGreaterThan(5000);
    expect(Math.max(...full.stdout.split("\n").map((line) => line.length))).toBeLessThanOrEqual(PLAN_WIDTH);
    const narrow = Bun.spawnSync([process.execPath, join(REPO_ROOT, "cli/main.ts"), "plan"], { cwd, env: { ...process.env, COLUMNS: "40" } });
    expect(narrow.stdout.toString()).toBe(summary.stdout);
  });

  test("docs/commands.md's summary is the repository's matrix's, as plan --format summary prints it", () => {
    const page = readFileSync(join(REPO_ROOT, "docs/commands.md"), "utf8");
    const block = /\n```\n(matrix: {5}matrix\.toml\n[^`]*?\nsummary: [^`]*?)```\n/.exec(page);
    expect(block).not.toBeNull();
    const printed = runCli(["plan", "--format", "summary"], REPO_ROOT);
    expect(printed.code).toBe(0);
    expect(block![1]).toBe(printed.stdout);
  });
});

describe("--full, --format full|summary and their mistakes", () => {
  test("--full is --format full: with --json or another --format it is a usage error; an unknown format names the new ones", () => {
    expectUsageError(runCli(["plan", "--full", "--json"]), "error: --json is --format json and --full is --format full: give one");
    expectUsageError(runCli(["plan", "--full", "--format", "dot"]), "error: --full is --format full, not --format dot: give one");
    expect(runCli(["plan", "--full", "--format", "full"]).code).toBe(0);
    expectUsageError(runCli(["plan", "--format", "summery"]), "error: --format summery: plan prints text, json, mermaid, dot, full, summary", 'hint: did you mean "summary"?');
  });

  test("plan --help names --full, the formats and --family", () => {
    const help = runCli(["plan", "--help"]);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(new RegExp(`--full +list every image, however many \\(short for --format full\\); without it, past ${SUMMARY_ABOVE} images plan prints one entry per family`));
    expect(help.stdout).toContain(`text (default: full up to ${SUMMARY_ABOVE} images, else summary), full, summary, json`);
    expect(help.stdout).toMatch(/--family <names> +show only these families' images \(comma-separated or repeated\)/);
    expect(help.stdout).toContain("caliban-images plan --full --family gpu,gpu-base");
  });
});

describe("--family", () => {
  test("repeated or comma-separated, the text shows only those families' images; the whole graph's stage numbers stay", () => {
    const repeated = runCli(["plan", "--family", "gpu", "--family", "cpu"]);
    expect(repeated.code).toBe(0);
    expect(runCli(["plan", "--family", "gpu,cpu"]).stdout).toBe(repeated.stdout);
    expect(runCli(["plan", "--family", "cpu, gpu", "--family", "gpu"]).stdout).toBe(repeated.stdout);
    expect(repeated.stdout).toContain("images:     6 of 8 (families cpu, gpu), in 2 of 2 stages\n");
    expect(repeated.stdout).not.toContain("\n  gpu-base-");
    expect(repeated.stdout).toContain("\nstage 2 (4 images, waits for stage 1)\n");
    // Past SUMMARY_ABOVE only the chosen images count: one family of few images is listed.
    const chain = project(generateMatrix("chain", 60));
    expect(isSummary(runCli(["plan"], chain).stdout)).toBe(true);
    const python = runCli(["plan", "--family", "python"], chain).stdout;
    expect(isSummary(python)).toBe(false);
    expect(python).toContain("images:     4 of 62 (family python), in 1 of 3 stages\n");
    expect(isSummary(runCli(["plan", "--family", "python", "--format", "summary"], chain).stdout)).toBe(true);
  });

  test("an unknown family is an error with a did-you-mean hint; an empty name is one; --json is the whole graph and refuses it", () => {
    expectUsageError(runCli(["plan", "--family", "gpu,gpo"]), 'error: --family gpo: the matrix has no family "gpo"', 'hint: did you mean "gpu"?');
    expectUsageError(runCli(["plan", "--family", "nothing-like-it", "--format", "mermaid"]), 'hint: expected one of: "gpu-base", "cpu", "gpu"');
    expectUsageError(runCli(["plan", "--family", "gpu,"]), "error: --family needs a family's name (or several, comma-separated)");
    expectUsageError(runCli(["plan", "--family", "gpu", "--json"]), "error: --family filters the text and the diagrams, not --json", `hint: select from it instead, e.g. plan --json | jq '.images[] | select(.family == "gpu")'`);
    expectUsageError(runCli(["plan", "--family", "gpu", "--format", "json"]), "error: --family filters the text and the diagrams, not --json");
  });

  test("--format mermaid and dot draw the chosen families and the images they build FROM, read back by Mermaid's parser", () => {
    const cwd = project(generateMatrix("chain", 60));
    const mermaid = runCli(["plan", "--format", "mermaid", "--family", "framework"], cwd);
    expect(mermaid.code).toBe(0);
    const read = Bun.spawnSync([process.execPath, join(REPO_ROOT, "scripts", "validators", "mermaid-read.ts")], { stdin: Buffer.from(mermaid.stdout) });
    expect(read.exitCode).toBe(0);
    const picture = JSON.parse(read.stdout.toString()) as { vertices: unknown[]; edges: unknown[]; subgraphs: { title: string; nodes: string[] }[] };
    // python's 4 images (the bases), framework's 56; no cuda image, and so no arrow into python.
    expect(picture.subgraphs.map((s) => [s.title, s.nodes.length])).toEqual([["python", 4], ["framework", 56]]);
    expect(picture.edges).toHaveLength(56);
    const dot = runCli(["plan", "--format", "dot", "--family", "python"], cwd).stdout;
    expect(dot.match(/label=/g)).toHaveLength(2); // cuda (the bases) and python
    expect(dot.match(/ -> /g)).toHaveLength(4);
    expect(dot).not.toContain("fw-");
  });

  test("a diagram past GitHub's Mermaid limit says --family draws a part; one drawn with --family does not repeat it", () => {
    const cwd = project(generateMatrix("chain", 700));
    const whole = runCli(["plan", "--format", "mermaid"], cwd);
    expect(whole.stderr).toContain("it will not render on GitHub (plan --format dot has no such limit; --family draws a part)\n");
    const part = runCli(["plan", "--format", "mermaid", "--family", "framework"], cwd);
    expect(part.stderr).toContain("it will not render on GitHub (plan --format dot has no such limit)\n");
    expect(runCli(["plan", "--format", "mermaid", "--family", "python"], cwd).stderr).not.toContain("warning:");
  });
});
