// A family's `combinations`, `include` and `exclude`: lists of combinations of axis
// values, read into value indices (ValueIndices). One reader for every combination: a
// row gives one value per axis of `matrix`, in its order; a table names axes; whole
// combinations name every axis, an exclude pattern may name some only. Lists of
// 100,000 are read here, so key paths are made only for a report.

import { didYouMean, type KeyPath } from "../errors.ts";
import type { Axis, ValueIndices } from "./matrix-types.ts";
import { isTable, type MatrixReader, type Table } from "./matrix-reader.ts";
import { isRange, rangeIndices } from "./value-range.ts";
import { setPatterns, type CombinationSets } from "./matrix-sets.ts";

/** In an exclude pattern, the index of an axis the pattern does not name. */
export const ANY_VALUE = -1;

/**
 * `combinations` or `include`: whole combinations, as rows or tables. A combination with
 * a mistake is reported and left as zeros: a matrix with a mistake is never planned.
 */
export function readWholeCombinations(reader: MatrixReader, value: unknown, path: KeyPath, axes: readonly Axis[]): ValueIndices | undefined {
  return readList(reader, value, path, axes, true);
}

/** `exclude`: tables, each naming the values of some axes that the combinations it removes have. */
export function readExcludePatterns(reader: MatrixReader, value: unknown, path: KeyPath, axes: readonly Axis[], sets: CombinationSets = new Map()): ValueIndices | undefined {
  // A plain pattern names single values: no range, no list (one look at each value: lists of 100,000 are read here).
  const plain = (item: unknown) => isTable(item) && Object.values(item).every((text) => (typeof text === "string" ? !isRange(text) : !Array.isArray(text)));
  if (!Array.isArray(value) || value.every(plain)) return readList(reader, value, path, axes, false);
  // A set's name, ranges (">=cu125") or lists of values: each read as the patterns of single values it
  // names, a mistake reported at the pattern written.
  const expanded: unknown[] = [];
  const origin: number[] = [];
  value.forEach((item, index) => {
    const written = typeof item === "string" ? setPatterns(reader, sets, item, [...path, index], axes.map((axis) => axis.name)) ?? [] : [item];
    for (const pattern of written.flatMap((one) => expandPattern(reader, one, [...path, index], axes))) {
      expanded.push(pattern);
      origin.push(index);
    }
  });
  return readList(reader, expanded, path, axes, false, origin);
}

/** A pattern whose values may be ranges or lists, as patterns of single values (in product). */
export function expandPattern(reader: MatrixReader, item: unknown, path: KeyPath, axes: readonly Axis[]): unknown[] {
  if (!isTable(item)) return [item];
  let patterns: Table[] = [{ ...(item as Table) }];
  for (const axis of axes) {
    const text = Object.hasOwn(item as Table, axis.name) ? (item as Table)[axis.name] : undefined;
    const texts = typeof text === "string" ? [text] : Array.isArray(text) ? text : undefined;
    if (texts === undefined || (typeof text === "string" && !isRange(text))) continue;
    const names = texts.flatMap((one) => (typeof one === "string" && isRange(one) ? (rangeIndices(reader, axis, one, [...path, axis.name]) ?? []).map((index) => axis.values[index]!.name) : [one]));
    patterns = patterns.flatMap((pattern) => names.map((name) => ({ ...pattern, [axis.name]: name })));
  }
  return patterns;
}

/** `origin`: for a list expanded from ranges, the index each combination was written at (for a report). */
function readList(reader: MatrixReader, value: unknown, path: KeyPath, axes: readonly Axis[], whole: boolean, origin?: readonly number[]): ValueIndices | undefined {
  if (value === undefined) return undefined;
  if (!Array.isArray(value)) {
    const table = `{ ${axes.map((a) => `${a.name} = "..."`).join(", ")} }`;
    if (whole) reader.wrongType(value, path, "an array of tables or rows", `[${table}] or [[${axes.map(() => '"..."').join(", ")}]]`);
    else reader.wrongType(value, path, "an array of tables", `[${table}]`);
    return undefined;
  }
  const indices = new Int32Array(value.length * axes.length);
  for (let index = 0; index < value.length; index++) readCombination(reader, value[index], path, index, axes, whole, indices, origin?.[index] ?? index);
  return { count: value.length, indices };
}

/**
 * Combination `index` of a list, written into `indices` at its place: the index of its
 * value on each axis, ANY_VALUE where a pattern names no value. Reports every mistake.
 */
function readCombination(reader: MatrixReader, item: unknown, path: KeyPath, position: number, axes: readonly Axis[], whole: boolean, indices: Int32Array, index: number): void {
  const at = position * axes.length;
  const row = Array.isArray(item) ? item : undefined;
  if (row && !whole) {
    reader.wrongType(item, [...path, index], "a table", undefined, `a pattern names the axes it matches: { ${axes[0]?.name ?? "axis"} = "..." }`);
    return;
  }
  if (!row && !isTable(item)) {
    reader.table(item, [...path, index]);
    return;
  }
  if (row && row.length !== axes.length) {
    reader.report(
      "INVALID_VALUE",
      [...path, index],
      `the row has ${row.length} value${row.length === 1 ? "" : "s"}; a row gives one value per axis of \`matrix\`, in its order (${axes.map((a) => a.name).join(", ")})`,
      `e.g. [${axes.map((axis) => `"${axis.values[0]?.name ?? axis.name}"`).join(", ")}]`,
    );
    return;
  }
  const table = item as Table;
  let named = 0;
  for (let i = 0; i < axes.length; i++) {
    const axis = axes[i]!;
    // Object.hasOwn: an axis named "constructor" is not a key every table has.
    const text = row ? row[i] : Object.hasOwn(table, axis.name) ? table[axis.name] : undefined;
    if (text === undefined) {
      indices[at + i] = ANY_VALUE;
      continue;
    }
    named++;
    const value = typeof text === "string" ? axis.indexByName.get(text) : undefined;
    if (value !== undefined) {
      indices[at + i] = value;
      continue;
    }
    const keyPath = [...path, index, row ? i : axis.name];
    if (typeof text !== "string") reader.string(text, keyPath);
    else reader.report("UNKNOWN_REFERENCE", keyPath, `axis "${axis.name}" has no value "${text}"`, reader.hintAmong(text, axis.values.length, () => axis.indexByName.keys()));
  }
  if (row) return;
  const keys = Object.keys(table);
  if (named !== keys.length) {
    const names = axes.map((a) => a.name);
    for (const key of keys) {
      if (!names.includes(key)) reader.report("UNKNOWN_REFERENCE", [...path, index, key], `"${key}" is not an axis of this family`, didYouMean(key, names));
    }
  }
  const missing = whole ? axes.filter((axis) => !Object.hasOwn(table, axis.name)) : [];
  if (missing.length > 0) {
    reader.report(
      "MISSING_KEY",
      [...path, index],
      `the combination does not give a value for ${missing.map((a) => `"${a.name}"`).join(", ")}`,
      "an included combination names a value for every axis in `matrix`",
    );
  }
}
