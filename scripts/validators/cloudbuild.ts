// Google Cloud Build's own config loader (from the gcloud SDK on this machine kind),
// run on emitted files. It checks unknown fields, types and enums, offline; not that
// a waitFor names an earlier step (waitForProblems does).

import { existsSync } from "node:fs";
import { join } from "node:path";
import { scratchFolder } from "./scratch.ts";

const SDK_ROOTS = ["/usr/lib/google-cloud-sdk", "/usr/share/google-cloud-sdk", "/google-cloud-sdk"];

export function findCloudSdk(): { root: string; python: string } | undefined {
  for (const root of SDK_ROOTS) {
    const python = join(root, "platform/bundledpythonunix/bin/python3");
    if (existsSync(join(root, "lib/googlecloudsdk"))) return { root, python: existsSync(python) ? python : "python3" };
  }
  return undefined;
}

export interface LoaderVerdict {
  readonly path: string;
  readonly ok: boolean;
  readonly error?: string;
}

export function loadWithCloudBuild(paths: readonly string[]): LoaderVerdict[] {
  const sdk = findCloudSdk();
  if (!sdk) throw new Error("the gcloud SDK is not installed; it is needed to check Cloud Build configs");
  const result = Bun.spawnSync([sdk.python, join(import.meta.dir, "cloudbuild_loader.py"), sdk.root, ...paths], {
    env: { ...process.env, CLOUDSDK_CONFIG: scratchFolder("gcloud-config-") },
  });
  const lines = result.stdout.toString().trim().split("\n").filter(Boolean);
  if (result.exitCode !== 0 || lines.length !== paths.length) {
    throw new Error(`the Cloud Build loader failed (exit ${result.exitCode}): ${result.stderr.toString()}`);
  }
  return lines.map((line) => JSON.parse(line) as LoaderVerdict);
}

/** Cloud Build's loader does not check that waitFor names an earlier step: this does. */
export function waitForProblems(config: { steps: { id?: string; waitFor?: string[] }[] }): string[] {
  const seen = new Set<string>();
  const problems: string[] = [];
  for (const step of config.steps) {
    for (const wanted of step.waitFor ?? []) {
      if (wanted !== "-" && !seen.has(wanted)) problems.push(`step ${step.id} waits for ${wanted}, which is not an earlier step`);
    }
    if (step.id !== undefined) {
      if (seen.has(step.id)) problems.push(`step id ${step.id} is used twice`);
      seen.add(step.id);
    }
  }
  return problems;
}

/**
 * A Cloud Build config reduced to its graph, for comparing with Caliban's files:
 * step id → waitFor, name, docker args with build args as a sorted set (the 2020-08
 * generator's order varied from run to run), plus the timeout.
 */
export function cloudBuildGraph(config: { steps: { id: string; name: string; args: string[]; waitFor: string[] }[]; timeout: string }) {
  const steps: Record<string, { name: string; waitFor: string[]; args: string[]; buildArgs: string[] }> = {};
  for (const step of config.steps) {
    const args: string[] = [];
    const buildArgs: string[] = [];
    for (let i = 0; i < step.args.length; i++) {
      if (step.args[i] === "--build-arg") buildArgs.push(step.args[++i]!);
      else args.push(step.args[i]!);
    }
    steps[step.id] = { name: step.name, waitFor: step.waitFor, args, buildArgs: buildArgs.sort() };
  }
  return { steps, stepCount: config.steps.length, topLevelKeys: Object.keys(config).sort(), timeout: config.timeout };
}
