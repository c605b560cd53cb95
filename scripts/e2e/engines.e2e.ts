// Issue 27's proof with a real docker engine (dockerd, started here, stopped at the end)
// and a real registry on 127.0.0.1: the Makefile with DOCKER=docker, and Cloud Build's
// configs, their steps run by bash in waitFor order as Cloud Build runs them ($
// substitutions applied as it applies them), the resolve step running this checkout's
// caliban-images. Each goes through (a) an edited middle Dockerfile, committed without
// emitting again: exactly the affected images are built; (b) an added axis value: the
// pipeline stops before building, naming the stale file; (c) the registry gone: it stops,
// nothing built, nothing pushed; (d) nothing changed: nothing built.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { appendFileSync, copyFileSync, cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fixtureCases, loadFixture, REPO_ROOT } from "../../fixtures/golden.ts";
import { MAIN, runCli } from "../../fixtures/test-helpers.ts";
import { planView, substitute } from "../validators/readback.ts";
import { startDockerEngine, type DockerEngine } from "./docker-engine.ts";
import { loopbackRegistry, plannedIn, provesTheTree, sameImage } from "./pipeline-runs.ts";

let engine: DockerEngine;
// Sockets need a short path.
const scratch = mkdtempSync("/tmp/e2e-engine-");

beforeAll(async () => {
  engine = await startDockerEngine(join(scratch, "engine"));
}, 120_000);
afterAll(async () => {
  await engine?.stop();
});

test("docker: make push decides from the tree it runs in: an edit ships without a new Makefile, a stale one or a lost registry stops before anything is built", async () => {
  await provesTheTree("docker", engine.docker, join(scratch, "tree-docker"), () => ({ env: { ...process.env, ...engine.env }, makeArgs: [] }));
}, 600_000);

describe("Cloud Build's configs, run step by step with bash and the real docker engine", () => {
  test("split configs decide from the tree they build: (a) to (d)", async () => {
    const registry = await loopbackRegistry(join(scratch, "cloudbuild-registry"));
    const work = join(scratch, "cloudbuild");
    mkdirSync(work);
    const git = (...args: string[]) => {
      const run = Bun.spawnSync(["git", "-c", "user.name=e2e", "-c", "user.email=e2e@example.com", "-c", "commit.gpgsign=false", ...args], { cwd: work });
      if (run.exitCode !== 0) throw new Error(`git ${args.join(" ")}: ${run.stderr.toString()}`);
    };
    git("init", "-q", "-b", "main");
    cpSync(join(REPO_ROOT, "fixtures/chain-build"), work, { recursive: true });
    rmSync(join(work, "expected"), { recursive: true });
    copyFileSync("/bin/busybox", join(work, "docker/busybox"));
    const repository = `127.0.0.1:${registry.port}/cb`;
    // Six steps a config: the resolve step and five images, so the twelve images take three configs.
    // install-command: this checkout's caliban-images is on the PATH the steps get (no release to download here).
    const emit = () => runCli(["emit", "cloudbuild", "--base-url", repository, "--option", "max-steps=6", "--option", "install-command=true", "-o", "ci/"], work);
    expect(emit().code).toBe(0);
    git("add", "-A");
    git("commit", "-q", "-m", "images");

    // The builder's tools: the engine's docker, every build and push recorded; caliban-images, this checkout's.
    const bin = join(scratch, "cloudbuild-bin");
    mkdirSync(bin);
    const calls = join(bin, "calls.log");
    writeFileSync(join(bin, "docker"), `#!/bin/sh\ncase "$1" in build|push) printf '%s\\n' "$*" >> ${JSON.stringify(calls)};; esac\nexec ${JSON.stringify(engine.docker)} "$@"\n`, { mode: 0o755 });
    writeFileSync(join(bin, "caliban-images"), `#!/bin/sh\nexec ${JSON.stringify(process.execPath)} ${JSON.stringify(MAIN)} "$@"\n`, { mode: 0o755 });

    /** Each config a build of its own, in submit.sh's order: its steps in order, each waiting only for earlier ones; a failed step ends it. */
    const submit = () => {
      writeFileSync(calls, "");
      const configs = readdirSync(join(work, "ci")).filter((name) => name.endsWith(".json")).sort();
      const submitted = readFileSync(join(work, "ci/submit.sh"), "utf8");
      expect(configs.map((name) => submitted.indexOf(`'${name}'`))).toEqual([...configs.map((name) => submitted.indexOf(`'${name}'`))].sort((a, b) => a - b));
      let stderr = "";
      let exit = 0;
      for (const name of configs) {
        const config = JSON.parse(readFileSync(join(work, "ci", name), "utf8")) as { steps: { id: string; name: string; entrypoint?: string; args: string[]; waitFor: string[] }[]; substitutions?: Record<string, string> };
        expect(config.steps.length).toBeLessThanOrEqual(6);
        // A build's own home, which its steps share (/builder/home).
        const home = mkdtempSync(join(scratch, "builder-home-"));
        const values = { COMMIT_SHA: "0".repeat(40), ...config.substitutions };
        const seen = new Set<string>();
        for (const step of config.steps) {
          for (const wait of step.waitFor) expect(wait === "-" || seen.has(wait)).toBe(true);
          const args = step.args.map((arg) => substitute(arg, values));
          const command = step.entrypoint === "bash" ? ["bash", ...args] : [join(bin, "docker"), ...args];
          const run = Bun.spawnSync(command, { cwd: work, env: { ...process.env, ...engine.env, HOME: home, PATH: `${bin}:${process.env.PATH}` } });
          stderr += run.stderr.toString();
          if (run.exitCode !== 0) {
            exit = run.exitCode;
            break;
          }
          seen.add(step.id);
        }
        if (exit !== 0) break;
      }
      const logged = readFileSync(calls, "utf8").split("\n").filter(Boolean);
      const built = logged.filter((line) => line.startsWith("build")).map((line) => /-t [^ ]*:([^ ]+)/.exec(line)![1]!).sort();
      return { exit, stderr, built, pushes: logged.filter((line) => line.startsWith("push")).length };
    };
    const ok = (run: ReturnType<typeof submit>) => expect({ exit: run.exit, stderr: run.exit === 0 ? "" : run.stderr }).toEqual({ exit: 0, stderr: "" });
    const { graph } = await loadFixture(fixtureCases().find((f) => f.name === "chain-build")!);
    const tags = (...families: string[]) => graph.images.filter((image) => families.includes(image.family)).map((image) => image.tag).sort();

    try {
      const first = submit();
      ok(first);
      expect(first.built).toEqual(tags("cuda", "python", "torch", "cpu"));
      // (d) Nothing changed: nothing built.
      const again = submit();
      ok(again);
      expect(again.built).toEqual([]);

      // (a) The middle family's Dockerfile, committed without emitting the configs again.
      appendFileSync(join(work, "docker/python.Dockerfile"), "LABEL edited=yes\n");
      git("commit", "-q", "-am", "edit the python image");
      const edited = submit();
      ok(edited);
      expect(edited.built).toEqual(tags("python", "torch"));

      // (c) The registry goes away: the first image's step asks, gets no answer, and the build stops: nothing built or pushed.
      await registry.stop();
      appendFileSync(join(work, "docker/cuda.Dockerfile"), "LABEL edited=yes\n");
      git("commit", "-q", "-am", "edit the cuda image");
      const unreachable = submit();
      expect(unreachable.exit).toBe(4);
      expect({ built: unreachable.built, pushes: unreachable.pushes }).toEqual({ built: [], pushes: 0 });
      expect(unreachable.stderr).toContain("the registry did not answer");
      await registry.start();
      const back = submit();
      ok(back);
      expect(back.built).toEqual(tags("cuda", "python", "torch"));

      // (b) An axis value added, the configs not emitted again: the resolve step stops the build, naming the config.
      writeFileSync(join(work, "matrix.toml"), readFileSync(join(work, "matrix.toml"), "utf8").replace('py311 = { PYTHON_VERSION = "3.11" }', 'py311 = { PYTHON_VERSION = "3.11" }\npy312 = { PYTHON_VERSION = "3.12" }'));
      git("commit", "-q", "-am", "python 3.12");
      const stale = submit();
      expect(stale.exit).toBe(3);
      expect({ built: stale.built, pushes: stale.pushes }).toEqual({ built: [], pushes: 0 });
      expect(stale.stderr).toContain("error: cloudbuild-01.json is stale for matrix.toml");
      expect(emit().code).toBe(0);
      git("add", "-A");
      git("commit", "-q", "-m", "emit");
      const added = submit();
      ok(added);
      expect(added.built).toEqual(["cpu-py312", "py-cuda11-py312", "py-cuda12-py312", "torch-cuda11-py312", "torch-cuda12-py312"]);
      ok(submit());

      const final = planView(await plannedIn(work));
      for (const image of final.images) expect(await sameImage(registry.port, "cb", image.reference.split(":")[1]!, image.content!.split(":")[1]!)).toBe(true);
    } finally {
      await registry.stop();
    }
  }, 600_000);
});
