// The compiled binary, as a team drops it into CI: copied alone into an empty
// directory, with no node_modules and no bun on PATH.

import { expect, test } from "bun:test";
import { copyFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { scratchFolder } from "./validators/scratch.ts";

test("the compiled binary plans the embedded matrix from an empty directory, runs a plugin, ignores a .env, and locates a syntax error", () => {
  const buildDirectory = scratchFolder("build-");
  const built = Bun.spawnSync([process.execPath, join(import.meta.dir, "build.ts"), join(buildDirectory, "caliban-images")]);
  expect(built.exitCode).toBe(0);

  const empty = scratchFolder("empty-");
  const binary = join(empty, "caliban-images");
  copyFileSync(join(buildDirectory, "caliban-images"), binary);
  const env = { PATH: "/usr/bin:/bin", HOME: empty };

  const plan = Bun.spawnSync([binary, "plan"], { cwd: empty, env });
  expect(plan.exitCode).toBe(0);
  expect(plan.stdout.toString()).toContain("no cuda   cpu-py37           cpu-py38");
  expect(plan.stderr.toString()).toContain("using the embedded default matrix");

  const emitted = Bun.spawnSync([binary, "emit", "cloudbuild", "--base-url", "gcr.io/test"], { cwd: empty, env });
  // After the resolve step, which reads the digests when the build runs.
  expect(JSON.parse(emitted.stdout.toString()).steps.map((step: { id: string }) => step.id).slice(0, 2)).toEqual(["resolve", "gcr.io/test:gpu-base-cuda100"]);

  // A plugin emitter, loaded at run time by the binary: no node_modules, no bun.
  copyFileSync(join(import.meta.dir, "../fixtures/plugins/gitlab.ts"), join(empty, "gitlab.ts"));
  const plugin = Bun.spawnSync([binary, "emit", "gitlab-example", "--plugin", "gitlab.ts"], { cwd: empty, env });
  expect(plugin.stderr.toString()).not.toContain("error");
  expect(plugin.stdout.toString()).toContain("build:gpu-cuda101-py38:\n  stage: stage2\n  needs:\n    - build:gpu-base-cuda101");

  // The user's .env is not ours to load: a plugin sees only the environment it was given.
  writeFileSync(join(empty, ".env"), "CALIBAN_DOTENV_PROBE=loaded\n");
  writeFileSync(join(empty, "env-probe.js"), 'export default { name: "probe", options: {}, emit: () => [{ path: "x", contents: String(process.env.CALIBAN_DOTENV_PROBE) }] };\n');
  const probe = Bun.spawnSync([binary, "emit", "probe", "--plugin", "env-probe.js"], { cwd: empty, env });
  expect(probe.stdout.toString()).toBe("undefined");

  // @iarna/toml is loaded only on this path: it must be inside the binary too.
  writeFileSync(join(empty, "matrix.toml"), 'repository = "r.io/x"\nbroken = \n');
  const broken = Bun.spawnSync([binary, "plan"], { cwd: empty, env });
  expect(broken.exitCode).toBe(2);
  expect(broken.stderr.toString()).toContain("error: matrix.toml:2:10: invalid TOML");
});
