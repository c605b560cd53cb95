// make: the build-time values of aliases (core/build-time.ts), found once when make
// starts: the date (`date -u`, or BUILD_DATE=), the commit (REVISION=, else git's HEAD)
// and the branch (BRANCH=, else git's current branch). Each is made a tag by the
// branch's rule (an honest date or commit is one already), so that whatever a command
// line gives reaches a recipe as tag characters only; each recipe names them as make
// variables. make stops before it builds anything when one is unknown (`make help`
// needs none).

import { SHORT_COMMIT_LENGTH } from "../core/build-time.ts";
import type { BuildGraph } from "../core/graph.ts";
import { branchRooms, branchTagCommand, cutCommand, DATE_COMMAND, renderAlias, valuesNamed } from "./build-time.ts";

/** The lines that define REVISION (the commit of revision labels and of aliases) and the build-time values, for the Makefile's head. */
export function buildTimeLines(graph: BuildGraph): string[] {
  const named = valuesNamed(graph.images);
  const labels = graph.images.some((image) => image.labels.some((label) => label.revision));
  const commit = named.has("commit") || named.has("short_commit");
  const revision = labels || commit ? [labels && !commit ? "# The commit being built, for the labels that name it." : "# The commit being built, for the labels and aliases that name it.", "REVISION ?= $(shell git rev-parse --verify --quiet HEAD 2>/dev/null)"] : [];
  if (named.size === 0) return revision;
  const tagValue = (variable: string) => `$(call TAG_VALUE,${variable})`;
  const given = [...(named.has("date") ? ["BUILD_DATE"] : []), ...(named.has("branch") ? ["BRANCH"] : [])];
  const unknown = (value: string, why: string, give: string) => [`ifeq ($(build-time/${value}),)`, `$(error no image built: the ${value} that aliases name is unknown (${why}): give ${give})`, "endif"];
  return [
    ...revision,
    "# The values of the aliases that name them, found once when make starts, each made a tag by",
    "# the branch's rule (caliban-images docs/image-settings.md, \"Build-time values\"): the date (UTC), the commit, the branch.",
    ...(named.has("date") ? [`BUILD_DATE ?= $(shell ${DATE_COMMAND})`] : []),
    ...(named.has("branch") ? ["BRANCH ?= $(shell git symbolic-ref --short -q HEAD 2>/dev/null)"] : []),
    // A value a command line or the environment gives is read as given: make expands no '$' in it, nor hands it to a recipe.
    ...(given.length > 0 ? [`unexport ${given.join(" ")}`] : []),
    "GIVEN = $(if $(filter command line environment%,$(origin $(1))),$(value $(1)),$($(1)))",
    // The value reaches the shell single-quoted, a quote inside written '\''.
    `TAG_VALUE = $(shell ${branchTagCommand("'$(subst ','\\'',$(call GIVEN,$(1)))'")})`,
    ...(named.has("date") ? [`build-time/date := ${tagValue("BUILD_DATE")}`] : []),
    ...(commit ? [`build-time/commit := ${tagValue("REVISION")}`] : []),
    ...(named.has("short_commit") ? [`build-time/short_commit := $(shell ${cutCommand("'$(build-time/commit)'", SHORT_COMMIT_LENGTH)})`] : []),
    ...(named.has("branch") ? [`build-time/branch := ${tagValue("BRANCH")}`, ...branchRooms(graph).map((room) => `build-time/branch-${room} := $(shell ${cutCommand("'$(build-time/branch)'", room)})`)] : []),
    "ifneq ($(filter-out help,$(or $(MAKECMDGOALS),all)),)",
    ...(named.has("date") ? unknown("date", "BUILD_DATE is empty", "BUILD_DATE=YYYYMMDD") : []),
    ...(commit ? unknown("commit", "no git repository here", "REVISION=COMMIT, as the CI names it") : []),
    ...(named.has("branch") ? unknown("branch", "HEAD is detached, or no git repository here", "BRANCH=NAME, as the CI names it") : []),
    "endif",
  ];
}

/** An alias as a recipe's text, inside the single quotes of its reference: each value a make variable of tag characters. */
export function makeAlias(alias: string): string {
  return renderAlias(alias, (text) => text, (part) => (part.value === "branch" ? `$(build-time/branch-${part.length})` : `$(build-time/${part.value})`));
}
