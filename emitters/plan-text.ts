// `plan` for people (the JSON form is plan-json.ts): the supported combinations as a table (as Caliban's docs show
// them: rows "no cuda" / cuda versions, columns python versions, one table per OS
// base), then the build graph by stage. The CLI shows this listing up to SUMMARY_ABOVE
// images and plan-summary.ts's summary by family past it (`plan --full` asks for this one).
//
// No line of it is wider than PLAN_WIDTH but one holding a single longer value (a tag, an
// arg, a path), which is never cut: a table too wide is split into blocks of columns, a
// list (aliases, platforms) wraps. A fixed width, not the terminal's: the same matrix
// gives the same text in a terminal, a pipe and a CI log, and the goldens compare it.

import { cosignVerifyArgs } from "./signing.ts";
import { readableShellWord } from "./quoting.ts";
import { hasOwnRepositories, imageRunner, imagesById, imageTimeout, stages, writtenPlatforms, type BuildGraph, type FamilyNode, type ImageNode } from "../core/graph.ts";

/** The widest line the text makes of more than one value. */
export const PLAN_WIDTH = 100;

/** The families `plan --family` names and their images (all of them without it), each image at its own stage of the whole graph. */
export interface PlanSelection {
  readonly families: readonly FamilyNode[];
  readonly images: readonly ImageNode[];
  /** The family names asked for, or undefined for the whole graph. */
  readonly names: readonly string[] | undefined;
}

export function selectFamilies(graph: BuildGraph, names?: readonly string[]): PlanSelection {
  if (names === undefined) return { families: graph.families, images: graph.images, names };
  const chosen = new Set(names);
  return { families: graph.families.filter((f) => chosen.has(f.name)), images: graph.images.filter((image) => chosen.has(image.family)), names };
}

/** The lines above the listing and the summary alike: the matrix, the repository, how many images in how many stages. */
export function planHeader(graph: BuildGraph, selection: PlanSelection, matrixLabel: string): string[] {
  const stageCount = (images: readonly ImageNode[]) => new Set(images.map((image) => image.level)).size;
  const all = stageCount(graph.images);
  const images =
    selection.names === undefined
      ? `${graph.images.length} in ${plural(all, "stage")}`
      : `${selection.images.length} of ${graph.images.length} (${selection.families.length === 1 ? "family" : "families"} ${selection.families.map((f) => f.name).join(", ")}), in ${stageCount(selection.images)} of ${plural(all, "stage")}`;
  return [`matrix:     ${matrixLabel}`, `repository: ${repositoryLine(graph)}`, `images:     ${images}`];
}

/** The top-level repository; with families of their own, where the images are, the first five named. */
function repositoryLine(graph: BuildGraph): string {
  if (!hasOwnRepositories(graph)) return graph.repository;
  const repositories = [...new Set(graph.images.map((image) => image.repository))];
  const named = repositories.slice(0, 5).join(", ");
  return `${graph.repository} (the default); the images are in ${named}${repositories.length > 5 ? ` and ${repositories.length - 5} more` : ""}`;
}

export function renderPlan(graph: BuildGraph, matrixLabel: string, selection = selectFamilies(graph)): string {
  const lines = planHeader(graph, selection, matrixLabel);
  lines.push("");
  const tables = renderCombinationTables({ ...graph, families: selection.families, images: selection.images });
  // No push(...spread): a large graph's lines would pass the engine's limit on call arguments.
  const all = lines.concat(tables.length > 0 ? [...tables, ""] : [], renderStages(graph, selection.images));
  return `${all.join("\n")}\n`;
}

export function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? "" : "s"}`;
}

/** `lead` then the items joined by ", ", on as many lines as keep each within `width`; later lines indented to the first item. */
export function wrapList(lead: string, items: readonly string[], width = PLAN_WIDTH): string[] {
  const out: string[] = [];
  let line = lead;
  items.forEach((item, i) => {
    const last = i === items.length - 1;
    const piece = last ? item : `${item},`;
    if (line.length > lead.length && line.length + 1 + piece.length > width) {
      out.push(line);
      line = `${" ".repeat(lead.length)}${piece}`;
    } else line += `${line.length > lead.length ? " " : ""}${piece}`;
  });
  out.push(line);
  return out;
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
    for (const line of fitTable(table)) out.push(line);
    out.push("");
  }
  out.pop();
  return out;
}

/** The shown images by stage; a stage none of them is in (`--family`) is left out, the others keep their numbers. */
function renderStages(graph: BuildGraph, shown: readonly ImageNode[]): string[] {
  const byId = imagesById(graph);
  const families = new Map(graph.families.map((family) => [family.name, family]));
  const out: string[] = [];
  // forEach skips the holes a stage with no shown image leaves.
  stages({ ...graph, images: shown }).forEach((images, index) => {
    const when = index === 0 ? "starts at once" : `waits for stage ${index}`;
    out.push(`stage ${index + 1} (${plural(images.length, "image")}, ${when})`);
    for (const image of images) {
      out.push(`  ${image.id}`);
      out.push(`    image       ${image.reference}`);
      // What a pipeline does otherwise than build it when the registry lacks it and push it under its tag (published, rebuild).
      if (image.published === false) out.push(`    internal    pushed as ${image.repository}:inputs-<digest> only, for the images built FROM it`);
      if (image.rebuild === "always") out.push("    rebuild     rebuilt every run, even when the registry has its inputs digest");
      if (image.from !== null) out.push(`    from        ${byId.get(image.from)!.id}`);
      image.upstream.forEach((pinned, i) => out.push(`    ${i === 0 ? "upstream    " : "            "}${pinned}`));
      out.push(`    dockerfile  ${image.dockerfile}${image.context === "." ? "" : `  (context ${image.context})`}`);
      image.args.forEach((arg, i) => out.push(`    ${i === 0 ? "args        " : "            "}${arg.name}=${arg.value}`));
      // Build secrets: each id and where the build takes it from, never a value (none is read).
      image.secrets?.forEach((secret, i) => out.push(`    ${i === 0 ? "secrets     " : "            "}${secret.id} (${secret.env !== undefined ? `env ${secret.env}` : `file ${secret.file}`})`));
      if (image.aliases.length > 0) for (const line of wrapList("    aliases     ", image.aliases)) out.push(line);
      // A tag it shares with other images: one manifest list over them all (sharedTags).
      if (image.sharedTags !== undefined && image.sharedTags.length > 0) for (const line of wrapList("    shared tags ", image.sharedTags)) out.push(line);
      image.labels.forEach((label, i) => out.push(`    ${i === 0 ? "labels      " : "            "}${label.name}=${label.revision ? "(the commit, at build time)" : label.value}`));
      image.annotations?.forEach((annotation, i) => out.push(`    ${i === 0 ? "annotations " : "            "}${annotation.name}=${annotation.value}`));
      // A Windows image's release as the matrix wrote it, windows(10.0.26100)/amd64 (buildx is given windows/amd64).
      const platforms = writtenPlatforms(image);
      if (platforms.length > 0) for (const line of wrapList("    platforms   ", platforms)) out.push(line);
      if (image.target !== null) out.push(`    target      ${image.target}`);
      // Where and for how long, when the image's family (or a `when` rule, or its values) says.
      const family = families.get(image.family)!;
      const runner = imageRunner(family, image);
      const timeout = imageTimeout(family, image);
      if (runner !== null) out.push(`    runner      ${runner.join(", ")}`);
      if (timeout !== null) out.push(`    timeout     ${timeout} minutes`);
      // With [sign]: how to check the image, as resolve does before reusing it (its tags verify the same way).
      if (graph.sign !== undefined) out.push(`    verify      cosign ${cosignVerifyArgs(graph.sign, image.contentReference, image.inputs.slice("sha256:".length)).map(readableShellWord).join(" ")}`);
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

/**
 * A table's lines, indented: as aligned columns when they fit PLAN_WIDTH; else each cell's
 * tags one per line, and the columns in blocks that fit, each with the row labels and its
 * own header row, one after another (as R and pandas print a wide table).
 */
function fitTable(table: string[][]): string[] {
  const aligned = alignColumns(table).map((line) => `  ${line}`);
  if (aligned.every((line) => line.length <= PLAN_WIDTH)) return aligned;
  const cells = table.map((row, r) => row.map((cell, column) => (column === 0 || r === 0 ? [cell] : cell.split(", "))));
  // No Math.max(...rows): a table of many rows would pass the engine's limit on call arguments.
  const widths = table[0]!.map((_, column) => cells.reduce((width, row) => row[column]!.reduce((w, line) => Math.max(w, line.length), width), 0));
  const blocks: number[][] = [];
  let used = PLAN_WIDTH; // no block yet: the first column starts one
  for (let column = 1; column < widths.length; column++) {
    const width = 3 + widths[column]!;
    if (used + width > PLAN_WIDTH) {
      blocks.push([]);
      used = 2 + widths[0]!;
    }
    blocks.at(-1)!.push(column);
    used += width;
  }
  const out: string[] = [];
  for (const block of blocks) {
    if (out.length > 0) out.push("");
    for (const row of cells) {
      const height = Math.max(...block.map((column) => row[column]!.length));
      for (let line = 0; line < height; line++) {
        const parts = [line === 0 ? row[0]![0]! : "", ...block.map((column) => row[column]![line] ?? "")];
        out.push(`  ${parts.map((part, i) => part.padEnd(widths[i === 0 ? 0 : block[i - 1]!]!)).join("   ")}`.trimEnd());
      }
    }
  }
  return out;
}
