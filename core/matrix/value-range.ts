// Version-aware conditions: an axis's values are ordered as they are written in its
// table (write them oldest first), and `">=cu125"`, `">cu124"`, `"<=cu126"`, `"<cu125"`
// name the values from (or up to) one of them. So "ubuntu24.04 from CUDA 12.5" is
// `{ cuda = "<cu125", os = "ubuntu2404" }` in an exclude, and "cuDNN 9 only with CUDA 12"
// a `when` whose match is `{ cuda = ">=cu120" }`, without spelling out every value.

import type { KeyPath } from "../errors.ts";
import type { Axis } from "./matrix-types.ts";
import type { MatrixReader } from "./matrix-reader.ts";

const RANGE = /^(>=|<=|>|<)\s*(.+)$/;

/** Whether `text` is a range of values rather than one value's name. */
export function isRange(text: string): boolean {
  return RANGE.test(text);
}

/** The indices of the values a range names, in order; undefined (reported) when its value is not the axis's. */
export function rangeIndices(reader: MatrixReader, axis: Axis, text: string, keyPath: KeyPath): number[] | undefined {
  const [, operator, name] = RANGE.exec(text)!;
  const at = axis.indexByName.get(name!.trim());
  if (at === undefined) {
    reader.report("UNKNOWN_REFERENCE", keyPath, `axis "${axis.name}" has no value "${name!.trim()}" (in the range "${text}")`, reader.hintAmong(name!.trim(), axis.values.length, () => axis.indexByName.keys()) ?? `its values, in order: ${axis.values.map((v) => v.name).join(", ")}`);
    return undefined;
  }
  const from = operator === ">=" ? at : operator === ">" ? at + 1 : 0;
  const to = operator === "<=" ? at : operator === "<" ? at - 1 : axis.values.length - 1;
  const indices: number[] = [];
  for (let index = from; index <= to; index++) indices.push(index);
  if (indices.length === 0) reader.report("INVALID_VALUE", keyPath, `the range "${text}" names no value of axis "${axis.name}" (its values, in order: ${axis.values.map((v) => v.name).join(", ")})`);
  return indices;
}
