import { expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { chunks } from "../emitters/contract.ts";
import { writeOutputs } from "./output.ts";
import { Terminal } from "./terminal.ts";
import { scratchFolder } from "../scripts/validators/scratch.ts";

test("chunks are written byte for byte, multi-byte characters split across buffer boundaries included", async () => {
  const directory = scratchFolder("output-");
  // Odd-sized pieces of 2-, 3- and 4-byte UTF-8 (a surrogate pair), some larger than the 1 MiB buffer.
  const pieces = ["é", "✓", "𝄞", "a"].map((c, i) => c.repeat(100_003 + i * 333_331));
  const expected = pieces.join("").repeat(3);
  await writeOutputs([{ path: "x", contents: chunks(function* () {
    for (let round = 0; round < 3; round++) yield* pieces;
  }) }], join(directory, "out.txt"), new Terminal());
  expect(readFileSync(join(directory, "out.txt")).equals(Buffer.from(expected))).toBe(true);
});
