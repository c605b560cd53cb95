// `plan` past SUMMARY_ABOVE images (and `plan --format summary` at any size): one entry
// per family instead of one per image. Real matrices plan 280 to 700 images, whose
// listing (plan-text.ts) runs to thousands of lines; what a reader asks of them is per
// family: how many images, built FROM what, over which axis values, tagged how, from
// which Dockerfile. `plan --full` still lists every image.

import type { BuildGraph, FamilyNode, ImageNode } from "../core/graph.ts";
import { planHeader, plural, selectFamilies, wrapList, type PlanSelection } from "./plan-text.ts";

/**
 * Past this many images `plan` prints the summary. The listing takes about nine lines an
 * image (273 images: 2,308 lines), so 50 images are some 450 lines, screens of them; the
 * matrices people write by hand (Caliban's 8, the fixtures' up to 12) stay well below.
 */
export const SUMMARY_ABOVE = 50;

/** A list (an axis's values, a family's repositories or Dockerfiles) is named in full up to this many; past it, the first three and the last. */
const NAMED = 6;

export function renderSummary(graph: BuildGraph, matrixLabel: string, selection: PlanSelection = selectFamilies(graph)): string {
  const lines = planHeader(graph, selection, matrixLabel);
  lines.push("summary:    one entry per family (plan --full lists every image)", "");
  const byId = new Map(selection.images.map((image) => [image.id, image]));
  for (const line of stageLines(selection.images)) lines.push(line);
  for (const family of selection.families) {
    lines.push("");
    for (const line of familyLines(graph, family, family.images.map((id) => byId.get(id)!))) lines.push(line);
  }
  return `${lines.join("\n")}\n`;
}

/** A line per stage: how many images, what it waits for, and which families' images it builds. */
function stageLines(images: readonly ImageNode[]): string[] {
  const byLevel = new Map<number, Map<string, number>>();
  for (const image of images) {
    const families = byLevel.get(image.level) ?? byLevel.set(image.level, new Map()).get(image.level)!;
    families.set(image.family, (families.get(image.family) ?? 0) + 1);
  }
  const out: string[] = [];
  for (const level of [...byLevel.keys()].sort((a, b) => a - b)) {
    const families = byLevel.get(level)!;
    const count = [...families.values()].reduce((sum, n) => sum + n, 0);
    const lead = `stage ${level + 1} (${plural(count, "image")}, ${level === 0 ? "starts at once" : `waits for stage ${level}`}): `;
    out.push(...wrapList(lead, [...families].map(([name, n]) => `${name} (${n})`)));
  }
  return out;
}

function familyLines(graph: BuildGraph, family: FamilyNode, images: readonly ImageNode[]): string[] {
  const out = [`family ${family.name}: ${plural(images.length, "image")}`];
  if (family.from !== null) out.push(`  from        ${family.from}`);
  if (images.length === 0) {
    out.push(`  dockerfile  ${dockerfileText(family)}`);
    return out;
  }
  const width = Math.max(...family.axes.map((axis) => axis.length));
  family.axes.forEach((axis, i) => {
    const declared = graph.axes.find((a) => a.name === axis)?.values ?? [];
    const used = new Set(images.map((image) => image.values[axis]));
    const values = declared.filter((value) => used.has(value));
    const count = values.length === declared.length ? plural(values.length, "value") : `${values.length} of ${declared.length} values`;
    out.push(...wrapList(`  ${i === 0 ? "axes        " : "            "}${axis.padEnd(width)}  ${count}: `, named(values)));
  });
  const tags = images.map((image) => image.tag);
  out.push(`  tags        ${tags.length <= 2 ? tags.join(", ") : `${tags[0]} ... ${tags.at(-1)}`}`);
  // published = false and rebuild = "always", which a `when` rule may give some of its images.
  const some = (n: number) => (n === images.length ? "every image" : `${n} of ${plural(images.length, "image")}`);
  const internal = images.filter((image) => image.published === false).length;
  if (internal > 0) out.push(`  internal    ${some(internal)}: pushed as repository:inputs-<digest> only`);
  const always = images.filter((image) => image.rebuild === "always").length;
  if (always > 0) out.push(`  rebuild     ${some(always)} rebuilt every run`);
  const repositories = distinct(images.map((image) => image.repository));
  if (repositories.length !== 1 || repositories[0] !== graph.repository) out.push(...several("  repository  ", repositories, "repositories"));
  out.push(...several("  dockerfile  ", distinct(images.map(dockerfileText)), "Dockerfiles"));
  const platforms = distinct(images.flatMap((image) => image.platforms));
  if (platforms.length > 0) out.push(...wrapList("  platforms   ", platforms));
  return out;
}

/** A Dockerfile and its context as the listing shows them. */
function dockerfileText(image: { readonly dockerfile: string; readonly context: string }): string {
  return `${image.dockerfile}${image.context === "." ? "" : `  (context ${image.context})`}`;
}

/** The items, or past NAMED of them the first three, "..." and the last. */
function named(items: readonly string[]): readonly string[] {
  return items.length <= NAMED ? items : [...items.slice(0, 3), "...", items.at(-1)!];
}

/** One item as it is; several counted and named. */
function several(lead: string, items: readonly string[], what: string): string[] {
  return items.length === 1 ? [`${lead}${items[0]}`] : wrapList(`${lead}${items.length} ${what}: `, named(items));
}

function distinct(items: readonly string[]): string[] {
  return [...new Set(items)];
}
