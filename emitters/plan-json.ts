// `plan --json`: the build graph exactly as JSON.stringify(graph, null, 2) writes it,
// with a final newline, handed on an image at a time so that a graph of 100,000
// images is never one string.

import type { BuildGraph } from "../core/graph.ts";

export function* graphJsonChunks(graph: BuildGraph): Generator<string> {
  const { images, ...rest } = graph;
  const head = JSON.stringify({ ...rest, images: [] }, null, 2);
  yield head.slice(0, head.lastIndexOf("[]"));
  if (images.length === 0) {
    yield "[]\n}\n";
    return;
  }
  yield "[\n";
  for (let i = 0; i < images.length; i++) {
    // An image sits two levels deep in the graph: its lines are indented by four spaces.
    yield `${i > 0 ? ",\n" : ""}    ${JSON.stringify(images[i], null, 2).replaceAll("\n", "\n    ")}`;
  }
  yield "\n  ]\n}\n";
}
