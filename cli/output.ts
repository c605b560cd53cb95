// Writing what an emitter returned, as it comes (an emitter may yield chunks, so a
// large output is never one giant string). The files of a command are written all or
// none (cli/file-set.ts): each to a temporary file beside its target, and nothing is
// renamed into place until every file has been written and every target checked
// (cli/output-targets.ts: no link out of the repository, no .git/, no two outputs on
// one file). node:fs is loaded only here, to write files (-o), which needs rename.

import { fail } from "../core/errors.ts";
import type { EmittedFile } from "../emitters/contract.ts";
import { discard, existingKind, newScratch, NOTHING_WRITTEN, writeError, writeFileSet, type WriteMode, type WriteResult } from "./file-set.ts";
import { checkedDestination, destinationsOf, repositoryOf, type PlacedFile, type Repository } from "./output-targets.ts";
import { batches, writeText } from "./replace-file.ts";
import { writeTo, type Io } from "./terminal.ts";

type NodeFs = typeof import("node:fs");
type NodePath = typeof import("node:path");

/** The files of one command or one [outputs] entry, and where they go (-o's rules: placeFiles). */
export interface OutputGroup {
  readonly files: readonly EmittedFile[];
  readonly target: string;
  /** What made the files, as a message names it ("emit cloudbuild"). */
  readonly producer: string;
  /** `target` is the file itself, even where a folder of that name is (the lock file). */
  readonly exact?: boolean;
}

export interface WriteOptions {
  /** The folder whose repository no link may lead a file out of: the matrix file's; default the current one. */
  readonly base?: string;
  readonly mode?: WriteMode;
}

/** `producer` names what made the files in a message about them ("emit cloudbuild"). */
export async function writeOutputs(files: readonly EmittedFile[], target: string | undefined, io: Io, producer = "this command"): Promise<void> {
  if (target === undefined) {
    const main = mainFiles(files);
    if (main.length !== 1) fail("USAGE", `this output is ${main.length} files; pass -o DIRECTORY to write them`);
    // Messages already on stderr go out first, so a log reads in order.
    await io.flushed();
    for (const batch of batches(main[0]!.contents)) await writeTo(Bun.stdout, batch);
    return;
  }
  await writeFiles([{ files, target, producer }], io, {}, true);
}

/**
 * Every file of every group, or none (`lock` with its outputs, `emit --all`): each is
 * written beside its target first, and all are renamed into place together
 * (cli/file-set.ts). Two groups that land on one file are refused before any is written.
 */
export async function writeOutputGroups(groups: readonly OutputGroup[], io: Io, options: WriteOptions = {}): Promise<WriteResult[]> {
  return writeFiles(groups, io, options, false);
}

/** Each file as written (or left as it was); none for a stream (-o /dev/stdout, a FIFO), which is written into. */
async function writeFiles(groups: readonly OutputGroup[], io: Io, options: WriteOptions, streams: boolean): Promise<WriteResult[]> {
  const fs: NodeFs = require("node:fs");
  const path: NodePath = require("node:path");
  const placed = groups.flatMap((group) => placeFiles(group, fs, path));
  const scratch = newScratch();
  const onSignal = (signal: keyof typeof SIGNAL_NUMBERS) => {
    // Interrupted (Ctrl-C, a CI job cancelled): no temporary file is left behind, and no target was replaced.
    discard(fs, scratch);
    process.exit(128 + SIGNAL_NUMBERS[signal]);
  };
  const signals = Object.keys(SIGNAL_NUMBERS) as (keyof typeof SIGNAL_NUMBERS)[];
  try {
    const repository = repositoryOf(fs, path, options.base ?? ".");
    // -o /dev/null, -o /dev/stdout, a FIFO: written into as `>` would, never replaced by a regular file.
    const streamed = streams && placed.length === 1 ? streamTarget(fs, path, placed[0]!, repository) : undefined;
    if (streamed !== undefined) {
      // Messages already on stderr go out first, so a log reads in order.
      if (!streamed.opened) await io.flushed();
      await writeStream(fs, streamed, placed[0]!.contents);
      return [];
    }
    const destinations = destinationsOf(fs, path, placed, repository);
    for (const signal of signals) process.on(signal, onSignal);
    return await writeFileSet(fs, path, destinations, options.mode ?? "replace", scratch);
  } catch (error) {
    discard(fs, scratch);
    throw writeError(error, groups[0]?.target, NOTHING_WRITTEN);
  } finally {
    for (const signal of signals) process.off(signal, onSignal);
  }
}

/** The signals that stop a run with its files half written, and their numbers (the exit status is 128 + it, as a shell gives). */
const SIGNAL_NUMBERS = { SIGHUP: 1, SIGINT: 2, SIGTERM: 15 } as const;

/**
 * Where `writeOutputs(files, target)` would put each file, with what: for `check`,
 * which compares them with what is there and writes nothing.
 */
export function plannedOutputs(files: readonly EmittedFile[], target: string, producer: string): { path: string; contents: string | Iterable<string> }[] {
  const fs: NodeFs = require("node:fs");
  const path: NodePath = require("node:path");
  return placeFiles({ files, target, producer }, fs, path).map(({ path, contents }) => ({ path, contents }));
}

/**
 * Where `writeOutputGroups(groups)` would put each file, with what, once its checks pass
 * (a link out of the repository, two outputs on one file): for `check`, which writes nothing.
 */
export function outputDestinations(groups: readonly OutputGroup[], base: string): { path: string; contents: string | Iterable<string> }[] {
  const fs: NodeFs = require("node:fs");
  const path: NodePath = require("node:path");
  const placed = groups.flatMap((group) => placeFiles(group, fs, path));
  try {
    return destinationsOf(fs, path, placed, repositoryOf(fs, path, base)).map(({ path, contents }) => ({ path, contents }));
  } catch (error) {
    throw writeError(error, base, "nothing was compared", "look at");
  }
}

/**
 * A single file's target that is a stream, to be written into rather than replaced: a
 * device or a FIFO, or this process's own stdout or stderr (/dev/stdout is a link to it,
 * which may be a socket no path can open). Another socket is refused, and so is a device
 * or FIFO that a link in the repository leads out of it to.
 */
function streamTarget(fs: NodeFs, path: NodePath, file: PlacedFile, repository: Repository): { fd: number; opened: boolean } | undefined {
  let stats;
  try {
    stats = fs.statSync(file.path);
  } catch {
    return undefined;
  }
  if (stats.isFile() || stats.isDirectory()) return undefined;
  for (const fd of [1, 2]) {
    const own = fs.fstatSync(fd);
    if (own.dev === stats.dev && own.ino === stats.ino) return { fd, opened: false };
  }
  if (stats.isCharacterDevice() || stats.isFIFO()) {
    checkedDestination(fs, path, file, repository);
    return { fd: fs.openSync(file.path, fs.constants.O_WRONLY | fs.constants.O_APPEND), opened: true };
  }
  fail("OUTPUT", `cannot write ${file.path}: it is ${existingKind(fs, file.path)}, not a file, a device or a FIFO`, { hint: "nothing was written" });
}

async function writeStream(fs: NodeFs, stream: { fd: number; opened: boolean }, contents: string | Iterable<string>): Promise<void> {
  try {
    for (const batch of batches(contents)) writeText(fs, stream.fd, batch);
  } finally {
    if (stream.opened) fs.closeSync(stream.fd);
  }
}

/**
 * Where each file goes: `-o FILE` for a single file, `-o DIRECTORY` otherwise. A
 * directory is an existing one, a path ending in '/', or, for several files, a new
 * name without an extension (`-o generated`).
 */
function placeFiles({ files, target, producer, exact }: OutputGroup, fs: NodeFs, path: NodePath): PlacedFile[] {
  for (const file of files) {
    const clean = path.normalize(file.path);
    if (path.isAbsolute(file.path) || clean.startsWith("..") || clean === ".") {
      fail("PLUGIN", `${producer} returned the path "${file.path}", which is not inside the output directory`);
    }
  }
  const main = mainFiles(files);
  const intoDirectory = !exact && (target.endsWith("/") || isDirectory(fs, target));
  if (!intoDirectory && main.length === 1) return [{ path: target, name: target, contents: main[0]!.contents, producer }];
  if (!intoDirectory && (exact || fs.existsSync(target) || path.extname(target) !== "")) refuseFileTarget(target, files, producer);
  // Into a directory: a link below it may not lead a file out of it.
  return files.map((file) => ({ path: path.join(target, file.path), name: file.path, contents: file.contents, producer, within: target }));
}

/**
 * Several files (a split Cloud Build config) for an `-o` that names one file: an error,
 * not a directory of that name. A pipeline that wrote `-o cloudbuild.json` and submits
 * that file must change when its graph outgrows one config, so it is told, not left
 * submitting a stale file or finding a directory where its file was.
 */
function refuseFileTarget(target: string, files: readonly EmittedFile[], producer: string): never {
  const names = files.map((file) => file.path);
  const listed = names.length > 4 ? [...names.slice(0, 2), "...", ...names.slice(-2)] : names;
  // cloudbuild.json → cloudbuild/, as docs/ci-cloudbuild.md writes it; a first file of the target's own name (GitLab's parent pipeline) stays where it is: its folder.
  const stem = target.replace(/(?<=[^/])\.[^./]*$/, "");
  const folder = target.slice(0, target.lastIndexOf("/") + 1);
  const directory = names[0] === target.slice(folder.length) ? (folder === "" ? "./" : folder) : stem === target ? "DIRECTORY/" : `${stem}/`;
  fail("USAGE", `-o ${target} names a file, but ${producer} writes ${files.length} files for this graph: ${listed.join(", ")}`, {
    hint: `pass a directory, such as -o ${directory}; nothing was written`,
  });
}

/** The files written anywhere: all but the companions (emitters/contract.ts), which go only into a directory. */
export function mainFiles(files: readonly EmittedFile[]): readonly EmittedFile[] {
  return files.some((file) => file.companion) ? files.filter((file) => !file.companion) : files;
}

function isDirectory(fs: NodeFs, path: string): boolean {
  try {
    return fs.statSync(path).isDirectory();
  } catch {
    return false;
  }
}
