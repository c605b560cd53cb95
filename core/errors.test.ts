import { expect, test } from "bun:test";
import fc from "fast-check";
import { closest, didYouMean } from "./errors.ts";

// The plain statement of a "did you mean": the first candidate at the least edit distance
// (case ignored), if that distance is at most a third of the word (at least 1).
function plainClosest(word: string, candidates: readonly string[]): string | undefined {
  const distance = (a: string, b: string): number => {
    const rows = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
    for (let i = 1; i <= a.length; i++) {
      for (let j = 1; j <= b.length; j++) rows[i]![j] = Math.min(rows[i - 1]![j]! + 1, rows[i]![j - 1]! + 1, rows[i - 1]![j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    return rows[a.length]![b.length]!;
  };
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const candidate of candidates) {
    const d = distance(word.toLowerCase(), candidate.toLowerCase());
    if (d < bestDistance) [best, bestDistance] = [candidate, d];
  }
  return bestDistance <= Math.max(1, Math.floor(word.length / 3)) ? best : undefined;
}

test("closest: the plain statement's choice, on random words and candidates", () => {
  const word = fc.stringMatching(/^[abAB_]{0,12}$/);
  fc.assert(
    fc.property(word, fc.array(word, { maxLength: 12 }), (w, candidates) => {
      expect(closest(w, candidates)).toBe(plainClosest(w, candidates));
    }),
    { numRuns: 5000 },
  );
});

test("did you mean: the closest, else the list when it is short", () => {
  expect(didYouMean("pyhton", ["cuda", "python"])).toBe('did you mean "python"?');
  expect(didYouMean("zzz", ["cuda", "python"])).toBe('expected one of: "cuda", "python"');
  expect(didYouMean("zzz", Array.from({ length: 13 }, (_, i) => `value${i}`))).toBeUndefined();
});
