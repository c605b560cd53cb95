// Writing what an emitter returned, as it comes (an emitter may yield chunks, so a
// large output is never one giant string). A file is replaced whole or not at all:
// each is written to a temporary file beside its target and renamed into place, and
// a multi-file output renames nothing until every file has been written and every
// target checked. node:fs is loaded only here, to write files (-o), which needs rename.

import { CalibanError, fail } from "../core/errors.ts";
import type { EmittedFile } from "../emitters/contract.ts";
import { writeTo, type Io } from "./terminal.ts";

type NodeFs = typeof import("node:fs");
type NodePath = typeof import("node:path");

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
  const fs: NodeFs = require("node:fs");
  const path: NodePath = require("node:path");
  const placed = placeFiles(files, target, producer, fs, path);
  const temporaries: string[] = [];
  const replaced: { destination: string; temporary: string }[] = [];
  const made = new Set<string>();
  try {
    for (const { path: destination, contents } of placed) {
      const directory = path.dirname(destination);
      // Once per directory: a split Cloud Build config is dozens of files in one.
      if (!made.has(directory)) fs.mkdirSync(directory, { recursive: true });
      made.add(directory);
      const temporary = `${destination}.tmp-${process.pid}`;
      if (writeIfChanged(fs, destination, temporary, contents, () => temporaries.push(temporary))) replaced.push({ destination, temporary });
    }
    // Check every target before the first rename, so a failing one cannot leave the others half done.
    for (const { destination } of replaced) {
      if (isDirectory(fs, destination)) throw Object.assign(new Error(`${destination} is a directory`), { code: "EISDIR", path: destination });
    }
    for (const { destination, temporary } of replaced) fs.renameSync(temporary, destination);
  } catch (error) {
    for (const temporary of temporaries) fs.rmSync(temporary, { force: true });
    if (error instanceof CalibanError) throw error;
    const e = error as NodeJS.ErrnoException;
    fail("OUTPUT", `cannot write ${e.path ?? target}: ${e.code ?? ""} ${e.message.replace(/^[A-Z]+: /, "")}`.replace(/\s+/g, " "), {
      hint: "nothing was written; existing files are unchanged",
    });
  }
}

/**
 * Writes `contents` to `temporary`, unless `destination` already holds exactly them:
 * then nothing is written and the file is left as it is, its time stamp too (so a
 * make or a CI cache that depends on it sees no change, and a rerun costs a read). The
 * two are compared batch by batch as the text is made; at the first difference the
 * part that matched is copied from the old file and the rest written as it comes.
 * Returns whether `temporary` was written; `created` is called before it is.
 */
function writeIfChanged(fs: NodeFs, destination: string, temporary: string, contents: string | Iterable<string>, created: () => void): boolean {
  const old = openRegularFile(fs, destination);
  let out: number | undefined;
  let matched = 0;
  const startWriting = () => {
    created();
    out = fs.openSync(temporary, "w");
    if (old !== undefined) copyBytes(fs, old, out, matched);
  };
  try {
    if (old === undefined) startWriting();
    for (const batch of batches(contents)) {
      if (out !== undefined) {
        writeText(fs, out, batch);
        continue;
      }
      const bytes = utf8(batch);
      if (sameBytes(fs, old!, matched, bytes)) {
        matched += bytes.length;
        continue;
      }
      startWriting();
      writeBytes(fs, out!, bytes);
    }
    // Everything matched: the file is unchanged only if it has nothing more.
    if (out === undefined && fs.fstatSync(old!).size !== matched) startWriting();
    return out !== undefined;
  } finally {
    if (out !== undefined) fs.closeSync(out);
    if (old !== undefined) fs.closeSync(old);
  }
}

/** A descriptor of `path` for reading when it is a regular file (never waiting on a FIFO); otherwise undefined. */
function openRegularFile(fs: NodeFs, path: string): number | undefined {
  let fd: number;
  try {
    fd = fs.openSync(path, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
  } catch {
    return undefined; // absent or unreadable: it is replaced, as it would be anyway
  }
  if (fs.fstatSync(fd).isFile()) return fd;
  fs.closeSync(fd);
  return undefined;
}

const encoder = new TextEncoder();
// Made on first use, not at start-up: most runs write to stdout.
let encoded = new Uint8Array(0);
let readBack: Uint8Array | undefined;

/** The UTF-8 of `text`, in a buffer reused by the next call. */
function utf8(text: string): Uint8Array {
  if (text.length * 3 > encoded.length) encoded = new Uint8Array(Math.max(text.length * 3, 1 << 20));
  return encoded.subarray(0, encoder.encodeInto(text, encoded).written);
}

/** Whether the file holds exactly `bytes` from `offset` on: read and compared a slice at a time, to stop at a difference. */
function sameBytes(fs: NodeFs, fd: number, offset: number, bytes: Uint8Array): boolean {
  const readBack = readBuffer();
  for (let start = 0; start < bytes.length; ) {
    const length = Math.min(COMPARED_AT_ONCE, bytes.length - start);
    let have = 0;
    while (have < length) {
      const read = fs.readSync(fd, readBack, have, length - have, offset + start + have);
      if (read === 0) return false;
      have += read;
    }
    if (Buffer.compare(bytes.subarray(start, start + length), readBack.subarray(0, length)) !== 0) return false;
    start += length;
  }
  return true;
}

const COMPARED_AT_ONCE = 1 << 16;

/** Copies the first `length` bytes of one file to another. */
function copyBytes(fs: NodeFs, from: number, to: number, length: number): void {
  const readBack = readBuffer();
  for (let offset = 0; offset < length; ) {
    const read = fs.readSync(from, readBack, 0, Math.min(readBack.length, length - offset), offset);
    if (read === 0) throw Object.assign(new Error("the file changed while it was read"), { code: "EAGAIN" });
    writeBytes(fs, to, readBack.subarray(0, read));
    offset += read;
  }
}

function readBuffer(): Uint8Array {
  return (readBack ??= new Uint8Array(1 << 20));
}

function writeBytes(fs: NodeFs, fd: number, bytes: Uint8Array): void {
  for (let offset = 0; offset < bytes.length; ) offset += fs.writeSync(fd, bytes, offset);
}

/** Chunks are gathered into strings of about this many characters, then written. */
const BATCH = 1 << 18;

/** Text or chunks as strings of about BATCH characters: no string the size of the output. */
function* batches(contents: string | Iterable<string>): Generator<string> {
  if (typeof contents === "string") {
    yield contents;
    return;
  }
  let pending = "";
  for (const chunk of contents) {
    if (typeof chunk !== "string") fail("PLUGIN", `an emitter yielded ${typeof chunk} where text belongs`);
    pending += chunk;
    if (pending.length >= BATCH) {
      yield pending;
      pending = "";
    }
  }
  if (pending) yield pending;
}

/** A string written as UTF-8 (measured fastest here); a partial write is finished from its bytes. */
function writeText(fs: NodeFs, fd: number, text: string): void {
  const written = fs.writeSync(fd, text);
  const bytes = Buffer.byteLength(text);
  if (written < bytes) {
    const buffer = Buffer.from(text);
    for (let offset = written; offset < buffer.length; ) offset += fs.writeSync(fd, buffer, offset);
  }
}

/**
 * Where each file goes: `-o FILE` for a single file, `-o DIRECTORY` otherwise. A
 * directory is an existing one, a path ending in '/', or, for several files, a new
 * name without an extension (`-o generated`).
 */
function placeFiles(files: readonly EmittedFile[], target: string, producer: string, fs: NodeFs, path: NodePath): EmittedFile[] {
  for (const file of files) {
    const clean = path.normalize(file.path);
    if (path.isAbsolute(file.path) || clean.startsWith("..") || clean === ".") {
      fail("PLUGIN", `an emitter returned the path "${file.path}", which is not inside the output directory`);
    }
  }
  const main = mainFiles(files);
  const intoDirectory = target.endsWith("/") || isDirectory(fs, target);
  if (!intoDirectory && main.length === 1) return [{ path: target, contents: main[0]!.contents }];
  if (!intoDirectory && (fs.existsSync(target) || path.extname(target) !== "")) refuseFileTarget(target, files, producer);
  return files.map((file) => ({ path: path.join(target, file.path), contents: file.contents }));
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
  // cloudbuild.json → cloudbuild/, as the README writes it.
  const stem = target.replace(/(?<=[^/])\.[^./]*$/, "");
  fail("USAGE", `-o ${target} names a file, but ${producer} writes ${files.length} files for this graph: ${listed.join(", ")}`, {
    hint: `pass a directory, such as -o ${stem === target ? "DIRECTORY" : stem}/; nothing was written`,
  });
}

/** The files written anywhere: all but the companions (emitters/contract.ts), which go only into a directory. */
function mainFiles(files: readonly EmittedFile[]): readonly EmittedFile[] {
  return files.some((file) => file.companion) ? files.filter((file) => !file.companion) : files;
}

function isDirectory(fs: NodeFs, path: string): boolean {
  try {
    return fs.statSync(path).isDirectory();
  } catch {
    return false;
  }
}
