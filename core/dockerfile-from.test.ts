// What a Dockerfile builds FROM, as docker reads it: the cases docker's own rules decide.

import { expect, test } from "bun:test";
import { parseDockerfile, resolveFroms } from "./dockerfile-from.ts";

const froms = (text: string, args: Record<string, string> = {}) =>
  resolveFroms(
    parseDockerfile(text),
    Object.entries(args).map(([name, value]) => ({ name, value })),
  ).map(({ line, reference, pinArg }) => `${line} ${reference}${pinArg ? ` pin ${pinArg}` : ""}`);

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
