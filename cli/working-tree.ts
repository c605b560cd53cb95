// The files on disk, as a SourceTree (core/changes/source-tree.ts): what a build run here would
// send. Paths are relative to the matrix file's directory, which is what builds use.
// node:fs is loaded on first use: the embedded matrix reads no file.
//
// A file is looked at (lstat, or stat through a link) before it is opened, and opened
// without blocking: a FIFO, a socket or a device is refused by name, never read (a FIFO
// would wait for a writer forever). A file that cannot be read, or that goes away while
// a context is read, is a FILE_UNREADABLE error naming it: exit 2, not a crash.

import { fail } from "../core/errors.ts";
import { blobId } from "../core/changes/blob-id.ts";
import { unchangedEntries, workTreeOf, type IndexEntry, type WorkTreeRepository } from "./git-index.ts";
import type { DirectoryEntries } from "../core/plan/plan-paths.ts";
import { specialName, type SourceFile, type SourceTree, type SpecialKind } from "../core/changes/source-tree.ts";

type NodeFs = typeof import("node:fs");
type Stats = import("node:fs").Stats;
let loaded: NodeFs | undefined;
const fs = (): NodeFs => (loaded ??= require("node:fs") as NodeFs);

/** Joins paths with '/' (node:path is not loaded for it: a millisecond of every start). */
function join(directory: string, name: string): string {
  return directory.endsWith("/") ? `${directory}${name}` : `${directory}/${name}`;
}

/**
 * What reading the files costs before git is asked instead (spawning git a few times is
 * milliseconds): their bytes, and FILE_COST for opening each. Either way the digests are the same.
 */
const INDEX_FROM = 4 * 1024 * 1024;
const FILE_COST = 4096;

export class WorkingTree implements SourceTree, DirectoryEntries {
  /** Digests by full path: a file is read once, however often it is asked for. */
  private readonly known = new Map<string, string>();
  /** Sizes by full path, from the listing: what reading a context would cost. */
  private readonly sizes = new Map<string, number>();
  private repository: WorkTreeRepository | null | undefined;
  /** What git's index vouches for, by folder (undefined: in no work tree). */
  private readonly vouched = new Map<string, { entries: Map<string, IndexEntry>; modes: boolean } | undefined>();

  /** `indexFrom`: the cost (see INDEX_FROM) from which git's index is asked; tests set 0 to always ask. */
  constructor(
    private readonly root: string,
    private readonly indexFrom = INDEX_FROM,
  ) {}

  /** The git work tree the files are in, asked once; null when in none. */
  private workTree(): WorkTreeRepository | null {
    if (this.repository === undefined) this.repository = workTreeOf(isDirectory(this.root) ? this.root : ".") ?? null;
    return this.repository;
  }

  private resolve(path: string): string {
    return path.startsWith("/") ? path : join(this.root, path);
  }

  readFile(path: string): Uint8Array | undefined {
    // Through a symlink, as docker reads a Dockerfile given through one.
    const stats = lookAt(() => fs().statSync(this.resolve(path)), path, "file");
    if (stats === undefined || stats.isDirectory()) return undefined;
    return readRegularFile(this.resolve(path), path, stats, false);
  }

  entries(directory: string): { name: string; directory: boolean }[] | undefined {
    const absolute = this.resolve(directory);
    const listed = lookAt(() => fs().readdirSync(absolute, { withFileTypes: true }), directory, "folder");
    // A symlink counts as what it points to, as docker follows it for -f and the context.
    return listed?.map((entry) => ({ name: entry.name, directory: entry.isDirectory() || (entry.isSymbolicLink() && isDirectory(join(absolute, entry.name))) }));
  }

  /**
   * The listing's types (readdir's) tell folders, links and special files apart. A regular
   * file is looked at (lstat: its execute bit and size) unless git's index vouches for it:
   * with many files (asking git then costs less), a file the index shows unchanged has
   * the index's mode. A file system that gives no type has each entry looked at.
   */
  listFiles(directory: string, skip: (relative: string) => boolean): SourceFile[] | undefined {
    const top = this.resolve(directory);
    if (!lookAt(() => fs().statSync(top), directory, "folder")?.isDirectory()) return undefined;
    const files: SourceFile[] = [];
    /** Where a regular file's entry will go in `files`, and its path. */
    const regular: { index: number; path: string }[] = [];
    const walk = (absolute: string, relative: string) => {
      const where = relative === "" ? directory : joinShown(directory, relative);
      const entries = readOrFail(() => fs().readdirSync(absolute, { withFileTypes: true }), where, "folder");
      for (const entry of entries) {
        const name = entry.name;
        if (name === ".git") continue;
        const path = relative === "" ? name : `${relative}/${name}`;
        if (entry.isDirectory()) {
          if (!skip(path)) walk(join(absolute, name), path);
        } else if (entry.isFile()) {
          regular.push({ index: files.length, path });
          files.push({ path, kind: "file" });
        } else if (entry.isSymbolicLink()) {
          files.push({ path, kind: "symlink" });
        } else if (entry.isFIFO() || entry.isSocket() || entry.isCharacterDevice() || entry.isBlockDevice()) {
          files.push({ path, kind: entry.isFIFO() ? "fifo" : entry.isSocket() ? "socket" : "device" });
        } else {
          const kind = this.lookAtFile(top, directory, path);
          if (kind === "folder") {
            if (!skip(path)) walk(join(absolute, name), path);
          } else files.push({ path, kind });
        }
      }
    };
    walk(top, "");
    const vouched = regular.length * FILE_COST >= this.indexFrom ? this.unchanged(top) : undefined;
    for (const { index, path } of regular) {
      const entry = vouched?.modes ? vouched.entries.get(path) : undefined;
      const kind = entry?.mode === "100755" ? "executable" : entry?.mode === "100644" ? "file" : this.lookAtFile(top, directory, path);
      if (kind === "folder") changed(joinShown(directory, path));
      files[index] = { path, kind };
    }
    return files;
  }

  /** A listed file's kind, looked at (lstat, not following a link); a regular file's size is kept. */
  private lookAtFile(top: string, directory: string, path: string): SourceFile["kind"] | "folder" {
    const full = join(top, path);
    const stats = readOrFail(() => fs().lstatSync(full), joinShown(directory, path), "file", path.includes("\uFFFD"));
    if (stats.isDirectory()) return "folder";
    if (stats.isSymbolicLink()) return "symlink";
    if (!stats.isFile()) return specialKind(stats);
    this.sizes.set(full, stats.size);
    // git's rule for the executable bit: the owner's.
    return (stats.mode & 0o100) !== 0 ? "executable" : "file";
  }

  /** What git's index vouches for under `top`, asked once per folder; undefined outside a work tree. */
  private unchanged(top: string): { entries: Map<string, IndexEntry>; modes: boolean } | undefined {
    if (this.vouched.has(top)) return this.vouched.get(top);
    const repository = this.workTree();
    const found = repository === null ? undefined : unchangedEntries(repository, realpathOf(top));
    this.vouched.set(top, found);
    return found;
  }

  digests(directory: string, files: readonly SourceFile[]): string[] {
    const top = this.resolve(directory);
    if (files.length === 0) return [];
    // git is asked (and looked for) only when reading the files would cost more.
    const vouched = this.vouched.has(top) || this.readingCost(top, files) >= this.indexFrom ? this.unchanged(top) : undefined;
    return files.map((file) => {
      // What the index vouches for first: no path is made for the 20,000 files of a large context it names.
      const entry = vouched?.entries.get(file.path);
      if (entry !== undefined && (file.kind === "symlink") === (entry.mode === "120000")) return entry.oid;
      const full = join(top, file.path);
      let digest = this.known.get(full);
      if (digest === undefined) {
        const shown = joinShown(directory, file.path);
        // Listed as a link, read as one (its target's text); listed as a file, opened without following a link.
        const content = file.kind === "symlink" ? readOrFail(() => fs().readlinkSync(full), shown, "file") : readRegularFile(full, shown, undefined, true);
        this.known.set(full, (digest = blobId(content)));
      }
      return digest;
    });
  }

  private readingCost(top: string, files: readonly SourceFile[]): number {
    let cost = 0;
    for (const file of files) {
      const full = join(top, file.path);
      if (!this.known.has(full)) cost += FILE_COST + (this.sizes.get(full) ?? 0);
    }
    return cost;
  }
}

/**
 * A regular file's bytes: opened without blocking (a FIFO put there since it was looked
 * at opens at once instead of waiting for a writer), and read only when the open file
 * is a regular file. `noFollow`: a file of a context, which must not have become a link.
 */
function readRegularFile(absolute: string, shown: string, stats: Stats | undefined, noFollow: boolean): Uint8Array {
  if (stats !== undefined && !stats.isFile()) refuseSpecial(shown, specialKind(stats));
  const { O_RDONLY, O_NONBLOCK, O_NOFOLLOW } = fs().constants;
  const fd = readOrFail(() => fs().openSync(absolute, O_RDONLY | O_NONBLOCK | (noFollow ? O_NOFOLLOW : 0)), shown, "file");
  try {
    const opened = fs().fstatSync(fd);
    if (opened.isDirectory()) changed(shown);
    if (!opened.isFile()) refuseSpecial(shown, specialKind(opened));
    return readOrFail(() => fs().readFileSync(fd), shown, "file");
  } finally {
    fs().closeSync(fd);
  }
}

function specialKind(stats: Stats): SpecialKind {
  return stats.isFIFO() ? "fifo" : stats.isSocket() ? "socket" : "device";
}

function refuseSpecial(shown: string, kind: SpecialKind): never {
  fail("FILE_UNREADABLE", `cannot read: it is ${specialName(kind)}, not a file (refused unread)`, { file: shown, hint: "give a regular file" });
}

function changed(shown: string): never {
  fail("FILE_UNREADABLE", "cannot read: it changed while it was being read", { file: shown, hint: "run the command again once nothing is writing in the folder" });
}

/** What `look` returns, or undefined when the path is not there; any other failure is an error naming it. */
function lookAt<T>(look: () => T, shown: string, what: "file" | "folder"): T | undefined {
  try {
    return look();
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "ENOENT" || code === "ENOTDIR") return undefined;
    if (code === "ELOOP") fail("FILE_UNREADABLE", "cannot read: its symlinks point at each other in a loop", { file: shown });
    return unreadable(error, shown, what);
  }
}

/**
 * What `read` returns, for a path that was there a moment ago: its absence now means it
 * changed, unless its name was not UTF-8 (`maybeNotUtf8`: it was listed with U+FFFD in it),
 * and so cannot be asked for by the name it was listed with.
 */
function readOrFail<T>(read: () => T, shown: string, what: "file" | "folder", maybeNotUtf8 = false): T {
  try {
    return read();
  } catch (error) {
    if (maybeNotUtf8 && (error as NodeJS.ErrnoException).code === "ENOENT") {
      fail("FILE_UNREADABLE", "cannot read: its name is not UTF-8", { file: shown, hint: "rename it, or leave it out of the context in .dockerignore" });
    }
    return unreadable(error, shown, what);
  }
}

function unreadable(error: unknown, shown: string, what: "file" | "folder"): never {
  const code = (error as NodeJS.ErrnoException).code;
  switch (code) {
    case "EACCES":
    case "EPERM":
      return fail("FILE_UNREADABLE", `cannot read: permission denied (${code})`, { file: shown, hint: `let the user running caliban-images read the ${what} (a build could not either); in a build context, .dockerignore can leave it out` });
    case "ENOENT":
    case "ENOTDIR":
    case "ELOOP":
    case "EINVAL":
      // Listed, then gone, replaced by a link (ELOOP: opened without following), or no longer a link (EINVAL).
      return changed(shown);
    default:
      return fail("FILE_UNREADABLE", `cannot read: ${code ?? (error instanceof Error ? error.message : String(error))}`, { file: shown });
  }
}

/** A path inside `directory` as messages show it: as the matrix gives the directory. */
function joinShown(directory: string, relative: string): string {
  return directory === "." || directory === "" ? relative : join(directory, relative);
}

function realpathOf(path: string): string {
  try {
    return fs().realpathSync(path);
  } catch {
    return path;
  }
}

function isDirectory(path: string): boolean {
  try {
    return fs().statSync(path).isDirectory();
  } catch {
    return false;
  }
}
