// `[sets]`: named sets of combinations, written once and used by several families: a set
// is a list of patterns (axis = value, a list of values, or a range such as ">=cu125"),
// and a family names it where it takes patterns: `exclude = ["end-of-life"]`, or a `when`
// rule's `match = "cudnn9"`. A family may use a set only if it spans every axis the set
// names; the set's values are checked against the axes where the set is written.

import { didYouMean, type KeyPath } from "../errors.ts";
import type { Axis } from "./matrix-types.ts";
import { isTable, type MatrixReader, type Table } from "./matrix-reader.ts";
import { isRange, rangeIndices } from "./value-range.ts";

/** A named set: its patterns as written (tables of axis = value, list or range), and where. */
export interface CombinationSet {
  readonly keyPath: KeyPath;
  readonly patterns: readonly Table[];
  /** The axes its patterns name. */
  readonly axes: ReadonlySet<string>;
  /** Whether a mistake was reported in it: a family using it is not told again. */
  readonly broken: boolean;
}

export type CombinationSets = ReadonlyMap<string, CombinationSet>;

export function readSets(reader: MatrixReader, value: unknown, axes: ReadonlyMap<string, Axis>): CombinationSets {
  const sets = new Map<string, CombinationSet>();
  if (value === undefined) return sets;
  const table = reader.table(value, ["sets"], '[sets] names lists of combinations, e.g. end-of-life = [{ cuda = "<cu124" }]');
  if (!table) return sets;
  for (const name of reader.keysAsWritten(table, ["sets"])) {
    const path = ["sets", name];
    reader.name(name, path, "set");
    const list = table[name];
    if (!Array.isArray(list) || list.length === 0 || !list.every(isTable)) {
      reader.wrongType(list, path, "a non-empty array of tables", `${name} = [{ ${[...axes.keys()][0] ?? "axis"} = "..." }]`);
      continue;
    }
    const named = new Set<string>();
    const reported = reader.diagnostics.length;
    list.forEach((pattern, index) => {
      if (Object.keys(pattern as Table).length === 0) reader.report("INVALID_VALUE", [...path, index], "an empty pattern is every combination", "name the axis values it stands for");
      for (const [axisName, text] of Object.entries(pattern as Table)) {
        const at = [...path, index, axisName];
        const axis = axes.get(axisName);
        if (!axis) {
          reader.report("UNKNOWN_REFERENCE", at, `unknown axis "${axisName}"`, didYouMean(axisName, axes.keys()) ?? "declare it as an [axes.NAME] table");
          continue;
        }
        named.add(axisName);
        const texts = typeof text === "string" ? [text] : Array.isArray(text) && text.every((t) => typeof t === "string") ? (text as string[]) : undefined;
        if (!texts) {
          reader.wrongType(text, at, "a value of the axis, a range such as \">=v2\", or a list of them");
          continue;
        }
        for (const one of texts) {
          if (isRange(one)) rangeIndices(reader, axis, one, at);
          else if (!axis.indexByName.has(one)) reader.report("UNKNOWN_REFERENCE", at, `axis "${axisName}" has no value "${one}"`, reader.hintAmong(one, axis.values.length, () => axis.indexByName.keys()));
        }
      }
    });
    sets.set(name, { keyPath: path, patterns: list as Table[], axes: named, broken: reader.diagnostics.length > reported });
  }
  return sets;
}

/** The patterns of the set a family names at `path`, or undefined (reported) when there is none or it names an axis the family does not span. */
export function setPatterns(reader: MatrixReader, sets: CombinationSets, name: string, path: KeyPath, familyAxes: readonly string[]): readonly Table[] | undefined {
  const set = sets.get(name);
  if (set?.broken) return undefined;
  if (!set) {
    reader.report("UNKNOWN_REFERENCE", path, `no set named "${name}"`, didYouMean(name, sets.keys()) ?? "declare it in [sets], e.g. [sets] NAME = [{ axis = \"value\" }]");
    return undefined;
  }
  const outside = [...set.axes].filter((axis) => !familyAxes.includes(axis));
  if (outside.length > 0) {
    reader.report("INVALID_VALUE", path, `the set "${name}" names ${outside.map((a) => `"${a}"`).join(", ")}, which this family does not span`, "use it in families that span those axes, or make a set of their own");
    return undefined;
  }
  return set.patterns;
}
