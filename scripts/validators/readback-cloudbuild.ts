// Cloud Build read back (readback.ts): every config's steps as Cloud Build runs them,
// substitutions made, each bash step run by bash with a recording docker.

import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { scratchFolder } from "./scratch.ts";
import type { BuildGraph } from "../../core/graph.ts";
import { digestLines } from "../../cli/resolve.ts";
import { checksums } from "../release.ts";
import { BUILD_TIME, fakeDate, stepEnvExports } from "./build-time-readback.ts";
import { dockerBuildView, normalise, recordingDocker, settingsView, type ImageView, type OutputView } from "./readback-view.ts";

/**
 * Cloud Build, one config or several submitted in order, `$$` read back as Cloud Build
 * reads it. A plain step's args are docker's; a content-tags step is a bash script,
 * which is run here by bash with a recording docker whose `manifest inspect` finds
 * only the references in `existing`: what it ran is what the step builds and pushes.
 * The resolve step's script runs too, with a fake release and network (fakeRelease):
 * the digests and functions the other steps read are the ones it leaves.
 * Within a config an image waits for its base's step; across configs it builds FROM an
 * image an earlier config pushed (docker pulls it), named by one of its build args.
 */
export function cloudbuildView(texts: readonly string[], existing: readonly string[] = [], substitutions: Readonly<Record<string, string>> = {}, graph?: BuildGraph): OutputView & { readonly calls: readonly string[][]; readonly steps: readonly CloudBuildStepView[] } {
  const images: ImageView[] = [];
  // The $HOME every step shares, where each config's resolve step leaves its files.
  const home = mkdtempSync(join(tmpdir(), "builder-home-"));
  const fakes = graph === undefined ? undefined : fakeRelease(digestLines(graph, undefined));
  const bases: Record<string, string[]> = {};
  const pushedEarlier = new Map<string, string>();
  const allCalls: string[][] = [];
  const stepViews: CloudBuildStepView[] = [];
  for (const [configIndex, text] of texts.entries()) {
    const config = JSON.parse(text) as CloudBuildConfig;
    // COMMIT_SHA and BRANCH_NAME are Cloud Build's own, the commit and branch a trigger builds.
    const values: Record<string, string> = { COMMIT_SHA: BUILD_TIME.commit, SHORT_SHA: BUILD_TIME.commit.slice(0, 7), BRANCH_NAME: BUILD_TIME.branch, ...config.substitutions, ...substitutions };
    const pushing = values._PUSH === undefined || values._PUSH === "true";
    if (config.steps.length > 300) throw new Error(`cloudbuild: a config with ${config.steps.length} steps; Cloud Build runs at most 300`);
    const pushedHere: string[] = [];
    const scripts = config.steps.map((step) => {
      const args = step.args.map((a) => substitute(a, values));
      if (step.entrypoint === undefined) return undefined;
      // The resolve step runs as it is (see fakeRelease): it leaves `resolved` and functions.sh, which the other steps read.
      if (step.id === "resolve") {
        if (graph === undefined) throw new Error("cloudbuild: the configs read their digests from the resolve step: give the graph");
        if (!args[1]!.includes("caliban-images resolve")) throw new Error("cloudbuild: the resolve step runs no caliban-images resolve");
      }
      // Cloud Build gives the step its `env` (substitutions made), which its script reads as data.
      if (step.entrypoint === "bash" && args[0] === "-c" && args.length === 2) return stepEnvExports(step.env, (entry) => substitute(entry, values)) + args[1]!;
      throw new Error(`cloudbuild: a step runs ${step.entrypoint} ${JSON.stringify(args)}`);
    });
    const ran = runScripts(scripts.filter((script) => script !== undefined), existing, { HOME: home, ...(fakes === undefined ? {} : { PATH: `${fakes}:${process.env.PATH}` }) });
    let next = 0;
    config.steps.forEach((step, index) => {
      const calls = scripts[index] === undefined ? [step.args.map((a) => substitute(a, values))] : ran[next++]!;
      allCalls.push(...calls);
      stepViews.push({ config: configIndex, id: step.id, waitFor: step.waitFor, calls });
      // A step that carries an image an earlier config builds, for the images built FROM it here: it pushes nothing.
      if (step.id.endsWith("-carried")) {
        if (calls.some((c) => c[0] === "push" || (c[0] === "buildx" && c.includes("--push")))) throw new Error(`cloudbuild: ${step.id} pushes`);
        return;
      }
      pushedHere.push(...calls.filter((c) => c[0] === "push").map((c) => c[1]!));
      // buildx builds and pushes in one call, every -t pushed (a plain `docker build` before it is for the test).
      const buildx = calls.find((c) => c[0] === "buildx" && c[1] === "build" && c.includes("--push"));
      if (buildx) for (let i = 2; i < buildx.length; i++) if (buildx[i] === "-t") pushedHere.push(buildx[i + 1]!);
      const build = buildx ? buildx.slice(1) : calls.find((c) => c[0] === "build");
      checkSecretSources(config, step, calls);
      if (!build) return;
      const image = dockerBuildView(build.slice(1));
      images.push(image);
      // What it waits for among the images (a login step is no image).
      // A plain step may wait for its base's test step (`REF-test`), which follows the base's build.
      const imageStep = (id: string) => config.steps.some((other) => other.id === id && other.args[0] === "build") || config.steps.some((other) => other.id === id && other.entrypoint === "bash" && other.id !== "login" && other.id !== "buildx" && other.id !== "resolve" && !other.id.endsWith("-carried"));
      const waited = step.waitFor
        .filter((w) => w !== "-")
        .map((w) => (imageStep(w) ? w : w.endsWith("-test") && imageStep(w.slice(0, -"-test".length)) ? w.slice(0, -"-test".length) : w.endsWith("-carried") ? w.slice(0, -"-carried".length) : undefined))
        .filter((w): w is string => w !== undefined);
      const pulled = Object.values(image.args).filter((value) => pushedEarlier.has(value)).map((value) => pushedEarlier.get(value)!);
      bases[image.reference] = [...new Set([...waited, ...pulled])];
    });
    // An alias a step tags the image with after its build (`docker tag REF ALIAS`, as one naming build-time values is) is one of its references too.
    tagAliases(images, allCalls);
    for (const step of config.steps) {
      const build = images.find((i) => i.reference === step.id);
      if (!build) continue;
      for (const reference of [build.reference, build.content, ...(build.settings?.aliases ?? [])]) {
        if (reference === undefined) continue;
        if (pushing && !pushedHere.includes(reference)) throw new Error(`cloudbuild: ${reference} is built but never pushed`);
        if (!pushing && pushedHere.includes(reference)) throw new Error(`cloudbuild: ${reference} is pushed though _PUSH is false`);
        pushedEarlier.set(reference, build.reference);
      }
    }
  }
  // Thousands of views a run of npm test: each leaves nothing behind.
  for (const directory of [home, ...(fakes === undefined ? [] : [fakes])]) rmSync(directory, { recursive: true, force: true });
  return { ...normalise(images, bases), calls: allCalls, steps: stepViews };
}

interface CloudBuildConfig {
  readonly steps: readonly { id: string; entrypoint?: string; args: string[]; env?: string[]; secretEnv?: string[]; waitFor: string[] }[];
  readonly substitutions?: Record<string, string>;
  readonly availableSecrets?: { secretManager?: { versionName: string; env: string }[] };
}

/**
 * Cloud Build puts a variable in a step's environment only when the step names it in
 * `secretEnv` and the config's availableSecrets gives it: a `--secret id=ID,env=NAME` whose
 * NAME is not both would hand the build nothing.
 */
function checkSecretSources(config: CloudBuildConfig, step: CloudBuildConfig["steps"][number], calls: readonly (readonly string[])[]): void {
  const given = new Set((config.availableSecrets?.secretManager ?? []).map((secret) => secret.env));
  for (const name of step.secretEnv ?? []) if (!given.has(name)) throw new Error(`cloudbuild: step ${step.id}'s secretEnv ${name} is in no availableSecrets entry`);
  for (const call of calls) {
    for (const [i, arg] of call.entries()) {
      const name = call[i - 1] === "--secret" ? /(?:^|,)env=([^,]*)/.exec(arg)?.[1] : undefined;
      if (name !== undefined && !(step.secretEnv ?? []).includes(name)) throw new Error(`cloudbuild: step ${step.id} builds with --secret ${arg}, and ${name} is not in its secretEnv`);
    }
  }
}

/**
 * A folder for PATH in which the resolve step's script runs as it is, the network and
 * caliban-images faked: `curl URL -o FILE` copies the release's file of URL's name from a
 * folder of this test (404, exit 22, for any other), whose binaries are a stand-in for
 * `caliban-images resolve --format lines` that prints `lines` (the graph's digests, as
 * `caliban-images resolve` prints them for the tree it was emitted from), and whose
 * SHA256SUMS the step checks with the real sha256sum. The same stand-in is on PATH as
 * `caliban-images`, for a config with install-command. So functions.sh is the one the
 * step's own `declare -f` writes, not a copy of the test's.
 */
export function fakeRelease(lines: string): string {
  const directory = scratchFolder("cloudbuild-release-");
  const release = join(directory, "release");
  mkdirSync(release);
  const printed = join(directory, "resolved-lines");
  writeFileSync(printed, lines);
  const stand = join(directory, "caliban-images");
  writeFileSync(stand, `#!/bin/sh\n[ "$1" = resolve ] || { echo "fake caliban-images: $*" >&2; exit 9; }\nexec cat ${JSON.stringify(printed)}\n`);
  chmodSync(stand, 0o755);
  const binaries = ["caliban-images-linux-x64", "caliban-images-linux-arm64"];
  for (const binary of binaries) copyFileSync(stand, join(release, binary));
  writeFileSync(join(release, "SHA256SUMS"), checksums(release, binaries));
  const curl = join(directory, "curl");
  writeFileSync(curl, `#!/usr/bin/env bash\nout=; while [ $# -gt 1 ]; do [ "$1" = -o ] && out=$2; shift; done\nfile=${JSON.stringify(release)}/"\${1##*/}"\n[ -n "$out" ] && [ -f "$file" ] || { echo "curl: (22) The requested URL returned error: 404" >&2; exit 22; }\ncp "$file" "$out"\n`);
  chmodSync(curl, 0o755);
  return directory;
}

/** A step as it ran: its config (0 for the first submitted), id, what it waits for, and the docker calls it made. */
export interface CloudBuildStepView {
  readonly config: number;
  readonly id: string;
  readonly waitFor: readonly string[];
  readonly calls: readonly string[][];
}

/**
 * Pipeline shell scripts, each run by `bash -c` as its step would run it, in order, with
 * a recording docker (see recordingDocker): the calls each one made. One driving shell
 * runs them all (a process per script is slow for 300 steps); a marker call between
 * scripts tells their calls apart.
 */
export function runScripts(scripts: readonly string[], existing: readonly string[] = [], env: Record<string, string> = {}): string[][][] {
  if (scripts.length === 0) return [];
  const docker = recordingDocker(existing);
  // `date -u +%Y%m%d` is the test's day (build-time values).
  fakeDate(docker.directory);
  const files = scripts.map((script, i) => {
    const file = join(docker.directory, `step-${i}.sh`);
    writeFileSync(file, script);
    return file;
  });
  // The recording docker as an exported bash function, which each `bash -c` inherits: the
  // same log and answers as the script on PATH, without a process per call.
  const log = JSON.stringify(join(docker.directory, "docker.log"));
  const recorder =
    `docker() { local line; printf -v line '%s\\037' "$@"; printf '%s\\036' "$line" >> ${log}; ` +
    // The reference is the last word (after --insecure, for a loopback registry).
    `if [ "$1 $2" = "manifest inspect" ]; then [[ "$REGISTRY_HAS" == *$'\\n'"\${@: -1}"$'\\n'* ]] && return; echo "no such manifest: \${@: -1}" >&2; return 1; fi; }\nexport -f docker\n`;
  const driver = recorder + files.map((file) => `bash -c "$(cat ${JSON.stringify(file)})" || exit $?\ndocker --end-of-step\n`).join("");
  const registryHas = `\n${existing.map((reference) => `${reference}\n`).join("")}`;
  const run = Bun.spawnSync(["bash", "-c", driver], { cwd: docker.directory, env: { ...process.env, ...env, REGISTRY_HAS: registryHas, PATH: `${docker.directory}:${env.PATH ?? process.env.PATH}` } });
  if (run.exitCode !== 0) throw new Error(`a script failed (${run.exitCode}): ${run.stderr.toString()}`);
  const perScript: string[][][] = [[]];
  for (const call of docker.calls()) {
    if (call[0] === "--end-of-step") perScript.push([]);
    else perScript.at(-1)!.push(call);
  }
  perScript.pop();
  return perScript;
}

/** Each image with the aliases `docker tag SOURCE ALIAS` calls gave it (SOURCE its reference or content reference), once each. */
function tagAliases(images: ImageView[], calls: readonly string[][]): void {
  images.forEach((image, index) => {
    const own = [image.reference, image.content];
    const tagged = calls.filter((call) => call[0] === "tag" && own.includes(call[1]) && !own.includes(call[2])).map((call) => call[2]!);
    const settings = image.settings ?? { aliases: [], labels: {}, platforms: [], target: null, cacheFrom: [], cacheTo: [], attest: [] };
    const added = [...new Set(tagged)].filter((alias) => !settings.aliases.includes(alias));
    if (added.length > 0) images[index] = { ...image, settings: settingsView({ ...settings, aliases: [...settings.aliases, ...added] }) };
  });
}

/** A step arg as Cloud Build reads it: `$$` is '$', `$_NAME` and `${_NAME}` the substitution's value. */
export function substitute(text: string, values: Readonly<Record<string, string>>): string {
  return text.replace(/\$\$|\$\{(\w+)\}|\$(\w+)/g, (whole, braced: string | undefined, bare: string | undefined) => {
    if (whole === "$$") return "$";
    const name = braced ?? bare!;
    if (!(name in values)) throw new Error(`cloudbuild: $${name} has no value: Cloud Build would refuse the build`);
    return values[name]!;
  });
}
