// The files on disk, as a SourceTree (core/inputs.ts): what a build run here would
// send. Paths are relative to the matrix file's directory, which is what builds use.
// node:fs is loaded on first use: the embedded matrix reads no file.

import { sha256, type SourceFile, type SourceTree } from "../core/inputs.ts";
import type { DirectoryEntries } from "../core/plan-paths.ts";

type NodeFs = typeof import("node:fs");
let loaded: NodeFs | undefined;
const fs = (): NodeFs => (loaded ??= require("node:fs") as NodeFs);

/** Joins paths with '/' (node:path is not loaded for it: a millisecond of every start). */
function join(directory: string, name: string): string {
  return directory.endsWith("/") ? `${directory}${name}` : `${directory}/${name}`;
}

export class WorkingTree implements SourceTree, DirectoryEntries {
  /** Digests by full path: a file is read once, however often it is asked for. */
  private readonly known = new Map<string, string>();

  constructor(private readonly root: string) {}

  private resolve(path: string): string {
    return path.startsWith("/") ? path : join(this.root, path);
  }

  readFile(path: string): Uint8Array | undefined {
    try {
      return fs().readFileSync(this.resolve(path));
    } catch {
      return undefined;
    }
  }

  entries(directory: string): { name: string; directory: boolean }[] | undefined {
    try {
      // A symlink counts as what it points to, as docker follows it for -f and the context.
      return fs()
        .readdirSync(this.resolve(directory), { withFileTypes: true })
        .map((entry) => ({ name: entry.name, directory: entry.isDirectory() || (entry.isSymbolicLink() && isDirectory(join(this.resolve(directory), entry.name))) }));
    } catch {
      return undefined;
    }
  }

  listFiles(directory: string, skip: (relative: string) => boolean): SourceFile[] | undefined {
    const top = this.resolve(directory);
    try {
      if (!fs().statSync(top).isDirectory()) return undefined;
    } catch {
      return undefined;
    }
    const files: SourceFile[] = [];
    const walk = (absolute: string, relative: string) => {
      for (const entry of fs().readdirSync(absolute, { withFileTypes: true })) {
        if (entry.name === ".git") continue;
        const path = relative === "" ? entry.name : `${relative}/${entry.name}`;
        const full = join(absolute, entry.name);
        if (entry.isDirectory()) {
          if (!skip(path)) walk(full, path);
        } else if (entry.isSymbolicLink()) {
          files.push({ path, kind: "symlink" });
        } else if (entry.isFile()) {
          // git's rule for the executable bit: the owner's.
          files.push({ path, kind: (fs().lstatSync(full).mode & 0o100) !== 0 ? "executable" : "file" });
        }
      }
    };
    walk(top, "");
    return files;
  }

  digests(directory: string, files: readonly SourceFile[]): string[] {
    const top = this.resolve(directory);
    return files.map((file) => {
      const full = join(top, file.path);
      let digest = this.known.get(full);
      if (digest === undefined) this.known.set(full, (digest = sha256(file.kind === "symlink" ? fs().readlinkSync(full) : fs().readFileSync(full))));
      return digest;
    });
  }
}

function isDirectory(path: string): boolean {
  try {
    return fs().statSync(path).isDirectory();
  } catch {
    return false;
  }
}
