// Several files, one decision (cli/file-set.ts), with failures injected where a real
// file system gives them only by bad luck: a rename that fails midway (a folder made
// at a target meanwhile, an immutable file), a putting back that fails too, a file
// that appears between the check and the write.

import { describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { CalibanError } from "../core/errors.ts";
import { makeFolders, newScratch, writeFileSet, type WriteMode } from "./file-set.ts";
import { scratchFolder } from "../scripts/validators/scratch.ts";

const realFs = require("node:fs") as typeof import("node:fs");
const path = require("node:path") as typeof import("node:path");

/** node:fs with one call replaced. */
function failing<K extends keyof typeof realFs>(name: K, replacement: (typeof realFs)[K]): typeof realFs {
  return { ...realFs, [name]: replacement };
}

/** renameSync that fails for the `nth` rename into place (1-based), as a folder put at that target would make it. */
function renameFailingAt(nth: number, code = "EISDIR"): { fs: typeof realFs; renames: string[] } {
  const renames: string[] = [];
  const fs = failing("renameSync", (from, to) => {
    const isIntoPlace = String(from).endsWith(".tmp");
    if (isIntoPlace) renames.push(String(to));
    if (isIntoPlace && renames.length === nth) throw Object.assign(new Error(`${code}: injected, rename '${from}' -> '${to}'`), { code, path: String(to) });
    realFs.renameSync(from, to);
  });
  return { fs, renames };
}

function folderWith(files: Record<string, string>): string {
  const folder = scratchFolder("file-set-");
  for (const [name, text] of Object.entries(files)) writeFileSync(join(folder, name), text);
  return folder;
}

const write = (fs: typeof realFs, files: Record<string, string>, folder: string, mode: WriteMode = "replace") =>
  writeFileSet(fs, path, Object.entries(files).map(([name, contents]) => ({ destination: join(folder, name), contents })), mode, newScratch());

async function failure(run: Promise<unknown>): Promise<CalibanError> {
  try {
    await run;
  } catch (error) {
    if (error instanceof CalibanError) return error;
    throw error;
  }
  throw new Error("expected a CalibanError");
}

/** What a folder holds: name → text, every file (temporary and kept ones would show). */
const contentsOf = (folder: string) => Object.fromEntries(readdirSync(folder).sort().map((name) => [name, readFileSync(join(folder, name), "utf8")]));

describe("a rename that fails midway", () => {
  test("puts back every file already replaced (the same file, not a copy) and removes the new ones; says so", async () => {
    const folder = folderWith({ "a.txt": "old a\n", "c.txt": "old c\n" });
    const inodeOfA = statSync(join(folder, "a.txt")).ino;
    // a (replaced), b (new), then c fails.
    const { fs, renames } = renameFailingAt(3);
    const error = await failure(write(fs, { "a.txt": "new a\n", "b.txt": "new b\n", "c.txt": "new c\n" }, folder));
    expect(renames.map((to) => path.basename(to))).toEqual(["a.txt", "b.txt", "c.txt"]);
    expect(contentsOf(folder)).toEqual({ "a.txt": "old a\n", "c.txt": "old c\n" });
    expect(statSync(join(folder, "a.txt")).ino).toBe(inodeOfA);
    expect(error.code).toBe("OUTPUT");
    expect(error.message).toContain(`error: cannot write ${join(folder, "c.txt")}: EISDIR injected`);
    expect(error.diagnostics[0]!.hint).toBe("nothing was written: the 2 files already written were put back as they were");
  });

  test("a file that cannot be put back is named, with where its previous contents are", async () => {
    const folder = folderWith({ "a.txt": "old a\n" });
    const { fs: renames } = renameFailingAt(2);
    // Putting a.txt back is a rename from its kept copy: that fails too.
    const fs = { ...renames, renameSync: (from: import("node:fs").PathLike, to: import("node:fs").PathLike) => {
      if (String(from).endsWith(".previous")) throw Object.assign(new Error("EPERM: injected"), { code: "EPERM" });
      renames.renameSync(from, to);
    } };
    const error = await failure(write(fs, { "a.txt": "new a\n", "b.txt": "new b\n" }, folder));
    const kept = readdirSync(folder).find((name) => name.endsWith(".previous"))!;
    expect(kept).toMatch(/^\.a\.txt\.[0-9a-f]{16}\.previous$/);
    expect(readFileSync(join(folder, kept), "utf8")).toBe("old a\n");
    expect(error.diagnostics[0]!.hint).toBe(`the file already written was put back, except: ${join(folder, "a.txt")} holds the new contents, and what it held is in ${join(folder, kept)} (EPERM)`);
    expect(existsSync(join(folder, "b.txt"))).toBe(false);
  });

  test("a folder made for a file is removed with it; one with someone else's file in it stays", async () => {
    const folder = folderWith({});
    const { fs: renames } = renameFailingAt(3);
    // Someone else writes into one of the new folders while the files are put in place.
    const fs = { ...renames, renameSync: (from: import("node:fs").PathLike, to: import("node:fs").PathLike) => {
      if (String(to).endsWith("c.txt")) writeFileSync(join(folder, "other", "theirs.txt"), "theirs\n");
      renames.renameSync(from, to);
    } };
    await failure(write(fs, { "new/a.txt": "a\n", "other/b.txt": "b\n", "c.txt": "c\n" }, folder));
    expect(readdirSync(folder)).toEqual(["other"]);
    expect(readdirSync(join(folder, "other"))).toEqual(["theirs.txt"]);
  });
});

describe("before anything is renamed", () => {
  test("a target that is a folder: the others are left as they were, no temporary file stays", async () => {
    const folder = folderWith({ "a.txt": "old a\n" });
    mkdirSync(join(folder, "b.txt"));
    const error = await failure(write(realFs, { "a.txt": "new a\n", "b.txt": "b\n" }, folder));
    expect(error.message).toContain("b.txt: EISDIR it is a directory, not a regular file");
    expect(error.diagnostics[0]!.hint).toBe("nothing was written; existing files are unchanged");
    expect(readdirSync(folder).sort()).toEqual(["a.txt", "b.txt"]);
    expect(readFileSync(join(folder, "a.txt"), "utf8")).toBe("old a\n");
  });

  test("a file where a folder goes is named as such", async () => {
    const folder = folderWith({ ci: "a file of the user's\n" });
    const error = await failure(write(realFs, { "a.txt": "a\n", "ci/b.yml": "b\n" }, folder));
    expect(error.message).toContain(`cannot write ${join(folder, "ci")}: ENOTDIR it is a file, where a folder goes`);
    expect(contentsOf(folder)).toEqual({ ci: "a file of the user's\n" });
  });
});

describe('"create" never replaces', () => {
  test("a file that appears between the check and the link stays as it is; what was linked before it is removed", async () => {
    const folder = folderWith({});
    // Another writer's file appears at b.txt just before it is put in place.
    const fs = failing("linkSync", (from, to) => {
      if (String(to).endsWith("b.txt")) writeFileSync(to, "the winner's\n");
      realFs.linkSync(from, to);
    });
    const error = await failure(write(fs, { "a.txt": "a\n", "b.txt": "b\n" }, folder, "create"));
    expect(error.message).toContain("EEXIST");
    expect(contentsOf(folder)).toEqual({ "b.txt": "the winner's\n" });
  });

  test("a file that is there, even with exactly the contents, is an error", async () => {
    const folder = folderWith({ "a.txt": "a\n" });
    const error = await failure(write(realFs, { "a.txt": "a\n" }, folder, "create"));
    expect(error.message).toContain("EEXIST it is there already");
  });
});

test("makeFolders lists only the folders it made, not one that was there or appeared meanwhile", () => {
  const folder = folderWith({});
  mkdirSync(join(folder, "a"));
  const made: string[] = [];
  // Someone else makes a/b/c between the look and the mkdir.
  const fs = failing("mkdirSync", ((at: string) => {
    if (at.endsWith("c")) realFs.mkdirSync(at);
    return realFs.mkdirSync(at);
  }) as typeof realFs.mkdirSync);
  makeFolders(fs, path, join(folder, "a", "b", "c", "d"), made);
  expect(made).toEqual([join(folder, "a", "b"), join(folder, "a", "b", "c", "d")]);
});
