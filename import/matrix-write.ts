// Writes a matrix as TOML a person would write: axes as one line per value, families
// as tables, short lists inline. Used by `import`.

import { commentText } from "../core/printable.ts";
import { tomlKey, tomlString } from "../core/matrix/toml.ts";

export type ArgDraft = string | readonly (readonly [string, string])[];

export interface FamilyDraft {
  readonly description?: string;
  readonly dockerfile: string;
  readonly tag: string;
  readonly matrix: readonly string[];
  readonly combinations?: readonly Readonly<Record<string, string>>[];
  readonly exclude?: readonly Readonly<Record<string, string>>[];
  readonly from?: string;
  readonly args: readonly ArgDraft[];
}

export interface MatrixDraft {
  readonly header: readonly string[];
  readonly repository: string;
  readonly axes: readonly (readonly [string, readonly (readonly [string, readonly (readonly [string, string])[]])[]])[];
  readonly axisComments?: Readonly<Record<string, string>>;
  readonly images: readonly (readonly [string, FamilyDraft])[];
  readonly emit?: Readonly<Record<string, Readonly<Record<string, string>>>>;
}

export function writeMatrix(draft: MatrixDraft): string {
  const out: string[] = [...draft.header.map((line) => (line ? `# ${commentText(line)}` : "#")), ""];
  out.push(`repository = ${tomlString(draft.repository)}`);
  for (const [axis, values] of draft.axes) {
    out.push("", `[axes.${tomlKey(axis)}]`);
    const comment = draft.axisComments?.[axis];
    if (comment) out.push(`# ${commentText(comment)}`);
    for (const [value, attributes] of values) out.push(`${tomlKey(value)} = ${inlineTable(attributes)}`);
  }
  for (const [name, family] of draft.images) {
    out.push("", `[images.${tomlKey(name)}]`);
    if (family.description) out.push(`description = ${tomlString(family.description)}`);
    out.push(`dockerfile = ${tomlString(family.dockerfile)}`);
    out.push(`tag = ${tomlString(family.tag)}`);
    out.push(`matrix = [${family.matrix.map(tomlString).join(", ")}]`);
    if (family.from) out.push(`from = ${tomlString(family.from)}`);
    out.push(`args = [${family.args.map((arg) => (typeof arg === "string" ? tomlString(arg) : inlineTable(arg))).join(", ")}]`);
    if (family.combinations) out.push(rowList(family.combinations, family.matrix));
    if (family.exclude) out.push(combinationList("exclude", family.exclude));
  }
  for (const [emitter, options] of Object.entries(draft.emit ?? {})) {
    out.push("", `[emit.${tomlKey(emitter)}]`);
    for (const [key, value] of Object.entries(options)) out.push(`${tomlKey(key)} = ${tomlString(value)}`);
  }
  return `${out.join("\n")}\n`;
}

function combinationList(key: string, list: readonly Readonly<Record<string, string>>[]): string {
  const items = list.map((combination) => `  ${inlineTable(Object.entries(combination))},`);
  return `${key} = [\n${items.join("\n")}\n]`;
}

/** Whole combinations as rows, one value per axis in `matrix` order: half the text of tables. */
function rowList(list: readonly Readonly<Record<string, string>>[], axes: readonly string[]): string {
  const items = list.map((combination) => `  [${axes.map((axis) => tomlString(combination[axis]!)).join(", ")}],`);
  return `combinations = [ # ${axes.join(", ")}\n${items.join("\n")}\n]`;
}

function inlineTable(entries: readonly (readonly [string, string])[]): string {
  if (entries.length === 0) return "{}";
  return `{ ${entries.map(([k, v]) => `${tomlKey(k)} = ${tomlString(v)}`).join(", ")} }`;
}

