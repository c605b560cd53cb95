// Issue 27's proof with a real docker engine (dockerd, started here, stopped at the end)
// and a real registry on 127.0.0.1: the Makefile with DOCKER=docker; GitHub's workflow,
// its jobs run as a runner runs them (scripts/e2e/github-run.ts); and Cloud Build's
// configs, their steps run by bash in waitFor order as Cloud Build runs them ($
// substitutions applied as it applies them); the resolve job or step running this
// checkout's caliban-images. Each goes through (a) an edited middle Dockerfile, committed without
// emitting again: exactly the affected images are built; (b) an added axis value: the
// pipeline stops before building, naming the stale file; (c) the registry gone: it stops,
// nothing built, nothing pushed; (d) nothing changed: nothing built. And shared tags
// (issue 29): make pushes one manifest list over two architectures' images. And bake
// (issue 31): `docker buildx bake --push` builds a chain and pushes every reference. And
// build secrets (issue 32): `make build/token` hands a secret from an environment variable
// to the build, and its value is nowhere but where the Dockerfile put its hash.

import { describe, expect, test } from "bun:test";
import { appendFileSync, copyFileSync, cpSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { createHash, randomBytes } from "node:crypto";
import { CLI_FOR_MAKE, runCli } from "../../fixtures/test-helpers.ts";
import { REPO_ROOT } from "../../fixtures/golden.ts";
import { REVISION, substitute } from "../validators/readback.ts";
import { engineForFile } from "./docker-engine.ts";
import { runWorkflow } from "./github-run.ts";
import { chainRepository, loopbackRegistry, provesTheTree, recorded, shimmedTools, throughTheFourCases, type PipelineRun } from "./pipeline-runs.ts";

const { scratch, engine } = engineForFile("e2e-engine-");

test("docker: make push decides from the tree it runs in: an edit ships without a new Makefile, a stale one or a lost registry stops before anything is built", async () => {
  await provesTheTree("docker", engine().docker, join(scratch, "tree-docker"), () => ({ env: { ...process.env, ...engine().env }, makeArgs: [] }));
}, 600_000);

describe("GitHub's workflow, its jobs run as a runner runs them against the real docker engine", () => {
  test("the resolve job decides from the commit checked out: (a) to (d); a manual run on an unlisted branch builds and pushes nothing", async () => {
    const registry = await loopbackRegistry(join(scratch, "github-registry"));
    const work = join(scratch, "github");
    const git = chainRepository(work);
    const repository = `127.0.0.1:${registry.port}/gh`;
    const workflow = ".github/workflows/build-images.yml";
    // install-command: this checkout's caliban-images is on the PATH; login=false: a loopback registry needs none.
    const emit = () => expect(runCli(["emit", "github", "--base-url", repository, "--option", "install-command=true", "--option", "login=false", "-o", workflow], work).code).toBe(0);
    emit();
    git("add", "-A");
    git("commit", "-q", "-m", "images");
    const bin = join(scratch, "github-bin");
    const { calls, env } = shimmedTools(bin, engine());
    const run = (event = "push", ref = "refs/heads/main"): PipelineRun & { ran: readonly string[] } => {
      writeFileSync(calls, "");
      const result = runWorkflow(readFileSync(join(work, workflow), "utf8"), { cwd: work, event, ref, docker: join(bin, "docker"), env });
      return { exit: result.exit, stderr: result.stderr, ran: result.ran, ...recorded(calls) };
    };
    try {
      await throughTheFourCases({
        work,
        git,
        registry,
        repository,
        run: () => run(),
        emitAgain: emit,
        unreachable: (result) => {
          expect(result.exit).toBe(4);
          expect(result.stderr).toContain(`cannot reach 127.0.0.1:${registry.port}`);
        },
        stale: (result) => {
          expect(result.exit).toBe(3);
          expect(result.stderr).toContain(`error: ${workflow} is stale for matrix.toml: run caliban-images emit NAME -o ${workflow}`);
        },
      });
      // A manual run on a branch [publish] does not list, after an edit: the resolve job runs, nothing is built or pushed.
      appendFileSync(join(work, "docker/torch.Dockerfile"), "LABEL edited=yes\n");
      git("commit", "-q", "-am", "edit the torch image");
      const unlisted = run("workflow_dispatch", "refs/heads/feature/x");
      expect({ exit: unlisted.exit, built: unlisted.built, pushes: unlisted.pushes }).toEqual({ exit: 0, built: [], pushes: 0 });
      expect(unlisted.ran.every((step) => step.startsWith("resolve: "))).toBe(true);
      // The same manual run on main publishes what the edit changed.
      const listed = run("workflow_dispatch", "refs/heads/main");
      expect({ exit: listed.exit, built: listed.built }).toEqual({ exit: 0, built: ["torch-cuda11-py310", "torch-cuda11-py311", "torch-cuda11-py312", "torch-cuda12-py310", "torch-cuda12-py311", "torch-cuda12-py312"] });
      // A pull request editing the python image: its own jobs (pr_*) build it and the torch images FROM it, each
      // child loading its base from the artifact its base's job saved; nothing is pushed, no other job runs.
      appendFileSync(join(work, "docker/python.Dockerfile"), "LABEL edited=yes\n");
      git("commit", "-q", "-am", "edit the python image");
      const pulled = run("pull_request", "refs/pull/7/merge");
      expect({ exit: pulled.exit, stderr: pulled.stderr, pushes: pulled.pushes }).toEqual({ exit: 0, stderr: "", pushes: 0 });
      expect(pulled.built).toEqual(["py-cuda11-py310", "py-cuda11-py311", "py-cuda11-py312", "py-cuda12-py310", "py-cuda12-py311", "py-cuda12-py312", ...listed.built]);
      expect(pulled.ran.every((step) => step.startsWith("pr_"))).toBe(true);
      expect(pulled.ran.filter((step) => step.endsWith(": Load it")).length).toBe(6);
    } finally {
      await registry.stop();
    }
  }, 600_000);
});

describe("Cloud Build's configs, run step by step with bash and the real docker engine", () => {
  test("split configs decide from the tree they build: (a) to (d)", async () => {
    const registry = await loopbackRegistry(join(scratch, "cloudbuild-registry"));
    const work = join(scratch, "cloudbuild");
    const git = chainRepository(work);
    // With [publish], the configs read _PUSH: a pull request's trigger sets it to false.
    appendFileSync(join(work, "matrix.toml"), "\n[publish]\n");
    const repository = `127.0.0.1:${registry.port}/cb`;
    // Six steps a config: the resolve step and five images, so the twelve images take three configs.
    // install-command: this checkout's caliban-images is on the PATH the steps get (no release to download here).
    const emit = () => expect(runCli(["emit", "cloudbuild", "--base-url", repository, "--option", "max-steps=6", "--option", "install-command=true", "--option", "triggers=false", "-o", "ci/"], work).code).toBe(0);
    emit();
    git("add", "-A");
    git("commit", "-q", "-m", "images");

    // The builder's tools: the engine's docker, every build and push recorded; caliban-images, this checkout's.
    const bin = join(scratch, "cloudbuild-bin");
    const { calls } = shimmedTools(bin, engine());

    /** Each config a build of its own, in submit.sh's order: its steps in order, each waiting only for earlier ones; a failed step ends it. */
    const submit = (substitutions: Record<string, string> = {}): PipelineRun => {
      writeFileSync(calls, "");
      const configs = readdirSync(join(work, "ci")).filter((name) => name.endsWith(".json")).sort();
      const submitted = readFileSync(join(work, "ci/submit.sh"), "utf8");
      const order = configs.map((name) => submitted.indexOf(`'${name}'`));
      expect(order).toEqual([...order].sort((a, b) => a - b));
      let stderr = "";
      let exit = 0;
      for (const name of configs) {
        const config = JSON.parse(readFileSync(join(work, "ci", name), "utf8")) as { steps: { id: string; entrypoint?: string; args: string[]; waitFor: string[] }[]; substitutions?: Record<string, string> };
        expect(config.steps.length).toBeLessThanOrEqual(6);
        // A build's own home, which its steps share (/builder/home).
        const home = mkdtempSync(join(scratch, "builder-home-"));
        const values = { COMMIT_SHA: "0".repeat(40), ...config.substitutions, ...substitutions };
        const done = new Set<string>();
        for (const step of config.steps) {
          for (const wait of step.waitFor) expect(wait === "-" || done.has(wait)).toBe(true);
          const args = step.args.map((arg) => substitute(arg, values));
          const command = step.entrypoint === "bash" ? ["bash", ...args] : [join(bin, "docker"), ...args];
          const ran = Bun.spawnSync(command, { cwd: work, env: { ...process.env, ...engine().env, HOME: home, PATH: `${bin}:${process.env.PATH}` } });
          stderr += ran.stderr.toString();
          if (ran.exitCode !== 0) {
            exit = ran.exitCode;
            break;
          }
          done.add(step.id);
        }
        if (exit !== 0) break;
      }
      return { exit, stderr, ...recorded(calls) };
    };

    try {
      await throughTheFourCases({
        work,
        git,
        registry,
        repository,
        run: () => submit(),
        emitAgain: emit,
        // The first image's step asks, gets no answer, and the build stops with exit 4.
        unreachable: (run) => {
          expect(run.exit).toBe(4);
          expect(run.stderr).toContain("the registry did not answer");
        },
        // The resolve step stops the build, naming the config.
        stale: (run) => {
          expect(run.exit).toBe(3);
          expect(run.stderr).toContain("error: cloudbuild-01.json is stale for matrix.toml");
        },
      });
      // A pull request's build of the split configs (_PUSH=false) that edits the root family: nothing of it
      // is in the registry, and a later config builds the bases it needs itself (carried), pushing nothing.
      appendFileSync(join(work, "docker/cuda.Dockerfile"), "LABEL pull-request=yes\n");
      git("commit", "-q", "-am", "a pull request's edit");
      const pullRequest = submit({ _PUSH: "false" });
      expect({ exit: pullRequest.exit, stderr: pullRequest.exit === 0 ? "" : pullRequest.stderr }).toEqual({ exit: 0, stderr: "" });
      expect(pullRequest.pushes).toBe(0);
      // Every image of the chain is built, the independent family not; the bases a later config needs are
      // built there again under their content reference only (carried: tagged inputs-HEX, never pushed).
      expect(pullRequest.built.some((tag) => tag.startsWith("inputs-"))).toBe(true);
      expect(pullRequest.built.filter((tag) => !tag.startsWith("inputs-"))).toEqual(["cuda-cuda11", "cuda-cuda12", "py-cuda11-py310", "py-cuda11-py311", "py-cuda11-py312", "py-cuda12-py310", "py-cuda12-py311", "py-cuda12-py312", "torch-cuda11-py310", "torch-cuda11-py311", "torch-cuda11-py312", "torch-cuda12-py310", "torch-cuda12-py311", "torch-cuda12-py312"]);
    } finally {
      await registry.stop();
    }
  }, 600_000);
});

// Shared tags (issue 29) through the real engine: two images of one family, one per
// architecture (FROM scratch and a COPY: nothing runs, so no emulator is needed to build
// linux/arm64 here), pushed by `make push` to a registry on 127.0.0.1, and the shared tag
// one manifest list over both, as the registry itself lists it.
test("docker: make push pushes a shared tag as one manifest list over its images' platforms", async () => {
  const work = join(scratch, "shared-tags");
  mkdirSync(join(work, "docker"), { recursive: true });
  writeFileSync(join(work, "docker/Dockerfile"), "FROM scratch\nCOPY hello /hello\n");
  writeFileSync(join(work, "docker/hello"), "hello\n");
  writeFileSync(
    join(work, "matrix.toml"),
    `repository = "registry.example.com/stacks"
[axes.arch]
name_only = ["PLATFORM"]
x86_64 = { PLATFORM = "linux/amd64" }
aarch64 = { PLATFORM = "linux/arm64" }
[images.base]
repository = "{repository}/base"
dockerfile = "docker/Dockerfile"
context = "docker"
matrix = ["arch"]
tag = "{arch}-latest"
shared_tags = ["latest"]
platforms = ["{arch.PLATFORM}"]
`,
  );
  expect(runCli(["emit", "make", "-o", "Makefile"], work).code).toBe(0);
  const registry = await loopbackRegistry(join(scratch, "shared-tags-registry"));
  try {
    const env = { ...process.env, ...engine().env };
    const made = Bun.spawnSync(["make", "-j2", "push", `DOCKER=${engine().docker}`, `REPOSITORY=127.0.0.1:${registry.port}/stacks`, CLI_FOR_MAKE], { cwd: work, env });
    expect({ exit: made.exitCode, stderr: made.exitCode === 0 ? "" : made.stderr.toString() }).toEqual({ exit: 0, stderr: "" });
    const accept = "application/vnd.oci.image.index.v1+json, application/vnd.docker.distribution.manifest.list.v2+json";
    const answer = await fetch(`http://127.0.0.1:${registry.port}/v2/stacks/base/manifests/latest`, { headers: { accept } });
    expect(answer.ok).toBe(true);
    const list = (await answer.json()) as { manifests: { platform?: { os: string; architecture: string } }[] };
    const platforms = list.manifests.flatMap((m) => (m.platform && m.platform.os !== "unknown" ? [`${m.platform.os}/${m.platform.architecture}`] : [])).sort();
    expect(platforms).toEqual(["linux/amd64", "linux/arm64"]);
    // Each image's own tag is there too, each one platform.
    for (const tag of ["x86_64-latest", "aarch64-latest"]) expect((await fetch(`http://127.0.0.1:${registry.port}/v2/stacks/base/manifests/${tag}`, { method: "HEAD", headers: { accept: `${accept}, application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json` } })).ok).toBe(true);
  } finally {
    await registry.stop();
  }
}, 300_000);

test("bake: docker buildx bake --push (the engine's own BuildKit) builds the real-build fixture, bases first, and the registry then lists every reference of the plan", async () => {
  const work = join(scratch, "bake");
  cpSync(join(REPO_ROOT, "fixtures/real-build"), work, { recursive: true });
  rmSync(join(work, "expected"), { recursive: true });
  copyFileSync("/bin/busybox", join(work, "docker/busybox"));
  const registry = await loopbackRegistry(join(scratch, "bake-registry"));
  try {
    const repository = `127.0.0.1:${registry.port}/bake`;
    expect(runCli(["emit", "bake", "--base-url", repository, "-o", "docker-bake.hcl"], work).code).toBe(0);
    // As docs/ci-make-bake.md says to run it: the digests resolve reads from this tree, then bake.
    const resolved = runCli(["resolve", "--for", "docker-bake.hcl", "--format", "bake"], work);
    expect({ exit: resolved.code, stderr: resolved.code === 0 ? "" : resolved.stderr }).toEqual({ exit: 0, stderr: "" });
    const env = { ...process.env, ...engine().env, CALIBAN_INPUTS: resolved.stdout.trim(), REVISION };
    const baked = Bun.spawnSync([engine().docker, "buildx", "bake", "-f", "docker-bake.hcl", "--push"], { cwd: work, env });
    expect({ exit: baked.exitCode, stderr: baked.exitCode === 0 ? "" : baked.stderr.toString() }).toEqual({ exit: 0, stderr: "" });
    const planned = JSON.parse(runCli(["plan", "--json", "--base-url", repository], work).stdout) as { images: { tag: string; contentReference: string; aliases: string[] }[] };
    const listed = (await (await fetch(`http://127.0.0.1:${registry.port}/v2/bake/tags/list`)).json()) as { tags: string[] };
    const tagOf = (reference: string) => reference.slice(reference.lastIndexOf(":") + 1);
    expect([...listed.tags].sort()).toEqual(planned.images.flatMap((image) => [image.tag, tagOf(image.contentReference), ...image.aliases]).sort());
    // An app image was built FROM its base as bake linked it: the base's layer is its first.
    const layers = async (tag: string) => {
      const answer = await fetch(`http://127.0.0.1:${registry.port}/v2/bake/manifests/${tag}`, { headers: { accept: "application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json, application/vnd.oci.image.index.v1+json" } });
      const manifest = (await answer.json()) as { layers?: { digest: string }[]; manifests?: { digest: string; platform?: { os: string } }[] };
      if (manifest.layers) return manifest.layers.map((layer) => layer.digest);
      const own = manifest.manifests!.find((entry) => entry.platform?.os !== "unknown")!;
      return layers(own.digest);
    };
    expect((await layers("app-plain-hello"))[0]).toBe((await layers("base-plain"))[0]);
  } finally {
    await registry.stop();
  }
}, 300_000);

test("docker: make build passes a build secret from an environment variable; the image keeps only its sha256, and the value is in no file, plan, log or history", () => {
  const work = join(scratch, "secrets");
  cpSync(join(REPO_ROOT, "fixtures/secrets"), work, { recursive: true });
  rmSync(join(work, "expected"), { recursive: true });
  copyFileSync("/bin/busybox", join(work, "docker/busybox"));
  const value = `caliban-secret-${randomBytes(16).toString("hex")}`;
  expect(runCli(["emit", "make", "-o", "Makefile"], work).code).toBe(0);
  const plan = runCli(["plan", "--json"], work);
  expect(plan.code).toBe(0);
  const env = { ...process.env, ...engine().env, CALIBAN_E2E_TOKEN: value };
  // --progress=plain: every line BuildKit would log, each checked for the value below.
  const made = Bun.spawnSync(["make", "build/token", `DOCKER=${engine().docker}`, "BUILD_FLAGS=--progress=plain", CLI_FOR_MAKE], { cwd: work, env });
  const output = made.stdout.toString() + made.stderr.toString();
  expect({ exit: made.exitCode, output: made.exitCode === 0 ? "" : output }).toEqual({ exit: 0, output: "" });
  expect(output).toContain("--secret");
  const reference = "localhost/caliban-e2e/secrets:token";
  const docker = (...args: string[]) => Bun.spawnSync([engine().docker, ...args], { cwd: work, env });
  const stored = docker("run", "--rm", "--network=none", reference, "/bin/busybox", "cat", "/token.sha256");
  expect({ exit: stored.exitCode, stderr: stored.stderr.toString() }).toEqual({ exit: 0, stderr: "" });
  expect(stored.stdout.toString().trim()).toBe(createHash("sha256").update(value).digest("hex"));
  const history = docker("history", "--no-trunc", reference);
  expect(history.exitCode).toBe(0);
  const inspected = docker("image", "inspect", reference);
  const saved = docker("save", reference);
  expect(saved.exitCode).toBe(0);
  const places: Record<string, string> = {
    Makefile: readFileSync(join(work, "Makefile"), "utf8"),
    "plan --json": plan.stdout,
    "the build's output": output,
    "docker history --no-trunc": history.stdout.toString(),
    "docker image inspect": inspected.stdout.toString(),
    "docker save (every layer)": saved.stdout.toString("latin1"),
  };
  expect(Object.entries(places).filter(([, text]) => text.includes(value)).map(([place]) => place)).toEqual([]);
  // The Makefile names the variable, and the plan the id and its source.
  expect(places.Makefile).toContain("--secret 'id=token,env=CALIBAN_E2E_TOKEN'");
  expect(plan.stdout).toContain('"env": "CALIBAN_E2E_TOKEN"');
}, 300_000);
