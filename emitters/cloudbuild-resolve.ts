// Cloud Build with content tags decides from the tree it builds: each config's first
// step installs the pinned caliban-images and runs `caliban-images resolve` in
// /workspace (the build's source), which stops the build when the matrix no longer gives
// the graph the config was emitted for. It leaves two files under $HOME/.caliban-images
// ($HOME is /builder/home, which every step of a build shares, and which no build context
// sends): `resolved`, every image's inputs digest, and `functions.sh`, the shell functions
// the other steps use (`inputs_of`, `registry_has`, `retry`), defined in the resolve
// step's own script and written out by `declare -f`, so that they are in a config once
// rather than in every step (at 10,000 images, 17.6 MB of configs instead of 26.5 MB). Each image's step sources
// functions.sh (exit 2 when the resolve step did not run), reads its own digest and its
// base's from `resolved`, so an edited Dockerfile is built without emitting the configs
// again, and asks the registry for its content tag with three answers: present, absent
// ("no such manifest"), or no answer (anything else, asked again with backoff, then
// exit 4: nothing built).

import type { BuildGraph, ImageNode } from "../core/graph.ts";
import { cloudbuildSigningLines, COMMIT_PLACEHOLDER, SIGNING_FUNCTIONS } from "./cloudbuild-signing.ts";
import { LOOPBACK, registryHost } from "../core/names.ts";
import type { EmitContext } from "./contract.ts";
import { installScript, type InstallOptions } from "./github-install.ts";
import { doubleDollars, shellWord } from "./quoting.ts";
import { shellVarFlags } from "./pipeline-variables.ts";
import { remembered } from "./text.ts";

export const RESOLVE_STEP = "resolve";


/** The file the resolve step writes, `ID HEX` a line; $HOME is /builder/home in every step of a build. */
const RESOLVED = '"$HOME/.caliban-images/resolved"';
/** The file of shell functions the resolve step writes for the other steps (`declare -f`'s text of them). */
const FUNCTIONS = '"$HOME/.caliban-images/functions.sh"';

/** A step's script as Cloud Build is given it: every '$' doubled, so that Cloud Build substitutes none of its shell's. */
export function stepText(lines: readonly string[]): string {
  return doubleDollars([...lines, ""].join("\n"));
}

/** `inputs_of ID`: the image's inputs digest, as the resolve step left it (exit 2 when it did not run). */
export const INPUTS_OF_FUNCTION = `inputs_of() { local id hex rest; while read -r id hex rest; do if [ "$id" = "$1" ]; then echo "$hex"; return 0; fi; done < ${RESOLVED}; echo "error: no digest for $1: the resolve step did not run" >&2; exit 2; }`;

/**
 * `registry_has REF [FLAG...]`: 0 when the registry has REF, 1 when it says "no such
 * manifest", exit 4 when it does not answer (asked 4 times). FLAG goes to `docker manifest
 * inspect` before REF: `--insecure` for a registry on loopback (registryHasCall).
 */
export const REGISTRY_HAS_FUNCTION = 'registry_has() { local out attempt; for attempt in 1 2 3 4; do if out=$(docker manifest inspect "${@:2}" "$1" 2>&1 >/dev/null); then return 0; fi; case "$out" in "no such manifest"*) return 1 ;; esac; echo "cannot ask the registry for $1 (try $attempt): $out" >&2; sleep $((attempt * attempt)); done; echo "error: the registry did not answer for $1: nothing was built or pushed" >&2; exit 4; }';

/** What talks to the registry is asked again on failure (a 5xx, "unknown blob", the network), 4 tries in all, 5, 20 and 45 s apart. */
export const RETRY_FUNCTION = 'retry() { local attempt; for attempt in 1 2 3; do if "$@"; then return 0; fi; echo "failed, asked again: $* (try $attempt)" >&2; sleep $((attempt * attempt * 5)); done; "$@"; }';

/**
 * The resolve step of a config (`config`: its file name, for the message when it is stale).
 * After `resolved` it defines the functions the other steps use, in its own script (so
 * that shellcheck reads them as code), and writes them to functions.sh with `declare -f`
 * (bash's own text of them), through a temporary name as `resolved` is.
 */
export function resolveStep(options: InstallOptions & { builder: string }, context: EmitContext, config: string, waitFor: string, graph: BuildGraph) {
  // Steps start in /workspace, the folder the matrix is in (paths in the matrix are relative to it).
  const matrix = context.matrixFile.startsWith("<") ? "" : ` --matrix ${shellWord(context.matrixFile.slice(context.matrixFile.lastIndexOf("/") + 1))}`;
  const install = options["install-command"].trim() !== "" ? [options["install-command"]] : ["(", ...installScript(options, '"$HOME/.caliban-images/bin"').map((line) => `  ${line}`), ")", 'export PATH="$HOME/.caliban-images/bin:$PATH"'];
  const script = stepText([
    "set -euo pipefail",
    ...install,
    'mkdir -p "$HOME/.caliban-images"',
    `caliban-images resolve${matrix}${shellVarFlags(context.variables)} --for ${shellWord(config)} --shape ${context.shape} --format lines > "$HOME/.caliban-images/resolved.new"`,
    'mv "$HOME/.caliban-images/resolved.new" "$HOME/.caliban-images/resolved"',
    INPUTS_OF_FUNCTION,
    REGISTRY_HAS_FUNCTION,
    RETRY_FUNCTION,
    // With [sign]: cosign installed, and the functions that sign and verify (emitters/cloudbuild-signing.ts).
    ...cloudbuildSigningLines(graph, options),
    `declare -f inputs_of registry_has retry${graph.sign === undefined ? "" : ` ${SIGNING_FUNCTIONS.join(" ")}`} > "$HOME/.caliban-images/functions.sh.new"`,
    'mv "$HOME/.caliban-images/functions.sh.new" "$HOME/.caliban-images/functions.sh"',
  ]).replaceAll(COMMIT_PLACEHOLDER, "$COMMIT_SHA");
  return { id: RESOLVE_STEP, name: options.builder, entrypoint: "bash", args: ["-c", script], waitFor: [waitFor] };
}

/** The line after `set -euo pipefail` of every step that uses the functions: functions.sh sourced, exit 2 when the resolve step did not write it. */
export const SOURCE_FUNCTIONS = `. ${FUNCTIONS} || { echo "error: no ${FUNCTIONS.slice(1, -1)}: the resolve step did not run" >&2; exit 2; }`;

/** How such a step starts, '$' doubled once rather than per image. */
export const FUNCTIONS_PRELUDE = stepText(["set -euo pipefail", SOURCE_FUNCTIONS]);

/**
 * The lines an image's step starts with: the resolve step's functions sourced
 * (`inputs_of ID` reads a digest the resolve step left, `registry_has REF` asks the
 * registry: see registryHasCall), then `content` (and `base`, for an image built FROM
 * another in this graph), the content references as this build's tree gives them.
 * Written for Cloud Build ('$' doubled).
 */
export function digestPrelude(image: ImageNode, base: ImageNode | undefined): string {
  // References and ids hold no character a shell reads, '$' included (core/graph.ts): the
  // lines are written with Cloud Build's "$$" already, not doubled again for each image.
  const content = `content=${image.repository}:inputs-$$(inputs_of ${image.id})\n`;
  return `${FUNCTIONS_PRELUDE}${content}${base === undefined ? "" : `base=${base.repository}:inputs-$$(inputs_of ${base.id})\n`}`;
}

/** The command asking the registry for the image's content reference ('$' doubled), for an `if`; with [sign] (`verified`), cosign must verify what it has. */
export function registryHasCall(image: ImageNode, verified: boolean): string {
  return `registry_has ${CONTENT_WORD}${insecureFlag(image.repository)}${verified ? ` && verified_reuse ${CONTENT_WORD} "$$(inputs_of ${image.id})"` : ""}`;
}

/** A registry on loopback is plain http: docker's manifest client asks it only with --insecure (else it says "no such manifest"). */
const insecureFlag = remembered((repository: string) => (LOOPBACK.test(registryHost(repository)) ? " --insecure" : ""));

/** The words a step's script names the content references by, as the prelude set them ('$' doubled). */
export const CONTENT_WORD = '"$$content"';
export const BASE_WORD = '"$$base"';
/** The tag of the base's content reference (`inputs-<hex>`: all after its last ':'), for an arg holding {from.tag}. */
export const BASE_TAG_WORD = '"$${base##*:}"';
