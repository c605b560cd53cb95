// Cloud Build: the build-time values of an image's aliases (core/build-time.ts), found
// by the step that pushes them and only when it pushes (a pull request's build tags none
// of them, so it needs no branch). The date is the build's: the first step to need it
// writes it under $HOME (/builder/home, which every step of a build shares), the others
// read it. The commit is Cloud Build's $COMMIT_SHA, pasted into the script as the
// commit labels are (40 hex digits: nothing a pusher chooses); the branch, which a
// pusher does choose, reaches the script as an environment variable ($BRANCH_NAME in
// the step's `env`), never as its text. A build without them (submitted by hand: no
// trigger) stops before it pushes such an alias, saying so.

import { SHORT_COMMIT_LENGTH } from "../core/build-time.ts";
import type { ImageNode } from "../core/graph.ts";
import { doubleDollars } from "./quoting.ts";
import { branchTagCommand, cutCommand, DATE_COMMAND, renderAlias, splitAliases, valuesNamed } from "./build-time.ts";

/** What the script calls, before it pushes its build-time aliases, to find their values. */
export const BUILD_TIME_CALL = "build_time";

/** The environment variable a step's script reads the branch from. */
const BRANCH_VARIABLE = "CALIBAN_BRANCH";

/** An image's aliases that name build-time values, as its step's script writes them. */
export interface StampedAliases {
  /** The `build_time` function, for the script's start (Cloud Build's form: '$' doubled but in $COMMIT_SHA); empty without such aliases. */
  readonly define: readonly string[];
  /** Each alias's reference, a shell word once `build_time` ran (Cloud Build's form). */
  readonly words: readonly string[];
}

/** An image without such aliases (most): one answer for all of them. */
const NO_STAMPED_ALIASES: StampedAliases = { define: [], words: [] };

export function stampedAliases(image: ImageNode): StampedAliases {
  const { buildTime } = splitAliases(image);
  if (buildTime.length === 0) return NO_STAMPED_ALIASES;
  const named = valuesNamed([image]);
  const rooms = new Set<number>();
  const words = buildTimeWords(image, buildTime, rooms);
  const stamp = '"$HOME/.caliban-images/date"';
  const fail = (what: string, why: string) => `{ echo "error: ${what} is unknown (${why}): the aliases that name it are not pushed" >&2; exit 2; }`;
  const body = [
    ...(named.has("date")
      ? [
          // The first step to need the date writes it (ln: at once, and only once), the others read it: one date for the build.
          'mkdir -p "$HOME/.caliban-images"',
          `if [ ! -s ${stamp} ]; then tmp=$(mktemp "$HOME/.caliban-images/date.XXXXXX"); ${DATE_COMMAND} > "$tmp"; ln "$tmp" ${stamp} 2>/dev/null || true; rm -f "$tmp"; fi`,
          `build_date=$(cat ${stamp})`,
        ]
      : []),
    ...(named.has("commit") || named.has("short_commit") ? [`[ -n "$commit" ] || ${fail("the commit", "COMMIT_SHA is empty: Cloud Build sets it in a triggered build")}`] : []),
    ...(named.has("short_commit") ? [`short_commit=$(${cutCommand('"$commit"', SHORT_COMMIT_LENGTH)})`] : []),
    ...(named.has("branch") ? [`branch=$(${branchTagCommand(`"$${BRANCH_VARIABLE}"`)})`, `[ -n "$branch" ] || ${fail("the branch", "BRANCH_NAME is empty: Cloud Build sets it in a build a push to a branch triggered")}`] : []),
    ...[...rooms].map((room) => `branch_${room}=$(${cutCommand('"$branch"', room)})`),
  ];
  // The commit is Cloud Build's substitution, set before bash reads the script: it alone keeps one '$'.
  const commit = named.has("commit") || named.has("short_commit") ? ["  commit=$COMMIT_SHA"] : [];
  return { define: [`${BUILD_TIME_CALL}() {`, ...commit, ...body.map((line) => `  ${doubleDollars(line)}`), "}"], words };
}

/** The step's `env`, when its script reads the branch: Cloud Build fills $BRANCH_NAME in, bash reads it as data. */
export function buildTimeEnv(image: ImageNode): { env?: string[] } {
  // Only an alias names the branch: most images have none, and are answered without a look.
  return image.aliases.length > 0 && valuesNamed([image]).has("branch") ? { env: [`${BRANCH_VARIABLE}=$BRANCH_NAME`] } : {};
}

/** The lines that tag the image (`source`, a shell word) with each build-time alias and push it (Cloud Build's form). */
export function pushStampedLines(stamped: StampedAliases, source: string, retry: boolean): string[] {
  if (stamped.words.length === 0) return [];
  return [BUILD_TIME_CALL, ...stamped.words.flatMap((word) => [`docker tag ${source} ${word}`, `${retry ? "retry " : ""}docker push ${word}`])];
}

/** Each alias as a word of bash (Cloud Build's form): the tag's text needs no quoting (core/graph.ts), each value is a variable `build_time` set. */
function buildTimeWords(image: ImageNode, aliases: readonly string[], rooms: Set<number>): string[] {
  const variable = { date: "build_date", commit: "commit", short_commit: "short_commit" } as const;
  return aliases.map(
    (alias) =>
      `${image.repository}:${renderAlias(
        alias,
        (text) => text,
        (part) => {
          if (part.value !== "branch") return `"$\${${variable[part.value]}}"`;
          rooms.add(part.length);
          return `"$\${branch_${part.length}}"`;
        },
      )}`,
  );
}
