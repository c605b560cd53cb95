// Whether each image's `dockerfile` and `context` are there, relative to the matrix
// file's directory (what every build is run from). A missing one is an error at the
// family's key, once per path, with a "did you mean" when a near name is there. A
// remote context (git, https) is docker's to fetch, and the Dockerfile in it too.

import { closest, type KeyPath } from "../errors.ts";
import { isRemoteContext, joinPath } from "../changes/inputs.ts";

/** A folder's entries, for the check and its hints. */
export interface DirectoryEntries {
  /** The names in a directory, each with whether it is a directory; undefined when it is no directory. */
  entries(directory: string): readonly { readonly name: string; readonly directory: boolean }[] | undefined;
}

export type PathProblem = { readonly keyPath: KeyPath; readonly message: string; readonly hint?: string };

const NO_PROBLEMS: readonly PathProblem[] = [];

export class PathChecker {
  /** The paths already looked at, of each kind (a Set of the paths themselves: no key is made per image). */
  private readonly checked = { dockerfile: new Set<string>(), context: new Set<string>() };
  private lastDockerfile: string | undefined;
  private lastContext: string | undefined;
  /** Each directory's entries, read once: a family's Dockerfiles are mostly in one folder. */
  private readonly listed = new Map<string, ReadonlyMap<string, boolean> | undefined>();

  constructor(
    private readonly tree: DirectoryEntries,
    private readonly matrixName: string,
  ) {}

  /** The problems with an image's two paths (none twice for the same path). */
  check(dockerfile: string, context: string, familyPath: KeyPath): readonly PathProblem[] {
    // A family's images mostly share both paths, and come one after another: the pair just checked has nothing new.
    if (dockerfile === this.lastDockerfile && context === this.lastContext) return NO_PROBLEMS;
    this.lastDockerfile = dockerfile;
    this.lastContext = context;
    if (isRemoteContext(context)) return NO_PROBLEMS;
    const problems: PathProblem[] = [];
    const dockerfileProblem = this.once("dockerfile", dockerfile, () => this.problem(dockerfile, "file"));
    if (dockerfileProblem) {
      // "Dockerfile" is also what a family without the key builds: say how to name another.
      const hint = dockerfileProblem.hint ?? (dockerfile === "Dockerfile" ? `name the family's Dockerfile: dockerfile = "docker/app.Dockerfile" (without the key, it is "Dockerfile")` : undefined);
      problems.push({ keyPath: [...familyPath, "dockerfile"], message: dockerfileProblem.message, ...(hint ? { hint } : {}) });
    }
    const contextProblem = this.once("context", context, () => this.problem(context, "directory"));
    if (contextProblem) problems.push({ keyPath: [...familyPath, "context"], ...contextProblem });
    return problems;
  }

  private once(key: "dockerfile" | "context", path: string, check: () => { message: string; hint?: string } | undefined): { message: string; hint?: string } | undefined {
    const checked = this.checked[key];
    if (checked.has(path)) return undefined;
    checked.add(path);
    const found = check();
    return found && { ...found, message: `the ${key} "${path}" ${found.message}` };
  }

  /** What is wrong with `path` as a file or a directory, walking it one name at a time. */
  private problem(path: string, kind: "file" | "directory"): { message: string; hint?: string } | undefined {
    const absolute = path.startsWith("/");
    const names = path.split("/").filter((name) => name !== "" && name !== ".");
    let directory = absolute ? "/" : ".";
    const where = `(paths are relative to the folder of ${this.matrixName})`;
    for (let i = 0; i < names.length; i++) {
      const name = names[i]!;
      const last = i === names.length - 1;
      if (name === "..") {
        directory = joinPath(directory, name);
        continue;
      }
      const entries = this.entries(directory);
      if (entries === undefined) return { message: `is not there ${where}` };
      const isDirectory = entries.get(name);
      if (isDirectory === undefined) {
        // Near names of the kind that fits here: a directory on the way, the kind asked for at the end.
        const wanted = [...entries].filter(([, folder]) => (last ? folder === (kind === "directory") : folder)).map(([entryName]) => entryName).sort(); // sorted: the same hint whatever order the file system lists
        const guess = closest(name, wanted);
        const what = names.length === 1 ? "is not there" : `is not there: ${directory === "." ? "the folder" : `"${directory}"`} has no "${name}"`;
        const hint = guess === undefined ? undefined : `did you mean "${[...(absolute ? [""] : []), ...names.slice(0, i), guess, ...names.slice(i + 1)].join("/")}"?`;
        return { message: `${what} ${where}`, ...(hint ? { hint } : {}) };
      }
      if (!last && !isDirectory) return { message: `is not there: "${joinPath(directory, name)}" is a file, not a folder` };
      if (last && isDirectory !== (kind === "directory")) return { message: kind === "file" ? "is a folder, not a file" : "is a file, not a folder" };
      directory = joinPath(directory, name);
    }
    if (names.length === 0 && kind === "file") return { message: "names no file" };
    return undefined;
  }

  private entries(directory: string): ReadonlyMap<string, boolean> | undefined {
    if (!this.listed.has(directory)) {
      const entries = this.tree.entries(directory);
      this.listed.set(directory, entries && new Map(entries.map((entry) => [entry.name, entry.directory])));
    }
    return this.listed.get(directory);
  }
}
