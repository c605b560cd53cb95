// Google Cloud Build: the config Caliban's own generator wrote. Per image a build
// step (id = the image reference) and a push step (id = reference + "-push"). A build
// step waits for its base's *build* step, not its push: all steps share one Docker
// daemon, so the base is already there.
//
// Cloud Build runs at most 300 steps in one build. A larger graph is written as
// several configs, numbered in dependency order, each within the limit: an image
// whose base is built by an earlier config pulls it from the registry (that config
// pushed it), so the configs must be submitted in order; submit.sh does that.

import { distinctArgs, type BuildArg, type BuildGraph } from "../core/graph.ts";
import { CalibanError, type Diagnostic } from "../core/errors.ts";
import { jsonString } from "../core/json.ts";
import { chunks, type EmittedFile, type Emitter } from "./contract.ts";
import { Memo } from "./memo.ts";

export interface CloudBuildOptions extends Record<string, string | number> {
  timeout: string;
  builder: string;
  output: string;
  "max-steps": number;
  "max-arg-length": number;
}

/** Cloud Build's longest build. */
const MAX_TIMEOUT_SECONDS = 24 * 60 * 60;
/** Cloud Build's limit on the steps of one build. */
export const MAX_STEPS = 300;

export const cloudbuild: Emitter<CloudBuildOptions> = {
  name: "cloudbuild",
  description: "Google Cloud Build config (cloudbuild.json), as Caliban's generator wrote it; split past 300 steps",
  options: {
    timeout: {
      type: "string",
      default: "86400s",
      description: "timeout of each build, in seconds with an 's' (at most 86400s)",
      check: (value) => {
        const match = /^(\d+)(\.\d{1,9})?s$/.exec(String(value));
        if (!match) return `"${value}" is not a duration such as "3600s"`;
        if (Number(match[1]) > MAX_TIMEOUT_SECONDS) return `Cloud Build allows at most ${MAX_TIMEOUT_SECONDS}s (24 hours)`;
        return undefined;
      },
    },
    builder: { type: "string", default: "gcr.io/cloud-builders/docker", description: "the builder image each step runs" },
    output: { type: "string", default: "cloudbuild.json", description: "file name of the config (cloudbuild-01.json, ... when split)" },
    "max-steps": {
      type: "number",
      default: MAX_STEPS,
      description: "most steps in one config; more images are split across configs",
      check: (value) => (Number.isInteger(value) && Number(value) >= 2 && Number(value) <= MAX_STEPS ? undefined : `must be a whole number from 2 to ${MAX_STEPS}, Cloud Build's limit`),
    },
    "max-arg-length": {
      type: "number",
      default: 10_000,
      description: "longest single step arg, in characters; a longer one is an error",
      check: (value) => (Number.isInteger(value) && Number(value) > 0 ? undefined : "must be a positive whole number"),
    },
  },
  emit(graph, options) {
    checkArgLengths(graph, options["max-arg-length"]);
    const perConfig = Math.floor(options["max-steps"] / 2);
    const { images } = graph;
    const indexById = new Map<string, number>();
    for (let i = 0; i < images.length; i++) indexById.set(images[i]!.id, i);
    if (images.length <= perConfig) {
      return [
        { path: options.output, contents: chunks(() => configChunks(graph, 0, images.length, indexById, options)) },
        // In a directory, submit.sh is always there, so a pipeline that runs it never submits
        // configs left from a larger graph, and needs no change when its graph grows.
        { path: "submit.sh", contents: submitScript([options.output], images.length), companion: true },
      ];
    }
    const starts: number[] = [];
    for (let start = 0; start < images.length; start += perConfig) starts.push(start);
    const width = String(starts.length).length < 2 ? 2 : String(starts.length).length;
    const stem = options.output.replace(/\.json$/, "");
    const names = starts.map((_, i) => `${stem}-${String(i + 1).padStart(width, "0")}.json`);
    const files: EmittedFile[] = starts.map((start, i) => ({
      path: names[i]!,
      contents: chunks(() => configChunks(graph, start, Math.min(start + perConfig, images.length), indexById, options)),
    }));
    files.push({ path: "submit.sh", contents: submitScript(names, graph.images.length) });
    return files;
  },
};

/**
 * One config as chunks, byte for byte what JSON.stringify(config, null, 2) would
 * give, without holding every step of a large graph in memory at once.
 */
function* configChunks(
  graph: BuildGraph,
  start: number,
  end: number,
  indexById: ReadonlyMap<string, number>,
  options: CloudBuildOptions,
): Generator<string> {
  const { images } = graph;
  const name = `,\n      "name": ${JSON.stringify(options.builder)},\n      "args": [`;
  const build = `${name}${ARG}"build",${ARG}"-t",${ARG}`;
  const push = `${name}${ARG}"push",${ARG}`;
  // Step args as JSON, made once each (emitters/memo.ts).
  const dockerfiles = new Memo(stepArg);
  const contexts = new Memo(stepArg);
  const args = new Memo((arg: BuildArg) => `${ARG}"--build-arg",${ARG}${stepArg(`${arg.name}=${arg.value}`)},`);
  // What a base gives the steps built FROM it (their waitFor), made once per base. A base
  // built by an earlier config was pushed by it: docker build pulls it, nothing to wait for.
  // A config is a range of the graph's images, which come after their bases (core/graph.ts).
  const waitFors = new Memo((id: string) => {
    const at = indexById.get(id)!;
    return at >= start && at < end ? `"${images[at]!.reference}"` : '"-"';
  });
  yield '{\n  "steps": [\n';
  let out = "";
  for (let i = start; i < end; i++) {
    const image = images[i]!;
    const waitFor = image.from === null ? '"-"' : waitFors.of(image.from);
    // A reference needs no JSON escape, and Docker's grammar allows no '$' in it, so
    // no substitution escape either (core/graph.ts): it is written as it is.
    const reference = `"${image.reference}"`;
    out += `${i > start ? ",\n" : ""}    {\n      "id": ${reference}${build}${reference},${ARG}"-f",${ARG}${dockerfiles.of(image.dockerfile)},`;
    for (const arg of image.args) out += args.of(arg);
    out += `${ARG}${contexts.of(image.context)}${END_ARGS}${waitFor}${END_STEP},\n`;
    out += `    {\n      "id": "${image.reference}-push"${push}${reference}${END_ARGS}${reference}${END_STEP}`;
    if (((i - start) & 63) === 63) {
      yield out;
      out = "";
    }
  }
  yield `${out}\n  ],\n  "timeout": ${JSON.stringify(options.timeout)}\n}\n`;
}

/** Indentation of JSON.stringify(config, null, 2) at a step's args, waitFor and end. */
const ARG = "\n        ";
const END_ARGS = '\n      ],\n      "waitFor": [\n        ';
const END_STEP = "\n      ]\n    }";

/** A step arg as JSON, holding `text` literally. */
function stepArg(text: string): string {
  return jsonString(escapeSubstitutions(text));
}

/** Cloud Build substitutes $NAME and ${NAME} in args; a literal '$' is written '$$'. */
export function escapeSubstitutions(text: string): string {
  return text.includes("$") ? text.replace(/\$/g, () => "$$") : text;
}

function checkArgLengths(graph: BuildGraph, limit: number): void {
  const diagnostics: Diagnostic[] = [];
  for (const { image, arg } of distinctArgs(graph)) {
    const length = escapeSubstitutions(`${arg.name}=${arg.value}`).length;
    if (length > limit) {
      diagnostics.push({
        code: "LIMIT",
        message: `emit cloudbuild: image ${image.id}, build arg ${arg.name}: the step arg is ${length} characters, more than the ${limit} a Cloud Build step arg may hold`,
        hint: "shorten the value (or raise --option max-arg-length if your Cloud Build accepts more)",
      });
    }
  }
  if (diagnostics.length > 0) throw new CalibanError(diagnostics);
}

function submitScript(configs: readonly string[], images: number): string {
  const lines = [
    "#!/usr/bin/env bash",
    ...(configs.length === 1
      ? [`# Generated by caliban-images: ${images} images fit one Cloud Build config (at most 300 steps).`]
      : [
          `# Generated by caliban-images: ${images} images need ${configs.length} Cloud Build configs (at most 300 steps each).`,
          "# Submit them in this order, each after the one before has finished: a config pulls",
          "# the base images that earlier ones pushed.",
        ]),
    "#",
    "#   bash submit.sh [extra gcloud builds submit flags]   (run from the build context's root)",
    "set -euo pipefail",
    'here="$(cd "$(dirname "$0")" && pwd)"',
    ...configs.map((config) => `gcloud builds submit --config "$here/${config}" "$@" .`),
  ];
  return `${lines.join("\n")}\n`;
}
