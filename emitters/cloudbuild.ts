// Google Cloud Build: the config Caliban's own generator wrote. Per image a build
// step (id = the image reference) and a push step (id = reference + "-push"). A build
// step waits for its base's *build* step, not its push: all steps share one Docker
// daemon, so the base is already there.

import type { ImageNode } from "../core/graph.ts";
import type { Emitter } from "./contract.ts";

export interface CloudBuildOptions extends Record<string, string> {
  timeout: string;
  builder: string;
  output: string;
}

/** Cloud Build's longest build. */
const MAX_TIMEOUT_SECONDS = 24 * 60 * 60;

export const cloudbuild: Emitter<CloudBuildOptions> = {
  name: "cloudbuild",
  description: "Google Cloud Build config (cloudbuild.json), as Caliban's generator wrote it",
  options: {
    timeout: {
      type: "string",
      default: "86400s",
      description: "timeout of the whole build, in seconds with an 's' (at most 86400s)",
      check: (value) => {
        const match = /^(\d+)(\.\d{1,9})?s$/.exec(String(value));
        if (!match) return `"${value}" is not a duration such as "3600s"`;
        if (Number(match[1]) > MAX_TIMEOUT_SECONDS) return `Cloud Build allows at most ${MAX_TIMEOUT_SECONDS}s (24 hours)`;
        return undefined;
      },
    },
    builder: {
      type: "string",
      default: "gcr.io/cloud-builders/docker",
      description: "the builder image each step runs",
    },
    output: {
      type: "string",
      default: "cloudbuild.json",
      description: "file name of the config",
    },
  },
  emit(graph, options, context) {
    const byId = new Map(graph.images.map((image) => [image.id, image]));
    const steps = graph.images.flatMap((image) => {
      const base = image.from === null ? undefined : byId.get(image.from);
      return [buildStep(image, base, options.builder), pushStep(image, options.builder)];
    });
    return [{ path: options.output, contents: context.json({ steps, timeout: options.timeout }) }];
  },
};

function buildStep(image: ImageNode, base: ImageNode | undefined, builder: string) {
  const args = ["build", "-t", image.reference, "-f", image.dockerfile];
  for (const arg of image.args) args.push("--build-arg", `${arg.name}=${arg.value}`);
  args.push(image.context);
  return {
    id: image.reference,
    name: builder,
    args: args.map(escapeSubstitutions),
    waitFor: [base ? base.reference : "-"],
  };
}

function pushStep(image: ImageNode, builder: string) {
  return {
    id: `${image.reference}-push`,
    name: builder,
    args: ["push", image.reference].map(escapeSubstitutions),
    waitFor: [image.reference],
  };
}

/** Cloud Build substitutes $NAME and ${NAME} in args; a literal '$' is written '$$'. */
export function escapeSubstitutions(text: string): string {
  return text.replace(/\$/g, () => "$$");
}


