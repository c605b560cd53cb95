// Property-based tests, 40 matrices and 120 TOML texts a run (`npm run fuzz` runs many more).
// A failing case is printed with its seed; keep it under fixtures/fuzz-regressions/.

import { expect, test } from "bun:test";
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import fc from "fast-check";
import { fixtureCases, REPO_ROOT } from "../fixtures/golden.ts";
import { matrixModel, mutatedToml } from "../scripts/fuzz/arbitraries.ts";
import { checkMatrixOutputs, checkNeverCrashes } from "../scripts/fuzz/properties.ts";
import { loadWithCloudBuild } from "../scripts/validators/cloudbuild.ts";
import { hasCloudBuildLoader } from "../scripts/validators/tools.ts";
import { scratchFolder } from "../scripts/validators/scratch.ts";

// npm test: 24 random matrices (and 120 TOML texts), new ones each run, within npm test's
// five minutes (each is also run by Buildkite's steps, and every eighth read by
// gitlab-ci-local: properties.ts); `npm run fuzz`: 2000.
const RUNS = Number(process.env.FUZZ_RUNS ?? 24);

test(`random valid matrices with hostile values: every output reads back to the plan (${RUNS} cases)`, async () => {
  const cloudbuildConfigs: string[] = [];
  await fc.assert(
    fc.asyncProperty(matrixModel, async (model) => {
      cloudbuildConfigs.push(await checkMatrixOutputs(model));
    }),
    { numRuns: RUNS },
  );
  // Google's own loader on every Cloud Build config, in one batch (where the gcloud SDK is installed).
  if (!hasCloudBuildLoader) return;
  const directory = scratchFolder("fuzz-cloudbuild-");
  const paths = cloudbuildConfigs.map((config, index) => {
    const path = join(directory, `${index}.json`);
    writeFileSync(path, config);
    return path;
  });
  const rejected = loadWithCloudBuild(paths).filter((verdict) => !verdict.ok);
  expect(rejected).toEqual([]);
}, Math.max(120_000, RUNS * 1500));

test(`random and mutated TOML never crashes: only success or a CalibanError (${RUNS * 3} cases)`, async () => {
  const sources = fixtureCases().map((f) => readFileSync(join(REPO_ROOT, f.matrix), "utf8"));
  await fc.assert(fc.asyncProperty(fc.oneof(mutatedToml(sources), fc.string()), checkNeverCrashes), { numRuns: RUNS * 3 });
}, Math.max(120_000, RUNS * 800));

test("through the real CLI process, mutated matrices exit 0 or 2, never with an internal error", () => {
  const sources = fixtureCases().map((f) => readFileSync(join(REPO_ROOT, f.matrix), "utf8"));
  const directory = scratchFolder("fuzz-cli-");
  for (const [index, text] of fc.sample(mutatedToml(sources), { numRuns: 20, seed: 42 }).entries()) {
    const file = join(directory, `${index}.toml`);
    writeFileSync(file, text);
    for (const command of [["plan"], ["emit", "make"]]) {
      const result = Bun.spawnSync([process.execPath, join(REPO_ROOT, "cli/main.ts"), ...command, "--matrix", file]);
      expect({ file, exit: [0, 2].includes(result.exitCode) }).toEqual({ file, exit: true });
      expect(result.stderr.toString()).not.toContain("internal error");
    }
  }
});

test("every kept fuzz regression case still behaves", async () => {
  const directory = join(REPO_ROOT, "fixtures", "fuzz-regressions");
  const cases = readdirSync(directory).filter((name) => name.endsWith(".toml"));
  expect(cases.length).toBeGreaterThan(0);
  for (const name of cases) await checkNeverCrashes(readFileSync(join(directory, name), "utf8"));
});
