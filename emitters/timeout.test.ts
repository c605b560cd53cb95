// A family's `timeout` (minutes): a long CUDA build gets more time than the emitter's
// default, in each CI that can stop a build: GitHub's jobs (timeout-minutes, read from the
// job's matrix entries) and Cloud Build's steps; every other image keeps the default.

import { expect, test } from "bun:test";
import { parse as parseYaml } from "yaml";
import { emitLoaded } from "../cli/emit.ts";
import { builtin, planText, problemsOf } from "../fixtures/test-helpers.ts";
import { actionlint } from "../scripts/validators/actionlint.ts";
import { evaluateTemplate } from "../scripts/validators/github-expressions.ts";
import { emittedText } from "./contract.ts";

const MATRIX = `repository = "ghcr.io/your-org/images"
[axes.python]
py311 = { PYTHON_VERSION = "3.11" }
[images.cuda]
tag = "cuda"
timeout = 600
[images.python]
tag = "py-{python}"
matrix = ["python"]
from = "cuda"
`;

test("GitHub: each image's job runs at most its family's timeout, else the option's; the merge and resolve jobs keep theirs", async () => {
  const { loaded, graph } = await planText(MATRIX);
  const text = emittedText(emitLoaded(builtin("github"), loaded, graph)[0]!);
  expect(await actionlint(text, "images.yml")).toEqual([]);
  const jobs = parseYaml(text).jobs as Record<string, { "timeout-minutes": number | string; strategy?: { matrix: { include: Record<string, unknown>[] } } }>;
  const minutes: Record<string, unknown> = {};
  for (const job of Object.values(jobs)) {
    // The runner evaluates the job's timeout-minutes per matrix entry.
    for (const entry of job.strategy?.matrix.include ?? []) minutes[String(entry.id)] = evaluateTemplate(String(job["timeout-minutes"]), { matrix: entry as Record<string, string> });
  }
  expect(minutes).toEqual({ "cuda-2": 600, "py-py311": 180 });
  expect(jobs.resolve!["timeout-minutes"]).toBe(15);
  // Without a family's timeout, the jobs name the option's minutes and the entries no timeout.
  const { loaded: plainLoaded, graph: plain } = await planText(MATRIX.replace("timeout = 600\n", ""));
  const plainJobs = parseYaml(emittedText(emitLoaded(builtin("github"), plainLoaded, plain, ["timeout-minutes=90"])[0]!)).jobs;
  expect(plainJobs.stage1["timeout-minutes"]).toBe(90);
  expect(JSON.stringify(plainJobs.stage1.strategy)).not.toContain("timeout-minutes");
});

test("Cloud Build: an image's steps time out at its family's timeout, else step-timeout; setup steps at 15 minutes; a timeout beyond the build's is a warning", async () => {
  const { loaded, graph } = await planText(MATRIX);
  const warnings: string[] = [];
  const config = JSON.parse(emittedText(emitLoaded(builtin("cloudbuild"), loaded, graph, ["triggers=false"], undefined, undefined, (message) => warnings.push(message))[0]!));
  const timeouts = Object.fromEntries(config.steps.map((step: { id: string; timeout: string }) => [step.id, step.timeout]));
  expect(timeouts).toEqual({ resolve: "900s", "ghcr.io/your-org/images:cuda": "36000s", "ghcr.io/your-org/images:py-py311": "10800s" });
  expect(warnings).toEqual([]);
  const short = emitLoaded(builtin("cloudbuild"), loaded, graph, ["triggers=false", "timeout=3600s"], undefined, undefined, (message) => warnings.push(message));
  expect(short.length).toBeGreaterThan(0);
  expect(warnings).toEqual(["family cuda: its timeout (600 minutes) is longer than the build's (3600s), which stops it first; raise the emitter's timeout option"]);
});

test("a timeout that is no whole number of minutes from 1 to 1440 is reported at its line", async () => {
  const messages = async (value: string) => (await problemsOf(MATRIX.replace("timeout = 600", `timeout = ${value}`))).map((d) => `${d.line}: ${d.message}${d.hint ? ` (${d.hint})` : ""}`);
  expect(await messages('"600"')).toEqual(['6: timeout must be a whole number of minutes from 1 to 1440, found "600" (write it unquoted: timeout = 600)']);
  expect(await messages("0")).toEqual(["6: timeout must be a whole number of minutes from 1 to 1440, found 0 (timeout = 360 (minutes: six hours))"]);
  expect(await messages("1.5")).toEqual(["6: timeout must be a whole number of minutes from 1 to 1440, found 1.5 (timeout = 360 (minutes: six hours))"]);
  expect(await messages("2000")).toEqual(["6: timeout must be a whole number of minutes from 1 to 1440, found 2000 (timeout = 360 (minutes: six hours))"]);
});
