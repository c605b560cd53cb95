// What `prune` deletes from one repository, decided from what the registry holds and the
// tags the kept plans name (kept.ts). Pure: the CLI reads the registry
// (cli/registry-repository.ts) and deletes (cli/prune.ts).
//
// Only tags of our own schemes are ever candidates: a content tag (`inputs-<64 hex>`), a
// BuildKit registry cache (`cache-*` in an image's repository, any tag in `[cache]
// repository`, and in both only when its manifest is a BuildKit cache: the proof that
// BuildKit wrote it), and a cosign signature, attestation or SBOM (`sha256-<hex>.sig`,
// `.att`, `.sbom`) whose subject is not kept. Every other tag (an image's own tag, an
// alias, someone else's) is kept, and so is everything it names.
//
// The Distribution API deletes a manifest by digest, and with it every tag naming it. So a
// digest is kept when any kept tag names it, and with it everything it refers to: an
// index's platform manifests and attestation manifests, and the signatures of each. An
// unkept tag naming a kept digest is left (its manifest cannot go without the kept tag).
// Deleting an index deletes its children too, but for those something kept refers to.
// Untagged manifests the registry lists (GHCR's package API can) go when nothing kept
// refers to them: not a kept index's child, not a referrer of something kept.

/** What one manifest of the repository holds, as far as `prune` needs. */
export interface ManifestFacts {
  /** The manifests an index lists (platforms, attestations): digest, and what it is for the listing. */
  readonly children: readonly { readonly digest: string; readonly what: string }[];
  /** Whether it is a BuildKit registry cache (its config, or an entry of its index, is `application/vnd.buildkit.cacheconfig.v0`). */
  readonly buildCache: boolean;
  /** The digest its OCI `subject` names (a referrer of that manifest), if any. */
  readonly subject?: string;
}

export interface RepositoryContents {
  readonly repository: string;
  /** Every tag, and the digest it names now. */
  readonly tags: ReadonlyMap<string, string>;
  /** What each manifest a tag names holds (a manifest not read has no children and is no cache). */
  readonly manifests: ReadonlyMap<string, ManifestFacts>;
  /**
   * Untagged manifests the registry listed (GHCR's package API can; the Distribution API
   * cannot), old enough that no build still in flight pushed them; their facts in `manifests`.
   */
  readonly untagged?: readonly string[];
}

/** A manifest to delete: its digest, its tags (none for an index's child), and why. */
export interface Deletion {
  readonly repository: string;
  readonly digest: string;
  readonly tags: readonly string[];
  readonly why: string;
}

/** A tag of ours that nothing kept names, left because its manifest is kept through another tag. */
export interface LeftTag {
  readonly repository: string;
  readonly tag: string;
  readonly digest: string;
  readonly keptBy: string;
}

export interface RepositoryPrune {
  /** In the order to delete them: tagged manifests by their first tag, each followed by its children; then the untagged, by digest, each with its children; then the signatures. */
  readonly deletions: readonly Deletion[];
  readonly left: readonly LeftTag[];
}

const CONTENT_TAG = /^inputs-[0-9a-f]{64}$/;
/**
 * A cosign signature, attestation or SBOM (`.sig`, `.att`, `.sbom`), or, with no suffix, the
 * referrers index the OCI distribution spec's tag schema keeps for a registry without the
 * referrers API: where cosign 3 (the pipelines') puts its signature bundles.
 */
const COSIGN_TAG = /^sha256-([0-9a-f]{64})(?:\.(sig|att|sbom))?$/;
const COSIGN_KIND: Record<string, string> = { sig: "signature", att: "attestation", sbom: "SBOM", "": "referrers index (signatures and attestations)" };

type Scheme = { readonly kind: "content" | "cache" | "other" } | { readonly kind: "cosign"; readonly subject: string; readonly what: string };

/** Which of our schemes a tag is in, if any: a cache only with the manifest's proof. */
function schemeOf(tag: string, facts: ManifestFacts | undefined, cacheRepository: boolean): Scheme {
  if (CONTENT_TAG.test(tag)) return { kind: "content" };
  const cosign = COSIGN_TAG.exec(tag);
  if (cosign) return { kind: "cosign", subject: `sha256:${cosign[1]}`, what: COSIGN_KIND[cosign[2] ?? ""]! };
  if (facts?.buildCache && (cacheRepository || tag.startsWith("cache-"))) return { kind: "cache" };
  return { kind: "other" };
}

/**
 * What to delete from one repository, and which tags of ours are left for sharing a kept
 * manifest. `kept`: the tags the kept plans name in it; `cacheRepository`: whether it is a
 * `[cache] repository`. Deterministic: sorted by tag, then digest.
 */
export function prunePlan(contents: RepositoryContents, kept: ReadonlyMap<string, string>, cacheRepository: boolean): RepositoryPrune {
  const { repository, tags, manifests } = contents;
  const sortedTags = [...tags.keys()].sort();
  const schemes = new Map(sortedTags.map((tag) => [tag, schemeOf(tag, manifests.get(tags.get(tag)!), cacheRepository)]));

  // The digests kept, with the tag that keeps each: every tag not ours, every kept tag of ours, and what they refer to.
  const keptDigests = new Map<string, string>();
  const protect = (digest: string, by: string) => {
    if (keptDigests.has(digest)) return;
    keptDigests.set(digest, by);
    for (const child of manifests.get(digest)?.children ?? []) protect(child.digest, by);
  };
  for (const tag of sortedTags) {
    const scheme = schemes.get(tag)!;
    if (scheme.kind === "other" || (scheme.kind !== "cosign" && kept.has(tag))) protect(tags.get(tag)!, tag);
  }
  // A signature (or a referrer, tagged or not) of something kept is kept; it may keep another in turn.
  const untagged = [...(contents.untagged ?? [])].sort();
  for (let grew = true; grew; ) {
    grew = false;
    const subjects: [string, string | undefined, string][] = [
      ...sortedTags.map((tag): [string, string | undefined, string] => {
        const scheme = schemes.get(tag)!;
        const digest = tags.get(tag)!;
        return [digest, scheme.kind === "cosign" ? scheme.subject : manifests.get(digest)?.subject, tag];
      }),
      ...untagged.map((digest): [string, string | undefined, string] => [digest, manifests.get(digest)?.subject, `the referrer ${digest}`]),
    ];
    for (const [digest, subject, by] of subjects) {
      if (keptDigests.has(digest) || subject === undefined || !keptDigests.has(subject)) continue;
      protect(digest, by);
      grew = true;
    }
  }

  const left: LeftTag[] = [];
  const byDigest = new Map<string, { tags: string[]; whys: string[] }>();
  for (const tag of sortedTags) {
    const scheme = schemes.get(tag)!;
    if (scheme.kind === "other" || (scheme.kind !== "cosign" && kept.has(tag))) continue;
    const digest = tags.get(tag)!;
    const keptBy = keptDigests.get(digest);
    if (keptBy !== undefined) {
      if (keptBy !== tag) left.push({ repository, tag, digest, keptBy });
      continue;
    }
    let entry = byDigest.get(digest);
    if (!entry) byDigest.set(digest, (entry = { tags: [], whys: [] }));
    entry.tags.push(tag);
    entry.whys.push(whyNot(scheme));
  }

  const deletions: Deletion[] = [];
  const signatures: Deletion[] = [];
  const listed = new Set<string>(byDigest.keys());
  // A referrers index's children are the signature bundles it lists: they go with it.
  const withChildren = (deletion: Deletion, into = deletions) => {
    into.push(deletion);
    for (const child of manifests.get(deletion.digest)?.children ?? []) {
      if (keptDigests.has(child.digest) || listed.has(child.digest)) continue;
      listed.add(child.digest);
      into.push({ repository, digest: child.digest, tags: [], why: `${child.what} of ${deletion.digest}` });
    }
  };
  for (const [digest, { tags: itsTags, whys }] of byDigest) {
    const deletion = { repository, digest, tags: itsTags, why: [...new Set(whys)].join("; ") };
    withChildren(deletion, itsTags.every((tag) => schemes.get(tag)!.kind === "cosign") ? signatures : deletions);
  }
  for (const digest of untagged) {
    if (keptDigests.has(digest) || listed.has(digest)) continue;
    listed.add(digest);
    withChildren({ repository, digest, tags: [], why: "untagged manifest that nothing kept refers to" });
  }
  return { deletions: [...deletions, ...signatures], left };
}

function whyNot(scheme: Scheme): string {
  switch (scheme.kind) {
    case "content":
      return "content tag of no image of the kept plans";
    case "cache":
      return "build cache of no image of the kept plans";
    case "cosign":
      return `cosign ${scheme.what} of ${scheme.subject}, which is not kept`;
    case "other":
      throw new Error("a tag of no scheme of ours is never deleted");
  }
}
