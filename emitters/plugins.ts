// Plugin emitters: a user's .ts or .js module whose default export is an emitter or a
// list of them, loaded at run time (also by the compiled binary, from any directory,
// with no node_modules). A plugin goes through the same door as a built-in: its shape
// and option spec are checked on load, its options before it runs, its output after.
// Every way a plugin can fail is the user's to fix, and the error names the file.

import { CalibanError, didYouMean, type Diagnostic } from "../core/errors.ts";
import { CONTROL_CHARACTER, describeControlCharacter, NAME_PATTERN, NAME_RULE } from "../core/names.ts";
import type { EmittedFile, Emitter, OptionSpec } from "./contract.ts";

/** An emitter and where it came from: undefined for a built-in, else the plugin file. */
export interface RegisteredEmitter {
  readonly emitter: Emitter<any>;
  readonly source: string | undefined;
}

export interface PluginReference {
  /** As the user wrote it. */
  readonly path: string;
  /** The directory a relative path is resolved from (the cwd, or the matrix's folder). */
  readonly base: string;
  /** Where it was named, for messages: "--plugin" or the matrix file. */
  readonly namedIn: string;
}

const OPTION_TYPES = ["string", "number", "boolean"];

export async function loadPlugins(references: readonly PluginReference[]): Promise<RegisteredEmitter[]> {
  const loaded: RegisteredEmitter[] = [];
  if (references.length === 0) return loaded;
  // Loaded only when there are plugins: node:path costs half a millisecond of every run.
  const { isAbsolute, resolve }: typeof import("node:path") = require("node:path");
  const seen = new Set<string>();
  for (const reference of references) {
    const file = isAbsolute(reference.path) ? reference.path : resolve(reference.base, reference.path);
    if (seen.has(file)) continue;
    seen.add(file);
    for (const emitter of await loadPlugin(reference, file)) loaded.push({ emitter, source: reference.path });
  }
  return loaded;
}

async function loadPlugin(reference: PluginReference, file: string): Promise<Emitter<any>[]> {
  const fail = (message: string, hint?: string): never => {
    throw new CalibanError({ code: "PLUGIN", message: `plugin ${reference.path}: ${message}`, ...(hint ? { hint } : {}) });
  };
  const { statSync }: typeof import("node:fs") = require("node:fs");
  let stats;
  try {
    stats = statSync(file);
  } catch {
    fail(`no such file (named in ${reference.namedIn}${reference.namedIn === "--plugin" ? "" : `, relative to ${reference.base}`})`);
  }
  if (!stats!.isFile()) fail("is not a file");
  if (!/\.(ts|js|mjs|mts|cjs|cts)$/.test(file)) fail("is not a .ts or .js module");

  let module: Record<string, unknown>;
  try {
    // node:url costs milliseconds to load: only when there is a plugin to import.
    const { pathToFileURL } = await import("node:url");
    module = await import(pathToFileURL(file).href);
  } catch (error) {
    return fail(`failed to load: ${describeThrown(error)}`, "fix the module; it is run as it is imported");
  }
  if (!("default" in module) || module.default === undefined) {
    fail("has no default export", "end the module with `export default emitter` (or a list of emitters)");
  }
  const exported = Array.isArray(module.default) ? module.default : [module.default];
  if (exported.length === 0) fail("exports an empty list of emitters");
  return exported.map((candidate, index) => checkEmitterShape(candidate, exported.length > 1 ? `emitter ${index + 1}` : "the default export", fail));
}

function checkEmitterShape(candidate: unknown, what: string, fail: (message: string, hint?: string) => never): Emitter<any> {
  if (typeof candidate !== "object" || candidate === null) fail(`${what} is not an emitter object`, "an emitter is { name, description, options, emit }");
  const emitter = candidate as Record<string, unknown>;
  if (typeof emitter.name !== "string") fail(`${what} has no \`name\``, "add name: \"my-ci\"");
  const name = emitter.name as string;
  if (!NAME_PATTERN.test(name)) fail(`emitter name "${name}" is not valid`, `use ${NAME_RULE}`);
  if (typeof emitter.emit !== "function") fail(`emitter "${name}" has no \`emit\` function`, "add emit(graph, options, context) { return [{ path, contents }] }");
  if (emitter.description !== undefined && typeof emitter.description !== "string") fail(`emitter "${name}": \`description\` is not a string`);
  const options = emitter.options ?? {};
  if (typeof options !== "object" || options === null || Array.isArray(options)) fail(`emitter "${name}": \`options\` is not an object of option specs`);
  for (const [option, spec] of Object.entries(options as Record<string, OptionSpec>)) {
    const where = `emitter "${name}", option "${option}"`;
    if (!OPTION_TYPES.includes(spec?.type)) fail(`${where}: \`type\` must be "string", "number" or "boolean"`);
    if (spec.default !== undefined && typeof spec.default !== spec.type) fail(`${where}: the default ${JSON.stringify(spec.default)} is not a ${spec.type}`);
    if (spec.choices !== undefined && (!Array.isArray(spec.choices) || spec.type !== "string")) fail(`${where}: \`choices\` is a list of strings, for a string option`);
  }
  return { description: "", ...(emitter as object), options } as Emitter<any>;
}

/** Built-ins first, then plugins in the order given; a name used twice is an error naming both. */
export function registerEmitters(builtins: readonly Emitter<any>[], plugins: readonly RegisteredEmitter[]): RegisteredEmitter[] {
  const registry: RegisteredEmitter[] = builtins.map((emitter) => ({ emitter, source: undefined }));
  const diagnostics: Diagnostic[] = [];
  for (const plugin of plugins) {
    const clash = registry.find((r) => r.emitter.name === plugin.emitter.name);
    if (clash) {
      diagnostics.push({
        code: "PLUGIN",
        message: `plugin ${plugin.source}: an emitter named "${plugin.emitter.name}" is already ${clash.source ? `defined by plugin ${clash.source}` : "built in"}`,
        hint: "give the plugin's emitter another name",
      });
    } else registry.push(plugin);
  }
  if (diagnostics.length > 0) throw new CalibanError(diagnostics);
  return registry;
}

export function findEmitter(registry: readonly RegisteredEmitter[], name: string): RegisteredEmitter {
  const found = registry.find((r) => r.emitter.name === name);
  if (found) return found;
  throw new CalibanError({
    code: "EMITTER",
    message: `unknown emitter "${name}"`,
    hint: didYouMean(name, registry.map((r) => r.emitter.name)) ?? "see caliban-images emitters; a plugin emitter needs --plugin FILE or `plugins` in the matrix",
  });
}

/** Runs `emit` and checks what came back; a plugin's throw or bad output is reported against its file. */
export function callEmit(registered: RegisteredEmitter, run: () => readonly EmittedFile[]): readonly EmittedFile[] {
  const who = registered.source ? `plugin ${registered.source}: emitter "${registered.emitter.name}"` : `emitter "${registered.emitter.name}"`;
  let files: unknown;
  try {
    files = run();
  } catch (error) {
    if (error instanceof CalibanError) throw error;
    if (!registered.source) throw error; // a built-in's throw is our bug: let it surface as one
    throw new CalibanError({ code: "PLUGIN", message: `${who} failed: ${describeThrown(error)}` });
  }
  const problem = outputProblem(files);
  if (problem) throw new CalibanError({ code: "PLUGIN", message: `${who} returned ${problem}`, hint: "emit must return an array of { path, contents } with string values" });
  if (!registered.source) return files as EmittedFile[];
  // A plugin's chunks are made as they are written: a throw then is the plugin's too.
  return (files as EmittedFile[]).map((file) => (typeof file.contents === "string" ? file : { ...file, contents: guarded(file.contents, who) }));
}

function guarded(contents: Iterable<string>, who: string): Iterable<string> {
  return {
    *[Symbol.iterator]() {
      try {
        yield* contents;
      } catch (error) {
        if (error instanceof CalibanError) throw error;
        throw new CalibanError({ code: "PLUGIN", message: `${who} failed while its output was written: ${describeThrown(error)}`, hint: "nothing was written to a file; stdout may hold part of the output" });
      }
    },
  };
}

function outputProblem(files: unknown): string | undefined {
  if (files instanceof Promise) return "a Promise: emit must be synchronous";
  if (!Array.isArray(files)) return `${describeValue(files)}, not an array of files`;
  if (files.length === 0) return "no files";
  const paths = new Set<string>();
  for (const [index, file] of files.entries()) {
    if (typeof file !== "object" || file === null) return `${describeValue(file)} as file ${index + 1}`;
    const { path, contents } = file as Record<string, unknown>;
    if (typeof path !== "string" || path === "") return `a file ${index + 1} with no \`path\` string`;
    if (CONTROL_CHARACTER.test(path)) return `the path ${JSON.stringify(path)}, which holds ${describeControlCharacter(path)}`;
    const iterable = typeof contents === "object" && contents !== null && Symbol.iterator in contents;
    if (typeof contents !== "string" && !iterable) return `file "${path}" whose \`contents\` is ${describeValue(contents)}, not a string`;
    const { companion } = file as Record<string, unknown>;
    if (companion !== undefined && typeof companion !== "boolean") return `file "${path}" whose \`companion\` is ${describeValue(companion)}, not a boolean`;
    if (paths.has(path)) return `the path "${path}" twice`;
    paths.add(path);
  }
  if (files.every((file) => (file as { companion?: unknown }).companion === true)) return "only companion files: one at least must be written wherever the output goes";
  return undefined;
}

export function describeThrown(error: unknown): string {
  if (error instanceof Error) return `${error.name === "Error" ? "" : `${error.name}: `}${error.message}`;
  return String(error);
}

function describeValue(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  return typeof value === "object" ? "an object" : `a ${typeof value}`;
}
