// make read back (readback.ts): `make -j2 push` run with a recording docker and a
// stand-in for `caliban-images resolve`, make's own database for what each target needs.

import { chmodSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { movedRepository, type BuildGraph, type ImageNode } from "../../core/graph.ts";
import { BUILD_TIME, fakeDate, REVISION } from "./build-time-readback.ts";
import { dockerBuildView, normalise, recordingDocker, type ImageView, type OutputView } from "./readback-view.ts";

/**
 * A stand-in for `caliban-images resolve --format make` beside a recording docker, for the
 * Makefile's readbacks in folders that hold no matrix: it prints the plan's own digests, and
 * `present/ID=1` for each image whose content tag `existing` names, only when asked with
 * --registry (as the real one asks the registry only then). It refuses a call without a
 * shape. The real command is run by cli/resolve.test.ts and by the e2e tests, with the
 * Makefile and a real registry.
 */
export function fakeResolve(directory: string, graph: BuildGraph, existing: readonly string[] = []): string {
  const path = join(directory, "caliban-images");
  const tags = new Set(existing.map((reference) => reference.slice(reference.lastIndexOf(":") + 1)));
  const hex = (image: ImageNode) => image.inputs.slice("sha256:".length);
  const words = (present: boolean) => graph.images.map((image) => `inputs/${image.id}=${hex(image)}${present && tags.has(`inputs-${hex(image)}`) ? ` present/${image.id}=1` : ""}`).join(" ");
  writeFileSync(
    path,
    `#!/usr/bin/env bash
[ "$1" = resolve ] || exit 9
shape=; registry=
while [ $# -gt 0 ]; do case "$1" in --shape) shape=$2;; --registry) registry=$2;; esac; shift; done
` +
      `[[ "$shape" =~ ^[0-9a-f]{64}$ ]] || { echo "fake resolve: no shape" >&2; exit 9; }
` +
      `if [ -n "$registry" ]; then echo ${JSON.stringify(words(true))}; else echo ${JSON.stringify(words(false))}; fi
`,
  );
  chmodSync(path, 0o755);
  return path;
}

/**
 * make: runs `make -j2 push` with a recording fake docker first, so every argument is
 * what the shell handed to docker after make's and the shell's own expansions; the
 * direct prerequisites of each build target come from make's own database (-p).
 */
export function makeView(makefile: string, graph: BuildGraph, makeArgs: readonly string[] = [], existing: readonly string[] = [], failingTests: readonly string[] = []): OutputView & { readonly order: readonly string[]; readonly pushes: readonly string[]; readonly retags: readonly string[][]; readonly tests: readonly string[]; readonly stderr: string; readonly calls: readonly string[][] } {
  const docker = recordingDocker(existing, failingTests);
  const directory = docker.directory;
  writeFileSync(join(directory, "Makefile"), makefile);
  // With a failing test, -k: make goes on with every target that does not depend on the failed one.
  // REVISION as a CI would set it (the Makefile's default asks git, which has no repository here).
  const resolve = `CALIBAN_IMAGES=${fakeResolve(directory, graph, existing)}`;
  // The branch as a CI gives it, and `date` (first on PATH) answering the test's day: the Makefile makes the build-time values of the aliases itself.
  fakeDate(directory);
  const run = Bun.spawnSync(["make", "-j2", ...(failingTests.length > 0 ? ["-k"] : []), "push", `DOCKER=${docker.path}`, `REVISION=${REVISION}`, `BRANCH=${BUILD_TIME.branch}`, resolve, ...makeArgs], { cwd: directory, env: { ...process.env, PATH: `${directory}:${process.env.PATH}` } });
  const stderr = run.stderr.toString();
  if (run.exitCode !== 0 && failingTests.length === 0) throw new Error(`make failed (${run.exitCode}): ${stderr}`);
  const calls = docker.calls();

  const images: ImageView[] = [];
  const order: string[] = [];
  const pushes: string[] = [];
  const retags: string[][] = [];
  const tests: string[] = [];
  for (const call of calls) {
    if (call[0] === "build") {
      const image = dockerBuildView(call.slice(1));
      images.push(image);
      order.push(image.reference);
    } else if (call[0] === "buildx" && call[1] === "build") {
      // A buildx image is built and pushed by one `--push` build (a `--load` one before it is for its test).
      if (!call.includes("--push")) continue;
      const image = dockerBuildView(call.slice(2));
      images.push(image);
      order.push(image.reference);
      for (let i = 2; i < call.length; i++) if (call[i] === "-t") pushes.push(call[i + 1]!);
    } else if (call[0] === "push") pushes.push(call[1]!);
    else if (call[0] === "run" && call[1] === "--rm") tests.push(call[2]!);
    else if (call.slice(0, 4).join(" ") === "buildx imagetools create --tag") retags.push(call.slice(4));
    else throw new Error(`make ran docker ${call.join(" ")}`);
  }

  // Targets are named by image id, by design; the plan says which reference each id is (REPOSITORY=... moving it, unless its repository is absolute).
  const moved = makeArgs.find((arg) => arg.startsWith("REPOSITORY="))?.slice("REPOSITORY=".length);
  const expected = (image: ImageNode) => (moved === undefined ? image.reference : `${movedRepository(image, moved)}:${image.tag}`);
  const referenceOfId = new Map(graph.images.map((i) => [i.id, images.find((v) => v.reference === expected(i))?.reference ?? `?${i.id}`]));
  const database = Bun.spawnSync(["make", "-pnq", "all", resolve, `REVISION=${REVISION}`, `BRANCH=${BUILD_TIME.branch}`], { cwd: directory }).stdout.toString();
  const bases: Record<string, string[]> = {};
  for (const line of database.split("\n")) {
    const match = /^build\/([A-Za-z0-9_-]+):(.*)$/.exec(line);
    if (!match || !referenceOfId.has(match[1]!)) continue;
    const prerequisites = match[2]!.trim().split(/\s+/).filter((p) => p.startsWith("build/"));
    bases[referenceOfId.get(match[1]!)!] = prerequisites.map((p) => referenceOfId.get(p.slice("build/".length)) ?? p);
  }
  return { ...normalise(images, bases), order, pushes, retags, tests, stderr, calls };
}
