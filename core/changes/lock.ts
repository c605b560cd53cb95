// The lock file: the digest each external base image (nvidia/cuda:..., ubuntu:22.04:
// an image the graph does not build) had when `caliban-images lock` last asked its
// registry. It sits beside the matrix (matrix.toml → matrix.lock) and is read through
// the same SourceTree as the Dockerfiles, so `affected --since REV` reads REV's. With
// it, builds pull the locked digest (`REF@sha256:...`, through the build arg a FROM is
// made of) and each locked digest is part of the inputs of the images built FROM it:
// a `lock` that finds an upstream image moved rebuilds exactly what builds FROM it.

import { quotedReference, resolveFroms } from "../plan/dockerfile-from.ts";
import { CalibanError } from "../errors.ts";
import type { BuildGraph } from "../graph.ts";
import type { InputsDigester, SourceTree } from "./inputs.ts";
import { dockerReferenceProblem } from "../names.ts";
import { tomlString } from "../matrix/toml.ts";

export const LOCK_FORMAT_VERSION = 1;

const DIGEST_PATTERN = /^sha256:[0-9a-f]{64}$/;

export interface Lock {
  /** The lock file's path, relative to the matrix file's directory. */
  readonly file: string;
  /** Reference as the Dockerfile's FROM gives it (build args put in) → "sha256:<hex>". */
  readonly digests: ReadonlyMap<string, string>;
}

/** The lock file that belongs to a matrix file: its name with `.toml` replaced by `.lock` (or `.lock` added). */
export function lockFileName(matrixFile: string): string {
  const name = matrixFile.slice(matrixFile.lastIndexOf("/") + 1);
  return name.endsWith(".toml") ? `${name.slice(0, -".toml".length)}.lock` : `${name}.lock`;
}

/**
 * The matrix's lock, read through the tree its files are read from; undefined when there
 * is none. Messages name it as `shownMatrix` names the matrix (where the command runs).
 */
export function readLock(tree: SourceTree, matrixFile: string, shownMatrix = matrixFile): Lock | undefined {
  const file = lockFileName(matrixFile);
  const bytes = tree.readFile(file);
  if (bytes === undefined) return undefined;
  const shown = `${shownMatrix.slice(0, shownMatrix.lastIndexOf("/") + 1)}${file}`;
  return { ...parseLock(new TextDecoder().decode(bytes), shown), file };
}

export function parseLock(text: string, file: string): Lock {
  const problem = (message: string, line?: number) =>
    new CalibanError({ code: "LOCK", file, ...(line === undefined ? {} : { line, column: 1 }), message, hint: "write it anew with caliban-images lock" });
  let data: unknown;
  try {
    data = Bun.TOML.parse(text);
  } catch (error) {
    throw problem(`not a lock file caliban-images wrote: ${(error as Error).message}`);
  }
  const table = data as { version?: unknown; digests?: unknown };
  if (table.version !== LOCK_FORMAT_VERSION) throw problem(`version must be ${LOCK_FORMAT_VERSION}`, lineOf(text, "version"));
  const digests = new Map<string, string>();
  if (table.digests !== undefined) {
    if (typeof table.digests !== "object" || table.digests === null || Array.isArray(table.digests)) throw problem("[digests] must be a table", lineOf(text, "[digests]"));
    for (const [reference, digest] of Object.entries(table.digests)) {
      // A reference is printed (lock's changes) and matched against FROM lines: Docker's grammar, as they are held to.
      const invalid = dockerReferenceProblem(reference);
      if (invalid) throw problem(`${quotedReference(reference)} ${invalid}, so it is no image a FROM can name`, lineOf(text, tomlString(reference)));
      if (typeof digest !== "string" || !DIGEST_PATTERN.test(digest)) throw problem(`the digest of ${reference} is not sha256: and 64 hex digits`, lineOf(text, tomlString(reference)));
      digests.set(reference, digest);
    }
  }
  return { file, digests };
}

/** The lock file's text: references in code point order, so that the same digests give the same bytes. */
export function lockText(digests: ReadonlyMap<string, string>): string {
  const references = [...digests.keys()].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  return [
    "# Written by `caliban-images lock`: the digest each external base image had when it was",
    "# locked. Builds pull these digests, and each is part of the inputs of the images built",
    "# FROM it. Commit this file; run `caliban-images lock` again to take upstream updates.",
    `version = ${LOCK_FORMAT_VERSION}`,
    "",
    "[digests]",
    ...references.map((reference) => `${tomlString(reference)} = ${tomlString(digests.get(reference)!)}`),
    "",
  ].join("\n");
}

function lineOf(text: string, needle: string): number | undefined {
  const index = text.split("\n").findIndex((line) => line.trimStart().startsWith(needle));
  return index < 0 ? undefined : index + 1;
}

/** An external base image the Dockerfiles build FROM: where first named, by which images, and whether builds can pull it by digest. */
export interface ExternalImage {
  readonly reference: string;
  readonly dockerfile: string;
  readonly line: number;
  readonly images: string[];
  /** Whether every FROM naming it is one build arg (`FROM $BASE`), which a pinned reference can be given in. */
  pinnable: boolean;
}

/**
 * The images the graph's Dockerfiles build FROM that the graph does not build (nor its
 * repository hold), in order of first appearance. References that hold a digest already
 * are left out: they cannot move. Plan the graph without its lock (PlanOptions.lock =
 * false): a locked graph's args name pinned references.
 */
export function externalImages(graph: BuildGraph, digester: InputsDigester): ExternalImage[] {
  const byReference = new Map<string, ExternalImage>();
  const byId = new Map(graph.images.map((image) => [image.id, image]));
  const repositories = new Set([graph.repository, ...graph.images.map((image) => image.repository)]);
  for (const image of graph.images) {
    const parsed = digester.dockerfile(image.dockerfile, image.context);
    if (parsed === undefined) continue;
    const base = image.from === null ? undefined : byId.get(image.from);
    for (const from of resolveFroms(parsed, image.args, image.dockerfile)) {
      const { reference } = from;
      if (!isLockable(reference, base?.reference, repositories)) continue;
      let external = byReference.get(reference);
      if (!external) byReference.set(reference, (external = { reference, dockerfile: image.dockerfile, line: from.line, images: [], pinnable: true }));
      if (!external.images.includes(image.id)) external.images.push(image.id);
      if (from.pinArg === undefined) external.pinnable = false;
    }
  }
  return [...byReference.values()];
}

/** Whether a FROM's reference is an external image that can move: not the image's base, not REPOSITORY:TAG of one of the graph's repositories, not already a digest. */
export function isLockable(reference: string, baseReference: string | undefined, repositories: ReadonlySet<string>): boolean {
  if (reference === baseReference || reference.includes("@")) return false;
  const colon = reference.lastIndexOf(":");
  return colon <= reference.lastIndexOf("/") || !repositories.has(reference.slice(0, colon));
}
