// Build secrets (core/graph.ts, ImageNode.secrets) as the emitters write them: make and
// bake hand each to BuildKit as `id=ID,env=NAME` or `id=ID,src=PATH` (docker build's
// --secret, bake's `secret`), names only, never a value. The other built-in emitters do
// not pass secrets yet, and refuse a graph with any rather than build without them.

import type { BuildGraph, BuildSecret, ImageNode } from "../core/graph.ts";
import { CalibanError } from "../core/errors.ts";

/** A secret as `docker build --secret` and bake's `secret` take it (a CSV record: ids, names and paths hold no ',' or '"'). */
export function secretSpec(secret: BuildSecret): string {
  return secret.env !== undefined ? `id=${secret.id},env=${secret.env}` : `id=${secret.id},src=${secret.file}`;
}

export function secretSpecs(image: ImageNode): string[] {
  return image.secrets === undefined ? [] : image.secrets.map(secretSpec);
}

/** Refuses a graph whose images have build secrets, for an emitter that cannot pass them: never build without one silently. */
export function refuseSecrets(graph: BuildGraph, emitter: string): void {
  const families = [...new Set(graph.images.filter((image) => image.secrets !== undefined).map((image) => image.family))];
  if (families.length === 0) return;
  const images = graph.images.filter((image) => image.secrets !== undefined);
  const named = images.slice(0, 3).map((image) => image.id).join(", ") + (images.length > 3 ? ` and ${images.length - 3} more` : "");
  throw new CalibanError({
    code: "EMITTER",
    message: `emit ${emitter}: ${images.length === 1 ? "image" : "images"} ${named} (${families.length === 1 ? "family" : "families"} ${families.join(", ")}) ${images.length === 1 ? "needs" : "need"} build secrets, and the ${emitter} emitter does not pass build secrets yet`,
    hint: "emit make or emit bake, which hand them to BuildKit (--secret); or build those images with another pipeline",
  });
}
