// What prune deletes from a repository, decided without a registry: tags of our schemes
// only, never a digest a kept tag names or anything it refers to.

import { describe, expect, test } from "bun:test";
import { planText } from "../../fixtures/test-helpers.ts";
import { keptTags, prunedRepositories } from "./kept.ts";
import { prunePlan, type ManifestFacts, type RepositoryContents } from "./prune-plan.ts";

const digest = (n: number) => `sha256:${n.toString(16).padStart(64, "0")}`;
const inputs = (n: number) => `inputs-${n.toString(16).padStart(64, "a")}`;
const signature = (subject: number, kind = "sig") => `sha256-${n64(subject)}.${kind}`;
const n64 = (n: number) => n.toString(16).padStart(64, "0");
const image: ManifestFacts = { children: [], buildCache: false };
const cache: ManifestFacts = { children: [], buildCache: true };
const index = (...children: number[]): ManifestFacts => ({ children: children.map((c) => ({ digest: digest(c), what: `child ${c}` })), buildCache: false });

function contents(tags: Record<string, number>, manifests: Record<number, ManifestFacts> = {}): RepositoryContents {
  const facts = new Map<string, ManifestFacts>();
  for (const n of Object.values(tags)) facts.set(digest(n), manifests[n] ?? image);
  return { repository: "r.example/app", tags: new Map(Object.entries(tags).map(([tag, n]) => [tag, digest(n)])), manifests: facts };
}

const keeping = (...tags: string[]) => new Map(tags.map((tag) => [tag, "main (1234567)"]));
const deleted = (plan: ReturnType<typeof prunePlan>) => plan.deletions.map((d) => [d.digest, d.tags.join(",")]);

describe("prunePlan", () => {
  test("a content tag no kept plan names is deleted; a kept one, and every tag of no scheme of ours, is not", () => {
    const plan = prunePlan(contents({ [inputs(1)]: 1, [inputs(2)]: 2, "gpu-py312": 2, latest: 3, "someone-elses": 4 }), keeping(inputs(2), "gpu-py312"), false);
    expect(deleted(plan)).toEqual([[digest(1), inputs(1)]]);
    expect(plan.deletions[0]!.why).toBe("content tag of no image of the kept plans");
    expect(plan.left).toEqual([]);
  });

  test("an unkept content tag naming a kept digest is left, never deleted: a DELETE by digest would take the kept tag with it", () => {
    const plan = prunePlan(contents({ [inputs(1)]: 7, [inputs(2)]: 7, hand: 8, [inputs(3)]: 8 }), keeping(inputs(2)), false);
    expect(deleted(plan)).toEqual([]);
    expect(plan.left).toEqual([
      { repository: "r.example/app", tag: inputs(1), digest: digest(7), keptBy: inputs(2) },
      { repository: "r.example/app", tag: inputs(3), digest: digest(8), keptBy: "hand" },
    ]);
  });

  test("an index that goes takes its platform and attestation manifests, but for those a kept index also lists", () => {
    const plan = prunePlan(contents({ [inputs(1)]: 10, [inputs(2)]: 20 }, { 10: index(11, 12, 13), 20: index(13, 21) }), keeping(inputs(2)), false);
    expect(deleted(plan)).toEqual([[digest(10), inputs(1)], [digest(11), ""], [digest(12), ""]]);
    expect(plan.deletions[1]!.why).toBe(`child 11 of ${digest(10)}`);
  });

  test("two indexes that go list a child they share once; a child that is tagged itself is decided by its tag", () => {
    const plan = prunePlan(contents({ [inputs(1)]: 10, [inputs(2)]: 20, "arm-only": 12 }, { 10: index(11, 12), 20: index(11) }), keeping(), false);
    expect(deleted(plan)).toEqual([[digest(10), inputs(1)], [digest(11), ""], [digest(20), inputs(2)]]);
  });

  test("cosign 3's referrers index (the tag sha256-HEX, no suffix) goes with its subject, with the bundles it lists; stays with a kept one", () => {
    const referrers = (subject: number) => `sha256-${n64(subject)}`;
    const tags = { [inputs(1)]: 10, [inputs(2)]: 20, [referrers(10)]: 40, [referrers(20)]: 50 };
    const plan = prunePlan(contents(tags, { 40: index(41, 42), 50: index(51) }), keeping(inputs(2)), false);
    expect(deleted(plan)).toEqual([[digest(10), inputs(1)], [digest(40), referrers(10)], [digest(41), ""], [digest(42), ""]]);
    expect(plan.deletions[1]!.why).toBe(`cosign referrers index (signatures and attestations) of ${digest(10)}, which is not kept`);
    expect(plan.left).toEqual([]);
  });

  test("a cosign signature or attestation goes with its subject, and stays with a kept one, a kept index's child included", () => {
    const tags = { [inputs(1)]: 10, [inputs(2)]: 20, [signature(10)]: 30, [signature(10, "att")]: 31, [signature(20)]: 32, [signature(21)]: 33, [signature(99)]: 34 };
    const plan = prunePlan(contents(tags, { 20: index(21) }), keeping(inputs(2)), false);
    // Sorted by tag: `.att` before `.sig`.
    expect(deleted(plan)).toEqual([[digest(10), inputs(1)], [digest(31), signature(10, "att")], [digest(30), signature(10)], [digest(34), signature(99)]]);
    expect(plan.deletions[1]!.why).toBe(`cosign attestation of ${digest(10)}, which is not kept`);
    expect(plan.deletions[2]!.why).toBe(`cosign signature of ${digest(10)}, which is not kept`);
  });

  test("a signature of an image only someone else's tag names is kept", () => {
    expect(deleted(prunePlan(contents({ release: 5, [signature(5)]: 6 }), keeping(), false))).toEqual([]);
  });

  test("a build cache is ours only with the proof of its manifest: cache-* in an image's repository, any tag in [cache] repository", () => {
    const tags = { "cache-gpu": 1, "cache-old": 2, "cache-by-hand": 3, "old-tag": 4 };
    const manifests = { 1: cache, 2: cache, 3: image, 4: cache };
    expect(deleted(prunePlan(contents(tags, manifests), keeping("cache-gpu"), false))).toEqual([[digest(2), "cache-old"]]);
    const inCacheRepository = prunePlan(contents(tags, manifests), keeping("cache-gpu"), true);
    expect(deleted(inCacheRepository)).toEqual([[digest(2), "cache-old"], [digest(4), "old-tag"]]);
    expect(inCacheRepository.deletions[0]!.why).toBe("build cache of no image of the kept plans");
  });

  test("an OCI referrer (subject) of a kept manifest under a tag of ours is kept", () => {
    const plan = prunePlan(contents({ [inputs(1)]: 1, [inputs(2)]: 2 }, { 2: { ...image, subject: digest(1) } }), keeping(inputs(1)), false);
    expect(deleted(plan)).toEqual([]);
  });

  test("untagged manifests the registry lists: a kept index's children and a kept manifest's referrers stay; the rest go, an index with its children", () => {
    const repository = contents({ [inputs(1)]: 10 }, { 10: index(11, 12) });
    const manifests = new Map(repository.manifests);
    // 20: an untagged index (a tag moved off it) over 21 and 11; 30 refers to the kept 10, 31 to the unkept 20.
    manifests.set(digest(20), index(21, 11));
    manifests.set(digest(30), { ...image, subject: digest(10) });
    manifests.set(digest(31), { ...image, subject: digest(20) });
    const untagged = [11, 12, 20, 21, 30, 31].map(digest);
    const plan = prunePlan({ ...repository, manifests, untagged }, keeping(inputs(1)), false);
    expect(deleted(plan)).toEqual([[digest(20), ""], [digest(21), ""], [digest(31), ""]]);
    expect(plan.deletions.map((d) => d.why)).toEqual(["untagged manifest that nothing kept refers to", `child 21 of ${digest(20)}`, "untagged manifest that nothing kept refers to"]);
  });
});

describe("keptTags", () => {
  test("each image's content tag, tag, aliases and shared tags, and its registry cache with the per-platform ones, by repository", async () => {
    const { graph } = await planText(`repository = "r.example/app"
[axes.arch]
amd = { P = "linux/amd64" }
arm = { P = "linux/arm64" }
[images.base]
repository = "{repository}/base"
dockerfile = "Dockerfile"
matrix = ["arch"]
tag = "{arch}"
aliases = ["{arch}-latest"]
shared_tags = ["latest"]
platforms = ["{arch.P}"]
[cache]
type = "registry"
`);
    const { tags, cacheRepositories } = keptTags([{ label: "main", graph }]);
    const [amd, arm] = graph.images.map((i) => i.contentReference.slice(i.repository.length + 1));
    expect([...tags.get("r.example/app/base")!.keys()].sort()).toEqual(
      ["amd", "amd-latest", "latest", "cache-amd", "cache-amd-linux-amd64", amd!, "arm", "arm-latest", "cache-arm", "cache-arm-linux-arm64", arm!].sort(),
    );
    expect(tags.get("r.example/app/base")!.get("amd")).toBe("main");
    expect(cacheRepositories.size).toBe(0);
    expect(prunedRepositories([{ label: "main", graph }])).toEqual(["r.example/app/base"]);
  });
});
