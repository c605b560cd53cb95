// `emit --all` writes every output the matrix's [outputs] lists, where it says, all or
// none; `check` writes nothing and says which are not what `emit --all` would write (exit 3).

import { CalibanError, fail } from "../core/errors.ts";
import { located } from "../core/load.ts";
import { normalOutputPath } from "../core/matrix/matrix.ts";
import { displayName } from "../core/printable.ts";
import { findEmitter } from "../emitters/plugins.ts";
import { emitLoaded, pipelineDefaults } from "./emit.ts";
import type { WriteMode } from "./file-set.ts";
import { emitterRegistry } from "./emitter-registry.ts";
import { loadGraph, type Options, type Planned } from "./load-graph.ts";
import { matrixPathOf } from "./matrix-source.ts";
import { mainFiles, outputDestinations, writeOutputGroups, type OutputGroup } from "./output.ts";
import type { Io } from "./terminal.ts";

/** Exit status of `check` when an output is stale or missing (1 is a bug of ours, 2 bad input). */
export const EXIT_STALE = 3;

/**
 * `emit --all` writes each output the matrix's [outputs] lists, relative to the matrix
 * file's directory, all or none; `check` writes nothing and says which are not what it
 * would write. `writing` "create" (init) replaces no file that is there.
 */
export async function emitAll(args: readonly string[], options: Options, io: Io, mode: "write" | "check", writing: WriteMode = "replace"): Promise<number> {
  const command = mode === "write" ? "emit --all" : "check";
  if (args.length > 0) fail("USAGE", `${command} takes no emitter name: it writes what [outputs] lists`, { hint: `run caliban-images emit ${args[0]} for one emitter` });
  for (const flag of ["output", "since", "changed", "option", "format"] as const) {
    if (options[flag] !== undefined && options[flag] !== false) fail("USAGE", `${command} does not take --${flag === "output" ? "output (-o)" : flag}: [outputs] and [emit.NAME] say what it writes`);
  }
  const planned = await loadGraph(options, io);
  const { loaded, source } = planned;
  if (source.directory === undefined || Object.keys(loaded.matrix.outputs).length === 0) {
    fail("USAGE", `${displayName(loaded.matrix.file)} lists no [outputs]`, { hint: 'add, e.g., [outputs] with make = "Makefile" and github = ".github/workflows/images.yml"' });
  }
  // check writes nothing and says only what is stale: the warnings are emit --all's.
  const groups = await outputGroups(planned, options, mode === "write" ? io : undefined);
  if (mode === "write") {
    const results = await writeOutputGroups(groups, io, { base: source.directory, mode: writing });
    // Each file said as it stands, so that a run shows what to commit (and that nothing moved);
    // init ("create") lists what it made itself, its own files with them.
    if (writing === "replace") io.stderr(results.map(({ destination, wrote }) => `${wrote ? "wrote    " : "unchanged"} ${displayName(shownPath(destination))}\n`).join(""));
    return 0;
  }
  const stale: string[] = [];
  const files = outputDestinations(groups, source.directory);
  for (const file of files) {
    const expected = typeof file.contents === "string" ? file.contents : [...file.contents].join("");
    const present = readIfFile(file.path);
    if (present === undefined) stale.push(`missing  ${file.path}`);
    else if (present !== expected) stale.push(`stale    ${file.path}`);
  }
  if (stale.length === 0) {
    io.stderr(`${files.length} output files are up to date\n`);
    return 0;
  }
  io.stdout(stale.map((line) => `${line}\n`).join(""));
  // Outputs emitted with --var are compared with what those values write: check needs them too.
  const values = loaded.matrix.variables.length > 0 ? " (with the --var values they were emitted with, given to check too)" : "";
  io.stderr(`${stale.length} of ${files.length} output files are not what \`caliban-images emit --all\`${values} writes: run it, and commit what it writes\n`);
  return EXIT_STALE;
}

/**
 * Each output [outputs] lists, emitted from `planned` (its graph may be planned with a
 * new lock: cli/lock.ts), and where it goes. With `io`, the emitters' warnings go to it.
 */
export async function outputGroups(planned: Planned, options: Options, io: Io | undefined): Promise<OutputGroup[]> {
  const { loaded, graph, source } = planned;
  const directory = source.directory ?? ".";
  const registry = await emitterRegistry(options, { source, plugins: loaded.matrix.plugins });
  const groups: OutputGroup[] = [];
  for (const [name, path] of Object.entries(loaded.matrix.outputs)) {
    const registered = located(loaded.document, () => {
      try {
        return findEmitter(registry, name);
      } catch (error) {
        if (!(error instanceof CalibanError)) throw error;
        throw new CalibanError(error.diagnostics.map((d) => ({ ...d, file: loaded.matrix.file, keyPath: ["outputs", name] })));
      }
    });
    // A workflow names its own path in its triggers: the path [outputs] gives it, unless [emit.NAME] sets one.
    const ownPath = !path.endsWith("/") && "output" in registered.emitter.options && !(loaded.matrix.emit[name] && "output" in loaded.matrix.emit[name]!) ? [`output=${normalOutputPath(path)}`] : [];
    const target = directory === "." ? path : `${directory}/${path}`;
    const defaults = await pipelineDefaults(registered, { loaded, graph, source }, ownPath, path.endsWith("/") ? target : undefined);
    const warn = io === undefined ? undefined : (message: string) => io.stderr(`warning: emit ${name}: ${message}\n`);
    const files = emitLoaded(registered, loaded, graph, [...defaults, ...ownPath], matrixPathOf(source), undefined, warn);
    const producer = registered.source ? `plugin ${registered.source}: emitter "${name}"` : `emit ${name}`;
    // A split pipeline (Cloud Build's configs, GitLab's children, Buildkite's parts) is several files: [outputs] must name a folder, said at its line.
    const written = mainFiles(files);
    if (!path.endsWith("/") && written.length > 1) {
      // Not the matrix's own folder: every file in an [outputs] folder is left out of the build contexts' digests.
      const suggested = `${path.replace(/(?<=[^/])\.[^./]*$/, "").replace(/^\.(?=[^./])/, "")}/`;
      located(loaded.document, () =>
        fail("USAGE", `[outputs] ${name} = "${path}" names a file, but ${producer} writes ${written.length} files for this graph: ${written.map((file) => file.path).slice(0, 3).join(", ")}${written.length > 3 ? ", ..." : ""}`, {
          file: loaded.matrix.file,
          keyPath: ["outputs", name],
          hint: `name a folder that holds only what it writes, e.g. ${name} = "${suggested}"; nothing was written`,
        }),
      );
    }
    groups.push({ files, target, producer });
  }
  return groups;
}

/** A path as the user would type it from here: relative to the current folder. */
function shownPath(destination: string): string {
  const { relative } = require("node:path") as typeof import("node:path");
  return relative(process.cwd(), destination) || destination;
}

/** A file's text, or undefined when there is no regular file there (a FIFO is not opened to wait for a writer). */
function readIfFile(path: string): string | undefined {
  const fs: typeof import("node:fs") = require("node:fs");
  let fd: number;
  try {
    fd = fs.openSync(path, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
  } catch {
    return undefined;
  }
  try {
    return fs.fstatSync(fd).isFile() ? fs.readFileSync(fd, "utf8") : undefined;
  } catch {
    return undefined;
  } finally {
    fs.closeSync(fd);
  }
}
