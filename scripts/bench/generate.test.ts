// The bench's matrices plan: a check the planner gains must not leave `npm run bench`
// failing on its own inputs (a family FROM another once stopped it at its first matrix).

import { describe, expect, test } from "bun:test";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { REPO_ROOT } from "../../fixtures/golden.ts";
import { runCli } from "../../fixtures/test-helpers.ts";
import { generateMatrix, generateMistakes, SHAPES, writeCalibanProject, writeGeneratedContext } from "./generate.ts";
import { scratchFolder } from "../validators/scratch.ts";

describe("the bench's generated matrices", () => {
  for (const shape of SHAPES) {
    test(`${shape}: about 100 images (75 to 125) plan, exit 0`, () => {
      const directory = scratchFolder("bench-matrix-");
      writeGeneratedContext(directory);
      writeFileSync(join(directory, "matrix.toml"), generateMatrix(shape, 100));
      const run = runCli(["plan", "--json", "--matrix", "matrix.toml"], directory);
      expect(run.stderr).not.toContain("error:");
      expect(run.code).toBe(0);
      const images = (JSON.parse(run.stdout) as { images: unknown[] }).images.length;
      expect(images).toBeGreaterThan(75);
      expect(images).toBeLessThan(125);
    });
  }

  test("Caliban's matrix as a project plans; the matrix with mistakes exits 2 with errors", () => {
    const directory = scratchFolder("bench-caliban-");
    const matrix = writeCalibanProject(directory, readFileSync(join(REPO_ROOT, "matrix.toml"), "utf8"));
    expect(runCli(["plan", "--matrix", matrix], directory).code).toBe(0);
    const mistakes = join(directory, "mistakes.toml");
    writeGeneratedContext(directory);
    writeFileSync(mistakes, generateMistakes(100));
    const run = runCli(["plan", "--matrix", mistakes], directory);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/^error: /m);
  });
});
