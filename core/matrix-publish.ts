// `[publish]`: when the pipelines publish. Pushes to the listed branches publish; a pull
// request builds without pushing; a schedule updates the lock (GitHub) or rebuilds what the registry lacks. Read here,
// carried by the graph, rendered by each CI's emitter in its own terms.

import type { MatrixReader } from "./matrix-reader.ts";
import { keysOf, PUBLISH_SECTION } from "./matrix-schema.ts";

export interface Publish {
  /** Branches whose pushes publish: names or GitHub's filter patterns (`release/**`). */
  readonly branches: readonly string[];
  /** Whether pull requests build the images (pushing nothing). */
  readonly pullRequests: boolean;
  /** A cron expression, in UTC, for scheduled runs; undefined for none. */
  readonly schedule: string | undefined;
  /** Whether the matrix has a [publish] table: Cloud Build's triggers are written only then. */
  readonly declared: boolean;
}

export const DEFAULT_PUBLISH: Publish = { branches: ["main"], pullRequests: true, schedule: undefined, declared: false };

const PUBLISH_KEYS = keysOf(PUBLISH_SECTION);

/** A branch name or pattern: what git allows in a branch, and GitHub's `*`, `?`, `[...]` and a leading `!`. */
const BRANCH_PATTERN = /^!?[A-Za-z0-9._/*?+\-[\]]+$/;
/** One field of a five-field cron expression. */
const CRON_FIELD = /^[0-9A-Za-z*/,-]+$/;

export function readPublish(reader: MatrixReader, value: unknown): Publish {
  if (value === undefined) return DEFAULT_PUBLISH;
  const table = reader.table(value, ["publish"], '[publish] says when images are published, e.g. branches = ["main"]');
  if (!table) return DEFAULT_PUBLISH;
  reader.knownKeys(table, PUBLISH_KEYS, ["publish"]);
  const branches = reader.stringList(table.branches, ["publish", "branches"]) ?? DEFAULT_PUBLISH.branches;
  branches.forEach((branch, index) => {
    if (!BRANCH_PATTERN.test(branch) || branch.startsWith("-") || branch.startsWith("/")) {
      reader.report("INVALID_VALUE", ["publish", "branches", index], `${JSON.stringify(branch)} is not a branch name or pattern`, "letters, digits and . _ / - +, with * ? [ ] as patterns and a leading ! to leave a branch out");
    }
  });
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
      schedule = fields.join(" ");
    }
  }
  return { branches, pullRequests, schedule, declared: true };
}
