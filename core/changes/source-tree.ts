// Where the inputs digest (core/changes/inputs.ts) reads files from: the working tree
// (cli/working-tree.ts) or a git revision (cli/git-tree.ts), so that `affected --since
// REV` digests REV with the very same code. Both must list and read a context the way
// docker sends it, or an unchanged image would count as changed on every run.

/** A file of a directory, as docker would send it in a build context. */
export interface SourceFile {
  /** Relative to the listed directory, '/'-separated, never starting with '/' or holding '.' or '..'. */
  readonly path: string;
  /**
   * A symlink is sent as a link: its digest is that of its target's text. A FIFO, a
   * socket or a device is listed so that, when the context sends it, it is refused by
   * name (it is never opened: reading a FIFO waits for a writer forever).
   */
  readonly kind: "file" | "executable" | "symlink" | SpecialKind;
}

/** What only a working tree can hold: git stores none of them. */
export type SpecialKind = "fifo" | "socket" | "device";

/** Where digests read files from. Every path is as the matrix gives it: relative to the matrix file's directory. */
export interface SourceTree {
  /**
   * A file's bytes, or undefined when there is no such file (or it is a folder). A symlink
   * is followed, as docker reads a Dockerfile through one. A file that is there but cannot
   * be read (no permission, a FIFO) is a FILE_UNREADABLE error, never "missing".
   */
  readFile(path: string): Uint8Array | undefined;
  /**
   * Every file under a directory (not `.git`), or undefined when it is not a directory.
   * `skip(relative)` says that a directory need not be entered: nothing below it is sent.
   * Symlinks on the way to the directory are followed; those inside it are files.
   */
  listFiles(directory: string, skip: (relative: string) => boolean): SourceFile[] | undefined;
  /**
   * Each file's SHA-1 git blob id (core/changes/blob-id.ts: what `git hash-object` prints
   * in a SHA-1 repository), in order, asked together: a git
   * revision's tree and a work tree's index name most of them without reading a byte.
   */
  digests(directory: string, files: readonly SourceFile[]): string[];
}

/** A tree with no files: every Dockerfile and context is missing (the embedded matrix, outside any project). */
export const NO_SOURCES: SourceTree = {
  readFile: () => undefined,
  listFiles: () => undefined,
  digests: () => [],
};

const SPECIAL_NAMES: Record<SpecialKind, string> = { fifo: "a FIFO (named pipe)", socket: "a socket", device: "a device" };

export function isSpecialKind(kind: SourceFile["kind"]): kind is SpecialKind {
  return Object.hasOwn(SPECIAL_NAMES, kind);
}

/** "a FIFO (named pipe)", for messages that refuse one. */
export function specialName(kind: SpecialKind): string {
  return SPECIAL_NAMES[kind];
}
