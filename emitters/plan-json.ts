// `plan --json`: the build graph exactly as JSON.stringify(graph, null, 2) writes it,
// with a final newline, handed on a few hundred images at a time so that a graph of
// 100,000 images is never one string.

import type { BuildGraph } from "../core/graph.ts";

/** Images per chunk: one JSON.stringify each, not one per image. */
const BATCH = 256;
/** `{ images: batch }` as JSON.stringify(…, null, 2) writes it puts each image at the graph's own indentation (four spaces); these are its first and last lines. */
const BATCH_HEAD = '{\n  "images": [\n';
const BATCH_TAIL = "\n  ]\n}";

export function* graphJsonChunks(graph: BuildGraph): Generator<string> {
  const { images, ...rest } = graph;
  const head = JSON.stringify({ ...rest, images: [] }, null, 2);
  yield head.slice(0, head.lastIndexOf("[]"));
  if (images.length === 0) {
    yield "[]\n}\n";
    return;
  }
  yield "[\n";
  for (let i = 0; i < images.length; i += BATCH) {
    const text = JSON.stringify({ images: images.slice(i, i + BATCH) }, null, 2);
    yield `${i > 0 ? ",\n" : ""}${text.slice(BATCH_HEAD.length, text.length - BATCH_TAIL.length)}`;
  }
  yield "\n  ]\n}\n";
}
