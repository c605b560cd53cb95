// The values of the matrix's [vars] a pipeline was emitted with (`--var NAME=VALUE`),
// passed on to every caliban-images it runs: resolve (GitHub's resolve jobs, Cloud
// Build's resolve step, the Makefile's $(shell ...), bake's `resolve --for`), and the
// workflow's check and lock jobs. resolve plans the matrix again and compares the graph's
// shape with the one the file was emitted for: with another value it would call the file
// stale, or read the digests of images the file does not build.
//
// Only the values given with --var are passed on. A default is read from the matrix when
// the pipeline runs, so editing it makes the file stale, as any edit that changes the
// graph does. Nothing is overridden at run time: every value is planned (tags checked,
// references unique, digests, the shape) when the file is emitted, so a value a Makefile
// or bake took from its command line or environment would be checked by nothing. To
// change one, emit again with --var; `make NAME=VALUE` is refused, and bake reads no
// variable of the environment for them (it declares none).

import type { PipelineVariable } from "./contract.ts";
import { makeValue, shellWord, workflowLiteral, yamlScalar } from "./quoting.ts";

/** The values given with --var: those a pipeline passes on. */
function given(variables: readonly PipelineVariable[]): readonly PipelineVariable[] {
  return variables.filter((variable) => variable.set);
}

/** ` --var 'NAME=VALUE'`, a word for the shell each (Cloud Build's resolve step; make's through MATRIX_VARS); "" for none. */
export function shellVarFlags(variables: readonly PipelineVariable[]): string {
  return given(variables).map(({ name, value }) => ` --var ${shellWord(`${name}=${value}`)}`).join("");
}

/** The workflow's env name of a value: a job's env holds it, as every value a script uses (GitHub evaluates nothing in a script's env). */
const envName = (name: string) => `VAR_${name}`;

/** A job's env lines (4 spaces in, below `env:`): each value given with --var, quoted as every env value (`${{` as its literal). */
export function workflowVarEnv(variables: readonly PipelineVariable[]): string[] {
  return given(variables).map(({ name, value }) => `    ${envName(name)}: ${yamlScalar(workflowLiteral(value))}`);
}

/** ` --var "NAME=$VAR_NAME"` per value, for a run line (a name needs no quoting: letters, digits and '_'). */
export function workflowVarFlags(variables: readonly PipelineVariable[]): string {
  return given(variables).map(({ name }) => ` --var "${name}=$${envName(name)}"`).join("");
}

/** What a file names each value by, on a line of its own, as `resolve --for FILE` reads it back (varsIn). */
const VAR_LINE = /^# caliban-images var: ([A-Za-z_][A-Za-z0-9_]*)=("(?:[^"\\]|\\.)*")$/gm;

/**
 * bake's header: the values on lines `# caliban-images var: NAME="VALUE"`, beside the shape
 * line, for `caliban-images resolve --for docker-bake.hcl`, which a user runs (no line of
 * ours does). Each value a JSON string in ASCII: no character of it can end the comment.
 */
export function varLines(variables: readonly PipelineVariable[]): string[] {
  const lines = given(variables).map(({ name, value }) => `# caliban-images var: ${name}=${asciiJson(value)}`);
  return lines.length === 0 ? [] : ["# Emitted with these values of the matrix's [vars] (--var): resolve --for reads them; an environment variable changes none.", ...lines];
}

/** The values a file names on `caliban-images var:` lines (varLines), by name. */
export function varsIn(text: string): Map<string, string> {
  return new Map([...text.matchAll(VAR_LINE)].map((match) => [match[1]!, JSON.parse(match[2]!) as string]));
}

function asciiJson(text: string): string {
  return JSON.stringify(text).replace(/[^\x20-\x7e]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
}

/** Variables of the Makefile itself and of make: `make NAME=...` of these is theirs, never refused. */
const MAKE_OWN = /^(?:DOCKER|REPOSITORY|BUILD_FLAGS|REVISION|BUILD_DATE|BRANCH|CALIBAN_IMAGES|RETRY|PUSH|RESOLVE_FLAGS|SKOPEO|POINT_TAG|THIS_MAKEFILE|MATRIX_FILE|MATRIX_VARS|RESOLVED|IMAGES|TESTED|SHELL|VPATH|GPATH|CURDIR|SUFFIXES|MAKE[A-Z_]*)$/;

/**
 * The Makefile's lines for [vars]: which values it was emitted with, and a guard that
 * stops `make NAME=VALUE` of a variable the file fixed (make would ignore it: the tags
 * and args are written out), naming what to run instead. None without [vars].
 */
export function makeVarLines(variables: readonly PipelineVariable[]): string[] {
  if (variables.length === 0) return [];
  const guarded = variables.map(({ name }) => name).filter((name) => !MAKE_OWN.test(name));
  const set = given(variables);
  return [
    `# The matrix's [vars] are fixed when this file is emitted (${set.length === 0 ? "their defaults" : `--var ${set.map(({ name }) => name).join(", ")}; the others their defaults`}):`,
    "# make NAME=VALUE cannot change one; emit the Makefile again with --var NAME=VALUE.",
    ...(guarded.length === 0 ? [] : [`$(foreach name,${guarded.join(" ")},$(if $(filter command line,$(origin $(name))),$(error $(name) is a variable of the matrix: its value is fixed when this Makefile is emitted. Run caliban-images emit make --var $(name)=VALUE)))`]),
  ];
}

/** ` $(MATRIX_VARS)` for the resolve line, and the line that sets it (the words, as a make variable holds them: '$' doubled, '#' escaped); nothing without values. */
export function makeResolveVars(variables: readonly PipelineVariable[]): { readonly definition: string[]; readonly reference: string } {
  const flags = shellVarFlags(variables);
  return flags === "" ? { definition: [], reference: "" } : { definition: [`MATRIX_VARS := ${makeValue(flags.slice(1))}`], reference: " $(MATRIX_VARS)" };
}
