// Issue 32's proof of `prune`, with the real docker engine (containerd's image store: an
// index per image over two platforms and their attestation manifests, a registry cache),
// docker-registry with deletion on 127.0.0.1, cosign, and our emitted Makefile:
//   c1: the images, their upstream base locked        -> make push
//   c2: an app Dockerfile edited, an axis value added -> make push
//   c3: that value gone again, the upstream base moved and locked anew -> make push
// then a kept image (c3's), a kept lock generation's (c1's) and an unkept one (c2's)
// signed with cosign. `prune` keeps main's head (c3), its lock generations (c3, c1) and the
// working tree: the dry run lists c2's content tags with their platform and attestation
// manifests (but the removed value's, which its own tag, no tag of ours, still names:
// left), the removed value's cache, and the unkept signature; `--delete` deletes
// exactly that; every reference c1 and c3 need still pulls on both platforms (every
// manifest and blob), with its attestations, and its signature verifies; a second
// prune finds nothing.

import { expect, test } from "bun:test";
import { appendFileSync, copyFileSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { CLI_FOR_MAKE, runCli } from "../../fixtures/test-helpers.ts";
import { engineForFile, MULTI_PLATFORM_ENGINE } from "./docker-engine.ts";
import { loopbackRegistry } from "./pipeline-runs.ts";

const { scratch, engine } = engineForFile("e2e-prune-", MULTI_PLATFORM_ENGINE);

const ACCEPT = ["application/vnd.oci.image.index.v1+json", "application/vnd.docker.distribution.manifest.list.v2+json", "application/vnd.oci.image.manifest.v1+json", "application/vnd.docker.distribution.manifest.v2+json"].join(", ");

interface Planned {
  readonly images: readonly { readonly id: string; readonly tag: string; readonly contentReference: string; readonly repository: string }[];
}

test("prune after builds, an edit and a lock update: the dry run's listing is deleted, every kept reference still pulls on every platform with its attestations and signature, a second prune finds nothing", async () => {
  const registry = await loopbackRegistry(join(scratch, "registry"), { deletion: true });
  const host = `127.0.0.1:${registry.port}`;
  const work = join(scratch, "work");
  const env = { ...process.env, ...engine().env, COSIGN_PASSWORD: "", COSIGN_YES: "true" };
  const run = (command: string[], what = command.join(" ")) => {
    const done = Bun.spawnSync(command, { cwd: work, env });
    if (done.exitCode !== 0) throw new Error(`${what}: exit ${done.exitCode}\n${done.stdout.toString().slice(-2000)}\n${done.stderr.toString().slice(-4000)}`);
    return done.stdout.toString();
  };
  const git = (...args: string[]) => run(["git", "-c", "user.name=e2e", "-c", "user.email=e2e@example.com", "-c", "commit.gpgsign=false", ...args]);
  const cli = (...args: string[]) => {
    const result = runCli(args, work);
    if (result.code !== 0) throw new Error(`caliban-images ${args.join(" ")}: exit ${result.code}\n${result.stderr}`);
    return result;
  };
  const docker = engine().docker;
  /** The upstream base: busybox and a marker file, for both platforms, under one tag that moves. */
  const pushUpstream = (marker: string) => {
    const context = join(scratch, `upstream-${marker}`);
    mkdirSync(context, { recursive: true });
    copyFileSync("/bin/busybox", join(context, "busybox"));
    writeFileSync(join(context, "marker"), `${marker}\n`);
    writeFileSync(join(context, "Dockerfile"), "FROM scratch\nCOPY busybox /bin/busybox\nCOPY marker /marker\n");
    run([docker, "buildx", "build", "--platform", "linux/amd64,linux/arm64", "--provenance=false", "-t", `${host}/upstream/busybox:1`, "--push", context], "push the upstream image");
  };
  const makePush = () => run(["make", "-j2", "push", `DOCKER=${docker}`, CLI_FOR_MAKE], "make push");
  const plan = () => JSON.parse(cli("plan", "--json").stdout) as Planned;

  try {
    mkdirSync(join(work, "docker"), { recursive: true });
    git("init", "-q", "-b", "main");
    copyFileSync("/bin/busybox", join(work, "docker/busybox"));
    writeFileSync(join(work, "docker/base.Dockerfile"), `ARG UPSTREAM=${host}/upstream/busybox:1\nFROM $UPSTREAM\nCOPY greeting /base-greeting\nLABEL role=base\n`);
    // A COPY makes a layer: BuildKit exports no registry cache for a build of none.
    writeFileSync(join(work, "docker/app.Dockerfile"), "ARG BASE_IMAGE\nFROM ${BASE_IMAGE}\nARG VARIANT\nCOPY greeting /greeting\nLABEL variant=${VARIANT}\n");
    writeFileSync(join(work, "docker/greeting"), "hello\n");
    writeFileSync(join(work, "docker/.dockerignore"), "*.Dockerfile\n");
    const matrix = (variants: string[]) =>
      [
        `repository = "${host}/prune"`,
        "[axes.variant]",
        ...variants.map((v) => `${v} = { VARIANT = "${v}" }`),
        "[images.base]",
        'dockerfile = "docker/base.Dockerfile"',
        'context = "docker"',
        'tag = "base"',
        'platforms = ["linux/amd64", "linux/arm64"]',
        "[images.app]",
        'dockerfile = "docker/app.Dockerfile"',
        'context = "docker"',
        'from = "base"',
        'matrix = ["variant"]',
        'tag = "app-{variant}"',
        'args = ["variant"]',
        'platforms = ["linux/amd64", "linux/arm64"]',
        "[cache]",
        'type = "registry"',
        "[attest]",
        'provenance = "min"',
        "",
      ].join("\n");
    writeFileSync(join(work, "matrix.toml"), matrix(["one", "two"]));
    pushUpstream("v1");
    cli("lock");
    cli("emit", "make", "-o", "Makefile");
    git("add", "-A");
    git("commit", "-qm", "c1: images, their upstream base locked");
    makePush();
    const first = plan();

    appendFileSync(join(work, "docker/app.Dockerfile"), "LABEL edited=yes\n");
    writeFileSync(join(work, "matrix.toml"), matrix(["one", "two", "three"]));
    cli("emit", "make", "-o", "Makefile");
    git("commit", "-qam", "c2: an app edit, a variant added");
    makePush();
    const second = plan();

    writeFileSync(join(work, "matrix.toml"), matrix(["one", "two"]));
    pushUpstream("v2");
    expect(cli("lock").stderr).toContain(`moved  ${host}/upstream/busybox:1`);
    // The Makefile names the locked digests (no [outputs] here to write it with the lock).
    cli("emit", "make", "-o", "Makefile");
    git("commit", "-qam", "c3: the variant gone, the upstream base moved");
    makePush();
    const third = plan();

    const api = (path: string, method = "GET") => fetch(`http://${host}/v2/${path}`, { method, headers: { accept: ACCEPT } });
    const digestOf = async (reference: string) => {
      const [repository, tag] = [reference.slice(host.length + 1, reference.lastIndexOf(":")), reference.slice(reference.lastIndexOf(":") + 1)];
      const answer = await api(`${repository}/manifests/${tag}`, "HEAD");
      expect(answer.status).toBe(200);
      return answer.headers.get("docker-content-digest")!;
    };
    const contentOf = (planned: Planned, tag: string) => planned.images.find((image) => image.tag === tag)!.contentReference;
    // Every content reference differs where it should: c2 edited the apps, c3 moved the base under all.
    expect(contentOf(first, "base")).toBe(contentOf(second, "base"));
    expect(contentOf(second, "app-one")).not.toBe(contentOf(first, "app-one"));
    expect(contentOf(third, "base")).not.toBe(contentOf(second, "base"));

    // cosign: a kept image, a kept lock generation's, and an unkept one, each signed by digest.
    run(["cosign", "generate-key-pair"], "cosign generate-key-pair");
    const sign = async (reference: string) => {
      const digest = await digestOf(reference);
      run(["cosign", "sign", "--key", "cosign.key", "--allow-insecure-registry", "--tlog-upload=false", "--yes", `${reference.slice(0, reference.lastIndexOf(":"))}@${digest}`], `cosign sign ${reference}`);
      return digest;
    };
    const signed = { kept: await sign(contentOf(third, "app-one")), lockGeneration: await sign(contentOf(first, "app-two")), unkept: await sign(contentOf(second, "app-one")) };

    const dry = cli("prune");
    const listed = dry.stdout.split("\n").filter(Boolean);
    const listedDigests = listed.map((line) => /@(sha256:[0-9a-f]{64})/.exec(line)![1]!);
    const kept = new Set([...first.images, ...third.images].map((image) => image.contentReference));
    const unkept = second.images.filter((image) => !kept.has(image.contentReference));
    expect(unkept.map((image) => image.tag)).toEqual(["app-one", "app-two", "app-three"]);
    // c2's app-one and app-two, each an index over two platforms and their two attestation manifests.
    for (const image of unkept.slice(0, 2)) {
      const tag = image.contentReference.slice(image.contentReference.lastIndexOf(":") + 1);
      expect(dry.stdout).toContain(`@${await digestOf(image.contentReference)} (${tag}): content tag of no image of the kept plans`);
    }
    expect(listed.filter((line) => / linux\/(amd64|arm64) image of /.test(line)).length).toBe(4);
    expect(listed.filter((line) => / attestation manifest of /.test(line)).length).toBe(4);
    // app-three is no image of the matrix now, but its own tag, app-three, is no tag of ours: it keeps the image, and so its content tag stays.
    expect(dry.stderr).toContain(`left ${host}/prune:${contentOf(second, "app-three").slice(contentOf(second, "app-three").lastIndexOf(":") + 1)}: its manifest is also app-three's, which is kept`);
    // Its build cache is ours (a BuildKit cache manifest under cache-*), and no kept plan's.
    expect(listed.some((line) => line.includes("(cache-app-three): build cache of no image of the kept plans"))).toBe(true);
    expect(listed.some((line) => line.includes(`cosign signature of ${signed.unkept}, which is not kept`))).toBe(true);
    expect(listed.length).toBe(2 + 8 + 1 + 1);
    expect(dry.stderr).toContain("kept: the working tree, main (");
    expect(dry.stderr).toContain("lock generation");

    const deleted = cli("prune", "--delete");
    expect(deleted.stdout).toBe(dry.stdout.replaceAll(/^delete /gm, "deleted "));
    for (const digest of listedDigests) expect((await api(`prune/manifests/${digest}`, "HEAD")).status).toBe(404);

    // What c1 and c3 need pulls: every tag, each platform's manifest and blobs, each attestation manifest.
    const pulls = async (reference: string) => {
      const repository = reference.slice(host.length + 1, reference.lastIndexOf(":"));
      const index = (await (await api(`${repository}/manifests/${reference.slice(reference.lastIndexOf(":") + 1)}`)).json()) as { manifests?: { digest: string; platform?: { os: string; architecture: string } }[] };
      const platforms = (index.manifests ?? []).filter((m) => m.platform?.os === "linux").map((m) => `${m.platform!.os}/${m.platform!.architecture}`).sort();
      for (const child of index.manifests ?? []) {
        const manifest = await api(`${repository}/manifests/${child.digest}`);
        expect(manifest.status).toBe(200);
        const { config, layers } = (await manifest.json()) as { config: { digest: string }; layers: { digest: string }[] };
        for (const blob of [config, ...layers]) expect((await api(`${repository}/blobs/${blob.digest}`, "HEAD")).status).toBe(200);
      }
      return { platforms, attestations: (index.manifests ?? []).length - platforms.length };
    };
    for (const image of [...first.images, ...third.images]) expect(await pulls(image.contentReference)).toEqual({ platforms: ["linux/amd64", "linux/arm64"], attestations: 2 });
    for (const image of third.images) {
      expect(await pulls(`${image.repository}:${image.tag}`)).toEqual({ platforms: ["linux/amd64", "linux/arm64"], attestations: 2 });
      expect((await api(`prune/manifests/cache-${image.tag}`, "HEAD")).status).toBe(200);
    }
    // docker's own client agrees, per platform.
    for (const platform of ["linux/amd64", "linux/arm64"]) run([docker, "pull", "-q", "--platform", platform, contentOf(first, "app-two")], `docker pull ${platform}`);
    for (const [reference, digest] of [[contentOf(third, "app-one"), signed.kept], [contentOf(first, "app-two"), signed.lockGeneration]] as const) {
      run(["cosign", "verify", "--key", "cosign.pub", "--allow-insecure-registry", "--insecure-ignore-tlog=true", `${reference.slice(0, reference.lastIndexOf(":"))}@${digest}`], `cosign verify ${reference}`);
    }

    const again = cli("prune");
    expect(again.stdout).toBe("");
    expect(again.stderr).toContain("0 manifests to delete");
    expect(readFileSync(join(work, "matrix.lock"), "utf8")).toContain(`${host}/upstream/busybox:1`);
  } finally {
    await registry.stop();
  }
}, 900_000);
