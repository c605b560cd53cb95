// Where each output file lands, and where none may: a file is written where its links
// lead (the link is kept, so `-o` into a linked file updates that file), but never
// through a link out of the repository it is in, never inside .git/, and never twice:
// two outputs that are one file (one path, a link to the other, hard links to one
// file, or a file where another output makes a folder) are refused before anything is
// written, so `check` cannot then call one of them stale forever.

import { fail } from "../core/errors.ts";
import { repositoryRoot } from "./matrix-source.ts";

type NodeFs = typeof import("node:fs");
type NodePath = typeof import("node:path");

/** A file and where it goes: `name` is its emitter's path for it (or the -o FILE). */
export interface PlacedFile {
  readonly path: string;
  readonly name: string;
  readonly contents: string | Iterable<string>;
  /** What made it, as a message names it ("emit make", "lock"). */
  readonly producer: string;
  /** The -o DIRECTORY (or [outputs] folder) it was placed in, which it may not leave through a link. */
  readonly within?: string;
}

/** The repository writes are confined to: the folder commands run from (or the matrix file's), and the git work tree holding it. */
export interface Repository {
  /** That folder, as written (absolute). */
  readonly base: string;
  /** The work tree's root (the folder holding .git) as a real path; without one, the folder's real path. */
  readonly root: string;
}

export function repositoryOf(fs: NodeFs, path: NodePath, base: string): Repository {
  return { base: path.resolve(base), root: repositoryRoot(base) ?? fs.realpathSync(base) };
}

/**
 * Where each file lands, once every check has passed: not out of its folder or the
 * repository through a link, not in .git/, no two on one file.
 */
export function destinationsOf(fs: NodeFs, path: NodePath, placed: readonly PlacedFile[], repository: Repository): (PlacedFile & { readonly destination: string })[] {
  const folders = new Map<string, string>();
  const located = placed.map((file) => {
    const destination = realPath(fs, path, file.path);
    if (file.within !== undefined) {
      let folder = folders.get(file.within);
      if (folder === undefined) folders.set(file.within, (folder = realPath(fs, path, file.within)));
      if (destination !== folder && !inside(path, destination, folder)) {
        fail("PLUGIN", `${file.producer}: the output file ${file.name} would be written to ${destination}, outside ${file.within}, through a link`, { hint: "nothing was written" });
      }
    }
    confine(path, file, destination, repository);
    return { ...file, destination };
  });
  refuseSharedFiles(fs, path, located);
  return located;
}

/** The real path `file` is written to, once it is known to stay in the repository and out of .git/. */
export function checkedDestination(fs: NodeFs, path: NodePath, file: PlacedFile, repository: Repository): string {
  const destination = realPath(fs, path, file.path);
  confine(path, file, destination, repository);
  return destination;
}

/** Refuses a file a link leads out of the repository, and one inside .git/. */
function confine(path: NodePath, file: PlacedFile, destination: string, repository: Repository): void {
  const written = path.resolve(file.path);
  // A path named outside the repository is the user's choice; a link in the repository is the checkout's.
  const inRepository = inside(path, written, repository.base) || inside(path, written, repository.root);
  if (inRepository && destination !== repository.root && !inside(path, destination, repository.root)) {
    fail("OUTPUT", `a link leads it out of the repository (${repository.root}), to ${destination}; nothing is written through it`, {
      file: file.path,
      hint: "nothing was written; remove the link, or write to the file it names",
    });
  }
  if (inGitFolder(path, written, repository) || inGitFolder(path, destination, repository)) {
    fail("OUTPUT", "it is inside .git/, which only git writes", { file: file.path, hint: "nothing was written; give a path outside .git/" });
  }
}

/** Whether a path has a .git folder on the way to it, from the repository (or, outside it, from the file system's root). */
function inGitFolder(path: NodePath, at: string, repository: Repository): boolean {
  const from = inside(path, at, repository.root) ? repository.root : inside(path, at, repository.base) ? repository.base : path.parse(at).root;
  // Case-folding file systems (macOS, Windows) take .GIT for .git.
  return path.relative(from, at).split(path.sep).some((segment) => segment.toLowerCase() === ".git");
}

function inside(path: NodePath, at: string, folder: string): boolean {
  return at.startsWith(folder.endsWith(path.sep) ? folder : folder + path.sep);
}

/** Two outputs that are one file, or a file where another output makes a folder: an error naming both. */
function refuseSharedFiles(fs: NodeFs, path: NodePath, files: readonly (PlacedFile & { readonly destination: string })[]): void {
  const byPath = new Map<string, PlacedFile>();
  const byInode = new Map<string, PlacedFile>();
  for (const file of files) {
    const other = byPath.get(file.destination);
    if (other !== undefined) oneFile(other, file, path.resolve(other.path) === path.resolve(file.path) ? "the same file" : "the same file, through a link");
    byPath.set(file.destination, file);
    const stats = statIfThere(fs, file.destination);
    if (stats?.isFile()) {
      const inode = `${stats.dev}:${stats.ino}`;
      const linked = byInode.get(inode);
      if (linked !== undefined) oneFile(linked, file, "hard links to one file");
      byInode.set(inode, file);
    }
  }
  for (const file of files) {
    for (let folder = path.dirname(file.destination); folder !== path.dirname(folder); folder = path.dirname(folder)) {
      const other = byPath.get(folder);
      if (other === undefined) continue;
      fail("OUTPUT", `${other.producer} writes the file ${other.name}, and ${file.producer} writes ${file.name} inside it, as into a folder`, {
        file: other.path,
        hint: "nothing was written; give each output a file of its own",
      });
    }
  }
}

function statIfThere(fs: NodeFs, path: string): import("node:fs").Stats | undefined {
  try {
    return fs.statSync(path);
  } catch {
    return undefined;
  }
}

function oneFile(first: PlacedFile, second: PlacedFile, how: string): never {
  if (first.producer === second.producer && how.startsWith("the same file")) {
    fail("PLUGIN", `${first.producer}: the output files ${first.name} and ${second.name} are the same file`, { hint: "nothing was written; an emitter must return each path once" });
  }
  fail("OUTPUT", `${first.producer} writes ${first.name}, and ${second.producer} writes ${second.name}: ${how}`, {
    file: second.path,
    hint: "nothing was written; give each output a file of its own",
  });
}

/** The absolute path `file` names once every link is followed, whether or not it (or its folders) exist yet. */
export function realPath(fs: NodeFs, path: NodePath, file: string): string {
  let existing = path.resolve(file);
  const rest: string[] = [];
  for (let links = 0; ; ) {
    try {
      return path.join(fs.realpathSync(existing), ...rest);
    } catch (error) {
      // Not there, or below a file: the file (a folder) is made there, or refused there, by the writer.
      const code = (error as NodeJS.ErrnoException).code;
      if (code !== "ENOENT" && code !== "ENOTDIR") throw error;
    }
    let link: string | undefined;
    try {
      link = fs.readlinkSync(existing);
    } catch {
      link = undefined;
    }
    if (link !== undefined && links++ < 40) {
      // A link to a file not there yet: the file is made where it points.
      existing = path.resolve(path.dirname(existing), link);
      continue;
    }
    const parent = path.dirname(existing);
    if (parent === existing) return path.join(existing, ...rest);
    rest.unshift(path.basename(existing));
    existing = parent;
  }
}
