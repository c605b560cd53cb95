// Docs that run: every shell block of README.md and docs/*.md runs, and every output a
// transcript shows is what its command prints (the convention: scripts/docs/doc-steps.ts,
// stated for writers in docs/development.md, "Docs that run"). A page's blocks run in
// order in one fresh folder, a git repository, with `caliban-images` on the PATH as this
// checkout's CLI; a block marked `not run` is listed here as skipped, with its reason.

import { describe, expect, test } from "bun:test";
import { MAIN } from "../../fixtures/test-helpers.ts";
import { commandsFolder, docsEnvironment, installed, pageFolder, runStep, stepName } from "./doc-runner.ts";
import { docSteps, outputMatches, type DocStep } from "./doc-steps.ts";
import { markdownPages, readPage } from "./markdown.ts";

const ENV = docsEnvironment(commandsFolder([process.execPath, MAIN]));


for (const page of markdownPages()) {
  let steps: DocStep[];
  try {
    steps = docSteps(readPage(page));
  } catch (error) {
    test(`${page}: its blocks follow the convention`, () => {
      throw new Error(`${page}: ${(error as Error).message}`);
    });
    continue;
  }
  if (steps.length === 0) continue;
  describe(page, () => {
    let folder: string | undefined;
    for (const step of steps) {
      const name = stepName(step);
      const needs = step.kind === "script" || step.kind === "transcript" ? step.needs : undefined;
      if (step.kind === "not run") {
        test.skip(name, () => {});
      } else if (needs !== undefined && !installed(needs) && process.env.CI !== "true") {
        // As the other tests that need a system tool: skipped and said so, but a failure in CI.
        test.skip(`${name} (needs ${needs}, not installed here)`, () => {});
      } else {
        test(name, () => runStep(step, (folder ??= pageFolder(ENV)), ENV));
      }
    }
  });
}

test("the convention's parts: a transcript's `...` stands for any lines, and its commands go on after a backslash", () => {
  expect(outputMatches(["a", "...", "d"], ["a", "b", "c", "d"])).toBe(true);
  expect(outputMatches(["a", "...", "d"], ["a", "d"])).toBe(true);
  expect(outputMatches(["a", "...", "d"], ["a", "b"])).toBe(false);
  expect(outputMatches(["a"], ["a", "b"])).toBe(false);
  const [step] = docSteps("<!-- needs: make -->\n```console\n$ echo one \\\n  two\none two\n$ true\n```\n");
  expect(step).toEqual({ kind: "transcript", line: 2, needs: "make", commands: [{ command: "echo one \\\n  two", output: ["one two"] }, { command: "true", output: [] }] });
  expect(docSteps("<!-- not run: needs a registry -->\n\n```sh\nmake push\n```\n")).toEqual([{ kind: "not run", line: 3, language: "sh", reason: "needs a registry" }]);
  expect(() => docSteps("```\n$ caliban-images plan\n```\n")).toThrow("make it ```console");
});
