// Annotations (issue 32), read back as a registry client reads them: the annotations
// fixture pushed by `make push` through an engine with containerd's image store (which
// builds a multi-platform image) to docker-registry on 127.0.0.1, then each reference's
// raw manifest asked with `docker buildx imagetools inspect --raw`: every image's
// manifest holds its annotations, the multi-platform image's index and the shared tag's
// list hold theirs, each value as the matrix wrote it.

import { expect, test } from "bun:test";
import { cpSync, rmSync } from "node:fs";
import { join } from "node:path";
import { CLI_FOR_MAKE, runCli } from "../../fixtures/test-helpers.ts";
import { REPO_ROOT } from "../../fixtures/golden.ts";
import { engineForFile, MULTI_PLATFORM_ENGINE } from "./docker-engine.ts";
import { loopbackRegistry } from "./pipeline-runs.ts";

const { scratch, engine } = engineForFile("e2e-annotations-", MULTI_PLATFORM_ENGINE);

const SOURCE = "https://github.com/acme/images";
const BASE_DESCRIPTION = 'CUDA base, one per arch: "$HOME" #1, a=b % {x} %{y} \\ back';

test("make push writes each image's annotations on its manifest, and a multi-platform image's and a shared tag's on their index; imagetools inspect --raw reads them as written", async () => {
  const work = join(scratch, "annotations");
  cpSync(join(REPO_ROOT, "fixtures/annotations"), work, { recursive: true });
  rmSync(join(work, "expected"), { recursive: true });
  expect(runCli(["emit", "make", "-o", "Makefile"], work).code).toBe(0);
  const registry = await loopbackRegistry(join(scratch, "registry"));
  const repository = `127.0.0.1:${registry.port}/annotated`;
  const env = { ...process.env, ...engine().env };
  try {
    const made = Bun.spawnSync(["make", "-s", "push", `DOCKER=${engine().docker}`, `REPOSITORY=${repository}`, CLI_FOR_MAKE], { cwd: work, env, stdout: "pipe", stderr: "pipe" });
    expect({ exit: made.exitCode, stderr: made.exitCode === 0 ? "" : made.stderr.toString() }).toEqual({ exit: 0, stderr: "" });
    const raw = (reference: string) => {
      const inspected = Bun.spawnSync([engine().docker, "buildx", "imagetools", "inspect", "--raw", reference], { env, stdout: "pipe", stderr: "pipe" });
      expect({ reference, exit: inspected.exitCode, stderr: inspected.exitCode === 0 ? "" : inspected.stderr.toString() }).toEqual({ reference, exit: 0, stderr: "" });
      return JSON.parse(inspected.stdout.toString()) as { mediaType: string; annotations?: Record<string, string>; manifests?: { digest: string; platform?: { os: string } }[] };
    };
    // One image per arch: each a manifest with the every-image annotations and its family's description.
    for (const tag of ["base-x86_64", "base-aarch64"]) {
      const manifest = raw(`${repository}:${tag}`);
      const own = manifest.manifests === undefined ? manifest : raw(`${repository}@${manifest.manifests.find((m) => m.platform?.os === "linux")!.digest}`);
      expect(own.annotations).toMatchObject({ "org.opencontainers.image.source": SOURCE, "org.opencontainers.image.licenses": "Apache-2.0", "org.opencontainers.image.description": BASE_DESCRIPTION });
    }
    // The shared tag's list: the annotations both have alike, on the index.
    expect(raw(`${repository}:base`).annotations).toMatchObject({ "org.opencontainers.image.source": SOURCE, "org.opencontainers.image.licenses": "Apache-2.0", "org.opencontainers.image.description": BASE_DESCRIPTION });
    // The multi-platform image: its family's licence wins; index and each platform's manifest carry them.
    const index = raw(`${repository}:multi`);
    const expected = { "org.opencontainers.image.source": SOURCE, "org.opencontainers.image.licenses": "MIT", "org.opencontainers.image.description": "Both platforms in one index" };
    expect(index.annotations).toMatchObject(expected);
    const platforms = (index.manifests ?? []).filter((m) => m.platform?.os === "linux");
    expect(platforms).toHaveLength(2);
    for (const platform of platforms) expect(raw(`${repository}@${platform.digest}`).annotations).toMatchObject(expected);
  } finally {
    await registry.stop();
  }
}, 600_000);
