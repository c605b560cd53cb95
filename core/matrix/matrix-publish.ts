// `[publish]`: when the pipelines publish. Pushes to the listed branches publish; a pull
// request builds without pushing; a schedule updates the lock (GitHub) or rebuilds what the registry lacks. Read here,
// carried by the graph, rendered by each CI's emitter in its own terms.

import { branchListProblems, branchPatternProblem } from "../branch-patterns.ts";
import type { Publish } from "../graph.ts";
import type { MatrixReader } from "./matrix-reader.ts";
import { keysOf, PUBLISH_SECTION } from "./matrix-schema.ts";


export const DEFAULT_PUBLISH: Publish = { branches: ["main"], pullRequests: true, schedule: undefined, declared: false };

const PUBLISH_KEYS = keysOf(PUBLISH_SECTION);

/** One field of a five-field cron expression. */
const CRON_FIELD = /^[0-9A-Za-z*/,-]+$/;

export function readPublish(reader: MatrixReader, value: unknown): Publish {
  if (value === undefined) return DEFAULT_PUBLISH;
  const table = reader.table(value, ["publish"], '[publish] says when images are published, e.g. branches = ["main"]');
  if (!table) return DEFAULT_PUBLISH;
  reader.knownKeys(table, PUBLISH_KEYS, ["publish"]);
  const branches = reader.stringList(table.branches, ["publish", "branches"]) ?? DEFAULT_PUBLISH.branches;
  // Each pattern must mean the same to GitHub and to Cloud Build's one trigger expression (core/branch-patterns.ts).
  const problems = branches.map(branchPatternProblem);
  problems.forEach((problem, index) => problem && reader.report("INVALID_VALUE", ["publish", "branches", index], problem.message, problem.hint));
  if (problems.every((problem) => problem === undefined)) {
    for (const { index, message, hint } of branchListProblems(branches)) reader.report("INVALID_VALUE", ["publish", "branches", index], message, hint);
  }
  if (table.branches !== undefined && branches.length === 0) {
    reader.report("INVALID_VALUE", ["publish", "branches"], "no branch publishes", 'name one, e.g. branches = ["main"] (a pull request never publishes)');
  }
  let pullRequests = DEFAULT_PUBLISH.pullRequests;
  if (table.pull_requests !== undefined) {
    if (typeof table.pull_requests === "boolean") pullRequests = table.pull_requests;
    else reader.wrongType(table.pull_requests, ["publish", "pull_requests"], "true or false");
  }
  let schedule: string | undefined;
  if (table.schedule !== undefined) {
    const text = reader.string(table.schedule, ["publish", "schedule"]);
    const fields = text?.trim().split(/\s+/) ?? [];
    if (text !== undefined && (fields.length !== 5 || !fields.every((field) => CRON_FIELD.test(field)))) {
      reader.report("INVALID_VALUE", ["publish", "schedule"], `${JSON.stringify(text)} is not a cron expression of five fields`, 'minute hour day month weekday, in UTC: "0 4 * * 1" is Mondays at 04:00');
    } else if (text !== undefined) {
      const problem = fields.map((field, i) => cronFieldProblem(field, CRON_FIELDS[i]!)).find((p) => p !== undefined);
      if (problem) reader.report("INVALID_VALUE", ["publish", "schedule"], `${JSON.stringify(text)}: ${problem}`, 'minute 0-59, hour 0-23, day 1-31, month 1-12 or JAN-DEC, weekday 0-6 or SUN-SAT, as GitHub reads cron: "0 4 * * 1" is Mondays at 04:00');
      else schedule = fields.join(" ");
    }
  }
  return { branches, pullRequests, schedule, declared: true };
}

/** A cron field's name, its range, and the names it takes for numbers (POSIX cron, as GitHub's schedule reads it). */
interface CronField {
  readonly name: string;
  readonly low: number;
  readonly high: number;
  readonly names?: readonly string[];
}

const CRON_FIELDS: readonly CronField[] = [
  { name: "minute", low: 0, high: 59 },
  { name: "hour", low: 0, high: 23 },
  { name: "day of the month", low: 1, high: 31 },
  { name: "month", low: 1, high: 12, names: ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"] },
  { name: "day of the week", low: 0, high: 6, names: ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"] },
];

/** What is wrong with one field (a list of `*`, N, N-M, each with an optional /STEP), or undefined. */
function cronFieldProblem(field: string, spec: CronField): string | undefined {
  const value = (text: string): number | undefined => {
    const named = spec.names?.indexOf(text.toUpperCase()) ?? -1;
    if (named >= 0) return spec.low + named;
    return /^[0-9]+$/.test(text) ? Number(text) : undefined;
  };
  for (const part of field.split(",")) {
    const [range, step, extra] = part.split("/");
    if (extra !== undefined || range === "" || (step !== undefined && !/^[1-9][0-9]*$/.test(step))) return `"${part}" is not a field of the ${spec.name}`;
    if (range === "*") continue;
    const [from, to, more] = range!.split("-");
    const low = value(from!);
    const high = to === undefined ? low : value(to);
    if (more !== undefined || low === undefined || high === undefined) return `"${part}" is not a field of the ${spec.name}`;
    for (const n of [low, high]) if (n < spec.low || n > spec.high) return `${n} is out of range for the ${spec.name} (${spec.low}-${spec.high})`;
    if (low > high) return `"${range}" runs backwards`;
  }
  return undefined;
}
