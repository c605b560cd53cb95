// Writing what an emitter returned, as it comes (an emitter may yield chunks, so a
// large output is never one giant string). A file is replaced whole or not at all:
// each is written to a temporary file beside its target and renamed into place, and
// a multi-file output renames nothing until every file has been written and every
// target checked.

import { closeSync, mkdirSync, openSync, renameSync, rmSync, statSync, writeSync } from "node:fs";
import { dirname, isAbsolute, join, normalize } from "node:path";
import { CalibanError, fail } from "../core/errors.ts";
import type { EmittedFile } from "../emitters/contract.ts";

/** stdout's file descriptor. */
export const STDOUT = 1;

export function writeOutputs(files: readonly EmittedFile[], target: string | undefined): void {
  if (target === undefined) {
    if (files.length !== 1) fail("USAGE", `this output is ${files.length} files; pass -o DIRECTORY to write them`);
    writeChunks(STDOUT, files[0]!.contents);
    return;
  }
  const placed = placeFiles(files, target);
  const temporaries: string[] = [];
  try {
    for (const { path, contents } of placed) {
      mkdirSync(dirname(path), { recursive: true });
      const temporary = `${path}.tmp-${process.pid}`;
      temporaries.push(temporary);
      const fd = openSync(temporary, "w");
      try {
        writeChunks(fd, contents);
      } finally {
        closeSync(fd);
      }
    }
    // Check every target before the first rename, so a failing one cannot leave the others half done.
    for (const { path } of placed) {
      if (isDirectory(path)) throw Object.assign(new Error(`${path} is a directory`), { code: "EISDIR", path });
    }
    placed.forEach(({ path }, index) => renameSync(temporaries[index]!, path));
  } catch (error) {
    for (const temporary of temporaries) rmSync(temporary, { force: true });
    if (error instanceof CalibanError) throw error;
    const e = error as NodeJS.ErrnoException;
    fail("OUTPUT", `cannot write ${e.path ?? target}: ${e.code ?? ""} ${e.message.replace(/^[A-Z]+: /, "")}`.replace(/\s+/g, " "), {
      hint: "nothing was written; existing files are unchanged",
    });
  }
}

/** Chunks are gathered into strings of about this many characters, then written. */
const BATCH = 1 << 18;

/** Writes text or chunks to a file descriptor, in batches: no string or buffer the size of the output. */
function writeChunks(fd: number, contents: string | Iterable<string>): void {
  if (typeof contents === "string") {
    writeText(fd, contents);
    return;
  }
  let pending = "";
  for (const chunk of contents) {
    if (typeof chunk !== "string") fail("PLUGIN", `an emitter yielded ${typeof chunk} where text belongs`);
    pending += chunk;
    if (pending.length >= BATCH) {
      writeText(fd, pending);
      pending = "";
    }
  }
  if (pending) writeText(fd, pending);
}

/** A string written as UTF-8 (measured fastest here); a partial write is finished from its bytes. */
function writeText(fd: number, text: string): void {
  const written = writeSync(fd, text);
  const bytes = Buffer.byteLength(text);
  if (written < bytes) writeAll(fd, Buffer.from(text).subarray(written));
}

export function writeAll(fd: number, buffer: Uint8Array): void {
  for (let offset = 0; offset < buffer.length; ) offset += writeSync(fd, buffer, offset);
}

/** Where each file goes: `-o FILE` for a single file, `-o DIRECTORY` (or a trailing '/') otherwise. */
function placeFiles(files: readonly EmittedFile[], target: string): EmittedFile[] {
  for (const file of files) {
    const clean = normalize(file.path);
    if (isAbsolute(file.path) || clean.startsWith("..") || clean === ".") {
      fail("PLUGIN", `an emitter returned the path "${file.path}", which is not inside the output directory`);
    }
  }
  const intoDirectory = files.length > 1 || target.endsWith("/") || isDirectory(target);
  if (!intoDirectory) return [{ path: target, contents: files[0]!.contents }];
  return files.map((file) => ({ path: join(target, file.path), contents: file.contents }));
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}
