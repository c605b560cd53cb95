// The build cache and attestations of an image, in buildx's own terms (the CSV specs
// `--cache-from`, `--cache-to` and `--attest` take, as bake's `cache-from`, `cache-to`
// and `attest` do). Each emitter writes these strings in its language.

import { CalibanError } from "../core/errors.ts";
import { cacheReference, type BuildGraph, type ImageNode } from "../core/graph.ts";

export type CacheKind = "registry" | "gha" | "inline";

export interface CacheSpecs {
  readonly from: readonly string[];
  readonly to: readonly string[];
}

const NO_CACHE: CacheSpecs = { from: [], to: [] };

/**
 * The cache specs of an image: `[cache] type`, or the emitter's natural default when the
 * matrix names none. `reference` and `cacheImage` are the image's and its cache image's
 * references as the output writes them (bake and make write the repository as a variable).
 * gha caches are scoped per image, so that images built side by side keep their own
 * (moby/buildkit#2299); registry caches keep every layer (mode=max).
 */
export function cacheSpecs(graph: BuildGraph, image: ImageNode, natural: CacheKind, reference = image.reference, cacheImage = cacheReference(graph, image)): CacheSpecs {
  if (graph.cache === null) return NO_CACHE;
  switch (graph.cache.type ?? natural) {
    case "registry":
      return { from: [`type=registry,ref=${cacheImage}`], to: [`type=registry,ref=${cacheImage},mode=max`] };
    case "gha":
      return { from: [`type=gha,scope=${image.id}`], to: [`type=gha,scope=${image.id},mode=max`] };
    case "inline":
      return { from: [`type=registry,ref=${reference}`], to: ["type=inline"] };
  }
}

/** buildx `--attest` specs: SLSA provenance in its mode, an SBOM. */
export function attestSpecs(graph: BuildGraph): string[] {
  const specs: string[] = [];
  if (graph.attest.provenance !== null) specs.push(`type=provenance,mode=${graph.attest.provenance}`);
  if (graph.attest.sbom) specs.push("type=sbom");
  return specs;
}

/**
 * Whether an image needs buildx (BuildKit) rather than a plain `docker build`: platforms, a
 * cache, attestations or annotations; or [sign], whose signature is of the digest buildx names for its
 * push (--metadata-file), never of a tag another push could have moved since.
 */
export function needsBuildx(graph: BuildGraph, image: ImageNode): boolean {
  return image.platforms.length > 0 || graph.cache !== null || graph.attest.provenance !== null || graph.attest.sbom || graph.sign !== undefined || image.annotations !== undefined;
}

/**
 * An image's annotations as buildx's --annotation and bake's `annotations` take them
 * (`LEVELS:NAME=VALUE`; a name holds no ':' or '=', core/matrix/matrix-annotations.ts): on
 * each manifest, and on the index when the push makes one (several platforms, or
 * attestations beside the image), which is where GHCR and Docker Hub read a description.
 */
export function annotationSpecs(graph: BuildGraph, image: ImageNode): string[] {
  return imageAnnotationSpecs(image, graph.attest.provenance !== null || graph.attest.sbom);
}

/** annotationSpecs, `attested` whether the push attaches attestations (then an index holds the image). */
export function imageAnnotationSpecs(image: ImageNode, attested: boolean): string[] {
  const indexed = image.platforms.length > 1 || attested;
  // One flag a level: "index,manifest:" in one is not read alike by every buildx.
  const levels = indexed ? ["index", "manifest"] : ["manifest"];
  return levels.flatMap((level) => (image.annotations ?? []).map((annotation) => `${level}:${annotation.name}=${annotation.value}`));
}

/** Refuses `images` with annotations, for an emitter that does not write them there yet: never push without what the matrix says to show. */
export function refuseAnnotations(images: readonly ImageNode[], emitter: string, where = `the ${emitter} emitter does not write annotations yet`): void {
  images = images.filter((image) => image.annotations !== undefined);
  if (images.length === 0) return;
  const families = [...new Set(images.map((image) => image.family))];
  throw new CalibanError({
    code: "EMITTER",
    message: `emit ${emitter}: the ${families.length === 1 ? "family" : "families"} ${families.join(", ")} ${families.length === 1 ? "has" : "have"} annotations, and ${where}`,
    hint: "emit make, bake, cloudbuild, gitlab or buildkite, which write them; or leave annotations out",
  });
}

/** A shared tag's manifest list: the annotations every one of its images has alike, on the list (imagetools create takes index ones). */
export function sharedTagAnnotationSpecs(images: readonly ImageNode[]): string[] {
  const [first, ...rest] = images;
  const alike = (first?.annotations ?? []).filter((annotation) => rest.every((image) => (image.annotations ?? []).some((other) => other.name === annotation.name && other.value === annotation.value)));
  return alike.map((annotation) => `index:${annotation.name}=${annotation.value}`);
}

/** A platform in a name: `linux/arm64` → `linux-arm64`. */
export function platformSlug(platform: string): string {
  return platform.replaceAll("/", "-");
}

/**
 * The cache of one platform's build of an image, when each platform is built by a job of
 * its own (GitHub's native runners): each keeps a cache of its own, which the other's
 * job would otherwise overwrite. Registry caches get the platform in their tag.
 */
export function platformCacheSpecs(graph: BuildGraph, image: ImageNode, natural: CacheKind, platform: string): CacheSpecs {
  if (graph.cache === null) return NO_CACHE;
  const slug = platformSlug(platform);
  switch (graph.cache.type ?? natural) {
    case "registry": {
      const cacheImage = `${cacheReference(graph, image)}-${slug}`;
      return { from: [`type=registry,ref=${cacheImage}`], to: [`type=registry,ref=${cacheImage},mode=max`] };
    }
    case "gha":
      return { from: [`type=gha,scope=${image.id}-${slug}`], to: [`type=gha,scope=${image.id}-${slug},mode=max`] };
    case "inline":
      return { from: [`type=registry,ref=${image.reference}`], to: ["type=inline"] };
  }
}
