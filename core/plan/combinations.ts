// A family's combinations, as value indices: which ones it builds (the product less
// excludes plus includes, or its explicit list), and a number for each, by which the
// planner finds an image's base and a repeated combination.

import { ANY_VALUE } from "../matrix/matrix-combinations.ts";
import type { Axis, Family, ValueIndices } from "../matrix/matrix.ts";

/** A combination as the index of its value on each of the family's axes. */
export type Indices = readonly number[];

/**
 * Visits the combinations a family builds, in order: the product (first axis
 * outermost), less excludes, plus includes; or its explicit list. `visit` may not
 * keep the array it is given: the product reuses one (10,000 images, no 10,000 arrays).
 */
export function forEachCombination(family: Family, axes: readonly Axis[], visit: (indices: Indices) => void): void {
  if (family.combinations) {
    const current = axes.map(() => 0);
    for (let i = 0; i < family.combinations.count; i++) visit(combinationAt(family.combinations, i, current));
    return;
  }
  const excluded = new ExcludeSet(family.exclude, axes);
  const excluding = family.exclude.count > 0;
  // An include the product already has is built once: the product's keys, kept only when there are includes.
  const present = family.include.count > 0 ? new Set<string>() : undefined;
  const sizes = axes.map((axis) => axis.values.length);
  if (sizes.every((size) => size > 0)) {
    // An odometer over the axes, the last axis turning fastest.
    const current = sizes.map(() => 0);
    for (;;) {
      if (!excluding || !excluded.has(current)) {
        present?.add(indicesKey(current));
        visit(current);
      }
      let position = current.length - 1;
      while (position >= 0 && ++current[position]! === sizes[position]) current[position--] = 0;
      if (position < 0) break;
    }
  }
  const included = axes.map(() => 0);
  for (let i = 0; i < family.include.count; i++) {
    const key = indicesKey(combinationAt(family.include, i, included));
    if (!present!.has(key)) {
      present!.add(key);
      visit(included);
    }
  }
}

/** The i-th combination of a list, copied into `into` (the matrix keeps its lists as one typed array). */
function combinationAt(list: ValueIndices, i: number, into: number[]): number[] {
  const start = i * into.length;
  for (let a = 0; a < into.length; a++) into[a] = list.indices[start + a]!;
  return into;
}

/**
 * Exclude patterns grouped by the axes they name, each group a hash set of the values'
 * combination numbers on those axes: a lookup per group, not per pattern, and no string
 * made per lookup.
 */
class ExcludeSet {
  private readonly groups: { positions: number[]; strides: number[]; keys: Set<number | string> }[] = [];

  constructor(patterns: ValueIndices, axes: readonly Axis[]) {
    const byShape = new Map<string, { positions: number[]; strides: number[]; keys: Set<number | string> }>();
    const pattern = axes.map(() => 0);
    for (let p = 0; p < patterns.count; p++) {
      combinationAt(patterns, p, pattern);
      let shape = "";
      for (let i = 0; i < pattern.length; i++) if (pattern[i] !== ANY_VALUE) shape += `${i},`;
      let group = byShape.get(shape);
      if (!group) {
        const positions = pattern.flatMap((value, i) => (value === ANY_VALUE ? [] : [i]));
        byShape.set(shape, (group = { positions, strides: comboStrides(positions.map((i) => axes[i]!)), keys: new Set() }));
      }
      group.keys.add(comboNumberAt(pattern, group.positions, group.strides));
    }
    this.groups = [...byShape.values()];
  }

  has(indices: Indices): boolean {
    for (let g = 0; g < this.groups.length; g++) {
      const group = this.groups[g]!;
      if (group.keys.has(comboNumberAt(indices, group.positions, group.strides))) return true;
    }
    return false;
  }
}

function indicesKey(indices: Indices): string {
  return indices.join(",");
}

/**
 * A combination's number: its value indices read as digits in mixed radix (the axes'
 * sizes). Exact while the product of the sizes stays within a double's integers;
 * beyond that (absurd matrices), a string key.
 */
export function comboStrides(axes: readonly Axis[]): number[] {
  const strides: number[] = [];
  let stride = 1;
  for (let i = axes.length - 1; i >= 0; i--) {
    strides[i] = stride;
    stride *= Math.max(1, axes[i]!.values.length);
  }
  return stride <= Number.MAX_SAFE_INTEGER ? strides : [];
}

export function comboNumber(indices: Indices, strides: readonly number[]): number | string {
  if (strides.length !== indices.length) return indices.join(",");
  let number = 0;
  for (let i = 0; i < indices.length; i++) number += indices[i]! * strides[i]!;
  return number;
}

/** comboNumber of the values at `positions` of `indices`, without gathering them. */
export function comboNumberAt(indices: Indices, positions: readonly number[], strides: readonly number[]): number | string {
  if (strides.length !== positions.length) return comboNumber(positions.map((position) => indices[position]!), strides);
  let number = 0;
  for (let i = 0; i < positions.length; i++) number += indices[positions[i]!]! * strides[i]!;
  return number;
}
