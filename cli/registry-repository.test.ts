// What prune reads from a manifest: an index's children (platforms, buildx's attestation
// manifests), whether it is a BuildKit cache in either of BuildKit's two forms, and an
// OCI subject; the layers and cache blobs an index lists are no manifests to delete.

import { expect, test } from "bun:test";
import { manifestFacts } from "./registry-repository.ts";

const digest = (n: number) => `sha256:${String(n).repeat(64).slice(0, 64)}`;

test("an OCI index: its platform manifests and attestation manifests are its children, named for the listing", () => {
  const facts = manifestFacts({
    schemaVersion: 2,
    mediaType: "application/vnd.oci.image.index.v1+json",
    manifests: [
      { mediaType: "application/vnd.oci.image.manifest.v1+json", digest: digest(1), platform: { os: "linux", architecture: "arm", variant: "v7" } },
      { mediaType: "application/vnd.oci.image.manifest.v1+json", digest: digest(2), platform: { os: "unknown", architecture: "unknown" }, annotations: { "vnd.docker.reference.type": "attestation-manifest", "vnd.docker.reference.digest": digest(1) } },
    ],
  });
  expect(facts).toEqual({ children: [{ digest: digest(1), what: "linux/arm/v7 image" }, { digest: digest(2), what: `attestation manifest of ${digest(1)}` }], buildCache: false });
});

test("a docker manifest list's entries are children too", () => {
  const facts = manifestFacts({ mediaType: "application/vnd.docker.distribution.manifest.list.v2+json", manifests: [{ mediaType: "application/vnd.docker.distribution.manifest.v2+json", digest: digest(3), platform: { os: "linux", architecture: "amd64" } }] });
  expect(facts.children).toEqual([{ digest: digest(3), what: "linux/amd64 image" }]);
});

test("a BuildKit cache: an index listing layer blobs and its cache config (no children), or an image manifest whose config is the cache's", () => {
  const legacy = manifestFacts({
    mediaType: "application/vnd.oci.image.index.v1+json",
    manifests: [
      { mediaType: "application/vnd.oci.image.layer.v1.tar+gzip", digest: digest(4) },
      { mediaType: "application/vnd.buildkit.cacheconfig.v0", digest: digest(5) },
    ],
  });
  expect(legacy).toEqual({ children: [], buildCache: true });
  const imageManifest = manifestFacts({ mediaType: "application/vnd.oci.image.manifest.v1+json", config: { mediaType: "application/vnd.buildkit.cacheconfig.v0", digest: digest(6) }, layers: [] });
  expect(imageManifest.buildCache).toBe(true);
});

test("an image manifest with an OCI subject names it; what is no manifest JSON holds nothing", () => {
  expect(manifestFacts({ mediaType: "application/vnd.oci.image.manifest.v1+json", config: { mediaType: "application/vnd.oci.image.config.v1+json" }, subject: { digest: digest(7) } })).toEqual({ children: [], buildCache: false, subject: digest(7) });
  expect(manifestFacts(undefined)).toEqual({ children: [], buildCache: false });
  expect(manifestFacts({ manifests: "no list" })).toEqual({ children: [], buildCache: false });
});
