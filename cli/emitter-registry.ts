// The emitters a command can use: the built-ins and the plugins --plugin and the matrix's
// `plugins` name. Its own module, so that a command that emits nothing (plan, resolve,
// affected, explain) does not load every emitter at its start.

import { builtinEmitters } from "../emitters/index.ts";
import { loadPlugins, registerEmitters, type PluginReference, type RegisteredEmitter } from "../emitters/plugins.ts";
import { stringList, type Options } from "./load-graph.ts";
import type { MatrixSource } from "./matrix-source.ts";

/** Built-in emitters plus plugins from --plugin (relative to the cwd) and the matrix's `plugins` (relative to it). */
export async function emitterRegistry(options: Options, matrix: { source: MatrixSource; plugins: readonly string[] } | undefined): Promise<RegisteredEmitter[]> {
  const references: PluginReference[] = stringList(options.plugin).map((path) => ({ path, base: process.cwd(), namedIn: "--plugin" }));
  if (matrix && matrix.source.directory !== undefined) {
    for (const path of matrix.plugins) references.push({ path, base: matrix.source.directory, namedIn: matrix.source.file });
  }
  return registerEmitters(builtinEmitters, await loadPlugins(references));
}
