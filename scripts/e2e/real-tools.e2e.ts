// The outputs fed to the real system tools (installed by install-tools.sh; run with
// `npm run test:e2e`): docker buildx bake resolves every fixture's docker-bake.hcl to
// exactly the plan; the generated Makefile, with podman as DOCKER, really builds the
// real-build fixture and pushes it to a registry on 127.0.0.1, which then lists
// every image of the plan.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { copyFileSync, cpSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { builtin } from "../../fixtures/test-helpers.ts";
import { emitLoaded } from "../../cli/emit.ts";
import { fixtureCases, loadFixture, REPO_ROOT } from "../../fixtures/golden.ts";
import { bakeView, planView } from "../validators/readback.ts";
import { emittedText } from "../../emitters/contract.ts";

const DOCKER_CONFIG = process.env.DOCKER_CONFIG ?? join(REPO_ROOT, ".cache/e2e/docker-config");
const emitter = builtin;

function bakePrint(hcl: string, env: Record<string, string> = {}) {
  const directory = mkdtempSync(join(tmpdir(), "bake-"));
  writeFileSync(join(directory, "docker-bake.hcl"), hcl);
  const result = Bun.spawnSync(["docker", "buildx", "bake", "-f", "docker-bake.hcl", "--print"], {
    cwd: directory,
    env: { ...process.env, DOCKER_CONFIG, ...env },
  });
  if (result.exitCode !== 0) throw new Error(`buildx bake --print failed: ${result.stderr.toString()}`);
  return JSON.parse(result.stdout.toString());
}

describe("docker buildx bake --print", () => {
  for (const fixture of fixtureCases()) {
    test(`${fixture.name}: resolves to exactly the plan's images, args, tags and links`, async () => {
      const { loaded, graph } = await loadFixture(fixture);
      const printed = bakePrint(emittedText(emitLoaded(emitter("bake"), loaded, graph)[0]!));
      const view = bakeView(printed);
      const plan = planView(graph);
      expect(view.images).toEqual(plan.images);
      expect(view.bases).toEqual(plan.bases);
      expect(printed.group.default.targets).toEqual(graph.images.map((i) => i.id));
    });
  }

  test("the repository variable is overridable from the environment, links included", async () => {
    const fixture = fixtureCases().find((f) => f.name === "default")!;
    const { loaded, graph } = await loadFixture(fixture);
    const printed = bakePrint(emittedText(emitLoaded(emitter("bake"), loaded, graph)[0]!), { REPOSITORY: "localhost:5000/override" });
    const target = printed.target["gpu-cuda100-py37"];
    expect(target.tags).toEqual(["localhost:5000/override:gpu-cuda100-py37"]);
    expect(target.args.BASE_IMAGE).toBe("localhost:5000/override:gpu-base-cuda100");
    expect(target.contexts).toEqual({ "localhost:5000/override:gpu-base-cuda100": "target:gpu-base-cuda100" });
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
    const made = Bun.spawnSync(["make", "-j2", "push", "DOCKER=podman", `REPOSITORY=${repository}`, "BUILD_FLAGS=--no-cache"], {
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
    expect([...tags.tags].sort()).toEqual(graph.images.map((i) => i.tag).sort());

    // The build args arrived literally: quotes, '&' and '$' included.
    const inspect = Bun.spawnSync(["podman", "image", "inspect", `${repository}:app-fancy-quoted`, "--format", "{{json .Labels}}"], {
      env: { ...process.env, ...podmanEnv },
    });
    expect(JSON.parse(inspect.stdout.toString())).toMatchObject({ "app.flavor": "fancy", "app.greeting": `it's "quoted" & $dollar`, flavor: "fancy" });
  }, 120_000);
});
