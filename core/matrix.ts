// The matrix file's model: what `matrix.toml` says, checked and typed, before any
// combination is expanded. readMatrix reads it section by section (matrix-axes.ts,
// matrix-family.ts, matrix-combinations.ts, matrix-from.ts), collects every problem it
// finds and throws them together, each with the key path it concerns.

import { readAttest, readCache, readTopLabels, type AttestSettings, type CacheSettings } from "./matrix-build-settings.ts";
import { CalibanError, type KeyPath } from "./errors.ts";
import { readAxes } from "./matrix-axes.ts";
import { readFamilies } from "./matrix-family.ts";
import { MatrixReader } from "./matrix-reader.ts";
import { keysOf, TOP_LEVEL_SECTION } from "./matrix-schema.ts";
import { readPublish, type Publish } from "./matrix-publish.ts";
import { repositoryProblem } from "./names.ts";
import type { Template } from "./template.ts";
import type { KeysAsWritten } from "./toml.ts";

export interface AxisValue {
  readonly name: string;
  /** Attribute name → value, in declaration order; they become build args. */
  readonly attributes: ReadonlyMap<string, string>;
}

export interface Axis {
  readonly name: string;
  readonly values: readonly AxisValue[];
  /** Value name → its index in `values` (combinations are read and planned as indices). */
  readonly indexByName: ReadonlyMap<string, number>;
}

/** Where a family's build args come from, in order; a later arg of the same name overrides an earlier one. */
export type ArgSource =
  | { readonly kind: "axis"; readonly axis: string; readonly keyPath: KeyPath }
  | { readonly kind: "attribute"; readonly axis: string; readonly attribute: string; readonly keyPath: KeyPath }
  | { readonly kind: "template"; readonly name: string; readonly template: Template; readonly keyPath: KeyPath };

/**
 * A list of combinations (`combinations`, `include`, `exclude`), read: for each, the
 * index of its value on each axis of `matrix`, in order (ANY_VALUE where an exclude
 * pattern names none); combination i is at [i * axes, (i + 1) * axes). One typed array
 * rather than names per combination: a list of 100,000 would otherwise stay in memory
 * as 400,000 objects, which every garbage collection visits.
 */
export interface ValueIndices {
  readonly count: number;
  readonly indices: Int32Array;
}

/** A label: its value a template, or (revision) the commit the CI builds, set at build time. */
export interface LabelSource {
  readonly name: string;
  readonly template: Template;
  readonly revision: boolean;
  readonly keyPath: KeyPath;
}

export interface Family {
  readonly name: string;
  readonly keyPath: KeyPath;
  readonly description: string | undefined;
  readonly dockerfile: Template;
  readonly context: Template;
  readonly tag: Template;
  /** A smoke test (a shell command) run in each built image before it is pushed, or undefined. */
  readonly test: Template | undefined;
  /** The CI runner's labels (GitHub's `runs-on`), or undefined for the emitter's default. */
  readonly runner: readonly string[] | undefined;
  /** How many minutes an image's build may run before the CI stops it, or undefined for the emitter's default. */
  readonly timeout: number | undefined;
  /** More tag templates. */
  readonly aliases: readonly Template[];
  readonly labels: readonly LabelSource[];
  /** os/arch[/variant]; empty for the builder's own. */
  readonly platforms: readonly string[];
  /** A stage of the Dockerfile to build (template), or undefined for the last. */
  readonly target: Template | undefined;
  readonly axes: readonly string[];
  /** Explicit combinations replacing the cross product, or undefined for the product. */
  readonly combinations: ValueIndices | undefined;
  readonly include: ValueIndices;
  readonly exclude: ValueIndices;
  readonly args: readonly ArgSource[];
  readonly from: string | undefined;
  readonly fromArg: string;
  /** Build only the combinations whose base image exists (`skip_without_base`), instead of reporting the others. */
  readonly skipWithoutBase: boolean;
  /** True when an arg template names {from}, so no automatic `fromArg` is added. */
  readonly argsNameFrom: boolean;
  /** The arg whose value is exactly the base image's reference: `fromArg`, or an arg written "{from}". */
  readonly baseReferenceArg: string | undefined;
}

export interface Matrix {
  readonly file: string;
  readonly repository: string;
  readonly axes: ReadonlyMap<string, Axis>;
  readonly families: readonly Family[];
  /** Per-emitter settings from `[emit.NAME]`, checked against each emitter's options later. */
  readonly emit: Readonly<Record<string, Readonly<Record<string, unknown>>>>;
  readonly plugins: readonly string[];
  /**
   * `[outputs]`: emitter name → where `emit --all` writes its files, relative to the
   * matrix file's directory, a directory when it ends in '/'. `check` compares them.
   */
  readonly outputs: Readonly<Record<string, string>>;
  /** `[publish]`: when pipelines publish (core/matrix-publish.ts). */
  readonly publish: Publish;
  /** `[cache]`, undefined for none (core/matrix-build-settings.ts). */
  readonly cache: CacheSettings | undefined;
  readonly attest: AttestSettings;
}

const TOP_LEVEL_KEYS = keysOf(TOP_LEVEL_SECTION);

export function readMatrix(data: Record<string, unknown>, file: string, keysAsWritten: KeysAsWritten): Matrix {
  const reader = new MatrixReader(file, keysAsWritten);
  reader.knownKeys(data, TOP_LEVEL_KEYS, []);
  const repository = readRepository(reader, data.repository);
  const axes = readAxes(reader, data.axes);
  const labels = readTopLabels(reader, data.labels);
  const families = readFamilies(reader, data.images, axes).map((family) => (labels.length === 0 ? family : { ...family, labels: mergeLabels(labels, family.labels) }));
  const emit = readEmitSettings(reader, data.emit);
  const plugins = reader.stringList(data.plugins, ["plugins"]) ?? [];
  const outputs = readOutputs(reader, data.outputs);
  const publish = readPublish(reader, data.publish);
  const cache = readCache(reader, data.cache);
  const attest = readAttest(reader, data.attest);
  if (reader.diagnostics.length > 0) throw new CalibanError(reader.diagnostics);
  return { file, repository, axes, families, emit, plugins, outputs, publish, cache, attest };
}

/** Every image's labels, then the family's: a family's label of the same name replaces the other, in its place. */
function mergeLabels(top: readonly LabelSource[], own: readonly LabelSource[]): LabelSource[] {
  const merged = [...top];
  for (const label of own) {
    const at = merged.findIndex((other) => other.name === label.name);
    if (at >= 0) merged[at] = label;
    else merged.push(label);
  }
  return merged;
}

/** `[outputs]`: each a path below the matrix file's directory, so `emit --all` writes nothing elsewhere. */
function readOutputs(reader: MatrixReader, value: unknown): Record<string, string> {
  if (value === undefined) return {};
  const table = reader.table(value, ["outputs"], '[outputs] maps an emitter to the path it is written to, e.g. make = "Makefile"');
  const outputs: Record<string, string> = {};
  const claimed = new Map<string, string>();
  for (const [name, path] of Object.entries(table ?? {})) {
    const text = reader.string(path, ["outputs", name]);
    if (text === undefined) continue;
    const problem = outputPathProblem(text);
    if (problem) {
      reader.report("INVALID_VALUE", ["outputs", name], `outputs.${name} = ${JSON.stringify(text)} ${problem}`, 'a path relative to the matrix file\'s directory, such as "Makefile" or "ci/cloudbuild/"');
      continue;
    }
    const normal = normalOutputPath(text);
    const other = claimed.get(normal);
    if (other !== undefined) {
      reader.report("DUPLICATE", ["outputs", name], `outputs.${name} and outputs.${other} are both ${JSON.stringify(text)}`, "give each emitter its own file");
      continue;
    }
    claimed.set(normal, name);
    outputs[name] = text;
  }
  return outputs;
}

function outputPathProblem(path: string): string | undefined {
  const normal = normalOutputPath(path);
  if (normal === "" || normal === "/") return "names no file";
  if (path.startsWith("/")) return "is absolute";
  if (path.split("/").includes("..")) return "leaves the matrix file's directory ('..')";
  if (/[\u0000-\u001f\u007f\\]/.test(path)) return "holds a control character or a backslash";
  return undefined;
}

/** An output path without './' segments or doubled slashes; a directory keeps its final '/'. */
export function normalOutputPath(path: string): string {
  const directory = path.endsWith("/");
  const segments = path.split("/").filter((segment) => segment !== "" && segment !== ".");
  return segments.join("/") + (directory ? "/" : "");
}

function readRepository(reader: MatrixReader, value: unknown): string {
  if (value === undefined) {
    reader.report("MISSING_KEY", [], "`repository` is missing", 'add repository = "gcr.io/my-project/images" at the top');
    return "";
  }
  const repository = reader.string(value, ["repository"]);
  if (repository === undefined) return "";
  const problem = repositoryProblem(repository);
  if (problem) reader.report("INVALID_VALUE", ["repository"], `"${repository}" ${problem}`);
  return repository;
}

/** `[emit.NAME]` tables, checked against each emitter's options later (the emitter may be a plugin). */
function readEmitSettings(reader: MatrixReader, value: unknown): Record<string, Record<string, unknown>> {
  if (value === undefined) return {};
  const table = reader.table(value, ["emit"]);
  const settings: Record<string, Record<string, unknown>> = {};
  for (const [name, options] of Object.entries(table ?? {})) {
    const optionsTable = reader.table(options, ["emit", name], `[emit.${name}] holds that emitter's options, e.g. timeout = "3600s"`);
    if (optionsTable) settings[name] = optionsTable;
  }
  return settings;
}
