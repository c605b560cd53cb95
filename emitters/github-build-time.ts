// GitHub: the build-time values of aliases (core/build-time.ts). The resolve job (and a
// pull request's) finds them once per run, in a step of its own, so that every image of
// a run has the same date; a job fills its entry's aliases in with format(): an entry
// writes an alias as a format string, {0} the date, {1} the commit (github.sha), {2} the
// short commit and {3}, {4}, ... the branch (head_ref for a pull request, else ref_name)
// made a tag and cut to each length the graph's aliases need.

import { SHORT_COMMIT_LENGTH } from "../core/build-time.ts";
import type { BuildGraph } from "../core/graph.ts";
import { branchRooms, branchTagCommand, cutCommand, DATE_COMMAND, hasBuildTimeAliases, renderAlias } from "./build-time.ts";

const STEP = "build-time";

/** The lengths the branch is cut to (possibly none), or null when no alias names a build-time value. */
export function buildTimeRooms(graph: BuildGraph): readonly number[] | null {
  return hasBuildTimeAliases(graph) ? branchRooms(graph) : null;
}

/** An alias as a matrix entry writes it: a format() string (a tag holds no brace to double). */
export function githubAlias(alias: string, rooms: readonly number[]): string {
  const index = { date: 0, commit: 1, short_commit: 2 } as const;
  return renderAlias(alias, (text) => text, (part) => `{${part.value === "branch" ? 3 + rooms.indexOf(part.length) : index[part.value]}}`);
}

/** What a job reads its entry's aliases by: the entry's lines, filled in from `resolveJob`'s outputs when they name build-time values. */
export function aliasesExpression(rooms: readonly number[] | null, resolveJob: string): string {
  if (rooms === null) return "${{ matrix.aliases }}";
  const output = (name: string) => `needs.${resolveJob}.outputs.${name}`;
  return `\${{ format(${["matrix.aliases", output("build-date"), "github.sha", output("short-commit"), ...rooms.map((room) => output(`branch-${room}`))].join(", ")}) }}`;
}

/** The resolve job's outputs of build-time values (under `outputs:`). */
export function buildTimeOutputs(rooms: readonly number[] | null): string[] {
  if (rooms === null) return [];
  return ["build-date", "short-commit", ...rooms.map((room) => `branch-${room}`)].map((name) => `    ${name}: \${{ steps.${STEP}.outputs.${name} }}`);
}

/** The resolve job's step that finds them (under `steps:`): the branch reaches the script as an environment variable, never as its text. */
export function buildTimeStep(rooms: readonly number[] | null): string[] {
  if (rooms === null) return [];
  return [
    "    - name: The values aliases take when this run builds (the date in UTC, the short commit, the branch made a tag)",
    `      id: ${STEP}`,
    ...(rooms.length > 0 ? ["      env:", "        CALIBAN_BRANCH: ${{ github.head_ref || github.ref_name }}"] : []),
    "      run: |",
    ...(rooms.length > 0 ? [`        branch=$(${branchTagCommand('"$CALIBAN_BRANCH"')})`] : []),
    "        {",
    `          echo "build-date=$(${DATE_COMMAND})"`,
    `          echo "short-commit=$(${cutCommand('"$GITHUB_SHA"', SHORT_COMMIT_LENGTH)})"`,
    ...rooms.map((room) => `          echo "branch-${room}=$(${cutCommand('"$branch"', room)})"`),
    '        } >> "$GITHUB_OUTPUT"',
  ];
}
