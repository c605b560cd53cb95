// Build secrets (core/graph.ts, ImageNode.secrets) as the emitters write them: each is
// handed to BuildKit by name only, `id=ID,env=NAME` or `id=ID,src=PATH` (docker build's
// --secret, bake's `secret`, build-push-action's `secret-envs`/`secret-files`), never a
// value. Where the value comes from is the CI's secret store (docs/secrets.md);
// a pull or merge request's build is handed none, so a Dockerfile must build without them.

import type { BuildGraph, BuildSecret, ImageNode } from "../core/graph.ts";

/** A secret as `docker build --secret` and bake's `secret` take it (a CSV record: ids, names and paths hold no ',' or '"'). */
export function secretSpec(secret: BuildSecret): string {
  return secret.env !== undefined ? `id=${secret.id},env=${secret.env}` : `id=${secret.id},src=${secret.file}`;
}

export function secretSpecs(image: ImageNode): string[] {
  return image.secrets === undefined ? [] : image.secrets.map(secretSpec);
}

/** ` --secret WORD` for each of the image's secrets, each spec one word of `quote` (a shell's, make's): "" for none. */
export function secretFlags(image: ImageNode, quote: (text: string) => string): string {
  return secretSpecs(image).map((spec) => ` --secret ${quote(spec)}`).join("");
}

/** The environment variables the images' secrets are read from: each name once, sorted (a CI's secret store is asked for each). */
export function secretEnvNames(images: readonly ImageNode[]): string[] {
  return [...new Set(images.flatMap((image) => (image.secrets ?? []).flatMap((secret) => (secret.env === undefined ? [] : [secret.env]))))].sort();
}

/** Whether any image of the graph has build secrets. */
export function hasSecrets(graph: BuildGraph): boolean {
  return graph.images.some((image) => image.secrets !== undefined);
}

/**
 * A pipeline file's header lines on its build secrets (none without any): where the CI
 * keeps each variable (`store`), that a file secret is read at its path in the checkout,
 * and that a pull or merge request's build (`request`) gets none.
 */
export function secretsHeader(graph: BuildGraph, store: string, request: string): string[] {
  if (!hasSecrets(graph)) return [];
  const names = secretEnvNames(graph.images);
  const files = graph.images.some((image) => image.secrets?.some((secret) => secret.file !== undefined));
  return [
    `# Build secrets reach the builds only as BuildKit secrets (--secret), from ${store}${names.length === 0 ? "" : `: ${names.join(", ")}`}.`,
    ...(files ? ["# A file secret is read at its path in the checkout, where an earlier step must have written it."] : []),
    `# ${request} gets none: its Dockerfiles must build without them (caliban-images docs/secrets.md).`,
  ];
}
