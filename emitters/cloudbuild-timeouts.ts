// Cloud Build step timeouts: every step has one, so a hung build stops at its own limit
// rather than at the build's (24 hours by default); `step-timeout = ""` writes none but
// a family's, as Caliban's generator wrote its configs. An image's steps get its family's
// `timeout` or the emitter's `step-timeout`; the setup steps (login, resolve, buildx's
// builder) get 15 minutes, as the GitHub workflow's resolve job does.

import type { BuildGraph, ImageNode } from "../core/graph.ts";
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

/** An image's steps' timeout: its family's `timeout`, else the option's; undefined for none. */
export function imageStepTimeout(graph: BuildGraph, image: ImageNode, stepTimeout: string): string | undefined {
  const minutes = graph.families.find((family) => family.name === image.family)?.timeout ?? null;
  return minutes !== null ? `${minutes * 60}s` : stepTimeout === "" ? undefined : stepTimeout;
}

/** The families whose `timeout` is longer than the build's own, which stops them first: said as a warning. */
export function timeoutsBeyondTheBuild(graph: BuildGraph, buildTimeout: string): string[] {
  const seconds = Number(/^(\d+)/.exec(buildTimeout)![1]);
  return graph.families.filter((family) => family.timeout !== null && family.timeout * 60 > seconds).map((family) => `family ${family.name}: its timeout (${family.timeout} minutes) is longer than the build's (${buildTimeout}), which stops it first; raise the emitter's timeout option`);
}
