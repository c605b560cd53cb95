// What the end-to-end checks share for issue 27's proof: a registry on loopback that can
// be stopped and started again, the (a)-(d) scenario run through the Makefile with a
// real engine, and a check that a tag and a content tag name the same image.

import { expect } from "bun:test";
import { appendFileSync, copyFileSync, cpSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { WorkingTree } from "../../cli/working-tree.ts";
import { loadMatrix, planLoaded } from "../../core/load.ts";
import { fixtureCases, loadFixture, REPO_ROOT } from "../../fixtures/golden.ts";
import { CLI_FOR_MAKE, runCli } from "../../fixtures/test-helpers.ts";
import { planView } from "../validators/readback.ts";

/** The chain as planned in a working copy (its files digested there). */
export async function plannedIn(directory: string) {
  const loaded = await loadMatrix(readFileSync(join(directory, "matrix.toml"), "utf8"), "matrix.toml");
  return planLoaded(loaded, { sources: new WorkingTree(directory) });
}

/** A docker-registry on a free loopback port, its storage in `root`: stopped and started again on the same port and storage. */
export async function loopbackRegistry(root: string): Promise<{ port: number; stop(): Promise<void>; start(): Promise<void> }> {
  const probe = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
  const port = probe.port;
  probe.stop(true);
  mkdirSync(root, { recursive: true });
  writeFileSync(join(root, "registry.yml"), `version: 0.1\nlog:\n  level: error\nstorage:\n  filesystem:\n    rootdirectory: ${join(root, "storage")}\nhttp:\n  addr: 127.0.0.1:${port}\n`);
  let process: ReturnType<typeof Bun.spawn> | undefined;
  const registry = {
    port,
    async start() {
      process = Bun.spawn(["docker-registry", "serve", join(root, "registry.yml")], { stdout: "ignore", stderr: "ignore" });
      for (let attempt = 0; attempt < 100; attempt++) {
        if (await fetch(`http://127.0.0.1:${port}/v2/`).then((r) => r.ok).catch(() => false)) return;
        await Bun.sleep(100);
      }
      throw new Error("docker-registry did not start");
    },
    async stop() {
      process?.kill();
      await process?.exited;
      process = undefined;
    },
  };
  await registry.start();
  return registry;
}

/**
 * Issue 27, (a) to (d), with one engine: the chain fixture (three families in a chain and
 * an independent one) committed with the Makefile emitted once.
 *   (a) the middle family's Dockerfile edited and committed, no new Makefile: make push
 *       builds exactly the affected images;
 *   (b) an axis value added, no new Makefile: make stops before building, naming the file;
 *   (c) the registry stopped: make stops, nothing built, nothing pushed;
 *   (d) nothing changed: nothing built.
 * The engine is wrapped to record its build and push calls; the registry is real.
 */
export async function provesTheTree(
  engine: "podman" | "docker",
  real: string,
  work: string,
  setup: (registryPort: number) => { env: Record<string, string | undefined>; makeArgs: readonly string[] },
): Promise<void> {
  const registry = await loopbackRegistry(join(work, "..", `${engine}-registry`));
  const { env, makeArgs } = setup(registry.port);
  mkdirSync(work, { recursive: true });
  const git = (...args: string[]) => {
    const run = Bun.spawnSync(["git", "-c", "user.name=e2e", "-c", "user.email=e2e@example.com", "-c", "commit.gpgsign=false", ...args], { cwd: work });
    if (run.exitCode !== 0) throw new Error(`git ${args.join(" ")}: ${run.stderr.toString()}`);
  };
  git("init", "-q", "-b", "main");
  cpSync(join(REPO_ROOT, "fixtures/chain-build"), work, { recursive: true });
  rmSync(join(work, "expected"), { recursive: true });
  copyFileSync("/bin/busybox", join(work, "docker/busybox"));
  expect(runCli(["emit", "make", "-o", "Makefile"], work).code).toBe(0);
  git("add", "-A");
  git("commit", "-q", "-m", "images");

  const shims = join(work, "..", `${engine}-shims`);
  mkdirSync(shims, { recursive: true });
  const calls = join(shims, "calls.log");
  writeFileSync(join(shims, engine), `#!/bin/sh\ncase "$1" in build|push) printf '%s\\n' "$*" >> ${JSON.stringify(calls)};; esac\nexec ${JSON.stringify(real)} "$@"\n`, { mode: 0o755 });
  const repository = `127.0.0.1:${registry.port}/tree`;
  const make = () => {
    writeFileSync(calls, "");
    const made = Bun.spawnSync(["make", "-j2", "push", `DOCKER=${join(shims, engine)}`, `REPOSITORY=${repository}`, CLI_FOR_MAKE, ...makeArgs], { cwd: work, env });
    const logged = readFileSync(calls, "utf8").split("\n").filter(Boolean);
    // Each build's first -t is the image's own tag.
    const built = logged.filter((line) => line.startsWith("build")).map((line) => /-t '?[^ ']*:([^ ']+)/.exec(line.replace(/'/g, ""))![1]!).sort();
    return { exit: made.exitCode, stderr: made.stderr.toString(), built, pushes: logged.filter((line) => line.startsWith("push")).length };
  };
  const affected = () => runCli(["affected", "--since", "HEAD~1"], work).stdout.split("\n").filter(Boolean).map((reference) => reference.split(":")[1]!).sort();
  const { graph } = await loadFixture(fixtureCases().find((f) => f.name === "chain-build")!);
  const tags = (...families: string[]) => graph.images.filter((image) => families.includes(image.family)).map((image) => image.tag).sort();
  const ok = (run: ReturnType<typeof make>) => expect({ exit: run.exit, stderr: run.exit === 0 ? "" : run.stderr }).toEqual({ exit: 0, stderr: "" });

  try {
    // The first push builds every image.
    const first = make();
    ok(first);
    expect(first.built).toEqual(tags("cuda", "python", "torch", "cpu"));
    // (d) Nothing changed: nothing built, nothing pushed but the tags pointed again.
    const again = make();
    ok(again);
    expect(again.built).toEqual([]);

    // (a) The middle family's Dockerfile, committed without emitting the Makefile again.
    appendFileSync(join(work, "docker/python.Dockerfile"), "LABEL edited=yes\n");
    git("commit", "-q", "-am", "edit the python image");
    const edited = make();
    ok(edited);
    expect(edited.built).toEqual(tags("python", "torch"));
    expect(affected()).toEqual(edited.built);
    expect(readFileSync(join(work, "Makefile"), "utf8")).toBe(runCli(["emit", "make"], work).stdout);

    // (c) The registry goes away: make stops before any build or push, and says why.
    await registry.stop();
    appendFileSync(join(work, "docker/cuda.Dockerfile"), "LABEL edited=yes\n");
    git("commit", "-q", "-am", "edit the cuda image");
    const unreachable = make();
    expect(unreachable.exit).not.toBe(0);
    expect({ built: unreachable.built, pushes: unreachable.pushes }).toEqual({ built: [], pushes: 0 });
    expect(unreachable.stderr).toContain(`cannot reach 127.0.0.1:${registry.port}`);
    expect(unreachable.stderr).toContain("no image built: caliban-images resolve failed (resolve-status=4)");
    // Back, the same edit builds what it affects, and nothing else.
    await registry.start();
    const back = make();
    ok(back);
    expect(back.built).toEqual(tags("cuda", "python", "torch"));

    // (b) An axis value added, the Makefile not emitted again: stopped before building, the file named.
    writeFileSync(join(work, "matrix.toml"), readFileSync(join(work, "matrix.toml"), "utf8").replace('py311 = { PYTHON_VERSION = "3.11" }', 'py311 = { PYTHON_VERSION = "3.11" }\npy312 = { PYTHON_VERSION = "3.12" }'));
    git("commit", "-q", "-am", "python 3.12");
    const stale = make();
    expect(stale.exit).not.toBe(0);
    expect({ built: stale.built, pushes: stale.pushes }).toEqual({ built: [], pushes: 0 });
    expect(stale.stderr).toContain("error: Makefile is stale for matrix.toml: run caliban-images emit NAME -o Makefile");
    // Emitted again: the new images, and only they.
    expect(runCli(["emit", "make", "-o", "Makefile"], work).code).toBe(0);
    git("commit", "-q", "-am", "emit");
    const added = make();
    ok(added);
    expect(added.built).toEqual(["cpu-py312", "py-cuda11-py312", "py-cuda12-py312", "torch-cuda11-py312", "torch-cuda12-py312"]);
    // (d) again.
    const settled = make();
    ok(settled);
    expect(settled.built).toEqual([]);

    // The registry has every image under its tag and its content tag, the tag naming the content tag's image.
    const final = planView(await plannedIn(work));
    for (const image of final.images) expect(await sameImage(registry.port, "tree", image.reference.split(":")[1]!, image.content!.split(":")[1]!)).toBe(true);
  } finally {
    await registry.stop();
  }
}

/**
 * Whether a tag names the image a content tag names: the same manifest, or (docker buildx
 * imagetools create, which points docker's tags) an index whose one manifest is it.
 */
export async function sameImage(port: number, repository: string, tag: string, content: string): Promise<boolean> {
  const accept = "application/vnd.oci.image.index.v1+json, application/vnd.docker.distribution.manifest.list.v2+json, application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json";
  const get = (reference: string) => fetch(`http://127.0.0.1:${port}/v2/${repository}/manifests/${reference}`, { headers: { accept } });
  const [own, target] = [await get(tag), await get(content)];
  if (!own.ok || !target.ok) return false;
  const ownDigest = own.headers.get("docker-content-digest");
  const targetDigest = target.headers.get("docker-content-digest");
  if (ownDigest === targetDigest) return true;
  const index = (await own.json()) as { manifests?: { digest: string }[] };
  const targetIndex = (await target.json()) as { manifests?: { digest: string }[] };
  const platforms = (manifest: { manifests?: { digest: string }[] }, digest: string | null) => (manifest.manifests ? manifest.manifests.map((m) => m.digest).sort() : [digest]);
  return JSON.stringify(platforms(index, ownDigest)) === JSON.stringify(platforms(targetIndex, targetDigest));
}
