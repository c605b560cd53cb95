// A family's smoke test (`test`) gates the push: run in the built image before it is
// pushed, a failure pushes nothing of that image and nothing built FROM it. Shown with
// a recording docker whose `docker run` fails for one image, through make as make runs
// it, and through the Cloud Build and GitHub scripts as bash runs them.

import { describe, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { digestLines } from "../cli/resolve.ts";
import { parse as parseYaml } from "yaml";
import { emitLoaded } from "../cli/emit.ts";
import { builtin, planText, problemsOf } from "../fixtures/test-helpers.ts";
import { fakeRelease, fakeResolve, jobEnv, makeView, recordingDocker, resolveOutputs } from "../scripts/validators/readback.ts";
import { hasMake } from "../scripts/validators/tools.ts";
import { emittedText } from "./contract.ts";

const MATRIX = `repository = "r.io/x"
[axes.python]
py311 = { PYTHON_VERSION = "3.11" }
py312 = { PYTHON_VERSION = "3.12" }
[images.base]
tag = "base-{python}"
matrix = ["python"]
test = "python -c 'import sys; assert sys.version.startswith(\\"{python.PYTHON_VERSION}\\")'"
[images.app]
tag = "app-{python}"
matrix = ["python"]
from = "base"
test = "test -x /app/run"
`;

const { loaded, graph } = await planText(MATRIX);
const byTag = (tag: string) => graph.images.find((image) => image.tag === tag)!;
const failing = byTag("base-py311");

test("the test is the family's template, per image; it is no input of the digest", async () => {
  expect(failing.test).toBe(`python -c 'import sys; assert sys.version.startswith("3.11")'`);
  expect(byTag("app-py312").test).toBe("test -x /app/run");
  const untested = await planText(MATRIX.replace(/^test = .*$/gm, ""));
  expect(untested.graph.images.map((image) => image.inputs)).toEqual(graph.images.map((image) => image.inputs));
  expect((await problemsOf(`${MATRIX}[images.c]\ntag = "c"\ntest = "{nope}"\n`)).map((d) => d.message)).toEqual(["the template names {nope}, which is not an axis of this family"]);
});

describe.each([[true], [false]])("make (content tags: %p)", (contentTags) => {
  test.skipIf(!hasMake)("make -k push: the failed image and the one built FROM it are not pushed; the others are, each after its test", () => {
    const makefile = emittedText(emitLoaded(builtin("make"), loaded, graph, contentTags ? [] : ["content-tags=false"])[0]!);
    const failingRef = contentTags ? failing.contentReference : failing.reference;
    const view = makeView(makefile, graph, [], [], [failingRef]);
    const pushed = new Set(view.pushes);
    for (const tag of ["base-py311", "app-py311"]) expect(pushed.has(byTag(tag).reference)).toBe(false);
    for (const tag of ["base-py312", "app-py312"]) expect(pushed.has(byTag(tag).reference)).toBe(true);
    expect(view.tests).toContain(failingRef);
    expect(view.stderr).toContain("Error");
  });
});

describe.each([[true], [false]])("make test (content tags: %p)", (contentTags) => {
  test.skipIf(!hasMake)("builds every tested image, bases first, and runs each test; pushes nothing; a failing test fails make", () => {
    const makefile = emittedText(emitLoaded(builtin("make"), loaded, graph, contentTags ? [] : ["content-tags=false"])[0]!);
    const run = (failingTests: readonly string[]) => {
      const docker = recordingDocker([], failingTests);
      writeFileSync(join(docker.directory, "Makefile"), makefile);
      const made = Bun.spawnSync(["make", "-k", "test", `DOCKER=${docker.path}`, `CALIBAN_IMAGES=${fakeResolve(docker.directory, graph)}`], { cwd: docker.directory });
      return { exit: made.exitCode, calls: docker.calls() };
    };
    const passed = run([]);
    expect(passed.exit).toBe(0);
    expect(passed.calls.filter((call) => call[0] === "push")).toEqual([]);
    expect(passed.calls.filter((call) => call[0] === "run").map((call) => call[2]).sort()).toEqual(graph.images.map((image) => image.reference).sort());
    // Each image is built before its test runs, and a base before what builds FROM it.
    const order = passed.calls.map((call) => (call[0] === "build" ? `build ${call[call.indexOf("-t") + 1]}` : call[0] === "run" ? `run ${call[2]}` : ""));
    for (const image of graph.images) {
      expect(order.indexOf(`build ${image.reference}`)).toBeLessThan(order.indexOf(`run ${image.reference}`));
      if (image.from !== null) expect(order.indexOf(`build ${graph.images.find((i) => i.id === image.from)!.reference}`)).toBeLessThan(order.indexOf(`build ${image.reference}`));
    }
    expect(run([failing.reference]).exit).not.toBe(0);
  });
});

test("Cloud Build: the failing image's step fails before any push; its child's step waits for it", () => {
  const config = JSON.parse(emittedText(emitLoaded(builtin("cloudbuild"), loaded, graph)[0]!));
  const step = config.steps.find((s: { id: string }) => s.id === failing.reference);
  const docker = recordingDocker([], [failing.contentReference]);
  // The config's resolve step first (the network faked: fakeRelease): it leaves in $HOME the digests, as `caliban-images resolve --format lines` writes them, and the functions.
  const resolve = config.steps.find((s: { id: string }) => s.id === "resolve");
  const resolved = Bun.spawnSync(["bash", "-c", resolve.args[1].replaceAll("$$", "$")], { cwd: docker.directory, env: { ...process.env, HOME: docker.directory, PATH: `${fakeRelease(digestLines(graph, undefined))}:${process.env.PATH}` } });
  expect({ code: resolved.exitCode, stderr: resolved.stderr.toString() }).toEqual({ code: 0, stderr: "" });
  const run = Bun.spawnSync(["bash", "-c", step.args[1].replaceAll("$$", "$")], { cwd: docker.directory, env: { ...process.env, HOME: docker.directory, PATH: `${docker.directory}:${process.env.PATH}` } });
  expect(run.exitCode).not.toBe(0);
  const calls = docker.calls();
  expect(calls.some((call) => call[0] === "run")).toBe(true);
  expect(calls.filter((call) => call[0] === "push")).toEqual([]);
  expect(config.steps.find((s: { id: string }) => s.id === byTag("app-py311").reference).waitFor).toEqual([failing.reference]);
  // The plain form: a test step between build and push, which the push and the child's build wait for.
  const plain = JSON.parse(emittedText(emitLoaded(builtin("cloudbuild"), loaded, graph, ["content-tags=false"])[0]!));
  expect(plain.steps.find((s: { id: string }) => s.id === `${failing.reference}-test`)).toMatchObject({ args: ["run", "--rm", failing.reference, "sh", "-c", failing.test], waitFor: [failing.reference] });
  expect(plain.steps.find((s: { id: string }) => s.id === `${failing.reference}-push`).waitFor).toEqual([`${failing.reference}-test`]);
  expect(plain.steps.find((s: { id: string }) => s.id === byTag("app-py311").reference).waitFor).toEqual([`${failing.reference}-test`]);
});

test("GitHub: build-push-action pushes no tested image; the test step runs it, then the push step; a failure stops the job", () => {
  const workflow = parseYaml(emittedText(emitLoaded(builtin("github"), loaded, graph)[0]!));
  const job = workflow.jobs.stage1 as { env: Record<string, string>; steps: { name?: string; uses?: string; if?: string; run?: string; with?: Record<string, unknown>; env?: Record<string, string> }[]; strategy: { matrix: { include: Record<string, string>[] } } };
  const build = job.steps.find((step) => step.uses?.startsWith("docker/build-push-action"))!;
  expect(build.with!.push).toBe("${{ needs.resolve.outputs.publish == 'true' && matrix.test == '' }}");
  expect(build.with!.load).toBe("${{ matrix.test != '' }}");
  const names = job.steps.map((step) => step.name ?? step.uses);
  // Between the build and the test, only the build's further tries (when its push fails: retriedStep).
  expect(names.slice(names.indexOf(build.uses) + 1, names.indexOf("Test the image"))).toEqual(["The build and push failed; wait 15 s and try again", build.uses, "The build and push failed; wait 45 s and try again", build.uses]);
  expect(names.indexOf("Push it")).toBe(names.indexOf("Test the image") + 1);
  const testStep = job.steps.find((step) => step.name === "Test the image")!;
  const entry = job.strategy.matrix.include.find((e) => e.id === failing.id)!;
  expect(entry.test).toBe(failing.test ?? "");
  const docker = recordingDocker([], [failing.contentReference]);
  // The job's env as the runner gives it: CONTENT from the resolve job's digests.
  const env = jobEnv(job.env, entry, resolveOutputs(graph));
  expect(env.CONTENT).toBe(failing.contentReference);
  const run = Bun.spawnSync(["bash", "-e", "-c", testStep.run!], { env: { ...process.env, PATH: `${docker.directory}:${process.env.PATH}`, CONTENT: env.CONTENT!, TEST: entry.test! } });
  expect(run.exitCode).not.toBe(0);
  expect(docker.calls()).toEqual([["run", "--rm", failing.contentReference, "sh", "-c", failing.test ?? ""]]);
});
