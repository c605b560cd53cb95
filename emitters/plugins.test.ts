// Plugin emitters through the same door as a user's: the real CLI process, with
// --plugin and with `plugins` in a matrix; every failure a clear error naming the file.

import { describe, expect, test } from "bun:test";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parse as parseYaml } from "yaml";
import { fixtureCases, goldenDifferences, loadFixture, REPO_ROOT } from "../fixtures/golden.ts";
import { runCli, writeMatrix } from "../fixtures/test-helpers.ts";
import { dockerBuildView, normaliseImages, planView, recordingDocker, REVISION } from "../scripts/validators/readback.ts";
import { builtinEmitters } from "./index.ts";
import { loadPlugins, registerEmitters } from "./plugins.ts";
import { emitLoaded } from "../cli/emit.ts";
import { emittedText } from "./contract.ts";
import { scratchFolder } from "../scripts/validators/scratch.ts";

const PLUGINS = join(REPO_ROOT, "fixtures", "plugins");
const GITLAB = join(PLUGINS, "gitlab.ts");

const run = runCli;

async function gitlab() {
  const [registered] = (await loadPlugins([{ path: GITLAB, base: REPO_ROOT, namedIn: "--plugin" }])).filter((r) => r.emitter.name === "gitlab-example");
  return registered!;
}

describe("the GitLab CI example plugin, tested like a built-in", () => {
  for (const name of ["default", "three-level-chain", "hostile"]) {
    test(`${name}: golden file; jobs, stages and needs match the plan; its scripts run docker with the plan's arguments`, async () => {
      const fixture = fixtureCases().find((f) => f.name === name)!;
      const { loaded, graph } = await loadFixture(fixture);
      const [file] = emitLoaded(await gitlab(), loaded, graph);
      expect(goldenDifferences(join(PLUGINS, "expected", name), { "gitlab-ci.yml": emittedText(file!) })).toEqual([]);

      const pipeline = parseYaml(emittedText(file!));
      const jobs = Object.entries(pipeline).filter(([key]) => key.startsWith("build:")) as [string, { stage: string; needs: string[]; script: string[] }][];
      expect(jobs.map(([key]) => key)).toEqual(graph.images.map((i) => `build:${i.id}`));
      const byId = new Map(graph.images.map((i) => [i.id, i]));
      for (const [key, job] of jobs) {
        const image = byId.get(key.slice("build:".length))!;
        expect(job.stage).toBe(`stage${image.level + 1}`);
        expect(pipeline.stages).toContain(job.stage);
        expect(job.needs).toEqual(image.from === null ? [] : [`build:${image.from}`]);
      }

      // The shell is the consumer of `script`: run every line with a recording docker.
      const docker = recordingDocker();
      const script = jobs.flatMap(([, job]) => job.script).join("\n");
      const shell = Bun.spawnSync(["bash", "-e", "-c", script], { env: { PATH: `${docker.directory}:/usr/bin:/bin`, CI_COMMIT_SHA: REVISION } });
      expect(shell.exitCode).toBe(0);
      const builds = docker.calls().filter((call) => call[0] === "build");
      expect(normaliseImages(builds.map((call) => dockerBuildView(call.slice(1))))).toEqual(normaliseImages(planView(graph, false).images)); // the example writes no content tags
    });
  }

  test("from a matrix's `plugins` list, relative to the matrix file, with its [emit.NAME] options", () => {
    const cwd = scratchFolder("plugin-");
    writeMatrix(join(cwd, "m.toml"), `repository = "r.io/x"\nplugins = [${JSON.stringify(GITLAB)}]\n[images.a]\ntag = "a"\n[emit.gitlab-example]\nimage = "docker:26"\n`);
    const result = run(["emit", "gitlab-example", "--matrix", "m.toml"], cwd);
    expect(result.stderr).not.toContain("error");
    expect(parseYaml(result.stdout).default.image).toBe("docker:26");
    const listed = run(["emitters", "--matrix", "m.toml"], cwd);
    expect(listed.stdout).toContain(`gitlab-example  GitLab CI pipeline`);
    const wrongOption = run(["emit", "gitlab-example", "--matrix", "m.toml", "--option", "imagee=x"], cwd);
    expect(wrongOption.stderr).toContain('emitter "gitlab-example" has no option "imagee"\n  hint: did you mean "image"?');
  });

  test("a relative `plugins` path is resolved from the matrix's folder, not the working directory", () => {
    const cwd = scratchFolder("plugin-");
    const sub = join(cwd, "ci");
    Bun.spawnSync(["mkdir", "-p", sub]);
    writeFileSync(join(sub, "gitlab.ts"), readFileSync(GITLAB, "utf8"));
    writeMatrix(join(sub, "m.toml"), 'repository = "r.io/x"\nplugins = ["gitlab.ts"]\n[images.a]\ntag = "a"\n');
    expect(run(["emit", "gitlab-example", "--matrix", "ci/m.toml"], cwd).code).toBe(0);
  });
});

describe("a broken plugin is a clear error naming the file: exit 2, no output written", () => {
  const cases: [string, string[], string][] = [
    ["missing.ts", [], "error: plugin fixtures/plugins/broken/missing.ts: no such file (named in --plugin)"],
    ["throws-on-import.js", [], "error: plugin fixtures/plugins/broken/throws-on-import.js: failed to load: configuration file ci.json not found"],
    ["no-default-export.js", [], "has no default export\n  hint: end the module with `export default emitter`"],
    ["no-name.js", [], "the default export has no `name`"],
    ["no-emit.js", [], 'emitter "noemit" has no `emit` function'],
    ["clashes-with-builtin.js", [], 'an emitter named "cloudbuild" is already built in'],
    ["bad-option-spec.js", [], 'emitter "badspec", option "retries": `type` must be "string", "number" or "boolean"'],
    ["emit-throws.js", ["throws"], "plugin fixtures/plugins/broken/emit-throws.js: emitter \"throws\" failed: TypeError: undefined is not an object"],
    ["bad-output.js", ["badoutput"], 'emitter "badoutput" returned file "out.txt" whose `contents` is a number, not a string'],
    ["bad-companion.js", ["badcompanion"], 'emitter "badcompanion" returned file "b.txt" whose `companion` is a string, not a boolean'],
    ["only-companions.js", ["onlycompanions"], 'emitter "onlycompanions" returned only companion files: one at least must be written wherever the output goes'],
  ];
  for (const [file, emitArgs, message] of cases) {
    test(file, () => {
      const cwd = scratchFolder("plugin-");
      const args = ["emit", emitArgs[0] ?? "cloudbuild", "--plugin", join("fixtures/plugins/broken", file), "-o", join(cwd, "out")];
      const result = run(args, REPO_ROOT);
      expect(result.code).toBe(2);
      expect(result.stderr).toContain(message);
      expect(result.stderr).not.toMatch(/^\s+at /m);
      expect(existsSync(join(cwd, "out"))).toBe(false);
    });
  }

  test("two plugins with one name: the error names both files", async () => {
    const plugins = await loadPlugins([
      { path: GITLAB, base: REPO_ROOT, namedIn: "--plugin" },
      { path: join(PLUGINS, "broken", "gitlab-again.js"), base: REPO_ROOT, namedIn: "--plugin" },
    ]);
    expect(() => registerEmitters(builtinEmitters, plugins)).toThrow(`an emitter named "gitlab-example" is already defined by plugin ${GITLAB}`);
  });
});

test("docs/plugins.md's example plugin works as written", () => {
  const page = readFileSync(join(REPO_ROOT, "docs/plugins.md"), "utf8");
  const example = /```ts\n(\/\/ ci\/my-buildkite\.ts\n[\s\S]*?)```/.exec(page)![1]!;
  const cwd = scratchFolder("readme-plugin-");
  Bun.spawnSync(["mkdir", "-p", join(cwd, "ci")]);
  writeFileSync(join(cwd, "ci", "my-buildkite.ts"), example);
  const result = run(["emit", "my-buildkite", "--plugin", "ci/my-buildkite.ts", "--option", "agent=gpu"], cwd);
  expect(result.stderr).not.toContain("error");
  const pipeline = parseYaml(result.stdout);
  expect(pipeline.steps).toHaveLength(8);
  expect(pipeline.steps[4]).toMatchObject({ key: "gpu-cuda100-py37", depends_on: ["gpu-base-cuda100"], agents: { queue: "gpu" } });
});
