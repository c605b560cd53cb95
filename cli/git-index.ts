// What git's index already knows of a working tree's files (docs/incremental-builds.md, "The inputs digest"):
// a tracked file that git sees unchanged on disk has the index's object id as its
// digest, and is never opened. The rest (modified, untracked, outside the repository,
// in a submodule's checkout) is hashed in-process by cli/working-tree.ts, the same way.
//
// Only what git can vouch for is taken, so a digest never differs from the bytes docker sends:
// - `git diff-files` compares each entry's recorded stat with the file's (racily clean
//   entries by content): it only reads, unlike `git status`, which may rewrite the index.
//   A file it names, or whose stat merely changed (touched), is hashed from disk.
// - Only entries tagged `H` by `git ls-files -v` count: a skip-worktree (sparse
//   checkout) or assume-unchanged entry is one git does not look at on disk.
// - An attribute that converts content between the index and the disk (`filter`, as
//   Git LFS sets; `text`, `eol`, `ident`, `working-tree-encoding`), or any
//   `core.autocrlf` but false, makes the index's id that of content docker does not
//   send: such files are hashed from disk.

import { realpathSync } from "node:fs";
import { relative } from "node:path";
import { isSha1Id } from "../core/changes/blob-id.ts";
import { forEachPathRecord } from "./git-records.ts";

export interface WorkTreeRepository {
  /** The work tree's top folder, symlinks resolved. */
  readonly root: string;
}

const CONVERTING_ATTRIBUTES = ["filter", "text", "eol", "ident", "working-tree-encoding"];

/** The work tree holding `directory`, or undefined when it is in none (or git is not installed). */
export function workTreeOf(directory: string): WorkTreeRepository | undefined {
  const top = git(["rev-parse", "--show-toplevel"], directory)?.toString().trim();
  return top ? { root: realpathSync(top) } : undefined;
}

/** A file as git's index records it: its blob id and mode (100644, 100755 or 120000). */
export interface IndexEntry {
  readonly oid: string;
  readonly mode: string;
}

/**
 * The index's entries for the files under `folder` (a real path) that are unchanged on
 * disk and reach it unconverted, by path relative to `folder`. Empty when git cannot
 * tell, or when its ids are not SHA-1 (a sha256 repository): every file is then hashed
 * from disk, with the same result. `modes`: whether an entry's mode is the file's
 * (not with core.fileMode false, where git does not look at the execute bit).
 */
export function unchangedEntries(repository: WorkTreeRepository, folder: string): { entries: Map<string, IndexEntry>; modes: boolean } {
  const entries = new Map<string, IndexEntry>();
  const none = { entries, modes: false };
  const inRepo = relative(repository.root, folder).split("\\").join("/");
  if (inRepo === ".." || inRepo.startsWith("../") || inRepo.startsWith("/")) return none;
  const config = coreConfig(repository.root);
  if (!isFalse(config.get("core.autocrlf") ?? "false")) return none;
  const pathspec = inRepo === "" ? [] : ["--", `:(literal)${inRepo}`];
  const listed = git(["ls-files", "-s", "-v", "-z", ...pathspec], repository.root);
  const changed = git(["diff-files", "-z", "--name-only", ...pathspec], repository.root);
  if (listed === undefined || changed === undefined) return none;
  // Paths in the repository, each entry under its path relative to `folder`.
  const start = inRepo === "" ? 0 : inRepo.length + 1;
  // Records of `<tag> SP <mode> SP <object> SP <stage> TAB <path>`, the tag one letter and the mode six digits.
  const text = listed.toString();
  const sha1 = forEachPathRecord(text, (at, tab, end) => {
    const mode = text.slice(at + 2, at + 8);
    const oid = text.slice(at + 9, tab - 2);
    if (!isSha1Id(oid)) return false;
    if (text[at] === "H" && text[tab - 1] === "0" && mode !== "160000") entries.set(text.slice(tab + 1 + start, end), { oid, mode });
  });
  if (!sha1) return none;
  for (const path of changed.toString().split("\0")) entries.delete(path.slice(start));
  const converted = convertedPaths(entries.keys(), inRepo === "" ? "" : `${inRepo}/`, repository.root);
  if (converted === undefined) entries.clear();
  else for (const path of converted) entries.delete(path.slice(start));
  return { entries, modes: !isFalse(config.get("core.filemode") ?? "true") };
}

/** core.autocrlf and core.filemode as git reads them (names lowercased; a name alone is true), in one process. */
function coreConfig(root: string): Map<string, string> {
  const out = git(["config", "--get-regexp", "^core\\.(autocrlf|filemode)$"], root)?.toString() ?? "";
  const values = new Map<string, string>();
  for (const line of out.split("\n").filter((l) => l !== "")) {
    const space = line.indexOf(" ");
    values.set(space < 0 ? line : line.slice(0, space), space < 0 ? "true" : line.slice(space + 1).trim().toLowerCase());
  }
  return values;
}

/** git's false, in any of its spellings. */
function isFalse(value: string): boolean {
  return ["false", "no", "off", "0", ""].includes(value);
}

/**
 * The paths (in the repository: `prefix` and each of `paths`) an attribute converts
 * between the index and the disk; undefined when git cannot say, and then any may be.
 */
function convertedPaths(paths: Iterable<string>, prefix: string, root: string): Set<string> | undefined {
  let input = "";
  for (const path of paths) input += `${prefix}${path}\0`;
  if (input === "") return new Set();
  // --all lists only the attributes specified for each path: a fifth of the time of asking
  // for the five by name, which lists each of them for every path (20,000 files: 20 ms, 110).
  const out = git(["check-attr", "-z", "--all", "--stdin"], root, Buffer.from(input));
  if (out === undefined) return undefined;
  const converted = new Set<string>();
  // <path> NUL <attribute> NUL <value> NUL, for each path and specified attribute.
  const fields = out.toString().split("\0");
  for (let i = 0; i + 2 < fields.length; i += 3) {
    const value = fields[i + 2];
    if (CONVERTING_ATTRIBUTES.includes(fields[i + 1]!) && value !== "unspecified" && value !== "unset") converted.add(fields[i]!);
  }
  return converted;
}

/** git's stdout, or undefined when it fails (or is not installed). */
function git(args: readonly string[], cwd: string, stdin?: Buffer): Buffer | undefined {
  try {
    const result = Bun.spawnSync(["git", ...args], { cwd, stdout: "pipe", stderr: "pipe", ...(stdin ? { stdin } : {}) });
    return result.exitCode === 0 ? result.stdout : undefined;
  } catch {
    return undefined;
  }
}
