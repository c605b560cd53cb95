// Plan-time checks (core/plan/plan-checks.ts, plan-runner.ts): runner and platforms as templates, Windows
// platforms without a Windows runner, a `from` family whose Dockerfile does not build
// FROM its base, a `target` naming no stage. Each is an error at the matrix line of the
// key concerned, with a hint. The Dockerfile checks read the working tree, so they are
// run through the CLI in a folder of their own; with no files (planText) they are skipped.

import { beforeAll, describe, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { formatDiagnostic } from "../errors.ts";
import { planText, problemsOf, runCli, type CliRun } from "../../fixtures/test-helpers.ts";
import { scratchFolder } from "../../scripts/validators/scratch.ts";

/** Each problem's first line, as the CLI prints it. */
const errorsOf = async (toml: string) => (await problemsOf(toml)).map((d) => formatDiagnostic(d).split("\n")[0]!);

/** The line of `key = ` in `[images.family]` of a matrix text (1-based). */
function lineOf(toml: string, family: string, key: string): number {
  const lines = toml.split("\n");
  const start = lines.indexOf(`[images.${family}]`);
  const offset = lines.slice(start).findIndex((line) => line.startsWith(`${key} = `));
  if (start < 0 || offset < 0) throw new Error(`no ${key} in [images.${family}]`);
  return start + offset + 1;
}

describe("runner and platforms as templates: each image's from its values, checked as written ones", () => {
  const TOML = `repository = "r.io/p/img"
[axes.arch]
amd64 = { RUNNER = "ubuntu-latest", PLATFORM = "linux/amd64" }
arm64 = { RUNNER = "ubuntu-24.04-arm", PLATFORM = "linux/arm64" }
[images.app]
tag = "app-{arch}"
matrix = ["arch"]
runner = "{arch.RUNNER}"
platforms = ["{arch.PLATFORM}"]
[images.listed]
tag = "listed-{arch}"
matrix = ["arch"]
runner = ["self-hosted", "{ arch }"]
`;

  test("each image gets its value's runner and platforms; the family has no one runner", async () => {
    const { graph } = await planText(TOML);
    expect(graph.images.map((image) => [image.tag, image.runner, image.platforms])).toEqual([
      ["app-amd64", ["ubuntu-latest"], ["linux/amd64"]],
      ["app-arm64", ["ubuntu-24.04-arm"], ["linux/arm64"]],
      ["listed-amd64", ["self-hosted", "amd64"], []],
      ["listed-arm64", ["self-hosted", "arm64"], []],
    ]);
    expect(graph.families.map((family) => family.runner)).toEqual([null, null]);
  });

  test("a value that gives no platform or label, an unknown attribute, a Windows image on a Linux runner: at their line", async () => {
    const bad = TOML.replace('PLATFORM = "linux/arm64"', 'PLATFORM = "arm64"');
    expect(await errorsOf(bad)).toEqual([`error: m.toml:${lineOf(TOML, "app", "platforms")}:1: images.app.platforms: "arm64" is not a platform`]);
    expect((await errorsOf(TOML.replace("{arch.RUNNER}", "{arch.RUNER}")))[0]).toContain('axis "arch" value "amd64" has no attribute RUNER');
    const windows = TOML.replace('PLATFORM = "linux/arm64"', 'PLATFORM = "windows/amd64"');
    expect(await errorsOf(windows)).toEqual([`error: m.toml:${lineOf(TOML, "app", "runner")}:1: images.app.runner: the runner label "ubuntu-24.04-arm" is a Linux or macOS machine's, but windows/amd64 is built only on Windows`]);
  });
});

describe("Windows platforms are built only on a Windows runner", () => {
  const family = (name: string, lines: string) => `[images.${name}]\ntag = "${name}"\n${lines}\n`;
  const HEAD = 'repository = "r.io/p/img"\n';

  test("without a runner, with a Linux or macOS runner, or beside a Linux platform: refused at the key concerned", async () => {
    const toml =
      HEAD +
      family("none", 'platforms = ["windows/amd64"]') +
      family("hosted", 'platforms = ["windows/amd64"]\nrunner = "ubuntu-latest"') +
      family("selfhosted", 'platforms = ["windows/amd64"]\nrunner = ["self-hosted", "Linux"]') +
      family("mixed", 'platforms = ["linux/amd64", "windows/amd64"]\nrunner = "windows-2022"');
    const errors = await errorsOf(toml);
    expect(errors).toEqual([
      `error: m.toml:${lineOf(toml, "none", "platforms")}:14: images.none.platforms[0]: windows/amd64 is built only on a Windows machine, and family "none" names no \`runner\`: its images would go to the CI's default Linux runner, where QEMU cannot run Windows`,
      `error: m.toml:${lineOf(toml, "hosted", "runner")}:1: images.hosted.runner: the runner label "ubuntu-latest" is a Linux or macOS machine's, but windows/amd64 is built only on Windows`,
      `error: m.toml:${lineOf(toml, "selfhosted", "runner")}:26: images.selfhosted.runner[1]: the runner label "Linux" is a Linux or macOS machine's, but windows/amd64 is built only on Windows`,
      `error: m.toml:${lineOf(toml, "mixed", "platforms")}:14: images.mixed.platforms[0]: linux/amd64 and windows/amd64 are both platforms of an image of family "mixed", built on one runner: a Windows image builds only on Windows, and a linux one never does`,
    ]);
    expect((await problemsOf(HEAD + family("none", 'platforms = ["windows/amd64"]')))[0]!.hint).toContain('runner = "windows-2022"');
  });

  test("a `when` rule's Windows platforms need the family's runner too", async () => {
    const toml = `${HEAD}[axes.os]\nlinux = {}\nwindows = {}\n[images.py]\ntag = "py-{os}"\nmatrix = ["os"]\n[[images.py.when]]\nmatch = { os = "windows" }\nplatforms = ["windows/amd64"]\n`;
    const errors = await errorsOf(toml);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toContain("images.py.when[0].platforms[0]: windows/amd64 is built only on a Windows machine");
  });

  test("a Windows runner, hosted or self-hosted, builds them; a Linux image may name a Windows runner (Docker Desktop builds Linux images there)", async () => {
    const toml =
      HEAD +
      family("hosted", 'platforms = ["windows/amd64"]\nrunner = "windows-2022"') +
      family("selfhosted", 'platforms = ["windows/amd64"]\nrunner = ["self-hosted", "windows", "x64"]') +
      family("linux", 'platforms = ["linux/amd64"]\nrunner = "windows-2025"');
    const { graph } = await planText(toml);
    expect(graph.images.map((image) => image.platforms)).toEqual([["windows/amd64"], ["windows/amd64"], ["linux/amd64"]]);
  });
});

/** A folder with a matrix and its Dockerfiles, planned by the CLI. */
function planFolder(toml: string, files: Record<string, string>): CliRun {
  const cwd = scratchFolder("plan-checks-");
  writeFileSync(join(cwd, "matrix.toml"), toml);
  for (const [path, text] of Object.entries(files)) writeFileSync(join(cwd, path), text);
  return runCli(["plan"], cwd);
}

const HEAD = `repository = "r.io/x"
[axes.v]
a = { V = "1" }
[images.base]
tag = "base"
dockerfile = "base.Dockerfile"
`;

const child = (name: string, extra = "") => `[images.${name}]\ntag = "${name}-{v}"\nmatrix = ["v"]\nfrom = "base"\ndockerfile = "${name}.Dockerfile"\n${extra}`;

describe("against the Dockerfiles: a `from` family builds FROM its base, a target names a stage", () => {
  const WRONG = `${HEAD}${child("fake")}${child("other-arg")}${child("late-arg")}${child("suffixed")}[images.staged]\ntag = "staged"\ndockerfile = "staged.Dockerfile"\ntarget = "final"\n`;
  const WRONG_FILES = {
    "base.Dockerfile": "FROM ubuntu:22.04\n",
    "fake.Dockerfile": "FROM ubuntu:22.04\n",
    "other-arg.Dockerfile": "ARG FULL_BASE_IMAGE\nFROM ${FULL_BASE_IMAGE}\n",
    "late-arg.Dockerfile": "FROM $BASE_IMAGE\nARG BASE_IMAGE\n",
    "suffixed.Dockerfile": "ARG BASE_IMAGE\nFROM ${BASE_IMAGE}-slim\n",
    "staged.Dockerfile": "FROM ubuntu:22.04 AS build\nFROM busybox:1.36 AS runtime\n",
  };
  let run: CliRun;
  beforeAll(() => {
    run = planFolder(WRONG, WRONG_FILES);
  });
  const at = (family: string, key: string) => `error: matrix.toml:${lineOf(WRONG, family, key)}:1: images.${family}.${key}: `;

  test("every problem is an error at its line: exit 2", () => {
    expect(run.code).toBe(2);
    expect(run.stderr).toContain("5 problems");
  });

  test("a Dockerfile with no FROM of the base (a chain in name only) is refused at `from`", () => {
    expect(run.stderr).toContain(`${at("fake", "from")}family "fake" builds FROM "base", but "fake.Dockerfile" would not: none of its FROM lines uses BASE_IMAGE, the build arg that holds the reference of its base\n  hint: begin "fake.Dockerfile" with ARG BASE_IMAGE and FROM $BASE_IMAGE`);
  });

  test("a FROM that takes another arg: the hint names from_arg", () => {
    expect(run.stderr).toContain(`${at("other-arg", "from")}family "other-arg" builds FROM "base"`);
    expect(run.stderr).toContain('  hint: its FROM takes the build arg FULL_BASE_IMAGE: set from_arg = "FULL_BASE_IMAGE"');
  });

  test("the arg declared only after the first FROM, which docker leaves empty in a FROM", () => {
    expect(run.stderr).toContain(`${at("late-arg", "from")}the FROM at line 1 of "late-arg.Dockerfile" uses the build arg BASE_IMAGE, which holds the reference of "base"'s image, but "late-arg.Dockerfile" declares no ARG BASE_IMAGE before its first FROM`);
  });

  test("the arg inside a longer reference: the FROM is another image", () => {
    expect(run.stderr).toContain(`${at("suffixed", "from")}the FROM at line 2 of "suffixed.Dockerfile" is "r.io/x:base-slim" once the build args are in, not r.io/x:base`);
  });

  test("a target naming no stage is refused at `target`, with the stages it could be", () => {
    expect(run.stderr).toContain(`${at("staged", "target")}the target "final" is no stage of "staged.Dockerfile": docker build --target would fail\n  hint: expected one of: "build", "runtime"`);
  });

  test("with no files (planText, the embedded matrix) the Dockerfile checks are skipped", async () => {
    const { graph } = await planText(WRONG);
    expect(graph.images).toHaveLength(6);
  });

  test("real pipelines' shapes plan: an arg built from others' defaults, a named first stage, from_arg, {from} in a stage the last copies from, a target in another case", () => {
    const toml = `${HEAD}${child("jupyter")}${child("cuda")}${child("ray", 'from_arg = "FULL_BASE_IMAGE"\n')}${child("copied", 'args = [{ PARENT = "{from}" }]\n')}${child("torch", 'target = "CPU_final"\n')}`;
    const result = planFolder(toml, {
      "base.Dockerfile": "FROM scratch\n",
      "jupyter.Dockerfile": "ARG REGISTRY=quay.io\nARG OWNER=jupyter\nARG BASE_IMAGE=$REGISTRY/$OWNER/scipy-notebook\nFROM $BASE_IMAGE\n",
      "cuda.Dockerfile": "ARG BASE_IMAGE\nFROM ${BASE_IMAGE} AS base\n",
      "ray.Dockerfile": "ARG FULL_BASE_IMAGE\nFROM ${FULL_BASE_IMAGE}\n",
      "copied.Dockerfile": "ARG PARENT\nFROM --platform=$BUILDPLATFORM $PARENT AS parent\nFROM busybox:1.36\nCOPY --from=parent /x /x\n",
      "torch.Dockerfile": "ARG BASE_TARGET=base\nARG BASE_IMAGE\nFROM ${BASE_IMAGE} as base\nFROM base as cpu_final\nFROM ${BASE_TARGET} as final\n",
    });
    expect(result.stderr).not.toContain("error:");
    expect(result.code).toBe(0);
  });
});
