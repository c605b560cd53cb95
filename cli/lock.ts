// `caliban-images lock`: ask each external base image's registry for its digest now, and
// write the lock file beside the matrix (core/changes/lock.ts). Run on a schedule, it is what
// turns "the upstream image moved" into a changed file, and so into a rebuild of exactly
// the images built FROM it.

import { join } from "node:path";
import { CalibanError, fail, formatDiagnostic, type Diagnostic } from "../core/errors.ts";
import type { SourceTree } from "../core/changes/inputs.ts";
import { externalImages, lockFileName, lockText, readLock, type ExternalImage } from "../core/changes/lock.ts";
import { displayName } from "../core/printable.ts";
import { planLoaded } from "../core/load.ts";
import { EXIT_STALE, outputGroups } from "./emit-all.ts";
import { loadGraph, stringList, type Options, type Planned } from "./load-graph.ts";
import { writeOutputGroups, type OutputGroup } from "./output.ts";
import { eachAtOnce, Registry } from "./registry.ts";
import type { Io } from "./terminal.ts";
import { WorkingTree } from "./working-tree.ts";

export async function lockCommand(options: Options, io: Io): Promise<number> {
  const planned = await loadGraph(options, io, { lock: false });
  const { source, loaded } = planned;
  if (source.directory === undefined) {
    fail("USAGE", "the embedded matrix has no Dockerfiles to lock", { hint: "run it where a matrix.toml is, or pass --matrix FILE" });
  }
  const externals = externalImages(planned.graph, planned.digester);
  for (const external of externals) if (!external.pinnable) io.stderr(`warning: ${unpinnableWarning(external)}\n`);
  const registry = new Registry({ insecure: stringList(options.insecureRegistry) });
  const digests = await resolveAll(externals, registry);
  const file = lockFileName(source.file);
  const path = join(source.directory, file);
  const previous = previousDigests(planned.sources, source.file, io);
  const changes = describeChanges(previous, digests);
  for (const line of changes) io.stderr(`${line}\n`);
  const summary = `${digests.size} external base image${digests.size === 1 ? "" : "s"} in ${displayName(path)}`;
  if (options.check) {
    if (changes.length === 0) {
      io.stderr(`${summary}: none moved\n`);
      return 0;
    }
    io.stderr(`${summary}: ${changes.length} to update (caliban-images lock writes them)\n`);
    return EXIT_STALE;
  }
  const text = lockText(digests);
  const groups: OutputGroup[] = [{ files: [{ path: file, contents: text }], target: path, producer: "lock", exact: true }];
  const outputs = Object.keys(loaded.matrix.outputs).length > 0;
  // The committed outputs name the locked digests: emitted from the new lock and written with it, all or none, `check` still passes.
  if (outputs) groups.push(...(await outputGroups(withNewLock(planned, file, text), { plugin: options.plugin }, io)));
  await writeOutputGroups(groups, io, { base: source.directory });
  io.stderr(
    changes.length === 0
      ? `${summary}: none moved\n`
      : `${summary}: ${changes.length} changed; the images built FROM them have new inputs${outputs ? "" : " (emit your pipeline's files again: they name the digests)"}\n`,
  );
  return 0;
}

/** The matrix planned as it will be once the lock file holds `text`: nothing is written for it. */
function withNewLock(planned: Planned, file: string, text: string): Planned {
  const bytes = new TextEncoder().encode(text);
  const disk = planned.sources;
  const sources: SourceTree = {
    readFile: (path) => (path === file ? bytes : disk.readFile(path)),
    listFiles: (directory, skip) => disk.listFiles(directory, skip),
    digests: (directory, files) => disk.digests(directory, files),
  };
  const graph = planLoaded(planned.loaded, { sources, ...(disk instanceof WorkingTree ? { checkPaths: disk } : {}) });
  return { ...planned, graph, sources };
}

/** Each reference's digest, a few at a time; every failure is reported, together. */
async function resolveAll(externals: readonly ExternalImage[], registry: Registry): Promise<Map<string, string>> {
  const failures: Diagnostic[] = [];
  const results = await eachAtOnce(externals, async (external) => {
    try {
      return await registry.digest(external.reference);
    } catch (error) {
      if (!(error instanceof CalibanError)) throw error;
      failures.push(...error.diagnostics.map((d) => ({ ...d, message: `FROM ${d.message}`, file: external.dockerfile, line: external.line, column: 1 })));
      return undefined;
    }
  });
  if (failures.length > 0) throw new CalibanError(failures);
  return new Map(externals.map((external, index) => [external.reference, results[index]!]));
}

/** The digests the lock file has now; one that cannot be read is written anew. */
function previousDigests(sources: SourceTree, matrixFile: string, io: Io): ReadonlyMap<string, string> {
  try {
    return readLock(sources, matrixFile)?.digests ?? new Map();
  } catch (error) {
    if (!(error instanceof CalibanError)) throw error;
    io.stderr(`warning: ${formatDiagnostic(error.diagnostics[0]!)}: writing it anew\n`);
    return new Map();
  }
}

/** What a new lock changes: moved, added and dropped references, in the new order, then the dropped. */
function describeChanges(previous: ReadonlyMap<string, string>, digests: ReadonlyMap<string, string>): string[] {
  const lines: string[] = [];
  for (const [reference, digest] of digests) {
    const before = previous.get(reference);
    if (before === undefined) lines.push(`locked ${reference} at ${digest}`);
    else if (before !== digest) lines.push(`moved  ${reference}: ${before} -> ${digest}`);
  }
  for (const reference of previous.keys()) if (!digests.has(reference)) lines.push(`dropped ${reference} (no Dockerfile builds FROM it now)`);
  return lines;
}

function unpinnableWarning(external: ExternalImage): string {
  return (
    `${displayName(external.dockerfile)}:${external.line}: FROM ${external.reference} is not one build arg, so builds pull its tag; ` +
    "its locked digest is still part of the inputs, so a move rebuilds what builds FROM it. " +
    `To pull exactly the locked image, write it as ARG BASE_IMAGE=${external.reference} and FROM $BASE_IMAGE`
  );
}
