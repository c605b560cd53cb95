// The pipelines skip what the registry already has: each output's own scripts run, by
// bash or make as their CI runs them, with a recording docker whose `manifest inspect`
// answers from a list of the images a registry holds. (podman with a real registry
// builds the same chain through make in scripts/e2e.)

import { describe, expect, test } from "bun:test";
import { readFileSync, writeFileSync } from "node:fs";
import { digestLines } from "../cli/resolve.ts";
import { join } from "node:path";
import { parse as parseYaml } from "yaml";
import { emitLoaded } from "../cli/emit.ts";
import { fixtureCases, loadFixture, REPO_ROOT } from "../fixtures/golden.ts";
import { builtin, planText } from "../fixtures/test-helpers.ts";
import { cloudbuildView, fakeRelease, fakeResolve, jobEnv, makeView, needsResolve, resolveOutputs, REVISION, runScripts } from "../scripts/validators/readback.ts";
import { evaluate, evaluateTemplate, truthy, type Context } from "../scripts/validators/github-expressions.ts";
import { hasMake } from "../scripts/validators/tools.ts";
import { emittedText } from "./contract.ts";
import { scratchFolder } from "../scripts/validators/scratch.ts";

const { loaded, graph } = await loadFixture(fixtureCases().find((f) => f.name === "chain-build")!);
const all = graph.images.map((image) => image.contentReference);
// The registry has the cuda and python images (a run built them), not the rest.
const pushedBefore = graph.images.filter((image) => image.family === "cuda" || image.family === "python");
const missing = graph.images.filter((image) => !pushedBefore.includes(image));
const emitted = (name: string) => emitLoaded(builtin(name), loaded, graph);

describe("Cloud Build: each step asks the registry first", () => {
  const configs = emitted("cloudbuild").filter((file) => file.path.endsWith(".json")).map(emittedText);

  test("an empty registry: every image built FROM its base's content reference, pushed under both references", () => {
    const view = cloudbuildView(configs, [], {}, graph);
    expect(view.images.map((image) => image.reference).sort()).toEqual(graph.images.map((image) => image.reference).sort());
    const pushes = view.calls.filter((call) => call[0] === "push").map((call) => call[1]);
    expect(pushes.sort()).toEqual(graph.images.flatMap((image) => [image.reference, image.contentReference]).sort());
  });

  test("a registry holding some: only the others are built; the rest are pulled by digest and their tags pushed", () => {
    const view = cloudbuildView(configs, pushedBefore.map((image) => image.contentReference), {}, graph);
    expect(view.images.map((image) => image.reference).sort()).toEqual(missing.map((image) => image.reference).sort());
    for (const image of pushedBefore) {
      expect(view.calls).toContainEqual(["pull", image.contentReference]);
      expect(view.calls).toContainEqual(["tag", image.contentReference, image.reference]);
      expect(view.calls).toContainEqual(["push", image.reference]);
    }
    expect(cloudbuildView(configs, all, {}, graph).images).toEqual([]);
  });
});

describe("Cloud Build: digests from the build's tree, and a registry that cannot answer", () => {
  const config = JSON.parse(emittedText(emitted("cloudbuild")[0]!)) as { steps: { id: string; args: string[]; waitFor: string[] }[] };
  const image = graph.images[0]!;
  const step = config.steps.find((s) => s.id === image.reference)!;
  const resolveScript = config.steps.find((s) => s.id === "resolve")!.args[1]!.replaceAll("$$", "$");
  /**
   * The step's script run by bash as Cloud Build runs it ($$ is $), after the resolve step's
   * own script (the network faked: fakeRelease), which leaves `resolved` (these digests) and
   * the functions; with `resolved` undefined, no resolve step ran. A docker that answers as given.
   */
  const runStep = (resolved: string | undefined, manifest: string, others = "") => {
    const home = scratchFolder("builder-home-");
    const log = join(home, "docker.log");
    const docker = `docker() { echo "$*" >> ${JSON.stringify(log)}; if [ "$1 $2" = "manifest inspect" ]; then ${manifest}; fi; ${others} }; sleep() { :; }; export -f docker sleep\n`;
    const resolve = resolved === undefined ? "" : `PATH=${JSON.stringify(fakeRelease(resolved))}:"$PATH" bash -c "$RESOLVE" || exit 99\n`;
    const run = Bun.spawnSync(["bash", "-c", `${docker}${resolve}bash -c "$SCRIPT"`], { env: { ...process.env, HOME: home, RESOLVE: resolveScript, SCRIPT: step.args[1]!.replaceAll("$$", "$") } });
    writeFileSync(log, "", { flag: "a" });
    return { exit: run.exitCode, stderr: run.stderr.toString(), calls: readFileSync(log, "utf8").split("\n").filter(Boolean) };
  };

  test("the step builds under the content reference the resolve step read from the tree, not one written in the config", () => {
    expect(/inputs-[0-9a-f]{64}/.test(JSON.stringify(config))).toBe(false);
    const other = "f".repeat(64);
    const ran = runStep(`${image.id} ${other}\n`, 'echo "no such manifest: $3" >&2; return 1');
    expect(ran.exit).toBe(0);
    // --insecure: the fixture's registry is localhost, plain http.
    expect(ran.calls[0]).toBe(`manifest inspect --insecure ${image.repository}:inputs-${other}`);
    expect(ran.calls.some((call) => call.startsWith("build ") && call.includes(`-t ${image.repository}:inputs-${other}`))).toBe(true);
  });

  test("a registry that cannot answer is asked again, then the step fails with exit 4: nothing built, nothing pushed", () => {
    const ran = runStep(digestLines(graph, undefined), 'echo "Get https://r/v2/: dial tcp: connection refused" >&2; return 1');
    expect(ran.exit).toBe(4);
    expect(ran.calls.filter((call) => call.startsWith("manifest inspect"))).toHaveLength(4);
    expect(ran.calls.filter((call) => !call.startsWith("manifest inspect"))).toEqual([]);
    expect(ran.stderr).toContain("connection refused");
    expect(ran.stderr).toContain(`error: the registry did not answer for ${image.contentReference}: nothing was built or pushed`);
  });

  test("a push the registry fails is asked again: it goes through on a later try; four failures fail the step", () => {
    const absent = 'echo "no such manifest: $3" >&2; return 1';
    // The first two pushes of the content reference fail, as a registry's 5xx or "unknown blob" does.
    const counter = join(scratchFolder("pushes-"), "count");
    writeFileSync(counter, "");
    const flaky = `if [ "$1" = push ] && [ "$(wc -c < ${JSON.stringify(counter)})" -lt 2 ]; then printf x >> ${JSON.stringify(counter)}; return 1; fi;`;
    const recovered = runStep(digestLines(graph, undefined), absent, flaky);
    expect(recovered.exit).toBe(0);
    expect(recovered.calls.filter((call) => call === `push ${image.contentReference}`)).toHaveLength(3);
    expect(recovered.stderr).toContain(`failed, asked again: docker push ${image.contentReference} (try 1)`);
    const broken = runStep(digestLines(graph, undefined), absent, 'if [ "$1" = push ]; then return 1; fi;');
    expect(broken.exit).not.toBe(0);
    expect(broken.calls.filter((call) => call.startsWith("push "))).toEqual(Array(4).fill(`push ${image.contentReference}`));
  });

  test("no digest from the resolve step: the step fails, builds nothing", () => {
    const ran = runStep("", "return 1");
    expect(ran.exit).not.toBe(0);
    expect(ran.calls).toEqual([]);
    expect(ran.stderr).toContain(`no digest for ${image.id}`);
    // No resolve step at all: no functions either.
    const none = runStep(undefined, "return 1");
    expect(none.exit).toBe(2);
    expect(none.calls).toEqual([]);
    expect(none.stderr).toContain("the resolve step did not run");
  });

  test("a split graph in a pull request's build (_PUSH=false): a later config carries the bases an earlier one built, and pushes nothing", async () => {
    // With [publish], the configs read _PUSH, which a pull request's trigger sets to false.
    const published = await planText(`${readFileSync(join(REPO_ROOT, "fixtures/chain-build/matrix.toml"), "utf8")}\n[publish]\n`);
    const graph = published.graph;
    const split = emitLoaded(builtin("cloudbuild"), published.loaded, graph, ["max-steps=6", "triggers=false"]).filter((file) => file.path.endsWith(".json")).map(emittedText);
    expect(split.length).toBeGreaterThan(2);
    const configs = split.map((text) => JSON.parse(text) as { steps: { id: string; waitFor: string[] }[] });
    for (const each of configs) expect(each.steps.length).toBeLessThanOrEqual(6);
    // Each base an image of a later config builds FROM is built in that config, or carried into it.
    for (const each of configs) {
      const ids = new Set(each.steps.map((step) => step.id));
      for (const image of graph.images.filter((i) => ids.has(i.reference) && i.from !== null)) {
        const base = graph.images.find((i) => i.id === image.from)!;
        expect(ids.has(base.reference) || ids.has(`${base.reference}-carried`)).toBe(true);
      }
    }
    expect(configs.some((each) => each.steps.some((step) => step.id.endsWith("-carried")))).toBe(true);
    // An empty registry and nothing pushed: every image is still built, each FROM its base's content reference.
    const pullRequest = cloudbuildView(split, [], { _PUSH: "false" }, graph);
    expect(pullRequest.images.map((image) => image.reference).sort()).toEqual(graph.images.map((image) => image.reference).sort());
    expect(pullRequest.calls.filter((call) => call[0] === "push")).toEqual([]);
    // A push's build: the carried bases are pulled from the registry the earlier config pushed them to.
    const pushed = cloudbuildView(split, [], {}, graph);
    expect(pushed.images.map((image) => image.reference).sort()).toEqual(graph.images.map((image) => image.reference).sort());
  });

  test("a config never counts more than 300 steps, its setup steps included (login, resolve, buildx's builder)", async () => {
    const big = await planText(`repository = "r.io/x"\n[axes.v]\n${Array.from({ length: 600 }, (_, i) => `v${i} = {}`).join("\n")}\n[images.x]\ntag = "x-{v}"\nmatrix = ["v"]\nplatforms = ["linux/amd64", "linux/arm64"]\n`);
    const files = emitLoaded(builtin("cloudbuild"), big.loaded, big.graph, ["login-secret=projects/p/secrets/s/versions/1", "login-user=u"]).filter((file) => file.path.endsWith(".json"));
    const configs = files.map((file) => JSON.parse(emittedText(file)) as { steps: { id: string }[] });
    for (const each of configs) {
      expect(each.steps.length).toBeLessThanOrEqual(300);
      expect(each.steps.slice(0, 3).map((s) => s.id)).toEqual(["login", "resolve", "buildx"]);
    }
    expect(configs.reduce((sum, each) => sum + each.steps.length - 3, 0)).toBe(600);
  });
});

describe("GitHub: a job builds only when the registry lacks its content reference", () => {
  const workflow = parseYaml(emittedText(emitted("github")[0]!));
  // What the resolve job hands on, as `caliban-images resolve` prints it: the registry has pushedBefore.
  const resolved = resolveOutputs(graph, pushedBefore.map((image) => image.id));
  type Step = { id?: string; name?: string; if?: string; uses?: string; run?: string; env?: Record<string, string>; with?: Record<string, string> };
  // The jobs of a push (a pull request's own, pr_*, push nothing and point no tag).
  const buildJobs = Object.entries(workflow.jobs).filter(([name, job]) => (job as { strategy?: unknown }).strategy !== undefined && !name.startsWith("pr_")).map(([, job]) => job) as { env: Record<string, string>; strategy: { matrix: { include: Record<string, string>[] } }; steps: Step[] }[];
  /** The runner's context for an entry's steps on a push that publishes: the job's env evaluated first. */
  const contextOf = (job: (typeof buildJobs)[number], entry: Record<string, string>) => ({ github: { event_name: "push", sha: REVISION }, matrix: entry, needs: needsResolve(resolved), env: jobEnv(job.env, entry, resolved) });
  const stepEnv = (step: Step, context: Context) => Object.fromEntries(Object.entries(step.env ?? {}).map(([name, value]) => [name, String(evaluateTemplate(value, context) ?? "")]));

  test("the resolve job's answer decides: build-push-action, or the tag pointed at the image that is there; no registry is asked in the job", () => {
    const built: string[] = [];
    const retagged: string[][] = [];
    for (const job of buildJobs) {
      const answer = job.steps.find((step) => step.id === "registry")!;
      const point = job.steps.find((step) => step.name === "Point the tag at it")!;
      const build = job.steps.find((step) => step.uses?.startsWith("docker/build-push-action"))!;
      for (const entry of job.strategy.matrix.include) {
        const context = contextOf(job, entry);
        const outputFile = join(scratchFolder("gh-output-"), "output");
        writeFileSync(outputFile, "");
        // The step runs docker for nothing: the answer is the resolve job's.
        const [answerCalls] = runScripts([answer.run!], [], { ...context.env, ...stepEnv(answer, context), GITHUB_OUTPUT: outputFile });
        expect(answerCalls).toEqual([]);
        const has = /^has=(true|false)$/m.exec(readFileSync(outputFile, "utf8"))![1]!;
        const withHas = { ...context, steps: { registry: { outputs: { has } } } };
        if (truthy(evaluate(point.if!, withHas))) retagged.push(...runScripts([point.run!], [], { ...context.env, ...stepEnv(point, withHas) })[0]!);
        if (truthy(evaluate(build.if!, withHas))) built.push(entry.image!);
      }
    }
    expect(built.sort()).toEqual(missing.map((image) => image.reference).sort());
    expect(retagged.sort()).toEqual(pushedBefore.map((image) => ["buildx", "imagetools", "create", "--tag", image.reference, image.contentReference]).sort());
  });

  test("moving a tag the registry fails is asked again: the step goes through on a later try", () => {
    const point = buildJobs[0]!.steps.find((step) => step.name === "Point the tag at it")!;
    const directory = scratchFolder("flaky-tag-");
    const log = join(directory, "calls.log");
    // The first imagetools create fails, as a registry's 5xx does; sleep is instant.
    writeFileSync(join(directory, "docker"), `#!/bin/sh\necho "$*" >> ${JSON.stringify(log)}\nif [ ! -e ${JSON.stringify(join(directory, "failed"))} ]; then touch ${JSON.stringify(join(directory, "failed"))}; exit 1; fi\n`, { mode: 0o755 });
    writeFileSync(join(directory, "sleep"), "#!/bin/sh\nexit 0\n", { mode: 0o755 });
    const run = Bun.spawnSync(["bash", "-e", "-c", point.run!], { env: { ...process.env, PATH: `${directory}:${process.env.PATH}`, IMAGE: "r.io/x:a", CONTENT: "r.io/x:inputs-1" } });
    expect(run.exitCode).toBe(0);
    expect(readFileSync(log, "utf8").trim().split("\n")).toEqual(["buildx imagetools create --tag r.io/x:a r.io/x:inputs-1", "buildx imagetools create --tag r.io/x:a r.io/x:inputs-1"]);
    expect(run.stdout.toString()).toContain("::warning::failed, asked again: docker buildx imagetools create --tag r.io/x:a r.io/x:inputs-1 (try 1)");
  });

  test("build-push-action pushes both references, and a child's build args name its base's content reference, as this run's checkout gives them", () => {
    const job = buildJobs[1]!;
    const build = job.steps.find((step) => step.uses?.startsWith("docker/build-push-action"))!;
    const entry = job.strategy.matrix.include[0]!;
    const context = contextOf(job, entry);
    const image = graph.images.find((i) => i.id === entry.id)!;
    const base = graph.images.find((i) => i.id === image.from)!;
    expect(evaluateTemplate(build.with!.tags!, context)).toBe(`${image.reference}\n${image.contentReference}\n`);
    expect(String(evaluateTemplate(build.with!["build-args"]!, context)).split("\n")).toContain(`BASE_IMAGE=${base.contentReference}`);
    // The entry itself names no digest: an edited Dockerfile needs no new workflow.
    expect(JSON.stringify(entry)).not.toContain("inputs-");
  });
});

describe("make push", () => {
  const makefile = emittedText(emitted("make")[0]!);

  test.skipIf(!hasMake)("builds only what the registry lacks, each after its base; points the others' tags at what is there", () => {
    const view = makeView(makefile, graph, [], pushedBefore.map((image) => image.contentReference));
    expect([...view.order].sort()).toEqual(missing.map((image) => image.reference).sort());
    expect([...view.retags].sort()).toEqual(pushedBefore.map((image) => [image.reference, image.contentReference]).sort());
    expect([...view.pushes].sort()).toEqual(missing.flatMap((image) => [image.reference, image.contentReference]).sort());
    expect(makeView(makefile, graph, [], all).order).toEqual([]);
  });

  test.skipIf(!hasMake)("a push the registry fails is asked again (4 tries): the first failure of each push is survived, the run goes on", () => {
    // A docker whose first push of each reference fails, as a registry's 5xx does; sleep is instant.
    const directory = scratchFolder("flaky-push-");
    const log = join(directory, "calls.log");
    writeFileSync(
      join(directory, "docker"),
      `#!/bin/sh\necho "$*" >> ${JSON.stringify(log)}\nif [ "$1" = push ]; then mark=${JSON.stringify(directory)}/pushed-$(echo "$2" | tr '/:' '__'); if [ ! -e "$mark" ]; then touch "$mark"; exit 1; fi; fi\nexit 0\n`,
      { mode: 0o755 },
    );
    writeFileSync(join(directory, "sleep"), "#!/bin/sh\nexit 0\n", { mode: 0o755 });
    writeFileSync(join(directory, "Makefile"), makefile);
    const made = Bun.spawnSync(["make", "push", `DOCKER=${join(directory, "docker")}`, `CALIBAN_IMAGES=${fakeResolve(directory, graph)}`], { cwd: directory, env: { ...process.env, PATH: `${directory}:${process.env.PATH}` } });
    expect({ exit: made.exitCode, stderr: made.exitCode === 0 ? "" : made.stderr.toString() }).toEqual({ exit: 0, stderr: "" });
    const pushes = readFileSync(log, "utf8").split("\n").filter((line) => line.startsWith("push "));
    // Each reference pushed twice: the failure, then the try that went through.
    expect(pushes.length).toBe(2 * 2 * graph.images.length);
    expect(new Set(pushes).size).toBe(2 * graph.images.length);
    expect(made.stderr.toString()).toContain("failed, asked again (try 1)");
  });

  test.skipIf(!hasMake)("a tag the registry fails to move is asked again too: the first failure of each is survived", () => {
    // The registry has some images; a docker whose first `buildx imagetools create` of each tag fails.
    const directory = scratchFolder("flaky-tag-");
    const log = join(directory, "calls.log");
    writeFileSync(
      join(directory, "docker"),
      `#!/bin/sh\necho "$*" >> ${JSON.stringify(log)}\nif [ "$2" = imagetools ]; then mark=${JSON.stringify(directory)}/moved-$(echo "$5" | tr '/:' '__'); if [ ! -e "$mark" ]; then touch "$mark"; exit 1; fi; fi\nexit 0\n`,
      { mode: 0o755 },
    );
    writeFileSync(join(directory, "sleep"), "#!/bin/sh\nexit 0\n", { mode: 0o755 });
    writeFileSync(join(directory, "Makefile"), makefile);
    const made = Bun.spawnSync(["make", "push", `DOCKER=${join(directory, "docker")}`, `CALIBAN_IMAGES=${fakeResolve(directory, graph, pushedBefore.map((image) => image.contentReference))}`], { cwd: directory, env: { ...process.env, PATH: `${directory}:${process.env.PATH}` } });
    expect({ exit: made.exitCode, stderr: made.exitCode === 0 ? "" : made.stderr.toString() }).toEqual({ exit: 0, stderr: "" });
    const moves = readFileSync(log, "utf8").split("\n").filter((line) => line.startsWith("buildx imagetools create"));
    expect(moves.length).toBe(2 * pushedBefore.length);
    expect([...new Set(moves)].sort()).toEqual(pushedBefore.map((image) => `buildx imagetools create --tag ${image.reference} ${image.contentReference}`).sort());
  });
});
