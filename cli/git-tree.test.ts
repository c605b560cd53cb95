// A git revision read as the working tree reads the same files checked out: symlinks on
// the way to a Dockerfile or a context followed, symlinks in a context sent as links,
// submodules as the files docker would send. Where the two agree, `affected --since`
// calls nothing changed that did not change.

import { describe, expect, test } from "bun:test";
import { appendFileSync, mkdirSync, symlinkSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { blobId } from "../core/changes/blob-id.ts";
import { InputsDigester, sha256 } from "../core/changes/inputs.ts";
import { findRepository, GitTree, resolveRevision } from "./git-tree.ts";
import { WorkingTree } from "./working-tree.ts";
import { scratchFolder } from "../scripts/validators/scratch.ts";

function git(cwd: string, ...args: string[]): string {
  const result = Bun.spawnSync(["git", "-c", "user.name=test", "-c", "user.email=test@example.com", "-c", "commit.gpgsign=false", "-c", "protocol.file.allow=always", ...args], { cwd });
  if (result.exitCode !== 0) throw new Error(`git ${args.join(" ")}: ${result.stderr.toString()}`);
  return result.stdout.toString();
}

/** A repository with these files (path → text, or `{ link }` for a symlink), committed. */
function repository(files: Record<string, string | { link: string }>): string {
  const root = scratchFolder("git-tree-");
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    if (typeof content === "string") writeFileSync(join(root, path), content);
    else symlinkSync(content.link, join(root, path));
  }
  git(root, "init", "-q", "-b", "main");
  git(root, "add", "-A");
  git(root, "commit", "-q", "-m", "files");
  return root;
}

/** A submodule at `path` in `root`, checked out and committed. */
function addSubmodule(root: string, path: string, files: Record<string, string>): void {
  const source = repository(files);
  git(root, "submodule", "add", "-q", source, path);
  git(root, "commit", "-q", "-m", "submodule");
}

/** The digest's Dockerfile and context lines, and the context's files, from disk and from HEAD. */
function bothSides(root: string, dockerfile: string, context: string) {
  const repo = findRepository(root)!;
  const sides = [new WorkingTree(root, 0), new GitTree(repo, resolveRevision(repo, "HEAD"), root)].map((tree) => {
    const digester = new InputsDigester(tree);
    const { dockerfile: dockerfileLine, context: contextLine } = digester.parts(dockerfile, context, [], undefined);
    return { dockerfileLine, contextLine, files: Object.fromEntries(digester.contextFiles(context, dockerfile)?.files ?? []) };
  });
  return { disk: sides[0]!, revision: sides[1]! };
}

const FROM = "FROM scratch\n";

describe("symlinks: the revision read as docker reads the checkout", () => {
  test("a Dockerfile through a symlink is its target's bytes, whether the link stays in the repository or leaves it", () => {
    const outside = scratchFolder("git-tree-outside-");
    writeFileSync(join(outside, "shared.Dockerfile"), "FROM busybox\n");
    const root = repository({
      "real/a.Dockerfile": FROM,
      "docker/a.Dockerfile": { link: "../real/a.Dockerfile" },
      "docker/b.Dockerfile": { link: join(outside, "shared.Dockerfile") },
      "docker/main.py": "",
    });
    symlinkSync(join(root, "real/a.Dockerfile"), join(root, "docker/c.Dockerfile"));
    git(root, "add", "-A");
    git(root, "commit", "-q", "-m", "an absolute link into the repository");
    for (const [dockerfile, bytes] of [["docker/a.Dockerfile", FROM], ["docker/b.Dockerfile", "FROM busybox\n"], ["docker/c.Dockerfile", FROM]] as const) {
      const { disk, revision } = bothSides(root, dockerfile, "docker");
      expect(disk.dockerfileLine).toBe(`dockerfile ${sha256(bytes)}`);
      expect(revision).toEqual(disk);
    }
    // Edited since the revision: the revision's side reads the revision's bytes, through either link.
    appendFileSync(join(root, "real/a.Dockerfile"), "RUN true\n");
    for (const dockerfile of ["docker/a.Dockerfile", "docker/c.Dockerfile"]) {
      const { disk, revision } = bothSides(root, dockerfile, "docker");
      expect(revision.dockerfileLine).toBe(`dockerfile ${sha256(FROM)}`);
      expect(disk.dockerfileLine).toBe(`dockerfile ${sha256(`${FROM}RUN true\n`)}`);
    }
  });

  test("a context that is a symlink, or below one, is its target's files; a symlink inside a context is sent as a link", () => {
    const root = repository({
      "ctx/Dockerfile": FROM,
      "ctx/main.py": "print('hi')\n",
      "ctx/sub/x.txt": "x\n",
      "ctx/link.py": { link: "main.py" },
      "ctx/sub-link": { link: "sub" },
      "docker": { link: "ctx" },
      "alias": { link: "nested/deeper" },
      "nested/deeper/inner/Dockerfile": FROM,
      "nested/deeper/inner/a.txt": "a\n",
    });
    const viaLink = bothSides(root, "docker/Dockerfile", "docker");
    expect(viaLink.revision).toEqual(viaLink.disk);
    expect(viaLink.disk.files).toMatchObject({ "main.py": `file ${blobId("print('hi')\n")}`, "link.py": `symlink ${blobId("main.py")}`, "sub-link": `symlink ${blobId("sub")}`, "sub/x.txt": `file ${blobId("x\n")}` });
    expect(viaLink.disk.contextLine).toBe(bothSides(root, "ctx/Dockerfile", "ctx").disk.contextLine);
    const below = bothSides(root, "alias/inner/Dockerfile", "alias/inner");
    expect(Object.keys(below.disk.files)).toEqual(["Dockerfile", "a.txt"]);
    expect(below.revision).toEqual(below.disk);
  });
});

describe("submodules: the files docker would send, read at the commit the revision records", () => {
  test("checked out: its files, as on disk; an edit in it changes exactly that file", () => {
    const root = repository({ "ctx/Dockerfile": FROM, "ctx/main.py": "" });
    addSubmodule(root, "ctx/vendor/lib", { "lib.py": "x = 1\n", "pkg/mod.py": "y = 2\n" });
    const { disk, revision } = bothSides(root, "ctx/Dockerfile", "ctx");
    expect(Object.keys(disk.files)).toEqual(["Dockerfile", "main.py", "vendor/lib/lib.py", "vendor/lib/pkg/mod.py"]);
    expect(revision).toEqual(disk);
    appendFileSync(join(root, "ctx/vendor/lib/lib.py"), "x = 3\n");
    const edited = bothSides(root, "ctx/Dockerfile", "ctx");
    expect(edited.disk.contextLine).not.toBe(edited.revision.contextLine);
    expect(Object.keys(edited.disk.files).filter((path) => edited.disk.files[path] !== edited.revision.files[path])).toEqual(["vendor/lib/lib.py"]);
  });

  test("a Dockerfile and a context inside a submodule", () => {
    const root = repository({ "matrix-side.txt": "" });
    addSubmodule(root, "third_party/app", { "Dockerfile": FROM, "src/app.py": "" });
    const { disk, revision } = bothSides(root, "third_party/app/Dockerfile", "third_party/app");
    expect(disk.dockerfileLine).toBe(`dockerfile ${sha256(FROM)}`);
    expect(revision).toEqual(disk);
  });

  test("not checked out (a clone without --recurse-submodules): an empty folder on disk, no files in the revision", () => {
    const origin = repository({ "ctx/Dockerfile": FROM });
    addSubmodule(origin, "ctx/vendor/lib", { "lib.py": "" });
    const clone = scratchFolder("git-tree-clone-");
    git(clone, "clone", "-q", origin, ".");
    const { disk, revision } = bothSides(clone, "ctx/Dockerfile", "ctx");
    expect(Object.keys(disk.files)).toEqual(["Dockerfile"]);
    expect(revision).toEqual(disk);
    // The submodule's folder as a context: there, and empty, on both sides.
    const itself = bothSides(clone, "ctx/Dockerfile", "ctx/vendor/lib");
    expect(itself.disk.contextLine).toBe(`context ${sha256("caliban-images context 1\n")}`);
    expect(itself.revision).toEqual(itself.disk);
  });

  test("checked out without the commit the revision records: its files count as changed (rebuilt, never wrongly skipped)", () => {
    const root = repository({ "ctx/Dockerfile": FROM });
    addSubmodule(root, "ctx/vendor/lib", { "lib.py": "" });
    git(root, "update-index", "--cacheinfo", `160000,${"1".repeat(40)},ctx/vendor/lib`);
    git(root, "commit", "-q", "-m", "a commit the submodule does not have");
    const { disk, revision } = bothSides(root, "ctx/Dockerfile", "ctx");
    expect(disk.files["vendor/lib/lib.py"]).toBeDefined();
    expect(revision.files["vendor/lib/lib.py"]).toBeUndefined();
    expect(revision.contextLine).not.toBe(disk.contextLine);
  });
});
