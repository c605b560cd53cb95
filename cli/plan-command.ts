// `plan`: the graph as text, JSON, a summary or a diagram; and `schema`, the matrix's JSON Schema.

import { didYouMean, fail } from "../core/errors.ts";
import { matrixSchema } from "../core/matrix/matrix-schema.ts";
import { chunks } from "../emitters/contract.ts";
import { graphJsonChunks } from "../emitters/plan-json.ts";
import { renderPlan, selectFamilies } from "../emitters/plan-text.ts";
import { renderSummary, SUMMARY_ABOVE } from "../emitters/plan-summary.ts";
import { familiesPicture, mermaidTooLarge, renderDot, renderMermaid } from "../emitters/plan-graph.ts";
import { loadGraph, optionalString, type Options } from "./load-graph.ts";
import { writeOutputs } from "./output.ts";
import type { Io } from "./terminal.ts";

const PLAN_FORMATS = ["text", "json", "mermaid", "dot", "full", "summary"];

export async function planCommand(options: Options, io: Io): Promise<number> {
  const given = optionalString(options.format, "--format");
  if (given !== undefined && !PLAN_FORMATS.includes(given)) fail("USAGE", `--format ${given}: plan prints ${PLAN_FORMATS.join(", ")}`, { hint: didYouMean(given, PLAN_FORMATS) });
  if (options.json && options.full) fail("USAGE", "--json is --format json and --full is --format full: give one");
  for (const [flag, short] of [["json", options.json], ["full", options.full]] as const) {
    if (short && given !== undefined && given !== flag) fail("USAGE", `--${flag} is --format ${flag}, not --format ${given}: give one`);
  }
  const format = options.json ? "json" : options.full ? "full" : (given ?? "text");
  const families = familyOption(options.family);
  // The build graph's JSON is whole or it is not the build graph (a base outside it, levels, the shape).
  if (families !== undefined && format === "json") fail("USAGE", "--family filters the text and the diagrams, not --json: the build graph is printed whole", { hint: `select from it instead, e.g. plan --json | jq '.images[] | select(.family == "${families[0]}")'` });
  const planned = await loadGraph(options, io);
  const { loaded, graph } = planned;
  // [emit.*] is checked as emit checks it: a plan that passes is one every emit of it accepts.
  if (Object.keys(loaded.matrix.emit).length > 0) await (await import("./emitter-registry.ts")).checkEmitSettings(options, planned, (line) => io.stderr(`warning: ${line}\n`));
  const known = graph.families.map((family) => family.name);
  for (const name of families ?? []) if (!known.includes(name)) fail("USAGE", `--family ${name}: the matrix has no family "${name}"`, { hint: didYouMean(name, known) });
  const pictured = families === undefined ? graph : familiesPicture(graph, families);
  if (format === "json") await writeOutputs([{ path: "plan.json", contents: chunks(() => graphJsonChunks(graph)) }], undefined, io);
  else if (format === "mermaid") {
    const text = renderMermaid(pictured);
    const tooLarge = mermaidTooLarge(text, pictured);
    if (tooLarge) io.stderr(`warning: ${tooLarge}: it will not render on GitHub (plan --format dot has no such limit${families === undefined ? "; --family draws a part" : ""})\n`);
    io.stdout(text);
  } else if (format === "dot") io.stdout(renderDot(pictured));
  else {
    const selection = selectFamilies(graph, families);
    const summary = format === "summary" || (format === "text" && selection.images.length > SUMMARY_ABOVE);
    io.stdout((summary ? renderSummary : renderPlan)(graph, loaded.matrix.file, selection));
  }
  return 0;
}

/** --family a --family b, or --family a,b: the names in order, each once; undefined without the option. */
function familyOption(value: unknown): string[] | undefined {
  if (value === undefined) return undefined;
  const items = (Array.isArray(value) ? value : [value]).map((item) => (typeof item === "string" ? item : ""));
  const names = items.flatMap((item) => item.split(",")).map((name) => name.trim());
  if (names.some((name) => name === "")) fail("USAGE", "--family needs a family's name (or several, comma-separated)");
  return [...new Set(names)];
}

export async function schemaCommand(options: Options, io: Io): Promise<number> {
  await writeOutputs([{ path: "matrix.schema.json", contents: `${JSON.stringify(matrixSchema(), null, 2)}\n` }], optionalString(options.output, "-o"), io);
  return 0;
}
