// `check-outputs`: a job of the workflow that runs `caliban-images check`, so a pull
// request (or a push) whose committed outputs are not what the matrix gives fails, and
// says which files to regenerate. It installs caliban-images like the lock job
// (emitters/github-install.ts). It gates nothing: a stale workflow still builds what it
// says, and the failed check is the run's status on the pull request.

import type { GithubOptions } from "./github-types.ts";
import { installStep } from "./github-install.ts";
import type { TextWriter } from "./text.ts";
import { workflowLiteral, yamlScalar } from "./quoting.ts";
import { checkoutStep } from "./github-actions.ts";
import type { PipelineVariable } from "./contract.ts";
import { workflowVarEnv, workflowVarFlags } from "./pipeline-variables.ts";

export const CHECK_JOB = "check-outputs";

/** `variables`: the values the workflow was emitted with (--var), which `emit --all` wrote every output with. */
export function writeCheckJob(out: TextWriter, options: GithubOptions, matrixFile: string, variables: readonly PipelineVariable[]): void {
  out.lines([
    `${CHECK_JOB}:`,
    "  name: The committed outputs are what the matrix gives",
    "  if: github.event_name != 'schedule'",
    `  runs-on: ${yamlScalar(options["runs-on"])}`,
    "  timeout-minutes: 15",
    "  permissions:",
    "    contents: read",
    "  env:",
    `    MATRIX: ${yamlScalar(workflowLiteral(matrixFile))}`,
    ...workflowVarEnv(variables),
    "  steps:",
    ...checkoutStep().map((line) => `    ${line}`),
    ...installStep(options).map((line) => `    ${line}`),
    "    - name: caliban-images check",
    `      run: caliban-images check --matrix "$MATRIX"${workflowVarFlags(variables)}`,
  ]);
}
