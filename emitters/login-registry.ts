// The registry a pipeline logs in to before it pushes. A workflow's jobs and a Cloud
// Build log in to one registry; families whose repositories are in several registries
// cannot all be pushed after one login, and are refused before anything is written.

import { CalibanError } from "../core/errors.ts";
import { imageRegistries, type BuildGraph } from "../core/graph.ts";

/** The one registry host every image is pushed to, or an error naming them (`emitter`: "github", "cloudbuild"; `way`: the hint's way out). */
export function loginRegistry(graph: BuildGraph, emitter: string, way: string): string {
  const hosts = imageRegistries(graph);
  if (hosts.length <= 1) return hosts[0] ?? "docker.io";
  throw new CalibanError({
    code: "EMITTER",
    message: `emit ${emitter}: the images are pushed to ${hosts.length} registries (${hosts.join(", ")}), and the pipeline logs in to one`,
    hint: `give every family's repository one registry, or ${way}`,
  });
}
