// A git revision's files, as a SourceTree (core/inputs.ts), read through git itself:
// `git ls-tree` once for the whole revision, `git cat-file --batch` once per context
// for the contents. Nothing is checked out. Paths are relative to the matrix file's
// directory, as in the working tree; a path outside the repository is read from disk.

import { realpathSync } from "node:fs";
import { isAbsolute, join, relative } from "node:path";
import { fail } from "../core/errors.ts";
import { sha256, type SourceFile, type SourceTree } from "../core/inputs.ts";
import { WorkingTree } from "./working-tree.ts";

interface GitEntry {
  readonly mode: string;
  readonly oid: string;
}

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

/** The commit a revision names, or an error saying it names none. */
export function resolveRevision(repository: Repository, revision: string): string {
  if (revision.startsWith("-")) fail("USAGE", `--since "${revision}" is not a revision`, { hint: "give a commit, a branch or a tag, e.g. --since origin/main" });
  const commit = git(["rev-parse", "--verify", "--quiet", "--end-of-options", `${revision}^{commit}`], repository.root);
  if (commit === undefined) fail("USAGE", `--since "${revision}" names no commit of the repository at ${repository.root}`, { hint: "fetch it first (a shallow clone lacks history: actions/checkout with fetch-depth: 0)" });
  return commit.toString().trim();
}

export class GitTree implements SourceTree {
  private entries: Map<string, GitEntry> | undefined;
  private readonly disk: WorkingTree;

  constructor(
    private readonly repository: Repository,
    private readonly commit: string,
    matrixDirectory: string,
  ) {
    this.disk = new WorkingTree(matrixDirectory);
  }

  /** A file of the revision by its path in the repository, or undefined. */
  fileAt(repositoryPath: string): Uint8Array | undefined {
    const entry = this.all().get(repositoryPath);
    if (!entry || entry.mode === "160000" || entry.mode === "040000") return undefined;
    return this.contents([entry.oid])[0];
  }

  readFile(path: string): Uint8Array | undefined {
    const inRepo = this.inRepository(path);
    return inRepo === undefined ? this.disk.readFile(path) : this.fileAt(inRepo);
  }

  listFiles(directory: string, skip: (relative: string) => boolean): SourceFile[] | undefined {
    const prefix = this.inRepository(directory);
    if (prefix === undefined) return this.disk.listFiles(directory, skip);
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
    let found = prefix === "";
    for (const [path, entry] of this.all()) {
      if (!path.startsWith(start)) continue;
      found = true;
      const inside = path.slice(start.length);
      const slash = inside.lastIndexOf("/");
      if (slash >= 0 && isSkipped(inside.slice(0, slash))) continue;
      // A submodule's files are not in this repository's tree: not digested (README).
      if (entry.mode === "160000") continue;
      files.push({ path: inside, kind: entry.mode === "120000" ? "symlink" : entry.mode === "100755" ? "executable" : "file" });
    }
    return found ? files : undefined;
  }

  digests(directory: string, files: readonly SourceFile[]): string[] {
    const prefix = this.inRepository(directory);
    if (prefix === undefined) return this.disk.digests(directory, files);
    const start = prefix === "" ? "" : `${prefix}/`;
    const entries = this.all();
    return this.contents(files.map((file) => entries.get(start + file.path)!.oid)).map((bytes) => sha256(bytes));
  }

  /** The path in the repository, or undefined when it is outside it (or absolute). */
  private inRepository(path: string): string | undefined {
    if (isAbsolute(path)) return undefined;
    const joined = join(this.repository.matrixDirectory, path).split("\\").join("/");
    if (joined === ".." || joined.startsWith("../")) return undefined;
    return joined === "." ? "" : joined.replace(/\/$/, "");
  }

  /** Every file of the revision: `git ls-tree -r -z`. */
  private all(): Map<string, GitEntry> {
    if (this.entries) return this.entries;
    const listing = git(["ls-tree", "-r", "-z", "--full-tree", this.commit], this.repository.root);
    if (listing === undefined) fail("FILE_UNREADABLE", `git could not list the files of ${this.commit}`);
    this.entries = new Map();
    for (const record of listing.toString().split("\0")) {
      if (record === "") continue;
      // <mode> SP <type> SP <object> TAB <path>
      const tab = record.indexOf("\t");
      const [mode, , oid] = record.slice(0, tab).split(" ");
      this.entries.set(record.slice(tab + 1), { mode: mode!, oid: oid! });
    }
    return this.entries;
  }

  /** Blobs' contents, in order, from one `git cat-file --batch`. */
  private contents(oids: readonly string[]): Uint8Array[] {
    if (oids.length === 0) return [];
    const result = Bun.spawnSync(["git", "cat-file", "--batch"], { cwd: this.repository.root, stdin: Buffer.from(oids.map((oid) => `${oid}\n`).join("")), stderr: "pipe" });
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
}

/** git's stdout, or undefined when it fails (or is not installed). */
function git(args: readonly string[], cwd: string): Buffer | undefined {
  try {
    const result = Bun.spawnSync(["git", ...args], { cwd, stdout: "pipe", stderr: "pipe" });
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
