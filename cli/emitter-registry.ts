// The emitters a command can use: the built-ins and the plugins --plugin and the matrix's
// `plugins` name. Its own module, so that a command that emits nothing (plan, resolve,
// affected, explain) does not load every emitter at its start.

import { CalibanError, type Diagnostic } from "../core/errors.ts";
import { located } from "../core/load.ts";
import { displayName } from "../core/printable.ts";
import { builtinEmitters } from "../emitters/index.ts";
import { resolveOptions } from "../emitters/options.ts";
import { loadPlugins, registerEmitters, type PluginReference, type RegisteredEmitter } from "../emitters/plugins.ts";
import { stringList, type Options, type Planned } from "./load-graph.ts";
import type { MatrixSource } from "./matrix-source.ts";

/** Built-in emitters plus plugins from --plugin (relative to the cwd) and the matrix's `plugins` (relative to it). */
export async function emitterRegistry(options: Options, matrix: { source: MatrixSource; plugins: readonly string[] } | undefined): Promise<RegisteredEmitter[]> {
  const references: PluginReference[] = stringList(options.plugin).map((path) => ({ path, base: process.cwd(), namedIn: "--plugin" }));
  if (matrix && matrix.source.directory !== undefined) {
    for (const path of matrix.plugins) references.push({ path, base: matrix.source.directory, namedIn: matrix.source.file });
  }
  return registerEmitters(builtinEmitters, await loadPlugins(references));
}

/**
 * The matrix's [emit.NAME] tables checked as `emit NAME` checks them (an unknown option, a
 * wrong type or value, at its line), so that `plan` does not pass a matrix `emit` refuses;
 * a table no emitter answers to is a warning, as for emit.
 */
export async function checkEmitSettings(options: Options, planned: Pick<Planned, "loaded" | "source">, warn: (line: string) => void): Promise<void> {
  const { loaded, source } = planned;
  const tables = Object.entries(loaded.matrix.emit);
  if (tables.length === 0) return;
  const registry = await emitterRegistry(options, { source, plugins: loaded.matrix.plugins });
  warnOfUnknownTables(registry, loaded.matrix, warn);
  const diagnostics: Diagnostic[] = [];
  for (const [name, values] of tables) {
    const registered = registry.find((candidate) => candidate.emitter.name === name);
    if (registered === undefined) continue;
    try {
      located(loaded.document, () => resolveOptions(registered.emitter, { fromMatrix: { file: loaded.matrix.file, values } }));
    } catch (error) {
      if (!(error instanceof CalibanError)) throw error;
      diagnostics.push(...error.diagnostics);
    }
  }
  if (diagnostics.length > 0) throw new CalibanError(diagnostics);
}

/** Each [emit.NAME] table no emitter of the registry answers to: a warning (a misspelled name configures nothing). */
export function warnOfUnknownTables(registry: readonly RegisteredEmitter[], matrix: { readonly file: string; readonly emit: Readonly<Record<string, unknown>> }, warn: (line: string) => void): void {
  for (const name of Object.keys(matrix.emit)) {
    if (!registry.some((registered) => registered.emitter.name === name)) warn(`${displayName(matrix.file)}: [emit.${name}] configures no known emitter`);
  }
}
