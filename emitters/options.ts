// Emitter options, checked against the emitter's spec before `emit` runs: from the
// matrix's [emit.NAME] table and from --option key=value (which wins).

import { CalibanError, didYouMean, type Diagnostic } from "../core/errors.ts";
import type { BuildGraph } from "../core/graph.ts";
import { IDENTIFIER_PATTERN } from "../core/names.ts";
import type { Emitter, OptionSpec, OptionValue } from "./contract.ts";

export interface OptionSources {
  /** The [emit.NAME] table of the matrix, if any, and the file it came from. */
  readonly fromMatrix?: { readonly file: string; readonly values: Readonly<Record<string, unknown>> };
  /** `key=value` strings from the command line. */
  readonly fromCommandLine?: readonly string[];
}

export function resolveOptions(emitter: Emitter<any>, sources: OptionSources): Record<string, OptionValue> {
  const specs = emitter.options as Record<string, OptionSpec>;
  const diagnostics: Diagnostic[] = [];
  const resolved: Record<string, OptionValue> = {};
  for (const [name, spec] of Object.entries(specs)) if (spec.default !== undefined) resolved[name] = spec.default;

  const known = Object.keys(specs);
  const unknown = (name: string) =>
    `emitter "${emitter.name}" has no option "${name}"`;
  const unknownHint = (name: string) =>
    didYouMean(name, known) ?? (known.length ? `its options: ${known.join(", ")}` : "it takes no options");

  const matrix = sources.fromMatrix;
  for (const [name, raw] of Object.entries(matrix?.values ?? {})) {
    const keyPath = ["emit", emitter.name, name];
    const spec = Object.hasOwn(specs, name) ? specs[name] : undefined;
    if (!spec) {
      diagnostics.push({ code: "EMITTER", file: matrix!.file, keyPath, message: unknown(name), hint: unknownHint(name) });
      continue;
    }
    const problem = typeof raw === spec.type ? checkValue(spec, raw as OptionValue) : `expected a ${spec.type}, found ${JSON.stringify(raw)}`;
    if (problem) diagnostics.push({ code: "EMITTER", file: matrix!.file, keyPath, message: `option "${name}" of emitter "${emitter.name}": ${problem}` });
    else resolved[name] = raw as OptionValue;
  }

  for (const pair of sources.fromCommandLine ?? []) {
    const equals = pair.indexOf("=");
    if (equals <= 0) {
      diagnostics.push({ code: "USAGE", message: `--option "${pair}" is not key=value` });
      continue;
    }
    const name = pair.slice(0, equals);
    const text = pair.slice(equals + 1);
    const spec = Object.hasOwn(specs, name) ? specs[name] : undefined;
    if (!spec) {
      diagnostics.push({ code: "EMITTER", message: `--option ${name}: ${unknown(name)}`, hint: unknownHint(name) });
      continue;
    }
    const value = fromText(spec, text);
    const problem = value === undefined ? `expected a ${spec.type}, found "${text}"` : checkValue(spec, value);
    if (problem) diagnostics.push({ code: "EMITTER", message: `--option ${name}: option "${name}" of emitter "${emitter.name}": ${problem}` });
    else resolved[name] = value!;
  }

  if (diagnostics.length > 0) throw new CalibanError(diagnostics);
  return resolved;
}

function fromText(spec: OptionSpec, text: string): OptionValue | undefined {
  if (spec.type === "string") return text;
  if (spec.type === "number") return text.trim() !== "" && Number.isFinite(Number(text)) ? Number(text) : undefined;
  if (["true", "yes", "1"].includes(text)) return true;
  if (["false", "no", "0"].includes(text)) return false;
  return undefined;
}

function checkValue(spec: OptionSpec, value: OptionValue): string | undefined {
  if (spec.choices && !spec.choices.includes(String(value))) {
    return `"${value}" is not one of ${spec.choices.map((c) => `"${c}"`).join(", ")}`;
  }
  return spec.check?.(value);
}

/** Help text for an emitter's options: one line each, with type and default. */
export function describeOptions(emitter: Emitter<any>): string {
  const specs = Object.entries(emitter.options as Record<string, OptionSpec>);
  if (specs.length === 0) return "  (no options)";
  const width = Math.max(...specs.map(([name]) => name.length));
  return specs
    .map(([name, spec]) => {
      const type = spec.choices ? spec.choices.join("|") : spec.type;
      const fallback = spec.default === undefined ? "" : ` (default: ${JSON.stringify(spec.default)})`;
      return `  ${name.padEnd(width)}  <${type}>  ${spec.description}${fallback}`;
    })
    .join("\n");
}

/** A path segment of letters, digits, '.', '_' and '-', not "." or "..", not starting with '-'. */
const SAFE_SEGMENT = String.raw`(?!\.\.?(?:/|$))[A-Za-z0-9._][A-Za-z0-9._-]*`;
const SAFE_PATH = new RegExp(`^${SAFE_SEGMENT}(?:/${SAFE_SEGMENT})*$`);

/**
 * Check for an emitter's `output` option: a relative path of plain characters, so that
 * a script (Cloud Build's submit.sh) and a `-o` directory can hold it as it is.
 */
export function outputPathProblem(value: OptionValue): string | undefined {
  const path = String(value);
  if (path === "") return "must not be empty";
  if (!SAFE_PATH.test(path)) return `"${path}" is not a relative path of letters, digits, '.', '_' and '-' (no "..", no leading '-' or '/')`;
  return undefined;
}

/**
 * Check for text written into a workflow that GitHub must not evaluate as an
 * expression: `${{` there would be (or would make the file invalid).
 */
export function noExpressionProblem(value: OptionValue): string | undefined {
  return String(value).includes("${{") ? `"${value}" holds "\${{", which GitHub would evaluate here` : undefined;
}

/**
 * Every built-in emitter's `content-tags` (docs/incremental-builds.md): each
 * image is also pushed under its inputs digest (`contentReference`), a child builds
 * FROM its base's, and a pipeline skips an image whose digest the registry already has.
 * false writes the pipeline as before: every image built and pushed under its tag only.
 */
export const CONTENT_TAGS_OPTION: OptionSpec = {
  type: "boolean",
  default: true,
  description: "push each image under its inputs digest too and skip the images the registry has (false: build every image, tags only)",
};

/** Whether a pipeline has a scheduled lock job: a schedule, and a lock file to update (GitHub's, GitLab's). */
export function hasLockJob(graph: BuildGraph): boolean {
  return graph.publish.schedule !== undefined && graph.lock !== null;
}

/** A CI variable's (or secret's) name: letters, digits and '_', not starting with a digit. */
export function variableNameProblem(value: OptionValue): string | undefined {
  return IDENTIFIER_PATTERN.test(String(value)) ? undefined : `"${value}" is not a variable name (letters, digits and '_')`;
}

/** What a schedule does without a lock file, said when a workflow has one (Cloud Build's schedule trigger too). */
export const SCHEDULE_WITHOUT_LOCK =
  "[publish] schedule with no lock file: a scheduled run builds only what the registry lacks for the default branch, which is nothing unless a push failed; to rebuild when an upstream base image moves, lock them (caliban-images lock), and the schedule updates the lock and builds what moved";
