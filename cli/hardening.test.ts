// Nothing a matrix, a file name or an option holds can run: each attempt tried as an
// attacker would, through the CLI and the tool that reads the output.

import { describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parse as parseHcl } from "@cdktf/hcl2json";
import { parse as parseYaml } from "yaml";
import { builtin, CLI_FOR_MAKE, planText, problemsOf, runCli, writeMatrix } from "../fixtures/test-helpers.ts";
import { emittedText } from "../emitters/contract.ts";
import { emitLoaded } from "./emit.ts";
import { makeView, planView } from "../scripts/validators/readback.ts";
import { actionlint } from "../scripts/validators/actionlint.ts";
import { hasMake } from "../scripts/validators/tools.ts";
import { sharedFolder } from "../fixtures/shared-data.ts";
import { scratchFolder } from "../scripts/validators/scratch.ts";

// Caliban's own files, kept beside the clone (fixtures/shared-data.ts).
const CALIBAN_REFS = sharedFolder("refs/caliban", "the import hardening test of Caliban's file") ?? "";

const MATRIX = 'repository = "r.io/x"\n[axes.v]\na = { X = "1" }\n[images.base]\ntag = "base"\n[images.one]\ntag = "one-{v}"\nmatrix = ["v"]\nfrom = "base"\n';

function workspace(): string {
  const cwd = scratchFolder("hardening-");
  writeMatrix(join(cwd, "matrix.toml"), MATRIX);
  return cwd;
}

describe("an option cannot become code", () => {
  test("Cloud Build's output names a plain relative path, or is refused before anything is written", () => {
    for (const output of ["$(touch PWNED).json", 'a"b.json', "../up.json", "/abs.json", "-rf.json", "./submit.sh", "submit.sh", ""]) {
      const cwd = workspace();
      const result = runCli(["emit", "cloudbuild", "-o", "out/", "--option", `output=${output}`], cwd);
      expect(result.code).toBe(2);
      expect(result.stderr).toContain('--option output: option "output" of emitter "cloudbuild"');
      expect(existsSync(join(cwd, "out"))).toBe(false);
      expect(existsSync(join(cwd, "PWNED"))).toBe(false);
    }
    // The same from the matrix's [emit.cloudbuild], located at its line.
    const cwd = workspace();
    writeMatrix(join(cwd, "matrix.toml"), `${MATRIX}[emit.cloudbuild]\noutput = "$(touch PWNED).json"\n`);
    const result = runCli(["emit", "cloudbuild", "-o", "out/"], cwd);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("error: matrix.toml:11:1: emit.cloudbuild.output:");
  });

  test("a safe name is written, and submit.sh, run by bash, submits exactly it", () => {
    const cwd = workspace();
    expect(runCli(["emit", "cloudbuild", "-o", "out/", "--option", "output=ci_configs.v2-build.json"], cwd).code).toBe(0);
    const shims = join(cwd, "shims");
    mkdirSync(shims);
    writeFileSync(join(shims, "gcloud"), '#!/bin/sh\nprintf "%s\\n" "$@" >> "$GCLOUD_LOG"\n', { mode: 0o755 });
    const log = join(cwd, "gcloud.log");
    const submitted = Bun.spawnSync(["bash", join(cwd, "out", "submit.sh")], { cwd, env: { ...process.env, PATH: `${shims}:${process.env.PATH}`, GCLOUD_LOG: log } });
    expect(submitted.exitCode).toBe(0);
    expect(readFileSync(log, "utf8").split("\n")).toContain(join(cwd, "out", "ci_configs.v2-build.json"));
  });

  test("Cloud Build's builder is an image reference; github's name, runs-on and registry hold no expression", () => {
    const cases: [string, string, string][] = [
      ["cloudbuild", "builder=$(id)", "is not an image reference"],
      ["cloudbuild", "builder=gcr.io/x/y ; rm", "is not an image reference"],
      ["github", "name=${{ github.token }}", "which GitHub would evaluate here"],
      ["github", "runs-on=${{ github.event.x }}", "which GitHub would evaluate here"],
      ["github", "registry=${{ vars.R }}", "is not a registry host"],
      ["github", "registry=a b", "is not a registry host"],
    ];
    for (const [emitter, option, message] of cases) {
      const result = runCli(["emit", emitter, "--option", option], workspace());
      expect(result.code).toBe(2);
      expect(result.stderr).toContain(message);
      expect(result.stdout).toBe("");
    }
    // What is documented to take an expression still does.
    expect(runCli(["emit", "github", "--option", "username=${{ secrets.USER }}"], workspace()).code).toBe(0);
    expect(runCli(["emit", "cloudbuild", "--option", "builder=gcr.io/cloud-builders/docker:24"], workspace()).code).toBe(0);
  });
});

describe("a file name cannot become code", () => {
  // A matrix named so that, written raw into a comment, it would end the comment and add a recipe.
  const hostileName = "m\nall:\n\t@touch PWNED\n#.toml";

  test.skipIf(!hasMake)("make: the Makefile's header keeps the name in its comment; make all runs no recipe of it", () => {
    const cwd = workspace();
    writeFileSync(join(cwd, hostileName), MATRIX);
    // Without content tags the Makefile runs no caliban-images: the name is only in the comment.
    expect(runCli(["emit", "make", "--matrix", hostileName, "--option", "content-tags=false", "-o", "Makefile"], cwd).code).toBe(0);
    const makefile = readFileSync(join(cwd, "Makefile"), "utf8");
    expect(makefile.split("\n")[0]).toBe(`# Generated by caliban-images from ${JSON.stringify(hostileName)}; regenerate with \`caliban-images emit make\`.`);
    const made = Bun.spawnSync(["make", "all", "DOCKER=true"], { cwd });
    expect(made.exitCode).toBe(0);
    expect(existsSync(join(cwd, "PWNED"))).toBe(false);
  });

  test.skipIf(!hasMake)("make: the matrix's name reaches caliban-images resolve as one word, or the Makefile is refused", () => {
    const cwd = workspace();
    writeFileSync(join(cwd, hostileName), MATRIX);
    // With content tags the Makefile hands the name to resolve: a newline cannot be handed on.
    const refused = runCli(["emit", "make", "--matrix", hostileName, "-o", "Makefile"], cwd);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain("holds a control character, which a Makefile cannot hand to caliban-images resolve");
    expect(existsSync(join(cwd, "Makefile"))).toBe(false);
    // Quotes, '$', '#', '&', ';' and a space: the real resolve reads the matrix by exactly that name.
    const shellish = "m's $HOME #1 &;$(touch PWNED).toml";
    writeFileSync(join(cwd, shellish), MATRIX);
    expect(runCli(["emit", "make", "--matrix", shellish, "-o", "Makefile"], cwd).code).toBe(0);
    const made = Bun.spawnSync(["make", "all", "DOCKER=true", CLI_FOR_MAKE], { cwd });
    expect({ exit: made.exitCode, stderr: made.stderr.toString() }).toEqual({ exit: 0, stderr: expect.stringContaining(`using matrix ${shellish}`) });
    expect(existsSync(join(cwd, "PWNED"))).toBe(false);
  });

  test("bake, the workflow: the name stays in one comment line; HCL and YAML read only what was written", async () => {
    const cwd = workspace();
    writeFileSync(join(cwd, hostileName), MATRIX);
    const bake = runCli(["emit", "bake", "--matrix", hostileName], cwd);
    expect(bake.code).toBe(0);
    const parsed = (await parseHcl("docker-bake.hcl", bake.stdout)) as Record<string, Record<string, unknown>>;
    // The inputs function reads the digests resolve gives bake (CALIBAN_INPUTS).
    expect(Object.keys(parsed).sort()).toEqual(["function", "group", "target", "variable"]);
    expect(Object.keys(parsed.target!).sort()).toEqual(["base-2", "one-a"]);
    const workflow = runCli(["emit", "github", "--matrix", hostileName], cwd);
    expect(workflow.code).toBe(0);
    expect(Object.keys(parseYaml(workflow.stdout)).sort()).toEqual(["concurrency", "jobs", "name", "on", "permissions"]);
    expect(await actionlint(workflow.stdout)).toEqual([]);
  });

  test.skipIf(!CALIBAN_REFS)("(needs ../shared/refs/caliban) import: a legacy file's name cannot add a key (plugins) to the matrix it writes", () => {
    const cwd = scratchFolder("hardening-");
    const name = 'x\nplugins = ["evil.ts"]\n#.json';
    writeFileSync(join(cwd, name), readFileSync(join(CALIBAN_REFS, "2020-08", "cloudbuild_config.json")));
    const result = runCli(["import", name, "-o", "matrix.toml"], cwd);
    expect(result.code).toBe(0);
    const matrix = Bun.TOML.parse(readFileSync(join(cwd, "matrix.toml"), "utf8")) as Record<string, unknown>;
    expect(Object.keys(matrix).sort()).toEqual(["axes", "emit", "images", "repository"]);
    mkdirSync(join(cwd, "dockerfiles"));
    // Caliban's own Dockerfiles: the gpu images build FROM gpu-base through BASE_IMAGE, as the planner checks.
    for (const file of ["Dockerfile", "Dockerfile.gpu"]) writeFileSync(join(cwd, "dockerfiles", file), readFileSync(join(import.meta.dir, "..", "dockerfiles", file)));
    expect(runCli(["plan"], cwd).code).toBe(0);
    expect(readdirSync(cwd).sort()).toEqual([name, "dockerfiles", "matrix.toml"].sort());
  });
});

describe("every emitter carries exactly the plan", () => {
  // An attribute named BASE_IMAGE after { BASE_IMAGE = "{from}" } replaces it; {from} inside a longer value.
  const OVERRIDE = `repository = "r.io/x"
[axes.os]
u20 = { BASE_IMAGE = "ubuntu:20.04" }
[images.base]
tag = "base"
[images.app]
tag = "app-{os}"
matrix = ["os"]
from = "base"
args = [{ BASE_IMAGE = "{from}", SLIM = "{from}-slim", BOTH = "{from} and {from}" }, "os"]
`;

  test.skipIf(!hasMake)("make: the plan's args, with REPOSITORY=... moving every base reference {from} wrote", async () => {
    const { graph, loaded } = await planText(OVERRIDE);
    const app = graph.images.find((image) => image.family === "app")!;
    expect(app.args).toEqual([
      { name: "BASE_IMAGE", value: "ubuntu:20.04" },
      { name: "SLIM", value: "r.io/x:base-slim" },
      { name: "BOTH", value: "r.io/x:base and r.io/x:base" },
    ]);
    expect(app.fromArg).toBeNull();
    const plain = emittedText(emitLoaded(builtin("make"), loaded, graph, ["content-tags=false"])[0]!);
    expect(makeView(plain, graph).images).toEqual(planView(graph, false).images);
    const moved = makeView(plain, graph, ["REPOSITORY=localhost:5000/t"]).images.find((image) => image.reference === "localhost:5000/t:app-u20")!;
    expect(moved.args).toEqual({ BASE_IMAGE: "ubuntu:20.04", SLIM: "localhost:5000/t:base-slim", BOTH: "localhost:5000/t:base and localhost:5000/t:base" });
    // With content tags, {from} names the base by its content reference, which REPOSITORY=... moves too.
    const makefile = emittedText(emitLoaded(builtin("make"), loaded, graph)[0]!);
    expect(makeView(makefile, graph).images).toEqual(planView(graph).images);
    const content = graph.images.find((image) => image.family === "base")!.contentReference.replace("r.io/x", "localhost:5000/t");
    const movedContent = makeView(makefile, graph, ["REPOSITORY=localhost:5000/t"]).images.find((image) => image.reference === "localhost:5000/t:app-u20")!;
    expect(movedContent.args).toEqual({ BASE_IMAGE: "ubuntu:20.04", SLIM: `${content}-slim`, BOTH: `${content} and ${content}` });
  });

  test("bake: the same args, each base reference through the variable", async () => {
    const { graph, loaded } = await planText(OVERRIDE);
    const args = async (options: string[]) => {
      const hcl = emittedText(emitLoaded(builtin("bake"), loaded, graph, options)[0]!);
      return ((await parseHcl("docker-bake.hcl", hcl)) as { target: Record<string, { args: Record<string, string> }[]> }).target["app-u20"]![0]!.args;
    };
    expect(await args(["content-tags=false"])).toEqual({ BASE_IMAGE: "ubuntu:20.04", SLIM: "${REPOSITORY}:base-slim", BOTH: "${REPOSITORY}:base and ${REPOSITORY}:base" });
    // With content tags, the base's content reference from the digest resolve gives bake when it runs (buildx bake --print resolves it in the e2e suite).
    const content = `\${REPOSITORY}:inputs-\${inputs("${graph.images.find((image) => image.family === "base")!.id}")}`;
    expect(await args([])).toEqual({ BASE_IMAGE: "ubuntu:20.04", SLIM: `${content}-slim`, BOTH: `${content} and ${content}` });
  });

  test("bake's dockerfile, relative to the context, is the same from any directory; where it cannot be, an error", async () => {
    const cwd = scratchFolder("hardening-");
    mkdirSync(join(cwd, "sub", "deeper"), { recursive: true });
    // An absolute context of another folder (it must exist: the CLI checks that it does).
    const elsewhere = scratchFolder("absolute-");
    writeMatrix(join(cwd, "sub", "m.toml"), `repository = "r.io/x"\n[images.a]\ntag = "ta"\ncontext = ".."\ndockerfile = "../docker/A"\n[images.b]\ntag = "tb"\ncontext = "${elsewhere}"\ndockerfile = "${elsewhere}/B"\n[images.c]\ntag = "tc"\ncontext = "https://github.com/x/y.git#main"\ndockerfile = "docker/C"\n`);
    const here = runCli(["emit", "bake", "--matrix", "sub/m.toml"], cwd);
    const deeper = runCli(["emit", "bake", "--matrix", "../m.toml"], join(cwd, "sub", "deeper"));
    expect(here.code).toBe(0);
    expect(deeper.stdout.replace("../m.toml", "sub/m.toml")).toBe(here.stdout);
    const targets = ((await parseHcl("docker-bake.hcl", here.stdout)) as { target: Record<string, { dockerfile: string }[]> }).target;
    expect([targets.ta![0]!.dockerfile, targets.tb![0]!.dockerfile, targets.tc![0]!.dockerfile]).toEqual(["docker/A", `${elsewhere}/B`, "docker/C"]);
    expect(here.stdout).not.toContain(cwd);
    writeMatrix(join(cwd, "sub", "deeper", "up.toml"), 'repository = "r.io/x"\n[images.a]\ntag = "a"\ncontext = ".."\ndockerfile = "Dockerfile"\n');
    const refused = runCli(["emit", "bake", "--matrix", "up.toml"], join(cwd, "sub", "deeper"));
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain("depends on the directory the build runs in");
  });

  test("a family named default is refused: bake's default group builds every image", async () => {
    const found = await problemsOf('repository = "r.io/x"\n[images.default]\ntag = "d"\n[images.other]\ntag = "o"\n');
    expect(found.map((d) => [d.code, d.line, d.message])).toEqual([["INVALID_NAME", 2, '"default" cannot name a family: it is the group of every image (docker buildx bake builds it)']]);
  });
});

describe("a plugin's fault is the plugin's error, exit 2", () => {
  const plugin = (cwd: string, body: string) => writeFileSync(join(cwd, "p.ts"), `export default { name: "p", description: "", ${body} };\n`);

  test("a NUL in a path, a generator that throws while stdout is written, an option check that throws", () => {
    const cases: [string, string[], string][] = [
      ['options: {}, emit: () => [{ path: "a\\u0000b", contents: "x" }]', ["-o", "out/"], 'emitter "p" returned the path "a\\u0000b", which holds the control character U+0000'],
      ['options: {}, emit: () => [{ path: "a", contents: { *[Symbol.iterator]() { yield "part"; throw new Error("boom"); } } }]', [], 'emitter "p" failed while its output was written: boom'],
      ['options: { x: { type: "string", description: "", check: () => { throw new TypeError("bad check"); } } }, emit: () => [{ path: "a", contents: "x" }]', ["--option", "x=1"], `emitter "p": an option's check failed: TypeError: bad check`],
    ];
    for (const [body, args, message] of cases) {
      const cwd = workspace();
      plugin(cwd, body);
      const result = runCli(["emit", "p", "--plugin", "p.ts", ...args], cwd);
      expect(result.stderr).toContain(`error: plugin p.ts: ${message}`);
      expect(result.stderr).not.toMatch(/^\s+at /m);
      expect(result.code).toBe(2);
    }
  });
});

describe("options and flags", () => {
  test("an option named like an Object.prototype member is unknown, not accepted", () => {
    for (const name of ["toString", "constructor", "__proto__", "hasOwnProperty"]) {
      const result = runCli(["emit", "bake", "--option", `${name}=1`], workspace());
      expect(result.code).toBe(2);
      expect(result.stderr).toContain(`emitter "bake" has no option "${name}"`);
    }
  });

  test("a path that reads as a number is the path as written (-o 2024, --output=007)", () => {
    const cwd = workspace();
    mkdirSync(join(cwd, "2024"));
    expect(runCli(["emit", "bake", "-o", "2024"], cwd).code).toBe(0);
    expect(readdirSync(join(cwd, "2024"))).toEqual(["docker-bake.hcl"]);
    expect(runCli(["emit", "bake", "--output=007.hcl"], cwd).code).toBe(0);
    expect(existsSync(join(cwd, "007.hcl"))).toBe(true);
    // After a flag that takes no value, a number is still the next option's.
    writeFileSync(join(cwd, "2025"), 'repository = "r.io/x"\n[images.x]\ntag = "x"\n');
    const planned = runCli(["plan", "--json", "--matrix", "2025"], cwd);
    expect(planned.code).toBe(0);
    expect(JSON.parse(planned.stdout).repository).toBe("r.io/x");
  });

  test("a mistyped table header is reported at its line; a date where a table belongs is not a table", async () => {
    expect((await problemsOf('repository = "r.io/x"\n[image.gpu]\ntag = "x"\n[images.x]\ntag = "x"\n')).map((d) => [d.line, d.message])).toEqual([[2, 'unknown key "image" at the top level']]);
    expect((await problemsOf('repository = "r.io/x"\naxes = 1979-05-27\n[images.x]\ntag = "x"\n')).map((d) => [d.line, d.message])).toEqual([[2, "expected a table, found a date or time"]]);
  });

  test("a repository with a digest gets its own message", async () => {
    expect((await problemsOf(`repository = "r.io/x@sha256:${"a".repeat(64)}"\n[images.x]\ntag = "x"\n`))[0]!.message).toContain("must not contain a digest");
  });
});

describe("each consumer's limits, checked before anything is written", () => {
  test.skipIf(!hasMake)("make: a docker build line over 128 KiB is refused (a shell cannot be given it); bake still takes it", () => {
    // The limit is real: Linux refuses one argument of more than 128 KiB.
    expect(() => Bun.spawnSync(["sh", "-c", `true ${"x".repeat(140_000)}`])).toThrow("E2BIG");
    const cwd = workspace();
    writeMatrix(join(cwd, "matrix.toml"), `repository = "r.io/x"\n[axes.v]\nbig = { BIG = "${"x".repeat(140_000)}" }\nsmall = { BIG = "x" }\n[images.x]\ntag = "x-{v}"\nmatrix = ["v"]\n`);
    const make = runCli(["emit", "make", "-o", "Makefile"], cwd);
    expect(make.code).toBe(2);
    expect(make.stderr).toContain("error: emit make: image x-big: its docker build line is 140");
    expect(existsSync(join(cwd, "Makefile"))).toBe(false);
    expect(runCli(["emit", "bake"], cwd).code).toBe(0);
  });

  test("cloudbuild: a step arg over max-arg-length is refused, the whole script with content tags, the one arg without", () => {
    const cwd = workspace();
    writeMatrix(join(cwd, "matrix.toml"), `repository = "r.io/x"\n[axes.v]\nbig = { BIG = "${"x".repeat(6_000)}" }\nsmall = { BIG = "x" }\n[images.x]\ntag = "x-{v}"\nmatrix = ["v"]\n`);
    const script = runCli(["emit", "cloudbuild", "--option", "max-arg-length=5000"], cwd);
    expect(script.code).toBe(2);
    expect(script.stderr).toMatch(/error: emit cloudbuild: image x-big: its step's script is [67][0-9]{3} characters, more than the 5000/);
    expect(script.stderr).not.toContain("x-small");
    const plain = runCli(["emit", "cloudbuild", "--option", "max-arg-length=5000", "--option", "content-tags=false"], cwd);
    expect(plain.code).toBe(2);
    expect(plain.stderr).toContain("error: emit cloudbuild: image x-big, build arg BIG: the step arg is 6004 characters");
    // The script holds the prelude that reads the digests (about 1 KB) beside the 6,000-character value.
    expect(runCli(["emit", "cloudbuild", "--option", "max-arg-length=8000"], cwd).code).toBe(0);
  });
});

describe("input that is not what it seems", () => {
  test("a matrix that is not UTF-8 is refused at the byte, not read with U+FFFD in a value", () => {
    const cwd = scratchFolder("hardening-");
    writeMatrix(join(cwd, "matrix.toml"), Buffer.concat([Buffer.from('repository = "r.io/x"\n[images.x]\ntag = "x"\ndescription = "caf'), Buffer.from([0xc3]), Buffer.from('"\n')]));
    const result = runCli(["plan"], cwd);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("error: matrix.toml:4:19: the file is not UTF-8 text: byte 0xC3 here cannot be read as a character");
  });

  test("a file TOML 1.0 forbids is refused, though the reader that locates errors would take it", () => {
    const cwd = scratchFolder("hardening-");
    writeMatrix(join(cwd, "matrix.toml"), 'repository = "r.io/x"\n[images.x]\ntag = "x"\n[images]\nx.from_arg = "A"\n');
    const result = runCli(["plan"], cwd);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("error: matrix.toml: invalid TOML:");
  });
});

test("text options reach the workflow as written: name and runs-on read back exactly", () => {
  const name = `it's "quoted": #not a comment, - a: b ${"$"}{x} \\ é`;
  const runsOn = 'my runner: "gpu" #1';
  const result = runCli(["emit", "github", "--option", `name=${name}`, "--option", `runs-on=${runsOn}`], workspace());
  expect(result.code).toBe(0);
  const workflow = parseYaml(result.stdout);
  expect(workflow.name).toBe(name);
  // The resolve job and the two stages, and a pull request's twins of them.
  expect(Object.values(workflow.jobs as Record<string, { "runs-on": string }>).map((job) => job["runs-on"])).toEqual([runsOn, runsOn, runsOn, runsOn, runsOn, runsOn]);
});

test("a file name with a newline cannot forge a line of the log: messages quote it", () => {
  const cwd = scratchFolder("hardening-");
  const name = "m.toml\nerror: forged";
  writeFileSync(join(cwd, name), 'repository = "r.io/x"\n[images.x]\ntag = "bad tag"\n');
  const result = runCli(["plan", "--matrix", name], cwd);
  expect(result.code).toBe(2);
  expect(result.stderr.split("\n").filter((line) => line.startsWith("error: forged"))).toEqual([]);
  expect(result.stderr).toContain(`using matrix ${JSON.stringify(name)}`);
  expect(result.stderr).toContain(`error: ${JSON.stringify(name)}:3:1: images.x.tag:`);
  expect(runCli(["plan", "--matrix", "nope\nerror: forged"], cwd).stderr).toContain('error: matrix file "nope\\nerror: forged" does not exist');
});
