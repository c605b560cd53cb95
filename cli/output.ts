// Writing what an emitter returned. A file is replaced whole or not at all: each is
// written to a temporary file beside its target and renamed into place, and a
// multi-file output renames nothing until every file has been written.

import { mkdirSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { dirname, isAbsolute, join, normalize } from "node:path";
import { fail } from "../core/errors.ts";
import type { EmittedFile } from "../emitters/contract.ts";

export function writeOutputs(files: readonly EmittedFile[], target: string | undefined, stdout: (text: string) => void): void {
  if (target === undefined) {
    if (files.length !== 1) fail("USAGE", `this output is ${files.length} files; pass -o DIRECTORY to write them`);
    stdout(files[0]!.contents);
    return;
  }
  const placed = placeFiles(files, target);
  const temporaries: string[] = [];
  try {
    for (const { path, contents } of placed) {
      mkdirSync(dirname(path), { recursive: true });
      const temporary = `${path}.tmp-${process.pid}`;
      temporaries.push(temporary);
      writeFileSync(temporary, contents);
    }
    // Check every target before the first rename, so a failing one cannot leave the others half done.
    for (const { path } of placed) {
      if (isDirectory(path)) throw Object.assign(new Error(`${path} is a directory`), { code: "EISDIR", path });
    }
    placed.forEach(({ path }, index) => renameSync(temporaries[index]!, path));
  } catch (error) {
    for (const temporary of temporaries) rmSync(temporary, { force: true });
    const e = error as NodeJS.ErrnoException;
    fail("OUTPUT", `cannot write ${e.path ?? target}: ${e.code ?? ""} ${e.message.replace(/^[A-Z]+: /, "")}`.replace(/\s+/g, " "), {
      hint: "nothing was written; existing files are unchanged",
    });
  }
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
