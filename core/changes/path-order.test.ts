import { expect, test } from "bun:test";
import { comparePaths, sortByCodePoints } from "./path-order.ts";

/** Paths of ASCII, Latin-1, CJK, a character at U+FFxx and characters beyond U+FFFF (surrogate pairs). */
const PIECES = ["a", "b", "/", "é", "z", "\u4e2d", "\uff21", "\u{1f600}", "\u{10000}", "\ue000", ".", "a/b"];

function randomPath(random: () => number): string {
  let path = "";
  const length = 1 + Math.floor(random() * 5);
  for (let i = 0; i < length; i++) path += PIECES[Math.floor(random() * PIECES.length)];
  return path;
}

/** A small seeded generator, so that a failure is the same on every run. */
function seeded(seed: number): () => number {
  return () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);
}

test("comparePaths orders as UTF-8 bytes do, characters beyond U+FFFF after U+E000-U+FFFF included", () => {
  const random = seeded(7);
  for (let n = 0; n < 5000; n++) {
    const [a, b] = [randomPath(random), randomPath(random)];
    expect([a, b, Math.sign(comparePaths(a, b))]).toEqual([a, b, Math.sign(Buffer.compare(Buffer.from(a), Buffer.from(b)))]);
  }
  // The case `<` gets wrong: U+FF21 is below U+1F600, though its UTF-16 unit is above the surrogate's.
  expect("\uff21" < "\u{1f600}").toBe(false);
  expect(comparePaths("\uff21", "\u{1f600}")).toBeLessThan(0);
});

test("sortByCodePoints and comparePaths agree: a sorted listing is in comparePaths's order", () => {
  const random = seeded(11);
  const files = Array.from({ length: 400 }, () => ({ path: randomPath(random), kind: "file" as const }));
  sortByCodePoints(files);
  for (let i = 1; i < files.length; i++) expect(comparePaths(files[i - 1]!.path, files[i]!.path)).toBeLessThanOrEqual(0);
});
