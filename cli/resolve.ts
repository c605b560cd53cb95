// `caliban-images resolve`: what a pipeline runs first, in the tree it checked out. It
// plans the matrix there, so every inputs digest is the checkout's own (a Dockerfile
// edited without emitting again still ships), and checks that the matrix still gives
// the graph the pipeline's file was emitted for (--shape): an image added or a
// family's options changed stop the pipeline here, before anything is built. With
// --registry it asks the registry for each image's content tag: present or absent,
// and nothing else passes for an answer (a refusal, a 5xx, the network: exit 4).
// --registry takes the top-level repository's place, as --base-url does: each image is
// asked for in its own repository, moved with it unless its family's is absolute.

import { CalibanError, fail, formatDiagnostic, type Diagnostic } from "../core/errors.ts";
import { graphShape, isShape } from "../core/changes/graph-shape.ts";
import { hasOwnRepositories, movedRepository, type BuildGraph, type ImageNode } from "../core/graph.ts";
import { contentTag } from "../core/changes/inputs.ts";
import { normalOutputPath } from "../core/matrix/matrix.ts";
import { repositoryProblem } from "../core/names.ts";
import { displayName } from "../core/printable.ts";
import { runPublishes } from "../core/branch-patterns.ts";
import { EXIT_STALE } from "./emit-all.ts";
import { loadGraph, optionalString, stringList, variablesOption, type Options } from "./load-graph.ts";
import { varsIn } from "../emitters/pipeline-variables.ts";
import { eachAtOnce, imageName, Registry } from "./registry.ts";
import { cosignVerifier, type Verifier } from "./verify-signature.ts";
import { dirname, resolve as absolutePath } from "node:path";
import type { Io } from "./terminal.ts";

export const RESOLVE_FORMATS = ["json", "make", "github", "lines", "bake"] as const;

export async function resolveCommand(options: Options, io: Io): Promise<number> {
  const format = optionalString(options.format, "--format") ?? "json";
  if (!(RESOLVE_FORMATS as readonly string[]).includes(format)) fail("USAGE", `--format ${format}: resolve prints ${RESOLVE_FORMATS.join(" or ")}`);
  const forFile = optionalString(options.for, "--for");
  // A file that names its own shape (docker-bake.hcl: "# caliban-images shape: HEX") needs no --shape; it names its --var values too.
  const givenShape = optionalString(options.shape, "--shape");
  const named = givenShape === undefined && forFile !== undefined ? namedIn(forFile) : undefined;
  const shape = givenShape ?? named?.shape;
  if (shape !== undefined && !isShape(shape)) fail("USAGE", `--shape ${JSON.stringify(shape)} is not a shape (64 hex digits, as an emitted file gives it)`);
  const repository = optionalString(options.registry, "--registry");
  const problem = repository === undefined ? undefined : repositoryProblem(repository);
  if (problem) fail("USAGE", `--registry "${repository}" ${problem}`);
  const retries = retriesOption(options.retries);
  const event = optionalString(options.event, "--event");
  const ref = optionalString(options.ref, "--ref");
  if ((event === undefined) !== (ref === undefined)) fail("USAGE", "--event and --ref go together: the run's event and the git ref it runs on", { hint: 'e.g. --event "$GITHUB_EVENT_NAME" --ref "$GITHUB_REF"' });

  // The file's values, each replaced by a --var of the command line.
  const values = named === undefined ? undefined : new Map([...named.variables, ...variablesOption(options.var).values]);
  const { graph, loaded } = await loadGraph(values === undefined ? options : { ...options, var: [...values].map(([name, value]) => `${name}=${value}`) }, io);
  if (shape !== undefined && graphShape(graph) !== shape) {
    const file = forFile ?? "the pipeline's file";
    const listed = Object.values(loaded.matrix.outputs).some((path) => normalOutputPath(path) === normalOutputPath(file) || (path.endsWith("/") && normalOutputPath(file).startsWith(normalOutputPath(path))));
    io.stderr(
      `${formatDiagnostic({
        code: "USAGE",
        message: `${file} is stale for ${displayName(loaded.matrix.file)}: run caliban-images ${listed ? "emit --all" : `emit NAME -o ${file}`}`,
        hint: `the matrix no longer gives the images, settings or [publish] it was emitted for${loaded.matrix.variables.length > 0 ? ", with these values of [vars] (the file passes on the --var values it was emitted with)" : ""}; nothing was built. (Editing a Dockerfile, a build context or a build arg's file never needs this: digests are read when the pipeline runs.)`,
      })}\n`,
    );
    return EXIT_STALE;
  }

  const decision = event === undefined ? undefined : runPublishes(graph.publish, event, ref!);
  if (decision !== undefined) io.stderr(`${decision.publishes ? "publishing" : "not publishing"}: ${decision.why}\n`);
  const registry = new Registry({ insecure: stringList(options.insecureRegistry), retryDelays: backoff(retries) });
  const verifier = graph.sign === undefined ? undefined : cosignVerifier(optionalString(options.cosign, "--cosign") ?? "cosign", graph.sign, absolutePath(dirname(loaded.matrix.file)));
  const present = repository === undefined ? undefined : await presentImages(graph, repository, registry, verifier, io);
  const always = graph.images.filter((image) => image.rebuild === "always").length;
  if (present !== undefined) io.stderr(`${present.size} of ${graph.images.length} images are in ${hasOwnRepositories(graph) ? "their repositories" : repository} by their inputs digest; ${graph.images.length - present.size} to build${always > 0 ? ` (${always} rebuilt every run, rebuild = "always": not asked for)` : ""}\n`);
  const text = {
    make: () => makeWords(graph, present),
    github: () => githubOutputs(graph, present, decision?.publishes),
    lines: () => digestLines(graph, present),
    bake: () => `${JSON.stringify(Object.fromEntries(graph.images.map((image) => [image.id, hex(image)])))}\n`,
    json: () => jsonText(graph, repository, present, decision?.publishes),
  };
  io.stdout(text[format as keyof typeof text]());
  return 0;
}

/** One line of make assignments, one word each (ids and hex digits need no quoting): `inputs/ID=HEX`, and `present/ID=1` for what the registry has. */
function makeWords(graph: BuildGraph, present: ReadonlySet<string> | undefined): string {
  const words = graph.images.map((image) => `inputs/${image.id}=${hex(image)}${present?.has(image.id) ? ` present/${image.id}=1` : ""}`);
  return `${words.join(" ")}\n`;
}

/**
 * Lines for $GITHUB_OUTPUT, which the workflow's jobs read with fromJSON: `inputs`, each
 * image's digest (id → hex); with --registry, `present`, the ids whose content tag the
 * registry has; with --event, `publish` (true or false).
 */
export function githubOutputs(graph: BuildGraph, present: ReadonlySet<string> | undefined, publishes?: boolean): string {
  const inputs: Record<string, string> = {};
  for (const image of graph.images) inputs[image.id] = hex(image);
  const lines = [`inputs=${JSON.stringify(inputs)}`];
  if (present !== undefined) lines.push(`present=${JSON.stringify(graph.images.filter((image) => present.has(image.id)).map((image) => image.id))}`);
  if (publishes !== undefined) lines.push(`publish=${publishes}`);
  return `${lines.join("\n")}\n`;
}

/** A line per image, for a shell to read (Cloud Build's steps): `ID HEX`, and ` present` when the registry has it. */
export function digestLines(graph: BuildGraph, present: ReadonlySet<string> | undefined): string {
  return graph.images.map((image) => `${image.id} ${hex(image)}${present?.has(image.id) ? " present" : ""}\n`).join("");
}

function jsonText(graph: BuildGraph, repository: string | undefined, present: ReadonlySet<string> | undefined, publishes: boolean | undefined): string {
  const images: Record<string, unknown> = {};
  for (const image of graph.images) {
    images[image.id] = {
      inputs: image.inputs,
      content: `${repository === undefined ? image.repository : movedRepository(image, repository)}:${contentTag(image.inputs)}`,
      ...(present === undefined ? {} : { present: present.has(image.id) }),
    };
  }
  return `${JSON.stringify({ version: 1, shape: graphShape(graph), ...(publishes === undefined ? {} : { publish: publishes }), images }, null, 2)}\n`;
}

/**
 * The shape a file names on a line of its own ("caliban-images shape: HEX"), and the values
 * of [vars] it was emitted with ("caliban-images var: NAME=JSON", emitters/pipeline-variables.ts);
 * a file that names no shape, or is not there, is an error.
 */
function namedIn(file: string): { shape: string; variables: ReadonlyMap<string, string> } {
  let text: string;
  try {
    text = require("node:fs").readFileSync(file, "utf8") as string;
  } catch {
    fail("FILE_NOT_FOUND", `--for ${JSON.stringify(file)}: there is no such file to read its shape from`, { hint: "name the emitted file, or give --shape" });
  }
  const found = /caliban-images shape: ([0-9a-f]{64})\b/.exec(text)?.[1];
  if (found === undefined) fail("USAGE", `${displayName(file)} names no shape ("caliban-images shape: HEX"): give --shape`, { hint: "emit it again with this version of caliban-images" });
  return { shape: found, variables: varsIn(text) };
}

function hex(image: ImageNode): string {
  return image.inputs.slice("sha256:".length);
}

/**
 * The ids of the images whose content tag is in their repository (`repository` in the top-level one's place); every question answered for certain, or a REGISTRY error naming each that was not.
 * An image rebuilt every run (rebuild = "always") is not asked for: no pipeline skips it, whatever the registry has.
 */
async function presentImages(graph: BuildGraph, repository: string, registry: Registry, verifier: Verifier | undefined, io: Io): Promise<Set<string>> {
  const present = new Set<string>();
  const failures: Diagnostic[] = [];
  const asked = graph.images.filter((image) => image.rebuild !== "always");
  await eachAtOnce(asked, async (image) => {
    // One question the registry could not answer stops the asking: the pipeline fails anyway.
    if (failures.length > 0) return;
    try {
      const where = movedRepository(image, repository);
      const found = await registry.lookup(`${where}:${contentTag(image.inputs)}`);
      if (found.present && (await reusable(image, where, found.digest, registry, verifier, io))) present.add(image.id);
    } catch (error) {
      if (!(error instanceof CalibanError)) throw error;
      failures.push(...error.diagnostics.map((d) => ({ ...d, message: `${image.id}: ${d.message}` })));
    }
  });
  if (failures.length > 0) throw new CalibanError(failures);
  return present;
}

/** With [sign], whether the image the registry has verifies (the log says why not); without, any image found is reused. */
async function reusable(image: ImageNode, repository: string, digest: string, registry: Registry, verifier: Verifier | undefined, io: Io): Promise<boolean> {
  if (verifier === undefined) return true;
  const verdict = await verifier(`${repository}@${digest}`, hex(image), registry.isPlainHttp(imageName(repository).registry));
  if (!verdict.verified) io.stderr(`${image.id}: ${repository}:${contentTag(image.inputs)} is in the registry, but cosign does not verify it (${verdict.why}): rebuilt, not reused\n`);
  return verdict.verified;
}

function retriesOption(value: unknown): number {
  if (value === undefined) return 4;
  const text = String(value);
  if (!/^[0-9]+$/.test(text) || Number(text) > 10) fail("USAGE", `--retries ${text}: give a whole number from 0 to 10`);
  return Number(text);
}

/** 1, 2, 4, ... seconds before each retry. */
function backoff(retries: number): number[] {
  return Array.from({ length: retries }, (_, i) => 1000 * 2 ** i);
}
