// What an image's inputs digest is made of, laid out for a person (`caliban-images
// explain REF`): the Dockerfile, the context's files as a build sends them, the build args
// as digested, what else the build is asked for, the locked upstream images and the base.
// Read from a plan of the matrix (at the revision a signature names), so what it prints
// hashes to the image's digest: core/changes/inputs.ts computes both from the same parts.

import type { BuildGraph, ImageNode } from "../graph.ts";
import { baseNamedValue } from "../base-parts.ts";
import { digestedSettings, imageText, sha256, type InputsDigester } from "./inputs.ts";

export interface ExplainedImage {
  readonly id: string;
  /** `repository:tag`, as the matrix at that commit named it. */
  readonly reference: string;
  readonly contentReference: string;
  readonly inputs: string;
  /** The Dockerfile's path (relative to the matrix's folder) and the sha256 of its bytes ("missing", or none for a remote context). */
  readonly dockerfile: { readonly path: string; readonly sha256: string | null };
  /** The context, the ignore file that chose its files, and each file sent: its kind and git blob id. Null files: a remote context. */
  readonly context: { readonly path: string; readonly ignoreFile: string | null; readonly files: readonly ContextFile[] | null };
  /** Each build arg as digested: a value holding the base's reference reads `{from}`. */
  readonly args: readonly { readonly name: string; readonly value: string }[];
  readonly labels: readonly { readonly name: string; readonly value: string }[];
  readonly annotations: readonly { readonly name: string; readonly value: string }[];
  readonly platforms: readonly string[];
  readonly target: string | null;
  readonly runner: readonly string[] | null;
  /** Locked external images it builds FROM, `REF@sha256:...`. */
  readonly upstream: readonly string[];
  /** The image of the matrix it builds FROM, by its own inputs digest; null for none. */
  readonly base: { readonly id: string; readonly inputs: string; readonly contentReference: string } | null;
}

export interface ContextFile {
  readonly path: string;
  /** How git would store it: `file`, `exec` (an executable file) or `link`. */
  readonly kind: string;
  readonly blob: string;
}

/** An image's inputs, read through the digester that planned its graph. */
export function explainImage(graph: BuildGraph, digester: InputsDigester, image: ImageNode): ExplainedImage {
  const base = image.from === null ? undefined : graph.images.find((other) => other.id === image.from);
  const settings = digestedSettings(graph, image);
  const parts = digester.parts(image.dockerfile, image.context, image.args, base, image.upstream, settings, image.fromParts);
  // The parts are the digest's own text: were they ever to disagree, what is printed would not be what built the image.
  if (`sha256:${sha256(imageText(parts))}` !== image.inputs) throw new Error(`explain: the inputs of ${image.id} do not hash to its digest`);
  const listing = digester.contextListing(image.context, image.dockerfile);
  return {
    id: image.id,
    reference: image.reference,
    contentReference: image.contentReference,
    inputs: image.inputs,
    dockerfile: { path: image.dockerfile, sha256: parts.dockerfile.startsWith("dockerfile path ") ? null : parts.dockerfile.slice("dockerfile ".length) },
    context: {
      path: image.context,
      ignoreFile: listing?.ignoreFile ?? null,
      files: listing === undefined ? null : listing.files.map(({ path, kind }, i) => ({ path, kind, blob: listing.digests[i]! })),
    },
    args: image.args.map(({ name, value }) => ({ name, value: baseNamedValue(value, image.fromParts?.[name], base) })),
    labels: image.labels.filter((label) => !label.revision).map(({ name, value }) => ({ name, value })),
    annotations: (image.annotations ?? []).map(({ name, value }) => ({ name, value })),
    platforms: settings.platforms,
    target: image.target,
    runner: settings.runner ?? null,
    upstream: image.upstream,
    base: base === undefined ? null : { id: base.id, inputs: base.inputs, contentReference: base.contentReference },
  };
}
