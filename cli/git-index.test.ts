// A context's digests from what git knows (cli/git-index.ts) equal those of its files
// hashed from disk: in a work tree (clean, edited, with new files), at a revision, and
// in a copy that is no repository. Where git's index cannot vouch for the bytes docker
// sends (a converting attribute, a skip-worktree entry), the file is read.

import { describe, expect, spyOn, test } from "bun:test";
import { chmodSync, cpSync, mkdirSync, readFileSync, rmSync, symlinkSync, utimesSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { blobId } from "../core/changes/blob-id.ts";
import { InputsDigester } from "../core/changes/inputs.ts";
import { findRepository, GitTree, resolveRevision } from "./git-tree.ts";
import { WorkingTree } from "./working-tree.ts";
import { scratchFolder } from "../scripts/validators/scratch.ts";

function git(cwd: string, ...args: string[]): string {
  const result = Bun.spawnSync(["git", "-c", "user.name=test", "-c", "user.email=test@example.com", "-c", "commit.gpgsign=false", ...args], { cwd });
  if (result.exitCode !== 0) throw new Error(`git ${args.join(" ")}: ${result.stderr.toString()}`);
  return result.stdout.toString();
}

const FILES: Record<string, string> = {
  "docker/Dockerfile": "FROM scratch\nCOPY . /app\n",
  "docker/main.py": "print('hi')\n",
  "docker/data/weights.bin": "\u0000\u0001binary\u0002",
  "docker/run.sh": "#!/bin/sh\n",
};

/** A folder with FILES (run.sh executable, link.py a symlink); a repository with them committed unless `init` is false. */
function tree(options: { init?: boolean; format?: "sha1" | "sha256"; files?: Record<string, string> } = {}): string {
  const root = scratchFolder("git-index-");
  for (const [path, content] of Object.entries(options.files ?? FILES)) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), content);
  }
  chmodSync(join(root, "docker/run.sh"), 0o755);
  symlinkSync("main.py", join(root, "docker/link.py"));
  if (options.init === false) return root;
  git(root, "init", "-q", "-b", "main", ...(options.format ? [`--object-format=${options.format}`] : []));
  git(root, "add", "-A");
  git(root, "commit", "-q", "-m", "files");
  return root;
}

/** The context's files (path → "kind id") and its line, asking git's index whatever the context's size. */
function digested(root: string, source: "disk" | "HEAD" = "disk") {
  let sources;
  if (source === "HEAD") {
    const repo = findRepository(root)!;
    sources = new GitTree(repo, resolveRevision(repo, "HEAD"), root);
  } else {
    sources = new WorkingTree(root, 0);
  }
  const digester = new InputsDigester(sources);
  return { files: Object.fromEntries(digester.contextFiles("docker", "docker/Dockerfile")!.files), context: digester.parts("docker/Dockerfile", "docker", [], undefined).context };
}

/** What docs/incremental-builds.md says a file's digest is, from the bytes on disk. */
function fromDisk(root: string, path: string): string {
  return blobId(readFileSync(join(root, "docker", path)));
}

test("a file's digest is what `git hash-object` prints in a sha1 repository (and what it prints there for a sha256 repository's files)", () => {
  const root = tree();
  const sha256 = tree({ format: "sha256" });
  for (const path of ["main.py", "data/weights.bin"]) {
    expect(blobId(readFileSync(join(root, "docker", path)))).toBe(git(root, "hash-object", `docker/${path}`).trim());
    expect(blobId(readFileSync(join(sha256, "docker", path)))).toBe(git(root, "hash-object", "--no-filters", join(sha256, "docker", path)).trim());
    // git's own id there is of another hash: not the digest.
    expect(git(sha256, "hash-object", `docker/${path}`).trim()).toHaveLength(64);
  }
});

describe("the same files, the same digests, wherever they are read from", () => {
  test("a clean work tree, the revision, and a copy that is no repository", () => {
    const root = tree();
    const copy = tree({ init: false });
    const clean = digested(root);
    expect(clean).toEqual(digested(root, "HEAD"));
    expect(clean).toEqual(digested(copy));
    expect(clean.files).toMatchObject({ "main.py": `file ${fromDisk(root, "main.py")}`, "run.sh": `executable ${fromDisk(root, "run.sh")}`, "link.py": `symlink ${blobId("main.py")}` });
  });

  test("an edited file, a new file and a touched file are hashed from disk, as in a copy", () => {
    const root = tree();
    writeFileSync(join(root, "docker/main.py"), "print('edited')\n");
    writeFileSync(join(root, "docker/new.txt"), "untracked\n");
    utimesSync(join(root, "docker/run.sh"), new Date(), new Date(2001, 1, 1));
    const copy = scratchFolder("git-index-copy-");
    cpSync(join(root, "docker"), join(copy, "docker"), { recursive: true, verbatimSymlinks: true });
    const edited = digested(root);
    expect(edited).toEqual(digested(copy));
    expect(edited.files["main.py"]).toBe(`file ${blobId("print('edited')\n")}`);
    expect(edited.files["new.txt"]).toBe(`file ${blobId("untracked\n")}`);
    expect(edited).not.toEqual(digested(root, "HEAD"));
  });

  test("a sha256 repository: the work tree, the revision and a copy outside it agree, with SHA-1 blob ids", () => {
    const root = tree({ format: "sha256" });
    writeFileSync(join(root, "docker/new.txt"), "untracked\n");
    git(root, "add", "docker/new.txt");
    git(root, "commit", "-q", "-m", "new");
    const inRepository = digested(root);
    expect(inRepository).toEqual(digested(root, "HEAD"));
    expect(inRepository.files["new.txt"]).toBe(`file ${blobId("untracked\n")}`);
    expect(inRepository).toEqual(digested(tree({ init: false, files: { ...FILES, "docker/new.txt": "untracked\n" } })));
  });
});

describe("where the index cannot vouch for the bytes docker sends, they are read", () => {
  test("a clean (LFS-like) filter: the index holds the cleaned content; the digest is of the file on disk", () => {
    const root = tree();
    git(root, "config", "filter.upper.clean", "tr a-z A-Z");
    git(root, "config", "filter.upper.smudge", "cat");
    writeFileSync(join(root, ".gitattributes"), "*.py filter=upper\n");
    git(root, "add", "--renormalize", ".");
    git(root, "add", "-A");
    git(root, "commit", "-q", "-m", "filter");
    expect(git(root, "ls-files", "-s", "docker/main.py")).toContain(blobId("PRINT('HI')\n"));
    expect(digested(root).files["main.py"]).toBe(`file ${blobId("print('hi')\n")}`);
  });

  test("an eol conversion: a CRLF file added as text is LF in the index, CRLF on disk", () => {
    const root = tree();
    writeFileSync(join(root, "docker/crlf.txt"), "a\r\nb\r\n");
    writeFileSync(join(root, ".gitattributes"), "*.txt text eol=lf\n");
    git(root, "add", "-A");
    git(root, "commit", "-q", "-m", "crlf");
    expect(git(root, "ls-files", "-s", "docker/crlf.txt")).toContain(blobId("a\nb\n"));
    expect(digested(root).files["crlf.txt"]).toBe(`file ${blobId("a\r\nb\r\n")}`);
  });

  test("core.autocrlf: every file is hashed from disk", () => {
    const root = tree();
    git(root, "config", "core.autocrlf", "input");
    writeFileSync(join(root, "docker/crlf.txt"), "a\r\nb\r\n");
    git(root, "add", "-A");
    git(root, "commit", "-q", "-m", "crlf");
    expect(digested(root).files["crlf.txt"]).toBe(`file ${blobId("a\r\nb\r\n")}`);
  });

  test("a skip-worktree entry (sparse checkout) edited on disk", () => {
    const root = tree();
    git(root, "update-index", "--skip-worktree", "docker/main.py");
    writeFileSync(join(root, "docker/main.py"), "print('sparse')\n");
    expect(git(root, "diff-files", "--name-only")).toBe("");
    expect(digested(root).files["main.py"]).toBe(`file ${blobId("print('sparse')\n")}`);
  });
});

test("in a work tree, a tracked file git sees unchanged is never opened; an edited one is", () => {
  // Every byte of a context file reaches the digest through node:fs (openSync for a
  // file, readlinkSync for a link), so watching those calls tells what was read.
  const root = tree();
  writeFileSync(join(root, "docker/main.py"), "print('edited')\n");
  // The module object cli/working-tree.ts loads with require().
  const nodeFs = require("node:fs") as typeof import("node:fs");
  const opened = spyOn(nodeFs, "openSync");
  const linksRead = spyOn(nodeFs, "readlinkSync");
  try {
    const { files } = digested(root);
    const read = [...opened.mock.calls, ...linksRead.mock.calls].map((call) => String(call[0]));
    expect(read.filter((path) => path.endsWith("/docker/main.py"))).toHaveLength(1);
    for (const unread of ["data/weights.bin", "run.sh", "link.py"]) expect(read.filter((path) => path.endsWith(`/docker/${unread}`))).toEqual([]);
    expect(files["data/weights.bin"]).toBe(`file ${fromDisk(root, "data/weights.bin")}`);
  } finally {
    opened.mockRestore();
    linksRead.mockRestore();
    rmSync(root, { recursive: true, force: true });
  }
});

test("a context cheaper to read than to ask git about (the default, under about 4 MB) runs no git at all", () => {
  const root = tree();
  const spawned = spyOn(Bun, "spawnSync");
  try {
    const digester = new InputsDigester(new WorkingTree(root));
    const files = Object.fromEntries(digester.contextFiles("docker", "docker/Dockerfile")!.files);
    expect(spawned.mock.calls).toEqual([]);
    expect(files).toEqual(digested(root).files);
  } finally {
    spawned.mockRestore();
    rmSync(root, { recursive: true, force: true });
  }
});

test("many files: one git sees unchanged is not even looked at (its mode is the index's); an edited one is", () => {
  const root = tree();
  writeFileSync(join(root, "docker/main.py"), "print('edited')\n");
  const nodeFs = require("node:fs") as typeof import("node:fs");
  const looked = spyOn(nodeFs, "lstatSync");
  try {
    const { files } = digested(root);
    const paths = looked.mock.calls.map((call) => String(call[0]));
    expect(paths.filter((path) => path.endsWith("/docker/main.py"))).toHaveLength(1);
    for (const unseen of ["data/weights.bin", "run.sh"]) expect(paths.filter((path) => path.endsWith(`/docker/${unseen}`))).toEqual([]);
    expect(files["run.sh"]).toBe(`executable ${fromDisk(root, "run.sh")}`);
    expect(files).toEqual(digested(copyOf(root)).files);
  } finally {
    looked.mockRestore();
    rmSync(root, { recursive: true, force: true });
  }
});

test("core.fileMode false: git does not see an execute bit change, so the file's own mode is looked at", () => {
  const root = tree();
  git(root, "config", "core.fileMode", "false");
  chmodSync(join(root, "docker/main.py"), 0o755);
  chmodSync(join(root, "docker/run.sh"), 0o644);
  // A chmod changes the ctime: once the commit is a second old, diff-files names such a file stat-dirty whatever its
  // mode (this failed under load). Refreshed, the index holds its stat data again, and git sees no change of mode.
  git(root, "update-index", "-q", "--refresh");
  expect(git(root, "diff-files", "--name-only")).toBe("");
  const { files } = digested(root);
  expect(files["main.py"]).toBe(`executable ${fromDisk(root, "main.py")}`);
  expect(files["run.sh"]).toBe(`file ${fromDisk(root, "run.sh")}`);
  expect(files).toEqual(digested(copyOf(root)).files);
});

/** The context's files copied to a folder that is no repository (links kept as links). */
function copyOf(root: string): string {
  const copy = scratchFolder("git-index-copy-");
  cpSync(join(root, "docker"), join(copy, "docker"), { recursive: true, verbatimSymlinks: true });
  return copy;
}
