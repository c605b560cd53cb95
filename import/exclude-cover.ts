// The exclude patterns `import` writes: the fewest partial combinations it can find
// that remove exactly the legacy config's missing images from a family's product.
// import/legacy-import.test.ts states the plain greedy search it must agree with.

import { Heap } from "../core/plan/heap.ts";

/**
 * Few exclude patterns (partial combinations, as `exclude` reads them) that remove
 * exactly `excluded` from the product: each candidate is a sub-combination of an
 * excluded one that matches only excluded combinations; greedily take the one that
 * removes the most not yet removed, fewer axes first (then the first found).
 *
 * Near-linear in the excluded combinations (times the 2^axes sub-combinations of
 * each): every candidate keeps a count of the combinations it would still remove,
 * lowered as they are removed, and a heap gives the best. (Rescanning every candidate
 * against every combination for each pick took 30 s for a 1,000-image config.)
 */
export function coverWithPatterns(axes: readonly string[], domains: Record<string, string[]>, excluded: readonly Record<string, string>[]): Record<string, string>[] {
  const keyOf = (combination: Record<string, string>, subset: readonly string[]) => subset.map((axis) => `${axis}=${combination[axis]}`).join("\u0000");
  const subsets: string[][] = [];
  for (let mask = 1; mask < 1 << axes.length; mask++) subsets.push(axes.filter((_, i) => mask & (1 << i)));
  subsets.sort((a, b) => a.length - b.length);
  // Each excluded combination's key on every subset of the axes, computed once.
  const keys = excluded.map((combination) => subsets.map((subset) => keyOf(combination, subset)));
  // A pattern is valid when every product combination it matches is excluded: compare counts.
  const excludedCount = new Map<string, number>();
  for (const own of keys) for (const key of own) excludedCount.set(key, (excludedCount.get(key) ?? 0) + 1);
  const matched = (subset: readonly string[]) => axes.filter((axis) => !subset.includes(axis)).reduce((n, axis) => n * (domains[axis]?.length ?? 0), 1);
  // Candidates in the order the tie-break wants: fewer axes first, then as first met.
  const candidates: { pattern: Record<string, string>; members: number[] }[] = [];
  const candidateByKey = new Map<string, number>();
  subsets.forEach((subset, s) => {
    const size = matched(subset);
    excluded.forEach((combination, e) => {
      const key = keys[e]![s]!;
      if (candidateByKey.has(key) || excludedCount.get(key) !== size) return;
      candidateByKey.set(key, candidates.length);
      candidates.push({ pattern: Object.fromEntries(subset.map((axis) => [axis, combination[axis]!])), members: [] });
    });
  });
  // Which candidates remove each combination (at most one per subset).
  const removedBy = keys.map((own, e) => {
    const by: number[] = [];
    for (const key of own) {
      const c = candidateByKey.get(key);
      if (c !== undefined) {
        by.push(c);
        candidates[c]!.members.push(e);
      }
    }
    return by;
  });
  const gain = candidates.map((candidate) => candidate.members.length);
  // A heap entry is [candidate, its gain when pushed], the greater gain first, then the earlier
  // candidate. Gains only fall: an entry found stale is pushed again with its gain now.
  const entries = new Heap<[number, number]>(([a, ga], [b, gb]) => ga - gb || b - a);
  candidates.forEach((_, c) => entries.push([c, gain[c]!]));
  const removed = new Uint8Array(excluded.length);
  let remaining = excluded.length;
  const chosen: Record<string, string>[] = [];
  while (remaining > 0) {
    const top = entries.pop();
    if (top === undefined) break;
    const [c, pushedGain] = top;
    if (pushedGain !== gain[c]) {
      if (gain[c]! > 0) entries.push([c, gain[c]!]);
      continue;
    }
    if (pushedGain === 0) break;
    chosen.push(candidates[c]!.pattern);
    for (const e of candidates[c]!.members) {
      if (removed[e]) continue;
      removed[e] = 1;
      remaining--;
      for (const other of removedBy[e]!) gain[other]!--;
    }
  }
  return chosen;
}
