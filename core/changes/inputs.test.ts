// The inputs digest: what changes it, what does not, and docs/incremental-builds.md's
// algorithm reimplemented plainly here as the oracle.

import { describe, expect, test } from "bun:test";
import { createHash } from "node:crypto";
import { chmodSync, cpSync, mkdirSync, readdirSync, readFileSync, readlinkSync, statSync, lstatSync, symlinkSync, utimesSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import dockerignore from "@balena/dockerignore";
import { WorkingTree } from "../../cli/working-tree.ts";
import { loadMatrix, planLoaded } from "../load.ts";
import type { BuildGraph } from "../graph.ts";
import { InputsDigester, type SourceTree } from "./inputs.ts";
import { writeMatrix } from "../../fixtures/test-helpers.ts";
import { scratchFolder } from "../../scripts/validators/scratch.ts";

/** A folder with these files (path → text; a function of the folder for more). */
function folder(files: Record<string, string>): string {
  const root = scratchFolder("inputs-");
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), text);
  }
  return root;
}

const CHAIN = `repository = "r.io/x"
[axes.py]
a = { V = "1" }
b = { V = "2" }
[images.base]
dockerfile = "docker/base.Dockerfile"
context = "docker"
tag = "base"
[images.app]
dockerfile = "docker/app.Dockerfile"
context = "docker"
tag = "app-{py}"
matrix = ["py"]
from = "base"
args = ["py"]
`;

const FILES = {
  "matrix.toml": CHAIN,
  "docker/base.Dockerfile": "FROM scratch\n",
  "docker/app.Dockerfile": "ARG BASE_IMAGE\nFROM $BASE_IMAGE\n",
  "docker/src/main.py": "print('hi')\n",
  "docker/notes.txt": "notes\n",
};

async function plan(root: string, options: { repository?: string; sources?: SourceTree } = {}): Promise<BuildGraph> {
  const loaded = await loadMatrix(readFileSync(join(root, "matrix.toml"), "utf8"), "matrix.toml");
  return planLoaded(loaded, { sources: options.sources ?? new WorkingTree(root), ...(options.repository ? { repository: options.repository } : {}) });
}

// By tag: an id may not be a family's name ("base" is the image base-2).
const inputsOf = (graph: BuildGraph) => Object.fromEntries(graph.images.map((image) => [image.tag, image.inputs]));

describe("what changes an image's inputs", () => {
  test("the same files give the same digests in any folder, whatever their times; --base-url changes none", async () => {
    const one = folder(FILES);
    const two = folder(FILES);
    utimesSync(join(two, "docker/notes.txt"), new Date(2001, 1, 1), new Date(2001, 1, 1));
    const first = await plan(one);
    expect(inputsOf(await plan(two))).toEqual(inputsOf(first));
    expect(inputsOf(await plan(one, { repository: "localhost:5000/elsewhere" }))).toEqual(inputsOf(first));
    for (const image of first.images) {
      expect(image.inputs).toMatch(/^sha256:[0-9a-f]{64}$/);
      expect(image.contentReference).toBe(`r.io/x:inputs-${image.inputs.slice(7)}`);
    }
  });

  test("a context file changes every image of the context; the base's change flows to its children", async () => {
    const root = folder(FILES);
    const before = inputsOf(await plan(root));
    writeFileSync(join(root, "docker/src/main.py"), "print('bye')\n");
    const after = inputsOf(await plan(root));
    for (const id of Object.keys(before)) expect(after[id]).not.toBe(before[id]);
  });

  test("a Dockerfile changes its images and their descendants only; an arg only the images with it", async () => {
    // A context holding the Dockerfiles sends them to every image of it (COPY . sees them), unless left out.
    const shared = folder(FILES);
    const sharedBefore = inputsOf(await plan(shared));
    writeFileSync(join(shared, "docker/app.Dockerfile"), "ARG BASE_IMAGE\nFROM $BASE_IMAGE\nRUN true\n");
    expect(inputsOf(await plan(shared)).base).not.toBe(sharedBefore.base);

    const root = folder({ ...FILES, "docker/.dockerignore": "*.Dockerfile\n" });
    const before = inputsOf(await plan(root));
    writeFileSync(join(root, "docker/app.Dockerfile"), "ARG BASE_IMAGE\nFROM $BASE_IMAGE\nRUN true\n");
    const after = inputsOf(await plan(root));
    expect(after.base).toBe(before.base!);
    expect(after["app-a"]).not.toBe(before["app-a"]);
    expect(after["app-b"]).not.toBe(before["app-b"]);
    writeMatrix(join(root, "matrix.toml"), CHAIN.replace('b = { V = "2" }', 'b = { V = "3" }'));
    const changedArg = inputsOf(await plan(root));
    expect(changedArg.base).toBe(after.base!);
    expect(changedArg["app-a"]).toBe(after["app-a"]!);
    expect(changedArg["app-b"]).not.toBe(after["app-b"]);
  });

  test("the executable bit counts; a file .dockerignore leaves out does not", async () => {
    const root = folder({ ...FILES, "docker/.dockerignore": "notes.txt\n" });
    const before = inputsOf(await plan(root));
    writeFileSync(join(root, "docker/notes.txt"), "other notes\n");
    expect(inputsOf(await plan(root))).toEqual(before);
    chmodSync(join(root, "docker/src/main.py"), 0o755);
    expect(inputsOf(await plan(root)).base).not.toBe(before.base);
  });

  test("<Dockerfile>.dockerignore is used instead of the context's .dockerignore, for that Dockerfile only", async () => {
    const root = folder({ ...FILES, "docker/.dockerignore": "notes.txt\n", "docker/app.Dockerfile.dockerignore": "src\n" });
    const before = inputsOf(await plan(root));
    writeFileSync(join(root, "docker/src/main.py"), "print('bye')\n");
    const srcChanged = inputsOf(await plan(root));
    expect(srcChanged.base).not.toBe(before.base); // the base's ignore file is the context's, which sends src/
    writeFileSync(join(root, "docker/notes.txt"), "other\n");
    const notesChanged = inputsOf(await plan(root));
    expect(notesChanged.base).toBe(srcChanged.base!);
    // app's ignore file sends notes.txt and leaves out src/: only the base's change reached app after src/ changed.
    expect(notesChanged["app-a"]).not.toBe(srcChanged["app-a"]);
  });

  test("docker's patterns: case-sensitive, '!' re-includes, '**', a leading '/'; a matched folder is left out whole", () => {
    const root = folder({
      "ctx/Dockerfile": "FROM scratch\n",
      "ctx/.dockerignore": "/build\n**/*.log\n!keep.log\nREADME.md\nnode_modules\n",
      "ctx/build/out.o": "",
      "ctx/a/b/trace.log": "",
      "ctx/keep.log": "",
      "ctx/readme.md": "",
      "ctx/README.md": "",
      "ctx/node_modules/x/index.js": "",
      "ctx/src/build/kept.txt": "",
    });
    const files = new InputsDigester(new WorkingTree(root)).contextFiles("ctx", "ctx/Dockerfile")!;
    expect([...files.files.keys()]).toEqual([".dockerignore", "Dockerfile", "keep.log", "readme.md", "src/build/kept.txt"]);
    expect(files.ignoreFile).toBe("ctx/.dockerignore");
  });

  test("a symlink is digested as a link, by its target's text; .git is never sent", async () => {
    const root = folder(FILES);
    symlinkSync("src/main.py", join(root, "docker/link"));
    mkdirSync(join(root, "docker/.git"));
    writeFileSync(join(root, "docker/.git/HEAD"), "ref: refs/heads/main\n");
    const files = new InputsDigester(new WorkingTree(root)).contextFiles("docker", "docker/base.Dockerfile")!;
    expect(files.files.get("link")).toBe(`symlink ${gitBlobId("src/main.py")}`);
    expect([...files.files.keys()].some((path) => path.startsWith(".git"))).toBe(false);
  });

  test("the matrix file and the files [outputs] names are no input, though the context holds them", async () => {
    const root = folder({ ...FILES, "matrix.toml": CHAIN.replaceAll('context = "docker"', 'context = "."') + '[outputs]\nmake = "Makefile"\ncloudbuild = "ci/"\n' });
    const before = inputsOf(await plan(root));
    writeFileSync(join(root, "Makefile"), "all:\n");
    mkdirSync(join(root, "ci"));
    writeFileSync(join(root, "ci/cloudbuild.json"), "{}\n");
    writeMatrix(join(root, "matrix.toml"), `${readFileSync(join(root, "matrix.toml"), "utf8")}# a comment\n`);
    expect(inputsOf(await plan(root))).toEqual(before);
    writeFileSync(join(root, "other.txt"), "");
    expect(inputsOf(await plan(root)).base).not.toBe(before.base);
  });

  test("a URL context is digested by its text; a missing Dockerfile or context by its absence", async () => {
    const digester = new InputsDigester(new WorkingTree(folder({})));
    const url = digester.parts("Dockerfile", "https://github.com/x/y.git#main", [], undefined);
    expect(url.context).toBe("context url 31:https://github.com/x/y.git#main");
    expect(url.dockerfile).toBe("dockerfile path 10:Dockerfile");
    const missing = digester.parts("nope/Dockerfile", "nope", [], undefined);
    expect([missing.dockerfile, missing.context]).toEqual(["dockerfile missing", "context missing"]);
  });

  test("each file is read once, however many images share its context", async () => {
    const root = folder(FILES);
    const reads = new Map<string, number>();
    const tree = new WorkingTree(root);
    const counting: SourceTree = {
      readFile: (path) => tree.readFile(path),
      listFiles: (directory, skip) => tree.listFiles(directory, skip),
      digests: (directory, files) => {
        for (const file of files) reads.set(`${directory}/${file.path}`, (reads.get(`${directory}/${file.path}`) ?? 0) + 1);
        return tree.digests(directory, files);
      },
    };
    await plan(root, { sources: counting });
    expect([...reads.values()].every((count) => count === 1)).toBe(true);
    expect(reads.size).toBe(4);
  });
});

function sha256(data: string | Buffer): string {
  return createHash("sha256").update(data).digest("hex");
}

/** git's blob id, from git's definition (SHA-1 of `blob <size>\0` and the bytes), not from the code under test. */
function gitBlobId(data: string | Buffer): string {
  const bytes = Buffer.from(data);
  return createHash("sha1").update(Buffer.concat([Buffer.from(`blob ${bytes.length}\0`), bytes])).digest("hex");
}

/**
 * docs/incremental-builds.md's algorithm ("The inputs digest"), written again from its text alone, for
 * images built from a folder on disk: the oracle the planner's digests must equal.
 */
function readmeInputs(
  root: string,
  image: { dockerfile: string; context: string; args: readonly { name: string; value: string }[]; upstream: readonly string[]; labels: readonly { name: string; value: string; revision: boolean }[]; platforms: readonly string[]; target: string | null; fromParts?: Readonly<Record<string, string>> },
  base: { reference: string; inputs: string } | undefined,
  runner: readonly string[] | null = null,
): string {
  const field = (text: string) => `${Buffer.byteLength(text)}:${text}`;
  const dockerfile = sha256(readFileSync(join(root, image.dockerfile)));
  const ignoreFile = [`${image.dockerfile}.dockerignore`, `${image.context}/.dockerignore`].find((path) => {
    try {
      return statSync(join(root, path)).isFile();
    } catch {
      return false;
    }
  });
  const matcher = dockerignore({ ignorecase: false }).add(ignoreFile ? readFileSync(join(root, ignoreFile), "utf8") : "");
  const files: string[] = [];
  const walk = (relative: string) => {
    for (const name of readdirSync(join(root, image.context, relative))) {
      if (name === ".git") continue;
      const path = relative ? `${relative}/${name}` : name;
      const stat = lstatSync(join(root, image.context, path));
      if (stat.isDirectory()) walk(path);
      else if (!matcher.ignores(path) && path !== "matrix.toml") files.push(path);
    }
  };
  walk("");
  files.sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
  let context = "caliban-images context 1\n";
  for (const path of files) {
    const full = join(root, image.context, path);
    const stat = lstatSync(full);
    const kind = stat.isSymbolicLink() ? "symlink" : stat.mode & 0o100 ? "executable" : "file";
    const digest = gitBlobId(stat.isSymbolicLink() ? readlinkSync(full) : readFileSync(full));
    context += `${kind} ${digest} ${field(path)}\n`;
  }
  let text = `caliban-images inputs 1\ndockerfile ${dockerfile}\ncontext ${sha256(context)}\n`;
  for (const arg of image.args) {
    const part = image.fromParts?.[arg.name];
    text += `arg ${field(arg.name)} ${field(part !== undefined ? `{from.${part}}` : base ? arg.value.split(base.reference).join("{from}") : arg.value)}\n`;
  }
  for (const label of image.labels) if (!label.revision) text += `label ${field(label.name)} ${field(label.value)}\n`;
  for (const platform of image.platforms) text += `platform ${field(platform)}\n`;
  if (image.target !== null) text += `target ${field(image.target)}\n`;
  for (const label of runner ?? []) text += `runner ${field(label)}\n`;
  for (const pinned of image.upstream) text += `upstream ${field(pinned)}\n`;
  if (base) text += `base ${base.inputs}\n`;
  return `sha256:${sha256(text)}`;
}

test("the documented algorithm, reimplemented from its text, gives the planner's digests", async () => {
  const root = folder({ ...FILES, "docker/.dockerignore": "*.txt\n", "docker/émoji-😀.py": "x\n", "docker/z.py": "" });
  chmodSync(join(root, "docker/z.py"), 0o755);
  symlinkSync("z.py", join(root, "docker/zz"));
  const graph = await plan(root);
  const byId = new Map(graph.images.map((image) => [image.id, image]));
  for (const image of graph.images) {
    const base = image.from === null ? undefined : byId.get(image.from)!;
    expect(image.inputs).toBe(readmeInputs(root, image, base));
  }
  // The same matrix somewhere else gives the same digests.
  const copy = scratchFolder("inputs-copy-");
  cpSync(root, copy, { recursive: true, verbatimSymlinks: true });
  expect(inputsOf(await plan(copy))).toEqual(inputsOf(graph));
});

test("an arg holding a part of the base ({from.repository}, {from.tag}) is digested as that part's name: the documented algorithm gives the planner's digests, the same in any repository", async () => {
  const root = folder({
    ...FILES,
    "matrix.toml": CHAIN.replace('args = ["py"]', 'args = ["py", { IMAGE_NAME = "{from.repository}", BASE_TAG = "{from.tag}" }]'),
    "docker/app.Dockerfile": "ARG IMAGE_NAME\nARG BASE_TAG\nFROM ${IMAGE_NAME}:${BASE_TAG}\n",
  });
  const graph = await plan(root);
  const byId = new Map(graph.images.map((image) => [image.id, image]));
  const app = graph.images.find((image) => image.family === "app")!;
  expect(app.fromParts).toEqual({ IMAGE_NAME: "repository", BASE_TAG: "tag" });
  for (const image of graph.images) expect(image.inputs).toBe(readmeInputs(root, image, image.from === null ? undefined : byId.get(image.from)!));
  expect(inputsOf(await plan(root, { repository: "other.io/y" }))).toEqual(inputsOf(graph));
});

test("with a lock file, the documented algorithm still gives the planner's digests: the pinned arg and an upstream line per locked FROM", async () => {
  const locked = `sha256:${"1".repeat(64)}`;
  const root = folder({
    ...FILES,
    "docker/base.Dockerfile": "ARG BASE_IMAGE=ubuntu:22.04\nFROM $BASE_IMAGE AS build\nFROM busybox:1.36\nCOPY --from=build /x /x\n",
    "matrix.toml": CHAIN.replace('tag = "base"', 'tag = "base"\nlabels = { "org.opencontainers.image.revision" = "{revision}", "x.kind" = "base {family}" }\nplatforms = ["linux/amd64", "linux/arm64"]\ntarget = "final"'),
    "matrix.lock": `version = 1\n[digests]\n"ubuntu:22.04" = "${locked}"\n"busybox:1.36" = "sha256:${"2".repeat(64)}"\n`,
  });
  const graph = await plan(root);
  const base = graph.images.find((image) => image.family === "base")!;
  expect(base.upstream).toEqual([`ubuntu:22.04@${locked}`, `busybox:1.36@sha256:${"2".repeat(64)}`]);
  // The FROM made of one arg is pinned through it (the arg is added: the matrix gave none); the literal one cannot be.
  expect(base.args).toEqual([{ name: "BASE_IMAGE", value: `ubuntu:22.04@${locked}` }]);
  const byId = new Map(graph.images.map((image) => [image.id, image]));
  for (const image of graph.images) {
    expect(image.inputs).toBe(readmeInputs(root, image, image.from === null ? undefined : byId.get(image.from)!));
    if (image.family === "app") expect(image.upstream).toEqual([]);
  }
  // Only the digests count, not the lock file's other bytes.
  writeFileSync(join(root, "matrix.lock"), `version = 1\n[digests]\n"ubuntu:22.04" = "${locked}"\n"busybox:1.36" = "sha256:${"2".repeat(64)}"\n# a comment\n`);
  expect(inputsOf(await plan(root))).toEqual(inputsOf(graph));
});

test("two families split only by their runner (x86 and arm machines) never share a content reference; the documented algorithm gives both", async () => {
  const split = `repository = "r.io/x"
[images.x86]
dockerfile = "docker/base.Dockerfile"
context = "docker"
tag = "base-amd64"
runner = "ubuntu-latest"
[images.arm]
dockerfile = "docker/base.Dockerfile"
context = "docker"
tag = "base-arm64"
runner = ["ubuntu-24.04-arm"]
[images.anywhere]
dockerfile = "docker/base.Dockerfile"
context = "docker"
tag = "base"
`;
  const root = folder({ ...FILES, "matrix.toml": split });
  const graph = await plan(root);
  const [x86, arm, anywhere] = graph.images;
  expect(new Set([x86!.contentReference, arm!.contentReference, anywhere!.contentReference]).size).toBe(3);
  const runnerOf = (family: string) => graph.families.find((f) => f.name === family)!.runner;
  for (const image of graph.images) expect(image.inputs).toBe(readmeInputs(root, image, undefined, runnerOf(image.family)));
  // Without a runner the line is not there: the digest is what it was before runners were digested.
  expect(anywhere!.inputs).toBe(readmeInputs(root, anywhere!, undefined));
});
