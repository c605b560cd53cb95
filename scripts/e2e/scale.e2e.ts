// Scale: a 100,000-image matrix through the CLI, as a user's largest
// generated matrix would be. Here rather than in npm test: its five processes each
// plan 100,000 images (24 s of npm test's 5-minute budget); CI runs it in test:e2e.
import { expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runCli as run, writeMatrix } from "../../fixtures/test-helpers.ts";
import { generateMatrix } from "../bench/generate.ts";

test("100,000 images: plan and every emitter finish (no argument-spread or stack limits on large graphs)", () => {
  // 430 MB of outputs: removed after, or every run of npm test leaves them in /tmp.
  const cwd = mkdtempSync(join(tmpdir(), "cli-large-"));
  try {
    writeMatrix(join(cwd, "matrix.toml"), generateMatrix("chain", 100_000));
    for (const args of [["plan"], ["plan", "--json"], ["emit", "cloudbuild", "-o", "cb/"], ["emit", "make", "-o", "Makefile"], ["emit", "bake", "-o", "bake.hcl"]]) {
      const result = run(args, cwd);
      expect({ args, code: result.code, stderr: result.code === 0 ? "" : result.stderr }).toEqual({ args, code: 0, stderr: "" });
    }
  } finally {
    rmSync(cwd, { recursive: true, force: true });
  }
}, 120_000);
