// The shape of a build graph: everything an emitted pipeline is made from except the
// inputs digests. A pipeline reads the digests from the tree it checks out, when it
// runs (`caliban-images resolve`), and compares this with the shape it was emitted
// for: a Dockerfile edit changes digests only, so the committed file still holds; an
// image added, a family's options or [publish] changed make it stale, and it stops
// before it builds anything.
//
// The repository is no part of it either: `make push REPOSITORY=...` and `emit
// --base-url` move every reference, and the digests (which never hold the repository,
// docs/incremental-builds.md) stay the same. A family's own repository is, as they leave
// it: what it adds after `{repository}`, or the whole of an absolute one.

import { imagesById, type BuildGraph, type ImageNode } from "../graph.ts";
import { baseNamedValue } from "../base-parts.ts";
import { collectionRequester, IMAGES_PER_COLLECTION } from "../memory.ts";

/** 64 hex digits: the sha256 of the graph's JSON less its digests and repository, as one line per image. */
export function graphShape(graph: BuildGraph): string {
  const byId = imagesById(graph);
  const { repository: _repository, images, ...rest } = graph;
  const hasher = new Bun.CryptoHasher("sha256");
  // Each image's JSON is dead once hashed: 100,000 of them are 70 MiB (core/memory.ts).
  const requestCollection = collectionRequester(IMAGES_PER_COLLECTION);
  hasher.update(`caliban-images shape 1\n${JSON.stringify(rest)}\n`);
  for (const image of images) {
    // `kept` is a copy already: the args and the repository are set on it, in this order, rather than copied again.
    const { repository, repositorySuffix, reference: _ref, inputs: _i, contentReference: _c, args, ...kept } = image as ImageNode & Record<string, unknown>;
    const base = image.from === null ? undefined : byId.get(image.from);
    // An arg naming the base's reference, or holding a part of it, names it as the digest does: {from}, {from.repository}, {from.tag}.
    kept.args = base === undefined ? args : args.map((arg) => {
      const value = baseNamedValue(arg.value, image.fromParts?.[arg.name], base);
      return value === arg.value ? arg : { name: arg.name, value };
    });
    if (repositorySuffix !== undefined) kept.repository = repositorySuffix ?? repository;
    hasher.update(JSON.stringify(kept));
    hasher.update("\n");
    requestCollection();
  }
  return hasher.digest("hex");
}

/** Whether text is a shape as graphShape writes it. */
export function isShape(text: string): boolean {
  return /^[0-9a-f]{64}$/.test(text);
}
