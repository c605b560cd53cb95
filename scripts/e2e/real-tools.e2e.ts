// The outputs fed to the real system tools (installed by install-tools.sh; run with
// `npm run test:e2e`): docker buildx bake resolves every fixture's docker-bake.hcl to
// exactly the plan; the generated Makefile, with podman as DOCKER, really builds the
// real-build fixture and pushes it to a registry on 127.0.0.1, which then lists
// every image of the plan.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { copyFileSync, cpSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { builtin, CLI_FOR_MAKE, runCli } from "../../fixtures/test-helpers.ts";
import { loadMatrix, planLoaded } from "../../core/load.ts";
import { WorkingTree } from "../../cli/working-tree.ts";
import { InputsDigester } from "../../core/changes/inputs.ts";
import { emitLoaded } from "../../cli/emit.ts";
import { fixtureCases, loadFixture, REPO_ROOT } from "../../fixtures/golden.ts";
import { bakeView, planView, REVISION } from "../validators/readback.ts";
import { BUILD_TIME } from "../validators/build-time-readback.ts";
import { provesTheTree } from "./pipeline-runs.ts";
import { emittedText } from "../../emitters/contract.ts";

const DOCKER_CONFIG = process.env.DOCKER_CONFIG ?? join(REPO_ROOT, ".cache/e2e/docker-config");
const emitter = builtin;

/** `files`: relative paths made (empty) beside the file first: bake stats a secret's file even to print. */
function bakePrint(hcl: string, env: Record<string, string> = {}, files: readonly string[] = []) {
  const directory = mkdtempSync(join(tmpdir(), "bake-"));
  writeFileSync(join(directory, "docker-bake.hcl"), hcl);
  for (const file of files) {
    mkdirSync(dirname(join(directory, file)), { recursive: true });
    writeFileSync(join(directory, file), "");
  }
  const result = Bun.spawnSync(["docker", "buildx", "bake", "-f", "docker-bake.hcl", "--print"], {
    cwd: directory,
    env: { ...process.env, DOCKER_CONFIG, ...env },
  });
  if (result.exitCode !== 0) throw new Error(`buildx bake --print failed: ${result.stderr.toString()}`);
  return JSON.parse(result.stdout.toString());
}

/** Every image's digest, id to hex, as resolve prints it for bake. */
function bakeInputs(graph: { images: readonly { id: string; inputs: string }[] }): string {
  return JSON.stringify(Object.fromEntries(graph.images.map((image) => [image.id, image.inputs.slice("sha256:".length)])));
}

describe("docker buildx bake --print", () => {
  // The secrets fixture's targets: each one's `secret` list, read back too.
  for (const fixture of fixtureCases()) {
    test(`${fixture.name}: resolves to exactly the plan's images, args, tags, links, labels, platforms, target, cache and attestations`, async () => {
      const { loaded, graph } = await loadFixture(fixture);
      // The commit the labels name comes from the environment, as a CI gives it.
      // The digests as `caliban-images resolve --format bake` gives them, in CALIBAN_INPUTS.
      // The build-time values of aliases too: the date, the commit (REVISION) and the branch, from the environment.
      const secretFiles = graph.images.flatMap((image) => (image.secrets ?? []).flatMap((secret) => (secret.file === undefined ? [] : [secret.file])));
      const printed = bakePrint(emittedText(emitLoaded(emitter("bake"), loaded, graph)[0]!), { REVISION, BRANCH: BUILD_TIME.branch, BUILD_DATE: BUILD_TIME.date, CALIBAN_INPUTS: bakeInputs(graph) }, secretFiles);
      const view = bakeView(printed);
      const plan = planView(graph);
      expect(view.images).toEqual(plan.images);
      expect(view.bases).toEqual(plan.bases);
      expect(printed.group.default.targets).toEqual(graph.images.map((i) => i.id));
    });
  }

  test("without CALIBAN_INPUTS (the digests resolve reads from the tree), bake stops: it never tags an image with a digest of another tree", async () => {
    const fixture = fixtureCases().find((f) => f.name === "chain-build")!;
    const { loaded, graph } = await loadFixture(fixture);
    expect(() => bakePrint(emittedText(emitLoaded(emitter("bake"), loaded, graph)[0]!))).toThrow('Call to function "inputs" failed');
  });

  test("build-time values: BUILD_DATE is the day bake runs (UTC) unless given; without the commit or the branch an alias names, bake stops", async () => {
    const fixture = fixtureCases().find((f) => f.name === "build-time-tags")!;
    const { loaded, graph } = await loadFixture(fixture);
    const hcl = emittedText(emitLoaded(emitter("bake"), loaded, graph)[0]!);
    const today = () => new Date().toISOString().slice(0, 10).replaceAll("-", "");
    const before = today();
    const printed = bakePrint(hcl, { REVISION, BRANCH: "main", CALIBAN_INPUTS: bakeInputs(graph) });
    const dated = (printed.target["nightly-py311-cu124"].tags as string[]).find((tag) => tag.includes(":nightly."))!;
    expect([before, today()]).toContain(/:nightly\.(\d{8})\./.exec(dated)![1]!);
    expect(printed.target["nightly-py311-cu124"].tags).toContain("ghcr.io/your-org/nightly:py311-cu124-main");
    expect(() => bakePrint(hcl, { REVISION, CALIBAN_INPUTS: bakeInputs(graph) })).toThrow('Call to function "tag_value" failed');
    expect(() => bakePrint(hcl, { BRANCH: "main", CALIBAN_INPUTS: bakeInputs(graph) })).toThrow('Call to function "tag_value" failed');
  });

  test("the repository variable is overridable from the environment, links included", async () => {
    const fixture = fixtureCases().find((f) => f.name === "default")!;
    const { loaded, graph } = await loadFixture(fixture);
    const printed = bakePrint(emittedText(emitLoaded(emitter("bake"), loaded, graph)[0]!), { REPOSITORY: "localhost:5000/override", CALIBAN_INPUTS: bakeInputs(graph) });
    const target = printed.target["gpu-cuda100-py37"];
    const base = graph.images.find((image) => image.id === "gpu-base-cuda100")!;
    const baseContent = `localhost:5000/override:${base.contentReference.split(":")[1]}`;
    expect(target.tags).toEqual(["localhost:5000/override:gpu-cuda100-py37", `localhost:5000/override:${graph.images.find((i) => i.id === "gpu-cuda100-py37")!.contentReference.split(":")[1]}`]);
    // The child builds FROM its base's content reference, linked to the base's target.
    expect(target.args.BASE_IMAGE).toBe(baseContent);
    expect(target.contexts).toEqual({ [baseContent]: "target:gpu-base-cuda100" });
  });
});

describe("a real build: make + podman + a registry on 127.0.0.1", () => {
  const scratch = mkdtempSync(join(tmpdir(), "real-build-"));
  let registry: ReturnType<typeof Bun.spawn> | undefined;
  let port = 0;
  const podmanEnv: Record<string, string | undefined> = {
    // Set for buildx; podman would look for registry credentials there and fail on its absence.
    DOCKER_CONFIG: undefined,
  };

  beforeAll(async () => {
    // A free loopback port for the registry.
    const probe = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
    port = probe.port;
    probe.stop(true);
    writeFileSync(
      join(scratch, "registry.yml"),
      `version: 0.1\nlog:\n  level: error\nstorage:\n  filesystem:\n    rootdirectory: ${join(scratch, "registry")}\nhttp:\n  addr: 127.0.0.1:${port}\n`,
    );
    registry = Bun.spawn(["docker-registry", "serve", join(scratch, "registry.yml")], { stdout: "ignore", stderr: "ignore" });
    for (let attempt = 0; attempt < 100; attempt++) {
      const up = await fetch(`http://127.0.0.1:${port}/v2/`).then((r) => r.ok).catch(() => false);
      if (up) break;
      await Bun.sleep(100);
    }

    // Podman with runc (crun cannot run here), its storage in scratch, the registry insecure.
    writeFileSync(join(scratch, "containers.conf"), '[engine]\nruntime = "runc"\n');
    writeFileSync(
      join(scratch, "storage.conf"),
      `[storage]\ndriver = "vfs"\ngraphroot = "${join(scratch, "storage")}"\nrunroot = "${join(scratch, "run")}"\n`,
    );
    writeFileSync(join(scratch, "registries.conf"), `[[registry]]\nlocation = "127.0.0.1:${port}"\ninsecure = true\n`);
    Object.assign(podmanEnv, {
      CONTAINERS_CONF: join(scratch, "containers.conf"),
      CONTAINERS_STORAGE_CONF: join(scratch, "storage.conf"),
      CONTAINERS_REGISTRIES_CONF: join(scratch, "registries.conf"),
    });
  });

  afterAll(() => {
    registry?.kill();
  });

  test("make -j2 push with DOCKER=podman and REPOSITORY=127.0.0.1:PORT/e2e pushes every image of the plan", async () => {
    const fixture = fixtureCases().find((f) => f.name === "real-build")!;
    const { loaded, graph } = await loadFixture(fixture);
    const work = join(scratch, "repo");
    cpSync(join(REPO_ROOT, "fixtures/real-build"), work, { recursive: true });
    copyFileSync("/bin/busybox", join(work, "docker/busybox"));
    writeFileSync(join(work, "Makefile"), emittedText(emitLoaded(emitter("make"), loaded, graph)[0]!));

    const repository = `127.0.0.1:${port}/e2e`;
    // Podman 4.3's layer cache (buildah 1.28) reuses a LABEL layer whatever the build-arg value: --no-cache.
    const made = Bun.spawnSync(["make", "-j2", "push", "DOCKER=podman", `REPOSITORY=${repository}`, "BUILD_FLAGS=--no-cache", `REVISION=${REVISION}`, CLI_FOR_MAKE], {
      cwd: work,
      env: { ...process.env, ...podmanEnv },
    });
    const stderr = made.stderr.toString();
    // stderr is in the comparison so that a failure shows what make and podman said.
    expect({ exit: made.exitCode, stderr: made.exitCode === 0 ? "" : stderr }).toEqual({ exit: 0, stderr: "" });
    expect(stderr).not.toContain("Circular");

    const catalog = await (await fetch(`http://127.0.0.1:${port}/v2/_catalog`)).json();
    expect(catalog.repositories).toEqual(["e2e"]);
    const tags = await (await fetch(`http://127.0.0.1:${port}/v2/e2e/tags/list`)).json();
    // Each image under its tag, its content tag and its aliases; the digests are the working copy's (busybox is in its context).
    const built = await loadFixturePlanned(work);
    expect([...tags.tags].sort()).toEqual(built.images.flatMap((i) => [i.tag, i.contentReference.split(":")[1]!, ...i.aliases]).sort());
    expect(graph.images.some((image) => image.aliases.length > 0)).toBe(true);

    // The build args arrived literally: quotes, '&' and '$' included.
    const inspect = Bun.spawnSync(["podman", "image", "inspect", `${repository}:app-fancy-quoted`, "--format", "{{json .Labels}}"], {
      env: { ...process.env, ...podmanEnv },
    });
    expect(JSON.parse(inspect.stdout.toString())).toMatchObject({
      "app.flavor": "fancy",
      "app.greeting": `it's "quoted" & $dollar`,
      flavor: "fancy",
      // The matrix's own labels, the commit from REVISION as a CI sets it.
      "org.opencontainers.image.title": `app fancy: it's "quoted" & $dollar`,
      "org.opencontainers.image.revision": REVISION,
    });
    // The alias names the same image in the registry.
    const manifest = async (tag: string) =>
      (await fetch(`http://127.0.0.1:${port}/v2/e2e/manifests/${tag}`, { method: "HEAD", headers: { accept: "application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json" } })).headers.get("docker-content-digest");
    expect(await manifest("quoted-fancy")).toBe(await manifest("app-fancy-quoted"));
  }, 120_000);

  // Issue 27's proof, with podman: the chain fixture committed with its Makefile, which is
  // never emitted again while only files change. Every build and push is counted from the
  // engine's own calls; `affected --since` must name exactly the images that were built.
  test("podman: make push decides from the tree it runs in: an edit ships without a new Makefile, a stale one or a lost registry stops before anything is built", async () => {
    await provesTheTree("podman", Bun.which("podman")!, join(scratch, "tree-podman"), (port) => {
      // podman and skopeo push to a plain-http registry only when its registries.conf says so.
      const conf = join(scratch, `registries-${port}.conf`);
      writeFileSync(conf, `[[registry]]\nlocation = "127.0.0.1:${port}"\ninsecure = true\n`);
      return { env: { ...process.env, ...podmanEnv, CONTAINERS_REGISTRIES_CONF: conf }, makeArgs: [`SKOPEO=skopeo --registries-conf ${conf}`, "BUILD_FLAGS=--no-cache"] };
    });
  }, 600_000);

  // Issue 19's proof of `lock`: the upstream image the CUDA family builds FROM is pushed to
  // the loopback registry, locked, built FROM; then replaced under the same tag. `lock`
  // sees it move, and make push rebuilds exactly the images built FROM it, FROM the new one.
  test("lock, the upstream image replaced under its tag, lock again: make push rebuilds exactly what builds FROM it, FROM the new digest", async () => {
    const work = join(scratch, "locked");
    mkdirSync(work);
    const env = { ...process.env, ...podmanEnv };
    const podman = (...args: string[]) => {
      const run = Bun.spawnSync(["podman", ...args], { env });
      if (run.exitCode !== 0) throw new Error(`podman ${args.join(" ")}: ${run.stderr.toString()}`);
      return run.stdout.toString().trim();
    };
    const upstream = `127.0.0.1:${port}/upstream/cuda:12.4`;
    const pushUpstream = (version: string) => {
      const context = join(scratch, `upstream-${version}`);
      mkdirSync(context);
      copyFileSync("/bin/busybox", join(context, "busybox"));
      writeFileSync(join(context, "Dockerfile"), `FROM scratch\nCOPY busybox /bin/busybox\nLABEL upstream=${version}\n`);
      podman("build", "-q", "--no-cache", "-t", upstream, context);
      podman("push", "-q", upstream);
      podman("rmi", "-f", upstream);
    };
    const git = (...args: string[]) => {
      const run = Bun.spawnSync(["git", "-c", "user.name=e2e", "-c", "user.email=e2e@example.com", "-c", "commit.gpgsign=false", ...args], { cwd: work });
      if (run.exitCode !== 0) throw new Error(`git ${args.join(" ")}: ${run.stderr.toString()}`);
    };
    const registryDigest = async () =>
      (await fetch(`http://127.0.0.1:${port}/v2/upstream/cuda/manifests/12.4`, { method: "HEAD", headers: { accept: "application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json" } })).headers.get("docker-content-digest");

    cpSync(join(REPO_ROOT, "fixtures/chain-build"), work, { recursive: true });
    copyFileSync("/bin/busybox", join(work, "docker/busybox"));
    writeFileSync(join(work, "docker/cuda.Dockerfile"), `ARG BASE_IMAGE=${upstream}\nFROM $BASE_IMAGE\nARG CUDA\nLABEL cuda=$CUDA\n`);
    pushUpstream("1");
    git("init", "-q", "-b", "main");

    const repository = `127.0.0.1:${port}/locked`;
    const skopeo = `SKOPEO=skopeo --registries-conf ${podmanEnv.CONTAINERS_REGISTRIES_CONF}`;
    const shims = join(scratch, "lock-shims");
    mkdirSync(shims);
    const builds = join(scratch, "lock-builds.log");
    writeFileSync(join(shims, "podman"), `#!/bin/sh\nif [ "$1" = build ]; then printf '%s\\n' "$*" >> ${JSON.stringify(builds)}; fi\nexec ${JSON.stringify(Bun.which("podman")!)} "$@"\n`, { mode: 0o755 });
    const step = () => {
      expect(runCli(["emit", "make", "-o", "Makefile"], work).code).toBe(0);
      writeFileSync(builds, "");
      const made = Bun.spawnSync(["make", "-j2", "push", "DOCKER=podman", `REPOSITORY=${repository}`, "BUILD_FLAGS=--no-cache", skopeo, CLI_FOR_MAKE], { cwd: work, env: { ...env, PATH: `${shims}:${process.env.PATH}` } });
      expect({ exit: made.exitCode, stderr: made.exitCode === 0 ? "" : made.stderr.toString() }).toEqual({ exit: 0, stderr: "" });
      git("add", "-A");
      git("commit", "-q", "--allow-empty", "-m", "step");
      return readFileSync(builds, "utf8").split("\n").filter(Boolean).map((line) => /-t '?[^ ']*:([^ ']+)/.exec(line.replace(/'/g, ""))![1]!).sort();
    };
    const lock = (...args: string[]) => runCli(["lock", ...args], work);

    const first = lock();
    expect(first.code).toBe(0);
    const locked = Bun.TOML.parse(readFileSync(join(work, "matrix.lock"), "utf8")) as { digests: Record<string, string> };
    expect(locked.digests).toEqual({ [upstream]: (await registryDigest())! });
    const { graph } = await loadFixture(fixtureCases().find((f) => f.name === "chain-build")!);
    expect(step()).toEqual(graph.images.map((image) => image.tag).sort());
    expect(podman("image", "inspect", `${repository}:cuda-cuda11`, "--format", "{{index .Labels \"upstream\"}}")).toBe("1");
    expect(lock("--check").code).toBe(0);
    expect(step()).toEqual([]);

    // The upstream image is replaced under its tag, as a security update does.
    pushUpstream("2");
    const check = lock("--check");
    expect(check.code).toBe(3);
    expect(check.stderr).toContain(`moved  ${upstream}: ${locked.digests[upstream]} -> ${await registryDigest()}`);
    expect(lock().code).toBe(0);
    const affected = runCli(["affected", "--since", "HEAD"], work);
    const rebuilt = step();
    const tags = (...families: string[]) => graph.images.filter((image) => families.includes(image.family)).map((image) => image.tag).sort();
    expect(rebuilt).toEqual(tags("cuda", "python", "torch"));
    expect(affected.stdout.split("\n").filter(Boolean).map((reference) => reference.split(":")[1]!).sort()).toEqual(rebuilt);
    for (const tag of tags("cuda", "python", "torch")) expect(podman("image", "inspect", `${repository}:${tag}`, "--format", "{{index .Labels \"upstream\"}}")).toBe("2");
    // Nothing else moved: nothing built.
    expect(lock().code).toBe(0);
    expect(step()).toEqual([]);
  }, 600_000);
});

describe(".dockerignore: the files digested are the files podman sends", () => {
  // Each case: a .dockerignore and a tree; podman builds `COPY . /ctx/` and the image's
  // files are read back through `podman image mount`.
  const TREE = ["Dockerfile", "a/b/trace.log", "keep.log", "readme.md", "README.md", "build/out.o", "node_modules/x/i.js", "src/build/kept.txt", "src/app/main.py", "src/app/secret.key", "src/app/secret-ok", ".env", "docs/.hidden/x"];
  const CASES = [
    "/build\n**/*.log\n!keep.log\nREADME.md\nnode_modules\n",
    "*\n!src\n!Dockerfile\n",
    "**/secret*\n!**/secret-ok\n",
    "src/**/*.py\n# a comment\n\n  docs  \n",
    ".*\n!.dockerignore\n",
    "./build/\nsrc/app/\n!src/app/main.py\n",
  ];
  const env = () => {
    const scratch = mkdtempSync(join(tmpdir(), "ignore-"));
    writeFileSync(join(scratch, "containers.conf"), '[engine]\nruntime = "runc"\n');
    writeFileSync(join(scratch, "storage.conf"), `[storage]\ndriver = "vfs"\ngraphroot = "${join(scratch, "storage")}"\nrunroot = "${join(scratch, "run")}"\n`);
    return { scratch, env: { ...process.env, DOCKER_CONFIG: undefined, CONTAINERS_CONF: join(scratch, "containers.conf"), CONTAINERS_STORAGE_CONF: join(scratch, "storage.conf") } };
  };

  test("docker's patterns, as podman applies them: exceptions, '**', a leading '/' or './', comments and spaces", () => {
    const { scratch, env: podmanEnv } = env();
    CASES.forEach((ignore, index) => {
      const context = join(scratch, `case${index}`);
      for (const path of TREE) {
        mkdirSync(join(context, path, ".."), { recursive: true });
        writeFileSync(join(context, path), path === "Dockerfile" ? "FROM scratch\nCOPY . /ctx/\n" : `${path}\n`);
      }
      writeFileSync(join(context, ".dockerignore"), ignore);
      const tag = `localhost/ignore-case:${index}`;
      const built = Bun.spawnSync(["podman", "build", "-q", "-t", tag, context], { env: podmanEnv });
      expect({ exit: built.exitCode, stderr: built.exitCode === 0 ? "" : built.stderr.toString() }).toEqual({ exit: 0, stderr: "" });
      const mounted = Bun.spawnSync(["podman", "image", "mount", tag], { env: podmanEnv });
      const root = mounted.stdout.toString().trim();
      const sent = Bun.spawnSync(["find", ".", "-type", "f"], { cwd: join(root, "ctx") }).stdout.toString().split("\n").filter(Boolean).map((p) => p.slice(2)).sort();
      Bun.spawnSync(["podman", "image", "unmount", tag], { env: podmanEnv });
      const digested = [...new InputsDigester(new WorkingTree(context)).contextFiles(".", "Dockerfile")!.files.keys()].sort();
      expect({ ignore, files: digested }).toEqual({ ignore, files: sent });
    });
  }, 120_000);
});

/** The chain as planned in a working copy (its files digested there). */
async function loadFixturePlanned(directory: string) {
  const loaded = await loadMatrix(readFileSync(join(directory, "matrix.toml"), "utf8"), "matrix.toml");
  return planLoaded(loaded, { sources: new WorkingTree(directory) });
}
