// The order of a context's files in its digest and listings: code point order, which is
// UTF-8 byte order (docs/incremental-builds.md, "The inputs digest"). The digester sorts
// by it; affected walks two sorted listings with it.

import type { SourceFile } from "./source-tree.ts";

/**
 * Two paths in code point order, which is UTF-8 byte order: at the first UTF-16 unit that
 * differs, a surrogate (half of a character beyond U+FFFF) sorts after every other unit.
 */
export function comparePaths(a: string, b: string): number {
  const length = Math.min(a.length, b.length);
  let i = 0;
  while (i < length && a.charCodeAt(i) === b.charCodeAt(i)) i++;
  if (i === length) return a.length - b.length;
  return codePointRank(a.charCodeAt(i)) - codePointRank(b.charCodeAt(i));
}

/** A UTF-16 unit's place in code point order: surrogates (D800-DFFF) moved after E000-FFFF. */
function codePointRank(unit: number): number {
  return unit < 0xd800 ? unit : unit < 0xe000 ? unit + 0x2000 : unit - 0x800;
}

/**
 * Files in code point order (comparePaths). JavaScript's `<` compares UTF-16 units, which
 * agrees unless a path holds a character beyond U+FFFF, and is the faster comparison.
 */
export function sortByCodePoints(files: SourceFile[]): void {
  if (files.some((file) => /[\ud800-\udfff]/.test(file.path))) files.sort((a, b) => comparePaths(a.path, b.path));
  else files.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}
