// Reads a Mermaid flowchart with Mermaid's own parser (the one GitHub renders with) and
// prints what it read as JSON: vertices (id, text), edges (start, end), subgraphs (id,
// title, nodes). A process of its own: Mermaid needs a DOM, which happy-dom gives it
// through globals that no test process should carry.
//   bun scripts/validators/mermaid-read.ts < diagram.mmd

import { GlobalRegistrator } from "@happy-dom/global-registrator";

GlobalRegistrator.register();
const { default: mermaid } = await import("mermaid");
const text = await Bun.stdin.text();
try {
  // parse() registers the diagram types; getDiagramFromText then gives the parsed database.
  await mermaid.parse(text);
  const { db } = (await mermaid.mermaidAPI.getDiagramFromText(text)) as unknown as { db: FlowDb };
  const read = {
    vertices: [...db.getVertices().values()].map((v) => ({ id: v.id, text: v.text })),
    edges: db.getEdges().map((e) => ({ start: e.start, end: e.end })),
    subgraphs: db.getSubGraphs().map((s) => ({ id: s.id, title: s.title, nodes: s.nodes })),
  };
  process.stdout.write(`${JSON.stringify(read)}\n`);
} catch (error) {
  process.stderr.write(`${(error as Error).message}\n`);
  process.exit(1);
}

interface FlowDb {
  getVertices(): Map<string, { id: string; text: string }>;
  getEdges(): { start: string; end: string }[];
  getSubGraphs(): { id: string; title: string; nodes: string[] }[];
}
