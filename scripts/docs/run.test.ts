// Docs that run: every shell block of README.md and docs/*.md runs, and every output a
// transcript shows is what its command prints (the convention: scripts/docs/doc-steps.ts,
// stated for writers in docs/development.md, "Docs that run"). A page's blocks run in
// order in one fresh folder, a git repository, with `caliban-images` on the PATH as this
// checkout's CLI; a block marked `not run` is listed here as skipped, with its reason.

import { describe, expect, test } from "bun:test";
import { appendFileSync, mkdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { MAIN } from "../../fixtures/test-helpers.ts";
import { scratchFolder } from "../validators/scratch.ts";
import { comparableLines, docSteps, outputMatches, type DocStep } from "./doc-steps.ts";
import { markdownPages, readPage } from "./markdown.ts";

/** What no block may run: a block that needs one is marked not run. Each stands in, failing at once, rather than build, pull or deploy. */
const OUT_OF_BOUNDS = ["docker", "podman", "buildah", "skopeo", "cosign", "gcloud", "buildkite-agent", "gh", "npm", "npx", "curl", "wget"];

/** A folder for the PATH: this checkout's CLI as `caliban-images`, and the out-of-bounds tools refusing. */
function commandsFolder(): string {
  const folder = scratchFolder("docs-bin-");
  const quoted = (text: string) => `'${text.replaceAll("'", "'\\''")}'`;
  writeFileSync(join(folder, "caliban-images"), `#!/bin/sh\nexec ${quoted(process.execPath)} ${quoted(MAIN)} "$@"\n`, { mode: 0o755 });
  for (const tool of OUT_OF_BOUNDS) {
    writeFileSync(join(folder, tool), `#!/bin/sh\necho "docs blocks do not run ${tool}: mark the block <!-- not run: REASON -->" >&2\nexit 127\n`, { mode: 0o755 });
  }
  return folder;
}

const BIN = commandsFolder();
const HOME = scratchFolder("docs-home-");
const ENV = {
  PATH: `${BIN}:${process.env.PATH ?? "/usr/bin:/bin"}`,
  HOME,
  LANG: "C.UTF-8",
  TMPDIR: process.env.TMPDIR ?? "/tmp",
  // git as a fresh machine has it: no user configuration, an identity for commits.
  GIT_CONFIG_GLOBAL: "/dev/null",
  GIT_CONFIG_NOSYSTEM: "1",
  GIT_AUTHOR_NAME: "Docs",
  GIT_AUTHOR_EMAIL: "docs@example.com",
  GIT_COMMITTER_NAME: "Docs",
  GIT_COMMITTER_EMAIL: "docs@example.com",
};

/** Runs a shell script in the folder: its exit status and what it printed, stderr into stdout as a terminal shows them. */
function shell(script: string, cwd: string, exitOnError: boolean): { code: number; printed: string } {
  const result = Bun.spawnSync(["bash", ...(exitOnError ? ["-e"] : []), "-c", `exec 2>&1\n${script}`], { cwd, env: ENV, stdin: "ignore", timeout: 60_000 });
  return { code: result.exitCode ?? -1, printed: result.stdout.toString() };
}

function pageFolder(): string {
  const folder = scratchFolder("docs-run-");
  expect(shell("git init --quiet --initial-branch=main", folder, true).code).toBe(0);
  return folder;
}

/** Whether TOOL is installed, on the PATH the tests were given. */
function installed(tool: string): boolean {
  return Bun.which(tool) !== null;
}

function runStep(step: DocStep, folder: string): void {
  switch (step.kind) {
    case "file": {
      const path = join(folder, step.path);
      mkdirSync(dirname(path), { recursive: true });
      (step.append ? appendFileSync : writeFileSync)(path, step.text);
      return;
    }
    case "script": {
      const { code, printed } = shell(step.script, folder, true);
      expect({ code, printed }).toEqual({ code: 0, printed });
      return;
    }
    case "transcript":
      for (const { command, output } of step.commands) {
        const { code, printed } = shell(command, folder, false);
        const lines = comparableLines(printed);
        const expected = comparableLines(output.join("\n"));
        // A command shown failing says so itself (`; echo "exit $?"`): any other must succeed.
        expect({ command, code }).toEqual({ command, code: 0 });
        if (!outputMatches(expected, lines)) expect({ command, printed: lines.join("\n") }).toEqual({ command, printed: expected.join("\n") });
      }
      return;
    case "not run":
      return;
  }
}

function stepName(step: DocStep): string {
  switch (step.kind) {
    case "file":
      return `line ${step.line}: ${step.append ? "appends to" : "writes"} ${step.path}`;
    case "script":
      return `line ${step.line}: runs ${step.script.split("\n")[0]}${step.script.includes("\n") ? " ..." : ""}`;
    case "transcript":
      return `line ${step.line}: shows ${step.commands.map((c) => c.command.split("\n")[0]).join("; ")}`;
    case "not run":
      return `line ${step.line}: ${step.language} block not run: ${step.reason}`;
  }
}

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
        test(name, () => runStep(step, (folder ??= pageFolder())));
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
