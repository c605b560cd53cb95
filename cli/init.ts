// `caliban-images init [DIR]`: a working starting point. A matrix for a python × CUDA
// chain with comments that teach the format, its Dockerfiles and .dockerignore, the
// schema for editors, and the CI files asked for (--ci), written by `emit --all` from
// that matrix, so `plan` and `check` pass on it unchanged. It never overwrites a file:
// when any of them is there, or a file is where it makes a folder, it writes nothing;
// when a step fails (another init won a race), it takes back only what it made itself.

import { CalibanError, didYouMean, fail } from "../core/errors.ts";
import { matrixSchema } from "../core/matrix/matrix-schema.ts";
import { repositoryProblem } from "../core/names.ts";
import { displayName } from "../core/printable.ts";
import { emitAll } from "./emit-all.ts";
import { makeFolders, writeError } from "./file-set.ts";
import { checkedDestination, repositoryOf } from "./output-targets.ts";
import { optionalString, stringList, type Options } from "./load-graph.ts";
import { repositoryRoot } from "./matrix-source.ts";
import type { Io } from "./terminal.ts";
import matrixTemplate from "./init/matrix.toml" with { type: "text" };
import cudaDockerfile from "./init/cuda.Dockerfile.txt" with { type: "text" };
import pythonDockerfile from "./init/python.Dockerfile.txt" with { type: "text" };
import dockerignore from "./init/dockerignore.txt" with { type: "text" };

/** Where each CI's files go, as the matrix's [outputs] lists them. */
export const INIT_OUTPUTS = {
  github: ".github/workflows/build-images.yml",
  gitlab: ".gitlab-ci.yml",
  buildkite: ".buildkite/pipeline.yml",
  cloudbuild: "cloudbuild/",
  make: "Makefile",
  bake: "docker-bake.hcl",
} as const;

type Ci = keyof typeof INIT_OUTPUTS;

export const DEFAULT_INIT_REPOSITORY = "ghcr.io/your-org/images";
/** Cloud Build's triggers' repository, when git remote origin names none on GitHub. */
export const DEFAULT_GITHUB_REPOSITORY = "your-org/images";

/** The files init writes itself (the CI files come from `emit --all`), relative to DIR. */
export function initFiles(repository: string, ci: readonly Ci[], githubRepository = DEFAULT_GITHUB_REPOSITORY): Record<string, string> {
  let outputs = ci.length === 0 ? "" : `\n# Where \`caliban-images emit --all\` writes each CI's files, and \`check\` compares them.\n[outputs]\n${ci.map((name) => `${name} = ${JSON.stringify(INIT_OUTPUTS[name])}\n`).join("")}`;
  if (ci.includes("cloudbuild")) {
    outputs += `\n# Cloud Build's triggers (one per [publish] event) watch this GitHub repository.\n[emit.cloudbuild]\ngithub-repository = ${JSON.stringify(githubRepository)}\n`;
  }
  return {
    "matrix.toml": `#:schema ./matrix.schema.json\n${text(matrixTemplate).replace('"{{repository}}"', JSON.stringify(repository))}${outputs}`,
    "matrix.schema.json": `${JSON.stringify(matrixSchema(), null, 2)}\n`,
    "docker/cuda.Dockerfile": text(cudaDockerfile),
    "docker/python.Dockerfile": text(pythonDockerfile),
    "docker/.dockerignore": text(dockerignore),
  };
}

/** A text import (Bun gives a string). */
function text(module: unknown): string {
  return module as string;
}

/** Test seams: `afterFile` runs after each file init writes itself (another init's file can appear there). */
export interface InitSeams {
  readonly afterFile?: (file: string) => void;
}

export async function initCommand(directoryArgument: string | undefined, options: Options, io: Io, seams: InitSeams = {}): Promise<number> {
  const fs: typeof import("node:fs") = require("node:fs");
  const path: typeof import("node:path") = require("node:path");
  const directory = directoryArgument ?? ".";
  const ci = ciOption(options.ci);
  const repository = optionalString(options.repository, "--repository") ?? DEFAULT_INIT_REPOSITORY;
  const problem = repositoryProblem(repository);
  if (problem) fail("USAGE", `--repository "${repository}" ${problem}`);

  // git is asked in the nearest folder that is there: DIR may be new.
  const missing = notThere(path.resolve(directory));
  const existing = missing.length === 0 ? path.resolve(directory) : path.dirname(missing.at(-1)!);
  // Their names, relative to DIR (git's origin changes only what Cloud Build's files say).
  const names = [...Object.keys(initFiles(repository, ci)), ...ci.map((name) => INIT_OUTPUTS[name])];
  refuseFilesInTheWay(directory, existing, names);
  // As for any output: no file is written through a link out of the repository, or into .git/.
  const inRepository = repositoryOf(fs, path, existing);
  for (const name of names) checkedDestination(fs, path, { path: path.join(directory, name), name, contents: "", producer: "init" }, inRepository);
  const origin = ci.includes("cloudbuild") ? (await import("./git-tree.ts")).githubRepositoryOf(existing) : undefined;
  const files = initFiles(repository, ci, origin);
  const planned = names.map((file) => path.join(directory, file));
  const present = planned.filter(exists);
  if (present.length > 0) {
    fail("USAGE", `init writes no file that is already there, and ${present.map(displayName).join(", ")} ${present.length === 1 ? "is" : "are"}`, {
      hint: "nothing was written: init another folder (caliban-images init DIR), or move them away",
    });
  }
  // What this init made, in order, to take back if a step fails: only what it made itself,
  // never a file or folder another init (or anyone) made meanwhile.
  const made: string[] = [];
  try {
    for (const [file, contents] of Object.entries(files)) {
      const target = path.join(directory, file);
      makeFolders(fs, path, path.dirname(target), made);
      createFile(fs, target, contents, made);
      seams.afterFile?.(target);
    }
    if (ci.length > 0) {
      const quiet: Io = { stdout: (t) => io.stdout(t), stderr: (t) => (t.startsWith("using matrix ") ? undefined : io.stderr(t)), flushed: () => io.flushed() };
      // "create": a CI file that appeared since the check is an error, never replaced.
      await emitAll([], { matrix: path.join(directory, "matrix.toml") }, quiet, "write", "create");
    }
  } catch (error) {
    // Last made first: files before the folders they are in; a folder someone else put a file in stays.
    for (const at of made.reverse()) removeOwn(fs, at);
    throw writeError(error, undefined, "nothing was written: init took back what it had made; init another folder, or move what is in the way");
  }
  const matrix = path.join(directory, "matrix.toml");
  const root = ci.includes("github") || ci.includes("gitlab") ? repositoryRoot(path.resolve(directory)) : undefined;
  if (root !== undefined && root !== fs.realpathSync(directory)) {
    const atRoot = (file: string) => displayName(path.join(path.relative(process.cwd(), root) || ".", file));
    if (ci.includes("github")) {
      io.stderr(`warning: GitHub runs workflows only from ${atRoot(path.join(".github", "workflows"))}/, the repository's root: ${displayName(path.join(directory, INIT_OUTPUTS.github))} will not run there (init the root, or emit github -o .github/workflows/build-images.yml from it)\n`);
    }
    if (ci.includes("gitlab")) {
      io.stderr(`warning: GitLab reads ${atRoot(".gitlab-ci.yml")}, at the repository's root, unless the project's CI/CD configuration file setting names another: ${displayName(path.join(directory, INIT_OUTPUTS.gitlab))} is not read there (set that path to it, or emit gitlab -o .gitlab-ci.yml from the root)\n`);
    }
  }
  const shown = (file: string) => displayName(path.join(directory, file));
  const matrixOption = directory === "." ? "" : ` --matrix ${displayName(matrix)}`;
  const steps: [string, string][] = [
    [`caliban-images plan${matrixOption}`, "what it builds"],
    ci.length > 0 ? [`caliban-images emit --all${matrixOption}`, "after each change to the matrix; commit what it writes"] : [`caliban-images emit github${matrixOption} -o .github/workflows/build-images.yml`, "a CI's files (or gitlab, buildkite, cloudbuild, make, bake)"],
  ];
  const width = Math.max(...steps.map(([command]) => command.length));
  io.stderr(
    [
      // One line a file, as emit --all lists them: init makes every one of them new.
      ...[...Object.keys(files), ...ci.map((name) => INIT_OUTPUTS[name])].map((file) => `wrote     ${shown(file)}`),
      "next:",
      `  set repository in ${shown("matrix.toml")} to where your images go (now ${repository})`,
      ...steps.map(([command, why]) => `  ${command.padEnd(width)}  # ${why}`),
      "",
    ].join("\n"),
  );
  return 0;
}

/** --ci github --ci make, or --ci github,make. */
function ciOption(value: unknown): Ci[] {
  const names = stringList(value).flatMap((item) => item.split(",")).map((name) => name.trim()).filter((name) => name !== "");
  const known = Object.keys(INIT_OUTPUTS);
  for (const name of names) {
    if (!known.includes(name)) fail("USAGE", `--ci ${name}: init writes files for ${known.join(", ")}`, { hint: didYouMean(name, known) });
  }
  // In a fixed order, each once: the same files whatever order they were asked in.
  return (known as Ci[]).filter((name) => names.includes(name));
}

/**
 * A file (or anything but a folder) where init makes a folder: DIR itself, or a folder a
 * file goes in (`docker`, `.github/workflows`), or the nearest thing above a new DIR.
 * Each is an error, before anything is written.
 */
function refuseFilesInTheWay(directory: string, existing: string, files: readonly string[]): void {
  const path: typeof import("node:path") = require("node:path");
  // Named as the user would: from here, unless that is up and out.
  const shown = path.relative(process.cwd(), existing);
  const folders = new Set([shown === "" || shown.startsWith("..") ? existing : shown, directory]);
  for (const file of files) {
    const segments = file.split("/").slice(0, -1);
    for (let i = 1; i <= segments.length; i++) folders.add(path.join(directory, ...segments.slice(0, i)));
  }
  const inTheWay = [...folders].filter((folder) => exists(folder) && !isFolder(folder));
  if (inTheWay.length === 0) return;
  throw new CalibanError(
    inTheWay.map((at) => ({
      code: "USAGE" as const,
      file: at,
      message: "this is a file, where init makes a folder",
      hint: "nothing was written: init another folder (caliban-images init DIR), or move it away",
    })),
  );
}

/** A new file, created here or not at all (O_EXCL: never one that appeared since the check, never through a link); added to `made` once it is. */
function createFile(fs: typeof import("node:fs"), target: string, contents: string, made: string[]): void {
  const fd = fs.openSync(target, "wx");
  made.push(target);
  try {
    fs.writeFileSync(fd, contents);
  } finally {
    fs.closeSync(fd);
  }
}

/** Removes a file or an empty folder this init made; a folder that is not empty stays (someone else's file is in it). */
function removeOwn(fs: typeof import("node:fs"), at: string): void {
  try {
    if (isFolder(at)) fs.rmdirSync(at);
    else fs.unlinkSync(at);
  } catch {
    // Gone already, or not empty: left as it is.
  }
}

function isFolder(path: string): boolean {
  const fs: typeof import("node:fs") = require("node:fs");
  try {
    return fs.statSync(path).isDirectory();
  } catch {
    return false;
  }
}

/** `path` and each folder above it that is not there yet, deepest first: what writing it makes. */
function notThere(path: string): string[] {
  const dirname = (require("node:path") as typeof import("node:path")).dirname;
  const missing: string[] = [];
  for (let at = path; !exists(at); at = dirname(at)) missing.push(at);
  return missing;
}

function exists(path: string): boolean {
  const fs: typeof import("node:fs") = require("node:fs");
  try {
    fs.lstatSync(path);
    return true;
  } catch {
    return false;
  }
}
