// make with DOCKER=podman and a multi-platform image (issue 33): make stops before any
// build, naming the images podman cannot build (the multi-platform one and the image FROM
// it), instead of failing on `--push` after building the others. A goal that reaches none
// of them runs with podman as before. Run by GNU make, with a podman that records calls.

import { expect, test } from "bun:test";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { CLI_FOR_MAKE, runCli } from "../fixtures/test-helpers.ts";
import { scratchFolder } from "../scripts/validators/scratch.ts";

const MATRIX = `repository = "registry.example.com/team"

[images.multi]
dockerfile = "docker/Dockerfile"
context = "docker"
tag = "multi"
platforms = ["linux/amd64", "linux/arm64"]

[images.child]
from = "multi"
dockerfile = "docker/Dockerfile"
context = "docker"
tag = "child"

[images.plain]
dockerfile = "docker/Dockerfile"
context = "docker"
tag = "plain"
`;

test("DOCKER=podman: make stops before any build when its goals reach a multi-platform image (or one FROM it), naming them; other goals build", () => {
  const root = scratchFolder("make-podman-");
  mkdirSync(join(root, "docker"));
  mkdirSync(join(root, "bin"));
  writeFileSync(join(root, "docker/Dockerfile"), "ARG BASE_IMAGE=scratch\nFROM $BASE_IMAGE\n");
  writeFileSync(join(root, "matrix.toml"), MATRIX);
  writeFileSync(join(root, "bin/podman"), `#!/bin/sh\necho "$*" >> ${JSON.stringify(join(root, "podman-calls"))}\n`, { mode: 0o755 });
  writeFileSync(join(root, "podman-calls"), "");
  expect(runCli(["emit", "make", "-o", "Makefile"], root).code).toBe(0);
  const make = (...goals: string[]) => {
    const run = Bun.spawnSync(["make", "-s", `DOCKER=${join(root, "bin/podman")}`, CLI_FOR_MAKE, ...goals], { cwd: root, stdout: "pipe", stderr: "pipe" });
    return { exit: run.exitCode, stderr: run.stderr.toString() };
  };
  for (const goals of [[], ["push"], ["build/child"], ["push/family/multi"]]) {
    const refused = make(...goals);
    expect({ goals, exit: refused.exit }).toEqual({ goals, exit: 2 });
    expect(refused.stderr).toContain("DOCKER=podman cannot build 2 images these goals reach: multi-2 child-2. They are built with docker buildx");
    expect(readFileSync(join(root, "podman-calls"), "utf8")).toBe("");
  }
  const plain = make("build/plain");
  expect({ exit: plain.exit, stderr: plain.stderr }).toEqual({ exit: 0, stderr: "using matrix matrix.toml\n" });
  expect(readFileSync(join(root, "podman-calls"), "utf8")).toStartWith("build ");
});
