// The build graph: the one thing every emitter reads. Plain, readonly,
// JSON-serialisable data (this is the shape `plan --json` prints), in a
// deterministic order: every image after the image it builds FROM, otherwise in
// the order the matrix declares families and their combinations.
//
// Ids, tags, repositories (so references too) and arg names are checked against
// Docker's grammars and NAME_PATTERN/ARG_NAME_PATTERN (core/names.ts): ASCII letters,
// digits and `_.-:/[]` only. No quote, backslash, '$', '%', '{', space or non-ASCII
// character, so an emitter may write them into JSON, HCL, YAML or a shell word
// without escaping. Dockerfiles, contexts and arg values may hold anything. An alias
// may also name values only the CI knows when it builds, written `{date}`, `{commit}`,
// `{short_commit}` and `{branch}` (core/build-time.ts: buildTimeParts, namesBuildTime):
// an emitter has its CI fill them in, never writes them as they are.
//
// This file is public API: plugin emitters `import type` from it.

import { registryHost } from "./names.ts";

export const GRAPH_FORMAT_VERSION = 1;

export interface BuildArg {
  readonly name: string;
  readonly value: string;
}

/** A part of a base image's reference, `repository:tag`, that a build arg may hold alone ({from.repository}, {from.tag}). */
export type BasePart = "repository" | "tag";

/** A label of the image. `revision`: its value is the commit the CI builds, set at build time (`value` is ""). */
export interface BuildLabel {
  readonly name: string;
  readonly value: string;
  readonly revision: boolean;
}

/**
 * A build secret (`secrets` of [images.NAME]): the id a Dockerfile's `RUN
 * --mount=type=secret,id=ID` names, and where the build takes its value from, exactly one
 * of an environment variable (`env`) or a file (`file`, relative to the matrix file's
 * folder, or absolute). Never its value: nothing here ever reads one. The id matches
 * SECRET_ID_PATTERN and `env` IDENTIFIER_PATTERN (core/names.ts); `file` holds no control
 * character, ',' or '"', but may hold '$', quotes and spaces: quote it.
 */
export interface BuildSecret {
  readonly id: string;
  readonly env?: string;
  readonly file?: string;
}

export interface ImageNode {
  /**
   * Unique, stable, and a valid bake target name ([A-Za-z0-9_-]): the tag with other
   * characters turned into '-'; never a family name or "default" ("-2" is added then).
   */
  readonly id: string;
  /** The family (an `[images.NAME]` table) the image belongs to. */
  readonly family: string;
  /** The image's value on each axis its family spans, in the family's axis order. */
  readonly values: Readonly<Record<string, string>>;
  /** Where it is pushed: the graph's repository, or its family's own (`repository` in [images.NAME]). */
  readonly repository: string;
  /**
   * Only for an image whose family names a repository of its own: what `repository` has
   * after the graph's, when the family wrote it after `{repository}` ("/base-notebook"),
   * so that it moves with the graph's (--base-url, make's REPOSITORY, bake's variable,
   * `resolve --registry`); null when the family's repository is absolute, which none of
   * them moves (see movedRepository). Absent: the image is in the graph's repository.
   */
  readonly repositorySuffix?: string | null;
  readonly tag: string;
  /** `repository:tag`: what is built, pushed, and named in the FROM of dependants. */
  readonly reference: string;
  readonly dockerfile: string;
  readonly context: string;
  /**
   * Build args in order; names are unique. Images with the same axis value (or the
   * same base) mostly share the BuildArg objects it gives, so text remembered by arg
   * (emitters/text.ts, remembered) is made once per value; nothing may depend on it.
   */
  readonly args: readonly BuildArg[];
  /** The id of the image this one builds FROM, or null. */
  readonly from: string | null;
  /** The build arg whose value is exactly the base image's reference (when `from` is set and one does). */
  readonly fromArg: string | null;
  /**
   * Only for an image whose build args give its base as parts (`{from.repository}`,
   * `{from.tag}`; core/base-parts.ts): arg name → the part that arg's value is. A pipeline
   * that builds FROM the base's content reference gives a "tag" arg the base's content tag,
   * as it gives an arg holding the whole reference the content reference. Absent: none.
   */
  readonly fromParts?: Readonly<Record<string, BasePart>>;
  /** 0 for images that build from nothing in the graph, else the base's level + 1. */
  readonly level: number;
  /**
   * "sha256:" + 64 hex digits over everything that decides what the build produces: the
   * Dockerfile's bytes, the context's files that docker sends, the build args, and the
   * base's `inputs` (core/changes/inputs.ts; docs/incremental-builds.md).
   */
  readonly inputs: string;
  /** `repository:inputs-<hex>`: the image as pushed under its digest, which a pipeline looks for before building. */
  readonly contentReference: string;
  /** The family's smoke test for this image, a shell command run in it before it is pushed (`sh -c TEST`); null for none. */
  readonly test: string | null;
  /**
   * The external images its Dockerfile builds FROM, pinned by the lock file: `REF@sha256:...`,
   * in FROM order. Part of `inputs`. Empty without a lock file (or for images it has no digest for).
   */
  readonly upstream: readonly string[];
  /**
   * More tags it is pushed under (the family's `aliases`), each unique in the graph. One
   * naming a build-time value keeps it as written (`nightly.{date}`): the CI fills it in.
   */
  readonly aliases: readonly string[];
  /** Labels, every image's (top-level `labels`) then its family's, names unique. */
  readonly labels: readonly BuildLabel[];
  /** OCI annotations, every image's (top-level `annotations`) then its family's, names unique. Absent: none. */
  readonly annotations?: readonly BuildAnnotation[];
  /**
   * Tags it shares with other images (`shared_tags`), each pushed as one manifest list over
   * every image naming it (sharedTags): their platforms do not overlap. Absent: none.
   */
  readonly sharedTags?: readonly string[];
  /** os/arch[/variant] it is built for (as buildx takes them); empty for the builder's own platform. */
  readonly platforms: readonly string[];
  /** The Windows release a Windows image is built for (the matrix's `windows(10.0.26100)/amd64`), its manifest's os.version. Absent: none named. */
  readonly osVersion?: string;
  /**
   * The runner labels and the minutes of a build, when a `when` rule gives this image other
   * ones than its family's (FamilyNode.runner, .timeout): read them with imageRunner and
   * imageTimeout. Absent: the family's.
   */
  readonly runner?: readonly string[] | null;
  readonly timeout?: number | null;
  /** The Dockerfile stage to build, or null for the last. */
  readonly target: string | null;
  /**
   * false (`published = false`): an internal image, handed only to the images built FROM it.
   * A pipeline pushes it under its `contentReference` alone, never `reference` (it has no
   * aliases or shared tags); one without content references cannot push it. Absent: published.
   */
  readonly published?: false;
  /** "always" (`rebuild = "always"`): no pipeline skips it for finding its `contentReference` in the registry. Absent: "changed". */
  readonly rebuild?: "always";
  /** true (`free_disk = true`): the CI frees its runner's disk before the build (GitHub's hosted runners). Absent: false. Not an input. */
  readonly freeDisk?: true;
  /**
   * Build secrets its build is handed as BuildKit secrets, never as build args (its family's
   * `secrets`). Absent: none. Not an input: a value is never read, and a secret's id and
   * source say nothing of what the build makes that the Dockerfile (which mounts it) does not.
   */
  readonly secrets?: readonly BuildSecret[];
}

export interface FamilyNode {
  readonly name: string;
  readonly axes: readonly string[];
  readonly dockerfile: string;
  readonly context: string;
  /** The family whose images this family's images build FROM, or null. */
  readonly from: string | null;
  /** Ids of the family's images, in graph order. */
  readonly images: readonly string[];
  /** The labels of the CI runner its images build on (GitHub's `runs-on`), or null for the emitter's default. */
  readonly runner: readonly string[] | null;
  /** Minutes an image's build may run before the CI stops it, or null for the emitter's default. */
  readonly timeout: number | null;
}

export interface AxisNode {
  readonly name: string;
  readonly values: readonly string[];
}

/** `[publish]`: when the pipelines publish (read by core/matrix/matrix-publish.ts). */
export interface Publish {
  /** Branches whose pushes publish: names or GitHub's filter patterns (`release/**`), each one Cloud Build's trigger expression can say too. */
  readonly branches: readonly string[];
  /** Whether pull requests build the images (pushing nothing). */
  readonly pullRequests: boolean;
  /** A cron expression, in UTC, for scheduled runs; undefined for none. */
  readonly schedule: string | undefined;
  /** Whether the matrix has a [publish] table: Cloud Build's triggers are written only then. */
  readonly declared: boolean;
}

export interface BuildGraph {
  readonly version: typeof GRAPH_FORMAT_VERSION;
  /** The matrix's top-level repository (after any --base-url override): every image's but those of families with a repository of their own. */
  readonly repository: string;
  /** When pipelines publish: the matrix's `[publish]`, defaults filled in. */
  readonly publish: Publish;
  readonly axes: readonly AxisNode[];
  readonly families: readonly FamilyNode[];
  /**
   * The lock file beside the matrix (`caliban-images lock`), relative to the matrix file's
   * directory, and the external images the Dockerfiles name that it has no digest for; null without one.
   */
  readonly lock: { readonly file: string; readonly unlocked: readonly string[] } | null;
  /**
   * `[cache]`: the build cache every image uses, or null for none. `type` null: each
   * emitter's natural default (GitHub: gha; the others: registry). A registry cache of an
   * image is `cacheReference(graph, image)`.
   */
  readonly cache: { readonly type: "registry" | "gha" | "inline" | null; readonly repository: string | null } | null;
  /** `[attest]`: provenance (buildx's min or max mode, or null) and SBOM attestations. */
  readonly attest: { readonly provenance: "min" | "max" | null; readonly sbom: boolean };
  /** `[sign]`: absent when nothing is signed (then a graph's JSON, and its shape, are as before signing existed). */
  readonly sign?: SignPolicy;
  readonly images: readonly ImageNode[];
}

/**
 * How pushed images are signed with cosign and a reused image's signature is verified:
 * a key pair (`key` as cosign's --key reads it, `publicKey` for cosign verify --key), or
 * keyless (the certificate identity and OIDC issuer the CI signs with). `transparencyLog`:
 * whether signatures go to, and are checked against, Sigstore's Rekor.
 */
export type SignPolicy =
  | { readonly key: string; readonly publicKey: string; readonly transparencyLog: boolean }
  | { readonly identity: string; readonly issuer: string; readonly transparencyLog: boolean };

/** An OCI annotation of the pushed image (its manifest; a multi-platform image's index too). */
export interface BuildAnnotation {
  readonly name: string;
  readonly value: string;
}

/** A tag several images share: one manifest list over them (ImageNode.sharedTags). */
export interface SharedTag {
  readonly repository: string;
  readonly tag: string;
  /** `repository:tag`. */
  readonly reference: string;
  /** Its images, in graph order. */
  readonly images: readonly ImageNode[];
}

/** The graph's shared tags, in the order their first image comes. */
export function sharedTags(graph: BuildGraph): SharedTag[] {
  const byReference = new Map<string, { repository: string; tag: string; reference: string; images: ImageNode[] }>();
  for (const image of graph.images) {
    for (const tag of image.sharedTags ?? []) {
      const reference = `${image.repository}:${tag}`;
      let shared = byReference.get(reference);
      if (!shared) byReference.set(reference, (shared = { repository: image.repository, tag, reference, images: [] }));
      shared.images.push(image);
    }
  }
  return [...byReference.values()];
}

/** The runner labels an image builds on: its own when a `when` rule gives it some, else its family's (null: the emitter's default). */
export function imageRunner(family: FamilyNode, image: ImageNode): readonly string[] | null {
  return image.runner !== undefined ? image.runner : family.runner;
}

/** Its platforms as the matrix wrote them: a Windows release back in each (`windows(10.0.26100)/amd64`), as the inputs digest reads them. */
export function writtenPlatforms(image: ImageNode): readonly string[] {
  return image.osVersion === undefined ? image.platforms : image.platforms.map((platform) => platform.replace("/", `(${image.osVersion})/`));
}

/** The minutes an image's build may take: its own when a `when` rule gives it some, else its family's (null: the emitter's default). */
export function imageTimeout(family: FamilyNode, image: ImageNode): number | null {
  return image.timeout !== undefined ? image.timeout : family.timeout;
}

/** Images grouped by level: stage 0 builds first; each stage waits only for earlier ones. */
export function stages(graph: BuildGraph): ImageNode[][] {
  const result: ImageNode[][] = [];
  for (const image of graph.images) (result[image.level] ??= []).push(image);
  return result;
}

export function imagesById(graph: BuildGraph): Map<string, ImageNode> {
  return new Map(graph.images.map((image) => [image.id, image]));
}

/**
 * Each distinct BuildArg object once, with the first image that has it: images share
 * an axis value's args, so a check on arg values runs about once per value, not per image.
 */
export function distinctArgs(graph: BuildGraph): { image: ImageNode; arg: BuildArg }[] {
  const seen = new Set<BuildArg>();
  const result: { image: ImageNode; arg: BuildArg }[] = [];
  for (const image of graph.images) {
    for (const arg of image.args) {
      if (seen.has(arg)) continue;
      seen.add(arg);
      result.push({ image, arg });
    }
  }
  return result;
}

/**
 * Where an image's registry build cache is kept: `[cache] repository`:TAG (:ID for an image of
 * a family with a repository of its own, whose tag another repository's image may share),
 * else the image's own repository, tag `cache-TAG`.
 */
export function cacheReference(graph: BuildGraph, image: ImageNode): string {
  const repository = graph.cache?.repository ?? null;
  return repository === null ? `${image.repository}:${ownRepositoryCacheTag(image.tag)}` : `${repository}:${image.repositorySuffix === undefined ? image.tag : image.id}`;
}

/**
 * The image's repository when the graph's is `repository` instead (--base-url's value,
 * `resolve --registry`'s, or text such as make's `$(REPOSITORY)`): an image of the graph's
 * repository, or of a family that wrote its own after `{repository}`, moves with it; an
 * image of a family with an absolute repository stays where it is.
 */
export function movedRepository(image: ImageNode, repository: string): string {
  const suffix = image.repositorySuffix;
  return suffix === undefined ? repository : suffix === null ? image.repository : `${repository}${suffix}`;
}

/** Whether a family names a repository of its own: then the images are in several repositories, and each output names each image's. */
export function hasOwnRepositories(graph: BuildGraph): boolean {
  return graph.images.some((image) => image.repositorySuffix !== undefined);
}

/** The families whose repository is absolute, in graph order: --base-url, make's REPOSITORY and bake's variable move none of their images. */
export function unmovedFamilies(graph: BuildGraph): string[] {
  return [...new Set(graph.images.filter((image) => image.repositorySuffix === null).map((image) => image.family))];
}

/** The registry hosts the images are pushed to, each once, in graph order. */
export function imageRegistries(graph: BuildGraph): string[] {
  const repositories = new Set(graph.images.map((image) => image.repository));
  return [...new Set([...repositories].map(registryHost))];
}

/** The tag of an image's registry cache kept in the image's own repository. */
export function ownRepositoryCacheTag(tag: string): string {
  return `cache-${tag}`;
}

/** Text naming a base by its content reference wherever it names the base's reference (an image built FROM the base's pushed digest). */
export function withBaseContent(text: string, base: ImageNode): string {
  return text.split(base.reference).join(base.contentReference);
}
