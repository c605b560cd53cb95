// The order families are planned in: each after the family it builds FROM, otherwise
// as declared. Near-linear (a heap of the families ready to place), for matrices of
// thousands of families; core/plan/plan.test.ts states the plain scan it must agree with.

import { Heap } from "./heap.ts";
import type { Family } from "../matrix/matrix.ts";

/**
 * Families ordered so that each comes after the family it builds FROM; otherwise
 * declaration order: each step places the first-declared family whose base is placed
 * (a heap of those, by declaration), or, in a loop (already reported by readMatrix),
 * the first-declared family not yet placed.
 */
export function familyOrder(families: readonly Family[]): Family[] {
  const known = new Set(families.map((f) => f.name));
  const builtFrom = new Map<string, number[]>();
  // Families whose base is placed, by index: the first declared comes out first.
  const ready = new Heap<number>((a, b) => b - a);
  families.forEach((family, i) => {
    if (family.from === undefined || !known.has(family.from)) ready.push(i);
    else {
      const children = builtFrom.get(family.from);
      if (children) children.push(i);
      else builtFrom.set(family.from, [i]);
    }
  });
  const ordered: Family[] = [];
  const placed = new Uint8Array(families.length);
  let firstUnplaced = 0;
  while (ordered.length < families.length) {
    let next = ready.pop();
    if (next === undefined) {
      while (placed[firstUnplaced]) firstUnplaced++;
      next = firstUnplaced;
    }
    if (placed[next]) continue;
    placed[next] = 1;
    ordered.push(families[next]!);
    for (const child of builtFrom.get(families[next]!.name) ?? []) if (!placed[child]) ready.push(child);
  }
  return ordered;
}
