// A git revision's files, as a SourceTree (core/changes/source-tree.ts), read through git itself:
// `git ls-tree` once for the whole revision gives every file's blob id, which is its
// digest; `git cat-file --batch` reads only what is parsed (Dockerfiles, ignore files,
// the lock file) and the symlinks on the way to them. Nothing is checked out. Paths are relative to the matrix file's
// directory, as in the working tree; a path outside the repository is read from disk.
//
// It must read a revision as the working tree (cli/working-tree.ts) reads the same files
// checked out, or `affected` calls an unchanged image changed on every run:
// - A symlink on the way to a Dockerfile or a context is followed, in the revision's own
//   tree (docker reads -f and the context folder through links); one inside a context
//   is a file whose content is its target's text (docker sends it as a link).
// - A submodule (a gitlink, mode 160000) holds no files in this repository's tree, but
//   on disk it is a folder of files that docker sends like any other. So its files are
//   read at the commit the revision records, from the submodule's own repository where
//   it is checked out here. Not checked out, it is an empty folder on disk and sends
//   nothing: the revision has none of its files either, and both sides agree. Checked out
//   without that commit (not fetched), the revision's side has none of its files, so the
//   images whose contexts send them count as affected: what cannot be told is rebuilt.
//   Its commit id alone is not digested: a build sends the files as they are on disk,
//   edited or not, and the digest must change when they do.

import { lstatSync, realpathSync } from "node:fs";
import { dirname, isAbsolute, join, relative, resolve } from "node:path";
import { fail } from "../core/errors.ts";
import type { SourceFile, SourceTree } from "../core/changes/source-tree.ts";
import { blobId, isSha1Id } from "../core/changes/blob-id.ts";
import { WorkingTree } from "./working-tree.ts";
import { forEachPathRecord } from "./git-records.ts";

interface GitEntry {
  readonly mode: string;
  readonly oid: string;
  /** The repository whose objects hold it: the root's, or a checked-out submodule's folder. */
  readonly repository: string;
}

const SYMLINK = "120000";
const GITLINK = "160000";
/** Links followed on the way to one path before it counts as a loop (Linux's limit). */
const MAX_LINKS = 40;

/** A path of the revision's tree, or one outside the repository, read from disk. */
type Located = { readonly inTree: string } | { readonly onDisk: string } | undefined;

export interface Repository {
  /** The folder holding .git. */
  readonly root: string;
  /** The matrix file's directory, relative to the root ("" at the root). */
  readonly matrixDirectory: string;
}

/** The repository a matrix file's directory is in, or undefined when it is in none (or git is not installed). */
export function findRepository(matrixDirectory: string): Repository | undefined {
  const result = git(["rev-parse", "--show-toplevel"], matrixDirectory);
  if (result === undefined) return undefined;
  const root = result.toString().trim();
  const inRepo = relative(root, realpathSync(matrixDirectory)).split("\\").join("/");
  return { root, matrixDirectory: inRepo };
}

/** The commit a revision names, or an error saying it names none; `flag`: the option that gave it, for the messages. */
export function resolveRevision(repository: Repository, revision: string, flag = "--since"): string {
  if (revision.startsWith("-")) fail("USAGE", `${flag} "${revision}" is not a revision`, { hint: `give a commit, a branch or a tag, e.g. ${flag} origin/main` });
  const commit = git(["rev-parse", "--verify", "--quiet", "--end-of-options", `${revision}^{commit}`], repository.root);
  if (commit === undefined) fail("USAGE", `${flag} "${revision}" names no commit of the repository at ${repository.root}`, { hint: "fetch it first (a shallow clone lacks history: actions/checkout with fetch-depth: 0)" });
  return commit.toString().trim();
}

export class GitTree implements SourceTree {
  private entries: Map<string, GitEntry> | undefined;
  private readonly linkTargets = new Map<string, string>();
  private readonly disk: WorkingTree;

  constructor(
    private readonly repository: Repository,
    private readonly commit: string,
    matrixDirectory: string,
  ) {
    this.disk = new WorkingTree(matrixDirectory);
  }

  /** A file of the revision by its path in the repository (symlinks followed), or undefined. */
  fileAt(repositoryPath: string): Uint8Array | undefined {
    const located = this.follow(repositoryPath);
    if (located === undefined) return undefined;
    if ("onDisk" in located) return this.disk.readFile(located.onDisk);
    const entry = this.all().get(located.inTree);
    if (!entry || entry.mode === GITLINK) return undefined;
    return this.contents([entry])[0];
  }

  readFile(path: string): Uint8Array | undefined {
    const inRepo = this.inRepository(path);
    return inRepo === undefined ? this.disk.readFile(path) : this.fileAt(inRepo);
  }

  listFiles(directory: string, skip: (relative: string) => boolean): SourceFile[] | undefined {
    const located = this.locate(directory);
    if (located === undefined) return undefined;
    if ("onDisk" in located) return this.disk.listFiles(located.onDisk, skip);
    const prefix = located.inTree;
    const start = prefix === "" ? "" : `${prefix}/`;
    const files: SourceFile[] = [];
    const skipped = new Map<string, boolean>();
    // A folder is skipped when it, or a folder above it, is.
    const isSkipped = (folder: string): boolean => {
      if (folder === "") return false;
      let known = skipped.get(folder);
      if (known === undefined) {
        const slash = folder.lastIndexOf("/");
        known = (slash >= 0 && isSkipped(folder.slice(0, slash))) || skip(folder);
        skipped.set(folder, known);
      }
      return known;
    };
    // A submodule's folder is a folder, whether or not its files are here.
    let found = prefix === "" || this.all().get(prefix)?.mode === GITLINK;
    for (const [path, entry] of this.all()) {
      if (!path.startsWith(start)) continue;
      found = true;
      const inside = path.slice(start.length);
      const slash = inside.lastIndexOf("/");
      if (slash >= 0 && isSkipped(inside.slice(0, slash))) continue;
      // Its files, where they could be read, are entries of their own (the comment above).
      if (entry.mode === GITLINK) continue;
      files.push({ path: inside, kind: entry.mode === SYMLINK ? "symlink" : entry.mode === "100755" ? "executable" : "file" });
    }
    return found ? files : undefined;
  }

  digests(directory: string, files: readonly SourceFile[]): string[] {
    const located = this.locate(directory);
    if (located === undefined) return [];
    if ("onDisk" in located) return this.disk.digests(located.onDisk, files);
    const start = located.inTree === "" ? "" : `${located.inTree}/`;
    const entries = files.map((file) => this.all().get(start + file.path)!);
    // A file's digest is its SHA-1 blob id (core/changes/blob-id.ts): in a SHA-1 repository the
    // tree names it and no blob is read; in a sha256 one each blob is read and hashed.
    const read = entries.filter((entry) => !isSha1Id(entry.oid));
    const contents = new Map(read.length === 0 ? [] : this.contents(read).map((content, i) => [read[i]!.oid, content]));
    return entries.map((entry) => (isSha1Id(entry.oid) ? entry.oid : blobId(contents.get(entry.oid)!)));
  }

  /** A path as the matrix gives it, in the revision's tree (symlinks followed) or on disk. */
  private locate(path: string): Located {
    const inRepo = this.inRepository(path);
    return inRepo === undefined ? { onDisk: path } : this.follow(inRepo);
  }

  /** The path in the repository, or undefined when it is outside it (or absolute). */
  private inRepository(path: string): string | undefined {
    if (isAbsolute(path)) return undefined;
    const joined = join(this.repository.matrixDirectory, path).split("\\").join("/");
    if (joined === ".." || joined.startsWith("../")) return undefined;
    return joined === "." ? "" : joined.replace(/\/$/, "");
  }

  /**
   * A repository path with each symlink on it replaced by its target, one name at a time,
   * as the kernel resolves a path: a link's `..` is taken from the link's folder. A target
   * that leaves the repository is read from disk; a loop of links is no file.
   */
  private follow(repositoryPath: string): Located {
    const pending = repositoryPath.split("/").filter((name) => name !== "" && name !== ".");
    const done: string[] = [];
    let links = 0;
    while (pending.length > 0) {
      const name = pending.shift()!;
      if (name === "..") {
        if (done.length === 0) return { onDisk: resolve(this.repository.root, "..", ...pending) };
        done.pop();
        continue;
      }
      done.push(name);
      const entry = this.all().get(done.join("/"));
      if (entry?.mode !== SYMLINK) continue;
      if (++links > MAX_LINKS) return undefined;
      done.pop();
      let target = this.linkTarget(entry);
      if (target.startsWith("/")) {
        // An absolute link into the repository is still read in the revision, not as the file is now.
        const inside = relative(this.repository.root, resolve(target)).split("\\").join("/");
        if (inside === ".." || inside.startsWith("../") || isAbsolute(inside)) return { onDisk: resolve(target, ...pending) };
        done.length = 0;
        target = inside;
      }
      pending.unshift(...target.split("/").filter((part) => part !== "" && part !== "."));
    }
    return { inTree: done.join("/") };
  }

  private linkTarget(entry: GitEntry): string {
    let target = this.linkTargets.get(entry.oid);
    if (target === undefined) this.linkTargets.set(entry.oid, (target = new TextDecoder().decode(this.contents([entry])[0])));
    return target;
  }

  /** Every file of the revision, and of the submodules checked out here at the commits it records. */
  private all(): Map<string, GitEntry> {
    if (this.entries) return this.entries;
    this.entries = new Map();
    if (!this.list(this.repository.root, this.commit, "")) fail("FILE_UNREADABLE", `git could not list the files of ${this.commit}`);
    return this.entries;
  }

  /** Adds a commit's files under `prefix`: `git ls-tree -r -z`; false when git cannot list it. */
  private list(repository: string, commit: string, prefix: string): boolean {
    const listing = git(["ls-tree", "-r", "-z", "--full-tree", commit], repository, gitEnvironment(repository, this.repository.root));
    if (listing === undefined) return false;
    // Records of `<mode> SP <type> SP <object> TAB <path>`.
    const text = listing.toString();
    forEachPathRecord(text, (at, tab, end) => {
      const modeEnd = text.indexOf(" ", at);
      const mode = text.slice(at, modeEnd);
      const oid = text.slice(text.indexOf(" ", modeEnd + 1) + 1, tab);
      const path = prefix + text.slice(tab + 1, end);
      this.entries!.set(path, { mode, oid, repository });
      if (mode === GITLINK) {
        const folder = join(this.repository.root, path);
        if (isCheckedOut(folder)) this.list(folder, oid, `${path}/`);
      }
    });
    return true;
  }

  /** Blobs' contents, in order: one `git cat-file --batch` per repository they are in. */
  private contents(entries: readonly GitEntry[]): Uint8Array[] {
    const blobs = new Array<Uint8Array>(entries.length);
    const byRepository = new Map<string, number[]>();
    entries.forEach((entry, i) => {
      const indexes = byRepository.get(entry.repository);
      if (indexes) indexes.push(i);
      else byRepository.set(entry.repository, [i]);
    });
    for (const [repository, indexes] of byRepository) {
      const read = catFile(repository, gitEnvironment(repository, this.repository.root), indexes.map((i) => entries[i]!.oid));
      indexes.forEach((index, k) => (blobs[index] = read[k]!));
    }
    return blobs;
  }
}

/** Whether a submodule's folder holds its checkout: a `.git` file (or folder) of its own. */
function isCheckedOut(folder: string): boolean {
  try {
    lstatSync(join(folder, ".git"));
    return true;
  } catch {
    return false;
  }
}

/**
 * git's environment for a command in `repository`: in a submodule's folder, git must not
 * look above it (a broken checkout would find the enclosing repository instead).
 */
function gitEnvironment(repository: string, root: string): Record<string, string> | undefined {
  return repository === root ? undefined : { ...(process.env as Record<string, string>), GIT_CEILING_DIRECTORIES: dirname(repository) };
}

function catFile(repository: string, env: Record<string, string> | undefined, oids: readonly string[]): Uint8Array[] {
  if (oids.length === 0) return [];
  const result = Bun.spawnSync(["git", "cat-file", "--batch"], { cwd: repository, ...(env ? { env } : {}), stdin: Buffer.from(oids.map((oid) => `${oid}\n`).join("")), stderr: "pipe" });
  if (result.exitCode !== 0) fail("FILE_UNREADABLE", `git cat-file failed: ${result.stderr.toString().trim()}`);
  const out = result.stdout;
  const blobs: Uint8Array[] = [];
  let at = 0;
  for (let i = 0; i < oids.length; i++) {
    const newline = out.indexOf(10, at);
    const header = out.subarray(at, newline).toString();
    const size = Number(header.split(" ")[2]);
    if (!Number.isInteger(size)) fail("FILE_UNREADABLE", `git cat-file: ${header}`);
    blobs.push(out.subarray(newline + 1, newline + 1 + size));
    at = newline + 1 + size + 1;
  }
  return blobs;
}

/** git's stdout, or undefined when it fails (or is not installed). */
function git(args: readonly string[], cwd: string, env?: Record<string, string>): Buffer | undefined {
  try {
    const result = Bun.spawnSync(["git", ...args], { cwd, stdout: "pipe", stderr: "pipe", ...(env ? { env } : {}) });
    return result.exitCode === 0 ? result.stdout : undefined;
  } catch {
    return undefined;
  }
}

/** OWNER/NAME of the GitHub repository git remote origin names, or undefined when it names none. */
export function githubRepositoryOf(directory: string): string | undefined {
  const url = git(["remote", "get-url", "origin"], directory)?.toString().trim();
  const match = url === undefined ? null : /^(?:https:\/\/(?:[^@/]+@)?github\.com\/|git@github\.com:|ssh:\/\/git@github\.com\/)([A-Za-z0-9-]+)\/([A-Za-z0-9._-]+?)(?:\.git)?\/?$/.exec(url);
  return match ? `${match[1]}/${match[2]}` : undefined;
}
