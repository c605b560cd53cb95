// `plan` for people (the JSON form is plan-json.ts): the supported combinations as a table (as Caliban's docs show
// them: rows "no cuda" / cuda versions, columns python versions, one table per OS
// base), then the build graph by stage.

import { imagesById, stages, type BuildGraph, type ImageNode } from "../core/graph.ts";

export function renderPlan(graph: BuildGraph, matrixLabel: string): string {
  const lines: string[] = [];
  lines.push(`matrix:     ${matrixLabel}`);
  lines.push(`repository: ${graph.repository}`);
  const byStage = stages(graph);
  lines.push(`images:     ${graph.images.length} in ${byStage.length} stage${byStage.length === 1 ? "" : "s"}`);
  lines.push("");
  const tables = renderCombinationTables(graph);
  // No push(...spread): a large graph's lines would pass the engine's limit on call arguments.
  const all = lines.concat(tables.length > 0 ? [...tables, ""] : [], renderStages(graph, byStage));
  return `${all.join("\n")}\n`;
}

/**
 * The final images (those nothing builds FROM) laid out by axis: the last axis every
 * final family spans makes the columns, the other shared axes one table each, and
 * the remaining axes the rows ("no <axis>" where a family does not span it; the
 * innermost shared axis when no other is left).
 */
function renderCombinationTables(graph: BuildGraph): string[] {
  const usedAsBase = new Set(graph.families.map((f) => f.from).filter((f) => f !== null));
  const finalFamilies = graph.families.filter((f) => !usedAsBase.has(f.name) && f.images.length > 0);
  const axisOrder = graph.axes.map((a) => a.name);
  const shared = axisOrder.filter((axis) => finalFamilies.length > 0 && finalFamilies.every((f) => f.axes.includes(axis)));
  const columnAxis = shared.at(-1);
  if (columnAxis === undefined) return [];
  const pageAxes = shared.slice(0, -1);
  const rowAxes = axisOrder.filter((axis) => !shared.includes(axis) && finalFamilies.some((f) => f.axes.includes(axis)));
  // With no axis left for the rows, the innermost table axis makes them instead.
  if (rowAxes.length === 0 && pageAxes.length > 0) rowAxes.push(pageAxes.pop()!);
  const valueOrder = new Map(graph.axes.map((a) => [a.name, a.values]));
  const finalNames = new Set(finalFamilies.map((f) => f.name));
  const finalImages = graph.images.filter((image) => finalNames.has(image.family));

  const pages = groupBy(finalImages, (image) => pageAxes.map((axis) => image.values[axis]!).join(" "));
  const out: string[] = [];
  for (const pageKey of sortedKeys(pages, pageAxes, valueOrder)) {
    const images = pages.get(pageKey)!;
    const title = pageAxes.length ? `${pageAxes.map((axis) => `${axis} ${images[0]!.values[axis]}`).join(", ")}: ` : "";
    out.push(`${title}images by ${columnAxis} (columns)${rowAxes.length ? ` and ${rowAxes.join(", ")} (rows)` : ""}`);
    const columns = valueOrder.get(columnAxis)!.filter((value) => images.some((image) => image.values[columnAxis] === value));
    const rows = groupBy(images, (image) => rowAxes.map((axis) => image.values[axis] ?? "").join(" "));
    const table: string[][] = [["", ...columns]];
    for (const rowKey of sortedKeys(rows, rowAxes, valueOrder)) {
      const rowImages = rows.get(rowKey)!;
      const first = rowImages[0]!;
      const label = rowAxes.map((axis) => first.values[axis] ?? `no ${axis}`).join(" ");
      const byColumn = groupBy(rowImages, (image) => image.values[columnAxis]!);
      table.push([label, ...columns.map((column) => byColumn.get(column)?.map((image) => image.tag).join(", ") || "-")]);
    }
    for (const line of alignColumns(table)) out.push(`  ${line}`);
    out.push("");
  }
  out.pop();
  return out;
}

function renderStages(graph: BuildGraph, byStage: ImageNode[][]): string[] {
  const byId = imagesById(graph);
  const out: string[] = [];
  byStage.forEach((images, index) => {
    const when = index === 0 ? "starts at once" : `waits for stage ${index}`;
    out.push(`stage ${index + 1} (${images.length} image${images.length === 1 ? "" : "s"}, ${when})`);
    for (const image of images) {
      out.push(`  ${image.id}`);
      out.push(`    image       ${image.reference}`);
      if (image.from !== null) out.push(`    from        ${byId.get(image.from)!.id}`);
      image.upstream.forEach((pinned, i) => out.push(`    ${i === 0 ? "upstream    " : "            "}${pinned}`));
      out.push(`    dockerfile  ${image.dockerfile}${image.context === "." ? "" : `  (context ${image.context})`}`);
      image.args.forEach((arg, i) => out.push(`    ${i === 0 ? "args        " : "            "}${arg.name}=${arg.value}`));
      if (image.aliases.length > 0) out.push(`    aliases     ${image.aliases.join(", ")}`);
      image.labels.forEach((label, i) => out.push(`    ${i === 0 ? "labels      " : "            "}${label.name}=${label.revision ? "(the commit, at build time)" : label.value}`));
      if (image.platforms.length > 0) out.push(`    platforms   ${image.platforms.join(", ")}`);
      if (image.target !== null) out.push(`    target      ${image.target}`);
    }
    out.push("");
  });
  out.pop();
  return out;
}

function groupBy<T>(items: readonly T[], key: (item: T) => string): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const item of items) {
    const k = key(item);
    const group = groups.get(k);
    if (group) group.push(item);
    else groups.set(k, [item]);
  }
  return groups;
}

/** Group keys in axis declaration order, with "no value" (empty) before every value. */
function sortedKeys(groups: Map<string, ImageNode[]>, axes: readonly string[], valueOrder: Map<string, readonly string[]>): string[] {
  const positions = new Map(axes.map((axis) => [axis, new Map(valueOrder.get(axis)!.map((value, i) => [value, i]))]));
  const ranks = new Map([...groups].map(([key, images]) => [key, axes.map((axis) => (images[0]!.values[axis] === undefined ? -1 : positions.get(axis)!.get(images[0]!.values[axis]!)!))]));
  return [...groups.keys()].sort((a, b) => {
    const ra = ranks.get(a)!;
    const rb = ranks.get(b)!;
    for (let i = 0; i < ra.length; i++) if (ra[i] !== rb[i]) return ra[i]! - rb[i]!;
    return 0;
  });
}

function alignColumns(rows: string[][]): string[] {
  const widths = rows[0]!.map((_, column) => rows.reduce((width, row) => Math.max(width, row[column]!.length), 0));
  return rows.map((row) => row.map((cell, column) => cell.padEnd(widths[column]!)).join("   ").trimEnd());
}
