// Cloud Build step timeouts: every step has one, so a hung build stops at its own limit
// rather than at the build's (24 hours by default); `step-timeout = ""` writes none but
// a family's, as Caliban's generator wrote its configs. An image's steps get its family's
// `timeout` or the emitter's `step-timeout`; the setup steps (login, resolve, buildx's
// builder) get 15 minutes, as the GitHub workflow's resolve job does.

import { imageTimeout, type BuildGraph, type ImageNode } from "../core/graph.ts";
import type { OptionSpec, OptionValue } from "./contract.ts";

/** A setup step's timeout. */
export const SETUP_STEP_TIMEOUT = "900s";

/** The limit of each build and each step, in seconds: 24 hours. */
export const MAX_TIMEOUT_SECONDS = 86400;

/** `"N s"` durations, as Cloud Build reads them: whole or fractional seconds with an 's'. */
export function durationProblem(value: OptionValue): string | undefined {
  const match = /^(\d+)(\.\d{1,9})?s$/.exec(String(value));
  if (!match) return `"${value}" is not a duration such as "3600s"`;
  if (Number(match[1]) > MAX_TIMEOUT_SECONDS) return `Cloud Build allows at most ${MAX_TIMEOUT_SECONDS}s (24 hours)`;
  return undefined;
}

export const STEP_TIMEOUT_OPTION = {
  type: "string",
  default: "10800s",
  description: "timeout of each image's steps (build, test, push), in seconds with an 's'; a family's `timeout` (minutes) replaces it for its images; empty: none but the build's (as Caliban's generator wrote them)",
  check: (value) => (value === "" ? undefined : durationProblem(value)),
} satisfies OptionSpec;

/** An image's steps' timeout: its own `timeout` (a `when` rule's, else its family's), else the option's; undefined for none. */
export function imageStepTimeout(graph: BuildGraph, image: ImageNode, stepTimeout: string): string | undefined {
  const family = graph.families.find((f) => f.name === image.family);
  const minutes = family === undefined ? null : imageTimeout(family, image);
  return minutes !== null ? `${minutes * 60}s` : stepTimeout === "" ? undefined : stepTimeout;
}

/** The families (and `when` rules' images) whose `timeout` is longer than the build's own, which stops them first: said as a warning. */
export function timeoutsBeyondTheBuild(graph: BuildGraph, buildTimeout: string): string[] {
  const seconds = Number(/^(\d+)/.exec(buildTimeout)![1]);
  const beyond = (minutes: number | null | undefined) => minutes !== null && minutes !== undefined && minutes * 60 > seconds;
  const families = graph.families.filter((family) => beyond(family.timeout)).map((family) => `family ${family.name}: its timeout (${family.timeout} minutes) is longer than the build's (${buildTimeout}), which stops it first; raise the emitter's timeout option`);
  const images = graph.images.filter((image) => beyond(image.timeout)).map((image) => `image ${image.id}: its timeout (${image.timeout} minutes) is longer than the build's (${buildTimeout}), which stops it first; raise the emitter's timeout option`);
  return [...families, ...images];
}
