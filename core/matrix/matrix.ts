// The matrix file's model: what `matrix.toml` says, checked and typed, before any
// combination is expanded. readMatrix reads it section by section (matrix-axes.ts,
// matrix-family.ts, matrix-combinations.ts, matrix-from.ts), collects every problem it
// finds and throws them together, each with the key path it concerns.

import { readAttest, readCache, readTopLabels } from "./matrix-build-settings.ts";
import { CalibanError } from "../errors.ts";
import { readAxes } from "./matrix-axes.ts";
import { readFamilies } from "./matrix-family.ts";
import { readSets } from "./matrix-sets.ts";
import { MatrixReader } from "./matrix-reader.ts";
import { keysOf, TOP_LEVEL_SECTION } from "./matrix-schema.ts";
import { readPublish } from "./matrix-publish.ts";
import { readSign } from "./matrix-sign.ts";
import { mergeByName, readAnnotations } from "./matrix-annotations.ts";
import { NO_VARIABLES, readVars, type GivenVariables } from "./matrix-vars.ts";
import { repositoryProblem } from "../names.ts";
import type { KeysAsWritten } from "./toml.ts";

export type { ArgSource, Axis, AxisValue, AttestSettings, CacheSettings, Family, LabelSource, Matrix, ValueIndices, Variable } from "./matrix-types.ts";
export type { GivenVariables } from "./matrix-vars.ts";
import type { Matrix } from "./matrix-types.ts";

const TOP_LEVEL_KEYS = keysOf(TOP_LEVEL_SECTION);

export function readMatrix(data: Record<string, unknown>, file: string, keysAsWritten: KeysAsWritten, given: GivenVariables = NO_VARIABLES): Matrix {
  const reader = new MatrixReader(file, keysAsWritten);
  reader.knownKeys(data, TOP_LEVEL_KEYS, []);
  const repository = readRepository(reader, data.repository);
  // First: every template is filled in with their values as it is read.
  const variables = readVars(reader, data.vars, given);
  const axes = readAxes(reader, data.axes);
  const labels = readTopLabels(reader, data.labels);
  const annotations = readAnnotations(reader, data.annotations, ["annotations"]);
  const families = readFamilies(reader, data.images, axes, readSets(reader, data.sets, axes))
    .map((family) => (labels.length === 0 ? family : { ...family, labels: mergeByName(labels, family.labels) }))
    .map((family) => (annotations.length === 0 ? family : { ...family, annotations: mergeByName(annotations, family.annotations) }));
  const emit = readEmitSettings(reader, data.emit);
  const plugins = reader.stringList(data.plugins, ["plugins"]) ?? [];
  const outputs = readOutputs(reader, data.outputs);
  const publish = readPublish(reader, data.publish);
  const cache = readCache(reader, data.cache);
  const attest = readAttest(reader, data.attest);
  const sign = readSign(reader, data.sign);
  if (reader.diagnostics.length > 0) throw new CalibanError(reader.diagnostics);
  return { file, repository, axes, families, emit, plugins, outputs, publish, cache, attest, sign, variables };
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
