// One mistake, one message, at its line (issue 33): what a new user moving a 27-image
// python × CUDA × Ubuntu matrix met. An alias that names no axis is one error, not one per
// image, and its hint (a `when` rule) plans; `labels` written under an axis's table is said
// to be misplaced, not read as a value with a bad build arg; `plan` refuses an [emit.*]
// option that `emit` would refuse, at its line.

import { describe, expect, test } from "bun:test";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { runCliAsync as run } from "../fixtures/test-helpers.ts";
import { scratchFolder } from "../scripts/validators/scratch.ts";

const MATRIX = `repository = "ghcr.io/acme/images"

[axes.python]
py310 = { PYTHON = "3.10" }
py311 = { PYTHON = "3.11" }
py312 = { PYTHON = "3.12" }

[axes.cuda]
cu118 = { CUDA = "11.8" }
cu121 = { CUDA = "12.1" }
cu124 = { CUDA = "12.4" }

[axes.ubuntu]
jammy = { UBUNTU = "22.04" }
noble = { UBUNTU = "24.04" }
focal = { UBUNTU = "20.04" }

[images.gpu]
dockerfile = "docker/Dockerfile"
context = "docker"
matrix = ["python", "cuda", "ubuntu"]
tag = "{python}-{cuda}-{ubuntu}"
args = ["python", "cuda", "ubuntu"]
`;

function project(matrix: string): string {
  const root = scratchFolder("one-mistake-");
  mkdirSync(join(root, "docker"), { recursive: true });
  writeFileSync(join(root, "docker/Dockerfile"), "FROM scratch\n");
  writeFileSync(join(root, "matrix.toml"), matrix);
  return root;
}

/** The `error:` lines a run printed. */
const errors = (stderr: string) => stderr.split("\n").filter((line) => line.startsWith("error:"));

describe("one mistake, one message", () => {
  test("an alias that names no axis, on a family of 27: one error at its line, whose hint (a when rule) plans", async () => {
    const root = project(`${MATRIX}aliases = ["latest"]\n`);
    const result = await run(root, "plan");
    expect(result.code).toBe(2);
    expect(errors(result.stderr)).toEqual([
      'error: matrix.toml:24:12: images.gpu.aliases[0]: two images would both be ghcr.io/acme/images:latest: python=py310, cuda=cu118, ubuntu=jammy of "gpu" and python=py310, cuda=cu118, ubuntu=noble of "gpu" (as an alias)',
    ]);
    expect(result.stderr).toContain('a table [[images.gpu.when]] with match = { python = "py310", cuda = "cu118", ubuntu = "jammy" } and aliases = ["latest"]');
    // As the hint says: one image gets the alias.
    writeFileSync(join(root, "matrix.toml"), `${MATRIX}\n[[images.gpu.when]]\nmatch = { python = "py312", cuda = "cu124", ubuntu = "noble" }\naliases = ["latest"]\n`);
    const fixed = await run(root, "plan", "--json");
    expect({ code: fixed.code, stderr: errors(fixed.stderr) }).toEqual({ code: 0, stderr: [] });
    const images = (JSON.parse(fixed.stdout) as { images: { tag: string; aliases: string[] }[] }).images;
    expect(images.filter((image) => image.aliases.includes("latest")).map((image) => image.tag)).toEqual(["py312-cu124-noble"]);
  });

  test("labels written under an axis's table: one error saying where it belongs, none about build-arg names", async () => {
    const root = project(MATRIX.replace("[axes.cuda]", 'labels = { "org.opencontainers.image.source" = "https://github.com/acme/images" }\n\n[axes.cuda]'));
    const result = await run(root, "plan");
    expect(result.code).toBe(2);
    expect(errors(result.stderr)).toEqual(['error: matrix.toml:8:1: axes.python.labels: "labels" is read as a value of the axis "python": every key after [axes.python] belongs to that table, up to the next [table] header']);
    expect(result.stderr).toContain("hint: labels is a matrix setting: write it above the first [table], beside repository");
    // Where the hint says, it plans.
    writeFileSync(join(root, "matrix.toml"), MATRIX.replace('repository = "ghcr.io/acme/images"\n', 'repository = "ghcr.io/acme/images"\nlabels = { "org.opencontainers.image.source" = "https://github.com/acme/images" }\n'));
    expect((await run(root, "plan")).code).toBe(0);
  });

  test("plan refuses an [emit.github] option emit would refuse, at its line; a table no emitter answers to is a warning", async () => {
    const root = project(`${MATRIX}\n[emit.github]\nruns-on = "ubuntu-24.04"\nrunner = "ubuntu-latest"\n`);
    const plan = await run(root, "plan");
    const emit = await run(root, "emit", "github");
    expect(plan.code).toBe(2);
    expect(errors(plan.stderr)).toEqual(['error: matrix.toml:27:1: emit.github.runner: emitter "github" has no option "runner"']);
    expect(errors(emit.stderr)).toEqual(errors(plan.stderr));
    const unknown = project(`${MATRIX}\n[emit.gihtub]\nruns-on = "ubuntu-24.04"\n`);
    const warned = await run(unknown, "plan");
    expect(warned.code).toBe(0);
    expect(warned.stderr).toContain("warning: matrix.toml: [emit.gihtub] configures no known emitter");
  });
});
