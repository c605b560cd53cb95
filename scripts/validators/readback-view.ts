// The one shape every readback (readback.ts) reads an output into: each image's view
// (reference, content reference, dockerfile, context, args, settings) and an output's
// (its images, what each builds after), in an order that compares with toEqual; and what
// the readbacks share: docker's build arguments read back, a recording docker.

import { scratchFolder } from "./scratch.ts";
import { chmodSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";

export interface ImageView {
  readonly reference: string;
  /** The content reference it is also tagged with (with content tags on). */
  readonly content?: string;
  readonly dockerfile: string;
  readonly context: string;
  readonly args: Readonly<Record<string, string>>;
  /** Aliases, labels, platforms, target, cache and attestations, when the image has any (issue 20). */
  readonly settings?: ImageSettings;
  /** Its build secrets as BuildKit takes them (`id=ID,env=NAME`, `id=ID,src=PATH`), sorted, when it has any (issue 32). */
  readonly secrets?: readonly string[];
  /** Its --annotation values, in order (buildx: LEVEL:NAME=VALUE). */
  readonly annotations?: readonly string[];
}

/** What an image's build is asked for beyond its args, as every output must say it. */
export interface ImageSettings {
  /** Every reference it is pushed under beside its tag and content tag, sorted. */
  readonly aliases: readonly string[];
  /** The commit label holds REVISION, the value the test gives the CI's variable. */
  readonly labels: Readonly<Record<string, string>>;
  readonly platforms: readonly string[];
  readonly target: string | null;
  readonly cacheFrom: readonly string[];
  readonly cacheTo: readonly string[];
  readonly attest: readonly string[];
}

export interface OutputView {
  readonly images: readonly ImageView[];
  /** reference → the references it directly builds after (its base), as the output links them. */
  readonly bases: Readonly<Record<string, readonly string[]>>;
}

/** Settings in a comparable order: aliases sorted, labels by name. */
export function settingsView(settings: ImageSettings): ImageSettings {
  return {
    ...settings,
    aliases: [...settings.aliases].sort(),
    labels: Object.fromEntries(Object.entries(settings.labels).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))),
  };
}

/** `docker build` arguments (after "build") → the image they build. */
export function dockerBuildView(args: readonly string[]): ImageView {
  const tags: string[] = [];
  let dockerfile = "Dockerfile";
  const buildArgs: Record<string, string> = {};
  const labels: Record<string, string> = {};
  let target: string | null = null;
  let platforms: string[] = [];
  const cacheFrom: string[] = [];
  const cacheTo: string[] = [];
  const attest: string[] = [];
  const secrets: string[] = [];
  const annotations: string[] = [];
  const rest: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (arg === "-t") tags.push(args[++i]!);
    else if (arg === "-f") dockerfile = args[++i]!;
    else if (arg === "--target") target = args[++i]!;
    // buildx's own (BuildKit): where the output goes is the caller's business.
    else if (arg === "--platform") platforms = args[++i]!.split(",");
    else if (arg === "--cache-from") cacheFrom.push(args[++i]!);
    else if (arg === "--cache-to") cacheTo.push(args[++i]!);
    else if (arg === "--attest") attest.push(args[++i]!);
    else if (arg === "--secret") secrets.push(args[++i]!);
    else if (arg === "--annotation") annotations.push(args[++i]!);
    else if (arg === "--metadata-file") i++;
    else if (arg === "--push" || arg === "--load") continue;
    else if (arg === "--builder") i++;
    else if (arg === "--output") i++;
    else if (arg === "--build-arg" || arg === "--label") {
      const pair = args[++i]!;
      const equals = pair.indexOf("=");
      (arg === "--label" ? labels : buildArgs)[pair.slice(0, equals)] = pair.slice(equals + 1);
    } else rest.push(arg);
  }
  if (rest.length !== 1) throw new Error(`docker build: expected one context, found ${JSON.stringify(rest)}`);
  if (tags.length < 1) throw new Error("docker build: no tag");
  // The tag, the content tag (inputs-<digest>) when there is one, then aliases.
  const content = tags.slice(1).find((tag) => /:inputs-[0-9a-f]{64}$/.test(tag));
  const aliases = tags.slice(1).filter((tag) => tag !== content);
  const hasSettings = aliases.length > 0 || Object.keys(labels).length > 0 || target !== null || platforms.length > 0 || cacheFrom.length > 0 || attest.length > 0;
  const settings = hasSettings ? { settings: settingsView({ aliases, labels, platforms, target, cacheFrom, cacheTo, attest }) } : {};
  return { reference: tags[0]!, ...(content === undefined ? {} : { content }), dockerfile, context: rest[0]!, args: buildArgs, ...settings, ...(secrets.length === 0 ? {} : { secrets: secrets.sort() }), ...(annotations.length === 0 ? {} : { annotations }) };
}

/**
 * A fake `docker` that records every call: `path` to put first on PATH or pass as
 * DOCKER, `calls()` the argument lists, in order. One write per call (unit separator
 * between arguments, record separator after), so parallel callers do not interleave.
 * `docker manifest inspect REF` succeeds exactly when REF is one of `existing`, as a
 * registry holding those images would answer.
 */
export function recordingDocker(existing: readonly string[] = [], failingTests: readonly string[] = []): { path: string; directory: string; calls(): string[][] } {
  const directory = scratchFolder("docker-");
  const log = join(directory, "docker.log");
  const path = join(directory, "docker");
  const registry = join(directory, "registry.txt");
  writeFileSync(registry, existing.map((reference) => `${reference}\n`).join(""));
  const failing = join(directory, "failing.txt");
  writeFileSync(failing, failingTests.map((reference) => `${reference}\n`).join(""));
  writeFileSync(
    path,
    `#!/usr/bin/env bash\nline=$(printf '%s\\037' "$@")\nprintf '%s\\036' "$line" >> ${JSON.stringify(log)}\n` +
      `if [ "$1 $2" = "manifest inspect" ]; then grep -qxF -- "\${@: -1}" ${JSON.stringify(registry)} && exit 0; echo "no such manifest: \${@: -1}" >&2; exit 1; fi\n` +
      // `docker run --rm REF ...` (a smoke test) fails for the references in failingTests.
      `if [ "$1 $2" = "run --rm" ]; then ! grep -qxF -- "$3" ${JSON.stringify(failing)}; exit; fi\n`,
  );
  chmodSync(path, 0o755);
  writeFileSync(log, "");
  return {
    path,
    directory,
    calls: () => readFileSync(log, "utf8").split("\x1e").filter(Boolean).map((line) => line.split("\x1f").slice(0, -1)),
  };
}

/** Images in reference order with args in name order, so that views compare with toEqual. */
export function normaliseImages(images: readonly ImageView[]): ImageView[] {
  const sortedArgs = (args: Readonly<Record<string, string>>) => Object.fromEntries(Object.entries(args).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  return images.map((i) => ({ ...i, args: sortedArgs(i.args) })).sort((a, b) => (a.reference < b.reference ? -1 : 1));
}

export function normalise(images: ImageView[], bases: Record<string, readonly string[]>): OutputView {
  return {
    images: normaliseImages(images),
    bases: Object.fromEntries(Object.entries(bases).sort(([a], [b]) => (a < b ? -1 : 1))),
  };
}
