// `plan --format mermaid` and `--format dot`: the build graph as a picture. One node per
// image (its tag), grouped by family, an edge from each base to what builds FROM it.
// GitHub renders a ```mermaid block in a README, an issue or a pull request; Graphviz's
// `dot -Tsvg` renders the other. Each text goes through its language's one quoting function.

import { fail } from "../core/errors.ts";
import { imagesById, type BuildGraph } from "../core/graph.ts";

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
  const lines = ["digraph images {", "  rankdir=LR;", "  node [shape=box];"];
  graph.families.forEach((family, index) => {
    if (family.images.length === 0) return;
    lines.push(`  subgraph cluster_${index} {`, `    label=${dotString(family.name)};`);
    for (const id of family.images) lines.push(`    ${dotString(byId.get(id)!.tag)};`);
    lines.push("  }");
  });
  for (const image of graph.images) if (image.from !== null) lines.push(`  ${dotString(byId.get(image.from)!.tag)} -> ${dotString(image.tag)};`);
  lines.push("}");
  return `${lines.join("\n")}\n`;
}

/** Why GitHub would not render a Mermaid text, or undefined when it would. */
export function mermaidTooLarge(text: string, graph: BuildGraph): string | undefined {
  const edges = graph.images.filter((image) => image.from !== null).length;
  if (edges > MERMAID_LIMITS.edges) return `the diagram has ${edges} edges, and GitHub's Mermaid draws at most ${MERMAID_LIMITS.edges}`;
  if (text.length > MERMAID_LIMITS.characters) return `the diagram is ${text.length} characters, and GitHub's Mermaid reads at most ${MERMAID_LIMITS.characters}`;
  return undefined;
}
