// The new user's hour (issue 33), from the packed npm tarballs: the CLI installed as a
// user installs it (npm install of the packages, the registry unreachable: nothing is
// built), then the README's quick start and the recipes page played as written, with that
// installed command: init --ci github,gitlab,make,bake, plan, emit --all, check, the
// workflow linted with actionlint, a build run by make with DOCKER=echo; then the recipes'
// edits of the matrix (an alias for one image, a value per combination), plan, check,
// emit --all again, affected. Every output the pages show is what the installed binary
// prints (the docs test, scripts/docs/run.test.ts, plays them with this checkout's CLI).

import { afterAll, describe, expect, test } from "bun:test";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { commandsFolder, docsEnvironment, installed, pageFolder, runStep, stepName } from "./docs/doc-runner.ts";
import { docSteps, type DocStep } from "./docs/doc-steps.ts";
import { readPage } from "./docs/markdown.ts";
import { host, hostReleased, npm, NPM_TEST_TIMEOUT, packer, run } from "./npm-install-run.ts";

const { packed, remove } = packer();
afterAll(remove);

const skipped = hostReleased ? "" : ` (skipped: this machine is ${host}, for which no package is made)`;
const PAGES = ["README.md", "docs/recipes.md"];

/** The CLI as `npm install` of the packed tarballs puts it in a folder of tools: its launcher, which runs the platform package's binary. */
function installedCommand(): string {
  const { root, mainTarball, platformTarball } = packed();
  const tools = join(root, "tools");
  mkdirSync(tools, { recursive: true });
  npm(root, tools, ["install", "--prefix", tools, "--no-audit", "--no-fund", mainTarball, platformTarball]);
  const command = join(tools, "node_modules", ".bin", "caliban-images");
  expect(run(command, ["--version"], tools).stdout).toStartWith("caliban-images ");
  return command;
}

describe.skipIf(!hostReleased)(`the new user's hour, with the CLI npm installed from the packed tarballs${skipped}`, () => {
  let env: Record<string, string> | undefined;
  const environment = () => (env ??= docsEnvironment(commandsFolder([installedCommand()])));
  for (const page of PAGES) {
    const steps: DocStep[] = docSteps(readPage(page));
    let folder: string | undefined;
    for (const step of steps) {
      const name = `${page} ${stepName(step)}`;
      const needs = step.kind === "script" || step.kind === "transcript" ? step.needs : undefined;
      if (step.kind === "not run") test.skip(name, () => {});
      else if (needs !== undefined && !installed(needs) && process.env.CI !== "true") test.skip(`${name} (needs ${needs}, not installed here)`, () => {});
      else test(name, () => runStep(step, (folder ??= pageFolder(environment())), environment()), NPM_TEST_TIMEOUT);
    }
  }
});
