// What a Dockerfile builds FROM, as docker reads it: the cases docker's own rules decide.

import { describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseDockerfile, resolveFroms } from "./dockerfile-from.ts";
import { CalibanError, formatDiagnostic } from "../errors.ts";
import { parseLock } from "../changes/lock.ts";
import { dockerReferenceProblem } from "../names.ts";
import { runCli } from "../../fixtures/test-helpers.ts";
import { scratchFolder } from "../../scripts/validators/scratch.ts";

const buildArgs = (args: Record<string, string>) => Object.entries(args).map(([name, value]) => ({ name, value }));
const froms = (text: string, args: Record<string, string> = {}) =>
  resolveFroms(parseDockerfile(text), buildArgs(args), "Dockerfile").map(({ line, reference, pinArg }) => `${line} ${reference}${pinArg ? ` pin ${pinArg}` : ""}`);

/** The errors a Dockerfile's FROM lines are refused with, as the CLI prints them. */
function refusals(text: string, args: Record<string, string> = {}): string[] {
  try {
    resolveFroms(parseDockerfile(text), buildArgs(args), "docker/base.Dockerfile");
  } catch (error) {
    if (error instanceof CalibanError) return error.diagnostics.map(formatDiagnostic);
    throw error;
  }
  return [];
}

test("a literal FROM; a FROM of one declared arg, with its default or the build arg; scratch and stages build from no image", () => {
  expect(froms("FROM ubuntu:22.04\nRUN true\n")).toEqual(["1 ubuntu:22.04"]);
  expect(froms("ARG BASE_IMAGE=ubuntu:22.04\nFROM $BASE_IMAGE\n")).toEqual(["2 ubuntu:22.04 pin BASE_IMAGE"]);
  expect(froms("ARG BASE_IMAGE=ubuntu:22.04\nFROM ${BASE_IMAGE}\n", { BASE_IMAGE: "nvidia/cuda:12.4.1-devel-ubuntu22.04" })).toEqual(["2 nvidia/cuda:12.4.1-devel-ubuntu22.04 pin BASE_IMAGE"]);
  expect(froms("FROM scratch\nCOPY x /x\n")).toEqual([]);
  expect(froms("FROM golang:1.22 AS Build\nRUN make\nFROM build\nFROM alpine:3.20\nCOPY --from=build /x /x\n")).toEqual(["1 golang:1.22", "4 alpine:3.20"]);
});

test("a build arg reaches FROM only when an ARG before the first FROM declares it; an ARG after it does not", () => {
  expect(froms("FROM $BASE\n", { BASE: "ubuntu:22.04" })).toEqual([]);
  expect(froms("FROM ubuntu:22.04\nARG BASE=debian:12\nFROM $BASE\n", { BASE: "alpine:3.20" })).toEqual(["1 ubuntu:22.04"]);
});

test("a reference made of several args is resolved, but no one arg pins it; ${X:-word} and friends as docker expands them", () => {
  const cuda = 'ARG CUDA=12.4.1\nARG UBUNTU="22.04"\nFROM nvidia/cuda:${CUDA}-devel-ubuntu${UBUNTU}\n';
  expect(froms(cuda)).toEqual(["3 nvidia/cuda:12.4.1-devel-ubuntu22.04"]);
  expect(froms(cuda, { CUDA: "11.8.0" })).toEqual(["3 nvidia/cuda:11.8.0-devel-ubuntu22.04"]);
  expect(froms("ARG TAG\nFROM ubuntu:${TAG:-24.04}\n")).toEqual(["2 ubuntu:24.04"]);
  expect(froms("ARG TAG\nFROM ubuntu:${TAG:-24.04}\n", { TAG: "20.04" })).toEqual(["2 ubuntu:20.04"]);
  expect(froms("ARG SLIM\nFROM debian:12${SLIM:+-slim}\n", { SLIM: "1" })).toEqual(["2 debian:12-slim"]);
  expect(froms("ARG SLIM\nFROM debian:12${SLIM:+-slim}\n")).toEqual(["2 debian:12"]);
  expect(froms("ARG REGISTRY=quay.io OWNER=jupyter\nARG BASE=$REGISTRY/$OWNER/foundation\nFROM $BASE\n")).toEqual(["3 quay.io/jupyter/foundation pin BASE"]);
});

test("continuation lines, comments inside them, --platform, case, parser directives and the escape character", () => {
  expect(froms("# syntax=docker/dockerfile:1\n# a comment\n\nfrom \\\n  # inside\n  --platform=$BUILDPLATFORM \\\n  ubuntu:22.04 as base\n")).toEqual(["4 ubuntu:22.04"]);
  expect(froms("# escape=`\nARG B=ubuntu:22.04\nFROM `\n $B\n")).toEqual(["3 ubuntu:22.04 pin B"]);
  expect(froms("FROM ubuntu:22.04\r\nRUN true\r\n")).toEqual(["1 ubuntu:22.04"]);
});

describe("a FROM reference is checked against Docker's reference grammar (distribution/reference) before use", () => {
  test("the grammar: what docker accepts, what it refuses", () => {
    const accepted = [
      "ubuntu", "ubuntu:22.04", "nvidia/cuda:12.4.1-devel-ubuntu22.04", "localhost:5000/a/b", "Registry.Example.com/team/base",
      "[::1]:5000/base:1", "a__b/c--d/e.f_g", `ubuntu@sha256:${"a".repeat(64)}`, `ghcr.io/o/i:t@sha256:${"0".repeat(64)}`, "x:_tag", `${"a".repeat(247)}`,
    ];
    for (const reference of accepted) expect({ reference, problem: dockerReferenceProblem(reference) }).toEqual({ reference, problem: undefined });
    const refused: [string, string][] = [
      ["", "is empty"],
      ["ubuntu\n:22.04", "holds a newline"],
      ["ubuntu\u001b[31m", "holds the control character U+001B"],
      ["ubuntu\u009b2J", "holds the control character U+009B"],
      ["ubuntu\u2028", "holds a line separator"],
      ["Ubuntu:22.04", "capital letters in its repository path"],
      ["ubuntu:", "not an image reference"],
      ["ubuntu:.hidden", "not an image reference"],
      [`ubuntu:${"t".repeat(129)}`, "not an image reference"],
      ["ubuntu@sha256:abc", "not an image reference"],
      ["-ubuntu", "not an image reference"],
      ["ubuntu/", "not an image reference"],
      ["a..b", "not an image reference"],
      ["https://ghcr.io/x", "not an image reference"],
      ["ubuntu 22.04", "not an image reference"],
      ["ubuntu\u00a0:22.04", "not an image reference"],
      ["café", "not an image reference"],
      [`${"a".repeat(248)}`, "256 characters (docker counts library/ in a short name)"],
      [`example.com/${"a".repeat(256)}`, "256 characters; Docker allows 255"],
      ["f".repeat(64), "64 hex digits"],
    ];
    for (const [reference, problem] of refused) expect({ reference, problem: dockerReferenceProblem(reference) }).toEqual({ reference, problem: expect.stringContaining(problem) });
  });

  test("refused at the reference's line and column, escaped, with the expression it came from; checked after the build args are put in", () => {
    // A control character written in the Dockerfile: never printed raw.
    expect(refusals("FROM ubuntu:22.04\nFROM   alpine\u001b[2J:3\n")).toEqual([
      'error: docker/base.Dockerfile:2:8: FROM "alpine\\u001b[2J:3" holds the control character U+001B\n  hint: a FROM names an image as docker pulls it, e.g. nvidia/cuda:12.4.1-devel-ubuntu22.04 or registry.example.com:5000/team/base@sha256:<64 hex>; check the line, and the build args the matrix gives it',
    ]);
    // A build arg (the matrix's, or the ARG's default) that makes a bad reference; each FROM reported, together.
    const text = "ARG BASE=ubuntu:22.04\nARG TAG=3.20\nFROM ${BASE}\nFROM \\\n    alpine:${TAG}\n";
    expect(froms(text)).toEqual(["3 ubuntu:22.04 pin BASE", "4 alpine:3.20"]);
    expect(refusals(text, { BASE: "Ubuntu:22.04", TAG: "3.20 x" }).map((line) => line.split("\n")[0])).toEqual([
      'error: docker/base.Dockerfile:3:6: FROM "Ubuntu:22.04" ("${BASE}" with the build args put in) has capital letters in its repository path, which Docker\'s grammar refuses (only the registry host may have them)',
      'error: docker/base.Dockerfile:5:5: FROM "alpine:3.20 x" ("alpine:${TAG}" with the build args put in) is not an image reference in Docker\'s grammar: [HOST[:PORT]/]PATH[:TAG][@ALGORITHM:HEX], the path lowercase letters, digits and . _ - separators',
    ]);
    // Words are split where BuildKit splits them: a no-break space stays in the reference, and is refused there.
    expect(refusals("FROM ubuntu\u00a0:22.04 AS base\n")[0]).toStartWith('error: docker/base.Dockerfile:1:6: FROM "ubuntu\\u00a0:22.04" is not an image reference');
    // Stages, scratch and --platform are as before; the image after --platform is located.
    expect(refusals("FROM --platform=$BUILDPLATFORM golang:1.22 AS build\nFROM build\nFROM scratch\n")).toEqual([]);
    expect(refusals("FROM --platform=linux/amd64 \\\n  Bad\n")[0]).toStartWith('error: docker/base.Dockerfile:2:3: FROM "Bad" has capital letters');
  });

  test("a hostile lock file's reference never reaches the terminal: refused when the lock is read", () => {
    const digest = `sha256:${"a".repeat(64)}`;
    expect(parseLock(`version = 1\n[digests]\n"ubuntu:22.04" = "${digest}"\n`, "matrix.lock").digests.size).toBe(1);
    expect(() => parseLock(`version = 1\n[digests]\n"ubuntu\\u001b[2J" = "${digest}"\n`, "matrix.lock")).toThrow('"ubuntu\\u001b[2J" holds the control character U+001B, so it is no image a FROM can name');
  });

  test("through the CLI: lock and plan (with a lock) exit 2 at the Dockerfile's line, and write nothing", () => {
    const root = scratchFolder("from-grammar-");
    mkdirSync(join(root, "docker"));
    writeFileSync(join(root, "docker/base.Dockerfile"), "ARG BASE_IMAGE=ubuntu:22.04\nFROM $BASE_IMAGE\nRUN true\n");
    // (The matrix reader refuses a control character in a build arg itself; a space it lets through.)
    writeFileSync(join(root, "matrix.toml"), 'repository = "r.io/team/images"\n[images.base]\ndockerfile = "docker/base.Dockerfile"\ncontext = "docker"\ntag = "base"\nargs = [{ BASE_IMAGE = "ubuntu:22.04 evil" }]\n');
    const locked = runCli(["lock"], root);
    expect(locked.code).toBe(2);
    expect(locked.stderr).toContain('error: docker/base.Dockerfile:2:6: FROM "ubuntu:22.04 evil" ("$BASE_IMAGE" with the build args put in) is not an image reference');
    expect(existsSync(join(root, "matrix.lock"))).toBe(false);
    writeFileSync(join(root, "matrix.lock"), `version = 1\n[digests]\n"ubuntu:22.04" = "sha256:${"a".repeat(64)}"\n`);
    const planned = runCli(["plan"], root);
    expect(planned.code).toBe(2);
    expect(planned.stderr).toContain("error: docker/base.Dockerfile:2:6: FROM");
    expect(readFileSync(join(root, "matrix.lock"), "utf8")).toContain('"ubuntu:22.04"');
  });
});
