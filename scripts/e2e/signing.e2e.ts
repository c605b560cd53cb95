// Signing and verified reuse (issue 32), with cosign (Debian's), a generated key pair and
// the registry on 127.0.0.1: `make push` signs every image it pushes by digest (each
// platform of a multi-platform image too), `cosign verify` accepts each, and a second
// push reuses them. An image someone else put under a content tag (unsigned, signed
// with another key, or another image of ours, signed, under the wrong tag) is rebuilt,
// not reused, and the log says why. Then the same through Cloud Build's steps run under bash.

import { expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { CLI_FOR_MAKE, runCli } from "../../fixtures/test-helpers.ts";
import { engineForFile } from "./docker-engine.ts";
import { cliShim, loopbackRegistry } from "./pipeline-runs.ts";
import { cosign, cosignVerify, signingRepository } from "./cosign-run.ts";
import { substitute } from "../validators/readback-cloudbuild.ts";

const { scratch, engine } = engineForFile("e2e-signing-");

const MATRIX = `repository = "registry.example.com/signed"
[sign]
key = "keys/cosign.key"
public_key = "keys/cosign.pub"
transparency_log = false
[images.base]
dockerfile = "docker/base.Dockerfile"
context = "docker"
tag = "base"
platforms = ["linux/amd64"]
[images.app]
from = "base"
dockerfile = "docker/app.Dockerfile"
context = "docker"
tag = "app"
`;

test("make push signs each image it pushes; cosign verifies them; an image under a content tag that does not verify is rebuilt, not reused", async () => {
  const work = join(scratch, "signed");
  mkdirSync(join(work, "docker"), { recursive: true });
  mkdirSync(join(work, "keys"), { recursive: true });
  mkdirSync(join(work, "other"), { recursive: true });
  writeFileSync(join(work, "matrix.toml"), MATRIX);
  writeFileSync(join(work, "docker/base.Dockerfile"), "FROM scratch\nCOPY hello /hello\n");
  writeFileSync(join(work, "docker/app.Dockerfile"), "ARG BASE_IMAGE\nFROM $BASE_IMAGE\nCOPY app /app\n");
  writeFileSync(join(work, "docker/evil.Dockerfile"), "FROM scratch\nCOPY hello /evil\n");
  writeFileSync(join(work, "docker/hello"), "hello\n");
  writeFileSync(join(work, "docker/app"), "app\n");
  expect(cosign(["generate-key-pair"], join(work, "keys")).exit).toBe(0);
  expect(cosign(["generate-key-pair"], join(work, "other")).exit).toBe(0);
  expect(runCli(["emit", "make", "-o", "Makefile"], work).code).toBe(0);
  // A repository, so that each signature names the commit make built (explain reads it back).
  const git = (...args: string[]) => Bun.spawnSync(["git", "-c", "user.name=e2e", "-c", "user.email=e2e@example.com", "-c", "commit.gpgsign=false", ...args], { cwd: work, stdout: "pipe" }).stdout.toString().trim();
  git("init", "-q");
  git("add", "-A");
  git("commit", "-q", "-m", "images");
  const commit = git("rev-parse", "HEAD");
  expect(commit).toMatch(/^[0-9a-f]{40}$/);
  const registry = await loopbackRegistry(join(scratch, "signed-registry"));
  const repository = `127.0.0.1:${registry.port}/signed`;
  const env = { ...process.env, ...engine().env, COSIGN_PASSWORD: "" };
  const docker = (...args: string[]) => Bun.spawnSync([engine().docker, ...args], { cwd: work, env, stdout: "pipe", stderr: "pipe" });
  const push = () => {
    const made = Bun.spawnSync(["make", "-s", "push", `DOCKER=${engine().docker}`, `REPOSITORY=${repository}`, CLI_FOR_MAKE], { cwd: work, env, stdout: "pipe", stderr: "pipe" });
    return { exit: made.exitCode, output: made.stdout.toString() + made.stderr.toString() };
  };
  const planned = () => JSON.parse(runCli(["plan", "--json"], work).stdout) as { images: { id: string; tag: string; inputs: string }[] };
  const inputs = (tag: string): string => planned().images.find((image) => image.tag === tag)!.inputs.slice("sha256:".length);
  const id = (tag: string): string => planned().images.find((image) => image.tag === tag)!.id;
  const verify = (reference: string, key = "keys/cosign.pub", hex?: string) => cosignVerify(work, reference, hex, key);
  const digestOf = async (reference: string, accept = "application/vnd.oci.image.index.v1+json, application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json") => {
    const [name, tag] = reference.slice(repository.length - "signed".length).split(":");
    const answer = await fetch(`http://127.0.0.1:${registry.port}/v2/${name}/manifests/${tag}`, { method: "GET", headers: { accept } });
    expect(answer.ok).toBe(true);
    return { digest: answer.headers.get("docker-content-digest")!, body: (await answer.json()) as { manifests?: { digest: string; platform?: { os: string; architecture: string } }[] } };
  };
  // The very manifest (the same digest) under another tag, as a registry client with push rights can put it.
  const copyManifest = async (from: string, to: string) => {
    const url = (reference: string) => `http://127.0.0.1:${registry.port}/v2/signed/manifests/${reference.slice(reference.lastIndexOf(":") + 1)}`;
    const got = await fetch(url(from), { headers: { accept: "application/vnd.oci.image.index.v1+json, application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json" } });
    const put = await fetch(url(to), { method: "PUT", headers: { "content-type": got.headers.get("content-type")! }, body: await got.arrayBuffer() });
    expect(put.status).toBe(201);
  };
  try {
    const first = push();
    expect({ exit: first.exit, output: first.exit === 0 ? "" : first.output }).toEqual({ exit: 0, output: "" });
    const base = `${repository}:inputs-${inputs("base")}`;
    const app = `${repository}:inputs-${inputs("app")}`;
    // Every reference pushed verifies, bound to its inputs digest; the index's platform manifests too.
    for (const [reference, id] of [[base, "base"], [`${repository}:base`, "base"], [app, "app"], [`${repository}:app`, "app"]] as const) {
      const checked = verify(reference, "keys/cosign.pub", inputs(id));
      expect({ reference, exit: checked.exit, output: checked.exit === 0 ? "" : checked.output }).toEqual({ reference, exit: 0, output: "" });
    }
    const index = await digestOf(base);
    // With attestations or several platforms it is an index: each manifest in it is signed too (--recursive).
    for (const manifest of index.body.manifests ?? []) expect(verify(`${repository}@${manifest.digest}`).exit).toBe(0);
    // Another key does not verify them.
    expect(verify(app, "other/cosign.pub").exit).not.toBe(0);

    // explain reads back what built app: the signature names its inputs and the commit, and the matrix planned there has them.
    const explained = runCli(["explain", `${repository}:app`, "--cosign", "cosign", "--json"], work);
    expect({ exit: explained.code, stderr: explained.code === 0 ? "" : explained.stderr }).toEqual({ exit: 0, stderr: "" });
    const told = JSON.parse(explained.stdout) as { verified: boolean; revision: string; image: { id: string; inputs: string; context: { files: { path: string; blob: string }[] }; args: { name: string; value: string }[]; base: { id: string } } };
    expect({ verified: told.verified, revision: told.revision, id: told.image.id, inputs: told.image.inputs, base: told.image.base.id }).toEqual({ verified: true, revision: commit, id: id("app"), inputs: `sha256:${inputs("app")}`, base: id("base") });
    const blob = (path: string) => git("rev-parse", `${commit}:docker/${path}`);
    expect(told.image.context.files.map((file) => [file.path, file.blob])).toContainEqual(["app", blob("app")]);
    expect(told.image.args).toEqual([{ name: "BASE_IMAGE", value: "{from}" }]);

    // A second push reuses both: their signatures verify.
    const again = push();
    expect(again.exit).toBe(0);
    expect(again.output).toContain(`push/${id("base")}: the registry has its inputs digest: not rebuilt`);
    expect(again.output).toContain(`push/${id("app")}: the registry has its inputs digest: not rebuilt`);
    expect(again.output).toContain(`2 of 2 images are in ${repository} by their inputs digest; 0 to build`);
    // The tags pointed at what was reused name the signed digest still.
    for (const tag of ["base", "app"]) expect({ tag, ...verify(`${repository}:${tag}`, "keys/cosign.pub", inputs(tag)) }).toMatchObject({ tag, exit: 0 });

    // Someone with push rights puts another image under app's content tag: unsigned, then
    // signed with another key, then the base (signed by us, for other inputs). Each time it is rebuilt.
    const evil = docker("buildx", "build", "--push", "-t", app, "-f", "docker/evil.Dockerfile", "docker");
    expect({ exit: evil.exitCode, stderr: evil.exitCode === 0 ? "" : evil.stderr.toString() }).toEqual({ exit: 0, stderr: "" });
    const cases: [string, () => unknown, RegExp][] = [
      ["unsigned", () => {}, /no signatures found/],
      ["signed with another key", () => expect(cosign(["sign", "--yes", "--key", "other/cosign.key", "--tlog-upload=false", "--allow-insecure-registry", "--allow-http-registry", app], work).exit).toBe(0), /no matching signatures/],
      ["our base, signed, under app's tag", () => copyManifest(base, app), /no matching signatures|missing or incorrect annotation/],
    ];
    for (const [what, poison, why] of cases) {
      if (what !== "unsigned") {
        // Put the unsigned image back first where a case needs it (the first case's image is there).
        if (what === "signed with another key") expect(docker("buildx", "build", "--push", "-t", app, "-f", "docker/evil.Dockerfile", "docker").exitCode).toBe(0);
      }
      await poison();
      const rebuilt = push();
      expect({ what, exit: rebuilt.exit, output: rebuilt.exit === 0 ? "" : rebuilt.output }).toEqual({ what, exit: 0, output: "" });
      expect(rebuilt.output).toContain(`${id("app")}: ${app} is in the registry, but cosign does not verify it (`);
      expect(rebuilt.output).toMatch(why);
      expect(rebuilt.output).toContain(`1 of 2 images are in ${repository} by their inputs digest; 1 to build`);
      expect(rebuilt.output).toContain(`push/${id("base")}: the registry has its inputs digest: not rebuilt`);
      expect(rebuilt.output).not.toContain(`push/${id("app")}: the registry has its inputs digest`);
      // The rebuilt image is ours again, and verifies.
      expect(verify(app, "keys/cosign.pub", inputs("app")).exit).toBe(0);
      if (what === "unsigned") {
        // What cosign does not verify, explain does not vouch for: before the rebuild, put the unsigned image back.
        expect(docker("buildx", "build", "--push", "-t", app, "-f", "docker/evil.Dockerfile", "docker").exitCode).toBe(0);
        const refused = runCli(["explain", app, "--cosign", "cosign"], work);
        expect({ exit: refused.code, stdout: refused.stdout }).toEqual({ exit: 4, stdout: "" });
        expect(refused.stderr).toContain("does not verify under the matrix's [sign]");
      }
    }
  } finally {
    await registry.stop();
  }
}, 600_000);

// Cloud Build's config, its steps run one after another with bash against the engine, as
// Cloud Build runs them: the builder its setup step makes (the docker-container driver,
// from Docker Hub) is the engine's own here, so the docker the steps call leaves out
// `--builder` and makes no builder. The key is in the steps' environment, as secretEnv
// puts Secret Manager's COSIGN_PRIVATE_KEY and COSIGN_PASSWORD there.
test("Cloud Build's steps sign every image they push; a second build reuses them; an unsigned image under a content tag is rebuilt", async () => {
  const work = join(scratch, "cloudbuild");
  const { git, privateKey: key } = signingRepository(work, join(scratch, "cloudbuild-cosign"));
  const registry = await loopbackRegistry(join(scratch, "cloudbuild-registry"));
  const repository = `127.0.0.1:${registry.port}/signed`;
  expect(runCli(["emit", "cloudbuild", "--base-url", repository, "--option", "install-command=true", "--option", "cosign-install-command=true", "--option", "triggers=false", "-o", "cloudbuild.json"], work).code).toBe(0);
  git("add", "-A");
  git("commit", "-q", "-m", "images");
  const commit = Bun.spawnSync(["git", "rev-parse", "HEAD"], { cwd: work, stdout: "pipe" }).stdout.toString().trim();
  const bin = join(scratch, "cloudbuild-bin");
  mkdirSync(bin);
  cliShim(join(bin, "caliban-images"));
  writeFileSync(
    join(bin, "docker"),
    `#!/bin/bash\n[ "$1 $2" = "buildx create" ] && exit 0\n[ "$1 $2" = "run --privileged" ] && exit 0\nargs=(); skip=\nfor a in "$@"; do if [ -n "$skip" ]; then skip=; continue; fi; if [ "$a" = --builder ]; then skip=1; continue; fi; args+=("$a"); done\nexec ${JSON.stringify(engine().docker)} "\${args[@]}"\n`,
    { mode: 0o755 },
  );
  const build = (): { exit: number; log: string } => {
    const config = JSON.parse(readFileSync(join(work, "cloudbuild.json"), "utf8")) as { steps: { id: string; entrypoint?: string; args: string[]; secretEnv?: string[] }[]; substitutions?: Record<string, string> };
    const home = mkdtempSync(join(scratch, "builder-home-"));
    let log = "";
    for (const step of config.steps) {
      const secrets = Object.fromEntries((step.secretEnv ?? []).map((name) => [name, name === "COSIGN_PRIVATE_KEY" ? key : ""]));
      const args = step.args.map((arg) => substitute(arg, { COMMIT_SHA: commit, ...config.substitutions }));
      const ran = Bun.spawnSync(step.entrypoint === "bash" ? ["bash", ...args] : [join(bin, "docker"), ...args], { cwd: work, env: { ...process.env, ...engine().env, ...secrets, HOME: home, PATH: `${bin}:${process.env.PATH}` } });
      log += ran.stdout.toString() + ran.stderr.toString();
      if (ran.exitCode !== 0) return { exit: ran.exitCode, log: `${step.id}: ${log}` };
    }
    return { exit: 0, log };
  };
  const planned = JSON.parse(runCli(["plan", "--json", "--base-url", repository], work).stdout) as { images: { tag: string; inputs: string; contentReference: string }[] };
  const verify = (reference: string, hex?: string) => cosignVerify(work, reference, hex);
  try {
    const first = build();
    expect({ exit: first.exit, log: first.exit === 0 ? "" : first.log }).toEqual({ exit: 0, log: "" });
    for (const image of planned.images) {
      const hex = image.inputs.slice("sha256:".length);
      for (const reference of [image.contentReference, `${repository}:${image.tag}`]) expect({ reference, ...verify(reference, hex) }).toMatchObject({ reference, exit: 0 });
    }
    expect(verify(`${repository}:base`).exit).toBe(0);
    // Each signature names the commit Cloud Build built ($COMMIT_SHA): explain plans it there and finds the image.
    for (const image of planned.images) {
      const explained = runCli(["explain", `${repository}:${image.tag}`, "--cosign", "cosign", "--json"], work);
      const told = explained.code === 0 ? (JSON.parse(explained.stdout) as { revision: string; image: { inputs: string } }) : { revision: explained.stderr, image: { inputs: "" } };
      expect({ tag: image.tag, revision: told.revision, inputs: told.image.inputs }).toEqual({ tag: image.tag, revision: commit, inputs: image.inputs });
    }
    const again = build();
    expect(again.exit).toBe(0);
    for (const image of planned.images) expect(again.log).toContain(`${repository}:${image.tag}: the registry has its inputs digest: not rebuilt`);
    for (const image of planned.images) expect({ tag: image.tag, ...verify(`${repository}:${image.tag}`, image.inputs.slice(7)) }).toMatchObject({ tag: image.tag, exit: 0 });
    const app = planned.images.find((image) => image.tag === "app-x86_64")!;
    writeFileSync(join(scratch, "Dockerfile.evil"), "FROM scratch\nCOPY hello /evil\n");
    expect(Bun.spawnSync([engine().docker, "buildx", "build", "--push", "-t", app.contentReference, "-f", join(scratch, "Dockerfile.evil"), join(work, "docker")], { env: { ...process.env, ...engine().env } }).exitCode).toBe(0);
    const rebuilt = build();
    expect({ exit: rebuilt.exit, log: rebuilt.exit === 0 ? "" : rebuilt.log }).toEqual({ exit: 0, log: "" });
    expect(rebuilt.log).toContain(`${app.contentReference} is in the registry, but cosign does not verify it: rebuilt, not reused`);
    expect(rebuilt.log).not.toContain(`${repository}:app-x86_64: the registry has its inputs digest`);
    expect(verify(app.contentReference, app.inputs.slice(7)).exit).toBe(0);
  } finally {
    await registry.stop();
  }
}, 600_000);
