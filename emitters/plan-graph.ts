// `plan --format mermaid` and `--format dot`: the build graph as a picture. One node per
// image (its tag), grouped by family, an edge from each base to what builds FROM it.
// GitHub renders a ```mermaid block in a README, an issue or a pull request; Graphviz's
// `dot -Tsvg` renders the other. Each text goes through its language's one quoting function.

import { fail } from "../core/errors.ts";
import { imagesById, type BuildGraph, type ImageNode } from "../core/graph.ts";

/** GitHub's Mermaid refuses a diagram past these (Mermaid's maxEdges and maxTextSize defaults). */
export const MERMAID_LIMITS = { edges: 500, characters: 50_000 } as const;

/** A Mermaid string: quoted, with the characters Mermaid reads in a label written as its entity codes. */
export function mermaidString(text: string): string {
  return `"${text.replace(/[#"<>&`\n]/g, (c) => `#${c.charCodeAt(0)};`)}"`;
}

/**
 * A DOT string (an ID in double quotes). DOT's only escape in one is `\"`; a backslash
 * stays as written, so one before the closing quote would swallow it: a backslash or a
 * control character is refused (no tag or family name can hold either).
 */
export function dotString(text: string): string {
  if (/[\\\u0000-\u001f\u007f]/.test(text)) fail("LIMIT", `${JSON.stringify(text)} holds a backslash or a control character, which a Graphviz name cannot carry as written`);
  return `"${text.replace(/"/g, '\\"')}"`;
}

export function renderMermaid(graph: BuildGraph): string {
  const byId = imagesById(graph);
  const node = new Map(graph.images.map((image, index) => [image.id, `image${index}`]));
  const lines = ["flowchart LR"];
  graph.families.forEach((family, index) => {
    if (family.images.length === 0) return;
    lines.push(`  subgraph family${index}[${mermaidString(family.name)}]`);
    for (const id of family.images) lines.push(`    ${node.get(id)}[${mermaidString(byId.get(id)!.tag)}]`);
    lines.push("  end");
  });
  for (const image of graph.images) if (image.from !== null) lines.push(`  ${node.get(image.from)} --> ${node.get(image.id)}`);
  return `${lines.join("\n")}\n`;
}

export function renderDot(graph: BuildGraph): string {
  const byId = imagesById(graph);
  // A node is named by its tag; where two repositories share a tag, by its reference, labelled with the tag.
  const uses = graph.images.reduce((count, image) => count.set(image.tag, (count.get(image.tag) ?? 0) + 1), new Map<string, number>());
  const name = (image: ImageNode) => dotString(uses.get(image.tag) === 1 ? image.tag : image.reference);
  const lines = ["digraph images {", "  rankdir=LR;", "  node [shape=box];"];
  graph.families.forEach((family, index) => {
    if (family.images.length === 0) return;
    lines.push(`  subgraph cluster_${index} {`, `    label=${dotString(family.name)};`);
    for (const image of family.images.map((id) => byId.get(id)!)) lines.push(`    ${name(image)}${uses.get(image.tag) === 1 ? "" : ` [label=${dotString(image.tag)}]`};`);
    lines.push("  }");
  });
  for (const image of graph.images) if (image.from !== null) lines.push(`  ${name(byId.get(image.from)!)} -> ${name(image)};`);
  lines.push("}");
  return `${lines.join("\n")}\n`;
}

/**
 * The picture of some families (`plan --family`): their images, and the images those build
 * FROM, so that every arrow into them keeps its tail (a base's own base is left out, and
 * its arrow with it). For the pictures only: levels are not recomputed.
 */
export function familiesPicture(graph: BuildGraph, names: readonly string[]): BuildGraph {
  const chosen = new Set(names);
  const kept = new Set<string>();
  for (const image of graph.images) {
    if (!chosen.has(image.family)) continue;
    kept.add(image.id);
    if (image.from !== null) kept.add(image.from);
  }
  const unlinked = ({ fromParts: _, ...image }: ImageNode): ImageNode => ({ ...image, from: null, fromArg: null });
  const images = graph.images.filter((image) => kept.has(image.id)).map((image) => (image.from === null || kept.has(image.from) ? image : unlinked(image)));
  return { ...graph, families: graph.families.map((family) => ({ ...family, images: family.images.filter((id) => kept.has(id)) })), images };
}

/** Why GitHub would not render a Mermaid text, or undefined when it would. */
export function mermaidTooLarge(text: string, graph: BuildGraph): string | undefined {
  const edges = graph.images.filter((image) => image.from !== null).length;
  if (edges > MERMAID_LIMITS.edges) return `the diagram has ${edges} edges, and GitHub's Mermaid draws at most ${MERMAID_LIMITS.edges}`;
  if (text.length > MERMAID_LIMITS.characters) return `the diagram is ${text.length} characters, and GitHub's Mermaid reads at most ${MERMAID_LIMITS.characters}`;
  return undefined;
}
