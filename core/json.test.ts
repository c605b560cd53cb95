import { expect, test } from "bun:test";
import fc from "fast-check";
import { jsonString } from "./json.ts";

test("jsonString is JSON.stringify for every string", () => {
  fc.assert(fc.property(fc.string({ unit: "binary" }), (text) => jsonString(text) === JSON.stringify(text)), { numRuns: 2000 });
  for (const text of ["", "plain", 'q"uote', "back\\slash", "\n", "\u2028", "\ud800", "é✓𝄞", "\u007f"]) expect(jsonString(text)).toBe(JSON.stringify(text));
});
