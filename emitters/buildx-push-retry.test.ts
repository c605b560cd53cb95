// A registry that fails a buildx build's push (a 5xx mid-push, as Debian's docker-registry
// answered our own e2e run) is asked again, as a `docker push` is: make's `push/ID` (run by
// real make) and a GitLab job (its script as gitlab-ci-local previews it, run by bash; a
// Buildkite step's is the same text, emitters/ci-job.ts). GitHub's retried build step is in
// github-retry.test.ts, Cloud Build's `retry` in its step script in skip.test.ts's config.
// The build arg holds ',' and ')', which make's $(call ...) would split: it must reach docker
// whole on every try.

import { describe, expect, test } from "bun:test";
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { emitLoaded } from "../cli/emit.ts";
import { builtin, planText } from "../fixtures/test-helpers.ts";
import { fakeResolve } from "../scripts/validators/readback-make.ts";
import { gitlabCheckout, gitlabPreview, jobScript } from "../scripts/validators/readback-gitlab.ts";
import { scratchFolder } from "../scripts/validators/scratch.ts";
import { hasMake } from "../scripts/validators/tools.ts";
import { emittedText } from "./contract.ts";

const MATRIX = `repository = "r.io/p/img"
[axes.v]
one = { NOTE = "a,b (c" }
[images.app]
matrix = ["v"]
tag = "app-{v}"
platforms = ["linux/amd64", "linux/arm64"]
`;
const planned = await planText(MATRIX);
const image = planned.graph.images[0]!;

/**
 * A docker whose first `failures` builds that push fail as a registry's 500 does (each
 * call's words recorded, one per line, calls apart), and an instant `sleep`, in `directory`.
 */
function flakyDocker(directory: string, failures: number): { path: string; pushes: () => string[][] } {
  const log = join(directory, "calls.log");
  const count = join(directory, "failed");
  writeFileSync(log, "");
  writeFileSync(count, "");
  const path = join(directory, "docker");
  writeFileSync(
    path,
    `#!/bin/sh
for word in "$@"; do printf '%s\\n' "$word" >> '${log}'; done
printf '\\036\\n' >> '${log}'
case " $* " in *" --push "*)
  if [ "$(wc -c < '${count}')" -lt ${failures} ]; then printf x >> '${count}'; echo "unexpected status from HEAD request: 500 Internal Server Error" >&2; exit 1; fi ;;
esac
exit 0
`,
  );
  chmodSync(path, 0o755);
  writeFileSync(join(directory, "sleep"), "#!/bin/sh\nexit 0\n", { mode: 0o755 });
  const calls = () =>
    readFileSync(log, "utf8")
      .split("\x1e\n")
      .filter(Boolean)
      .map((call) => call.split("\n").filter((word, i, words) => i < words.length - 1 || word !== ""));
  return { path, pushes: () => calls().filter((call) => call[0] === "buildx" && call.includes("--push")) };
}

interface Run {
  readonly exit: number | null;
  readonly stderr: string;
  readonly pushes: string[][];
}

/** The two cases for a pipeline whose run, with a docker failing the first `failures` pushes, is `run`. */
function asksAgain(run: (failures: number) => Run, askedAgain: string): void {
  test("twice failed, the third try pushes and the run succeeds, each try with the build arg whole", () => {
    const ran = run(2);
    expect({ exit: ran.exit, stderr: ran.exit === 0 ? "" : ran.stderr }).toEqual({ exit: 0, stderr: "" });
    expect(ran.pushes).toHaveLength(3);
    for (const push of ran.pushes) expect([push.includes("NOTE=a,b (c"), push.includes(image.contentReference)]).toEqual([true, true]);
    expect(ran.stderr).toContain(askedAgain);
  });

  test("four failures fail the run, with the registry's words", () => {
    const ran = run(4);
    expect(ran.exit).not.toBe(0);
    expect(ran.pushes).toHaveLength(4);
    expect(ran.stderr).toContain("500 Internal Server Error");
  });
}

describe.skipIf(!hasMake)("make push: a buildx push the registry fails is asked again", () => {
  const makefile = emittedText(emitLoaded(builtin("make"), planned.loaded, planned.graph, [])[0]!);
  asksAgain((failures) => {
    const directory = scratchFolder("buildx-retry-make-");
    const docker = flakyDocker(directory, failures);
    writeFileSync(join(directory, "Makefile"), makefile);
    const made = Bun.spawnSync(["make", "push", `DOCKER=${docker.path}`, `CALIBAN_IMAGES=${fakeResolve(directory, planned.graph)}`], { cwd: directory, env: { ...process.env, PATH: `${directory}:${process.env.PATH}` } });
    return { exit: made.exitCode, stderr: made.stderr.toString(), pushes: docker.pushes() };
  }, "failed, asked again (try 2)");
});

describe("GitLab: a buildx push the registry fails is asked again (the job's script as gitlab-ci-local previews it, run by bash)", () => {
  const pipeline = emittedText(emitLoaded(builtin("gitlab"), planned.loaded, planned.graph, [])[0]!);
  const script = jobScript(gitlabPreview(gitlabCheckout(pipeline))[image.id]!);
  asksAgain((failures) => {
    const directory = scratchFolder("buildx-retry-gitlab-");
    const docker = flakyDocker(directory, failures);
    mkdirSync(join(directory, ".caliban-images"));
    writeFileSync(join(directory, ".caliban-images", "resolved"), `${image.id} ${image.inputs.slice("sha256:".length)}\n`);
    const run = Bun.spawnSync(["bash", "-e", "-c", script], { cwd: directory, env: { ...process.env, PATH: `${directory}:${process.env.PATH}`, HOME: directory, DOCKER: docker.path, CALIBAN_PUSH: "true" } });
    return { exit: run.exitCode, stderr: run.stderr.toString(), pushes: docker.pushes() };
  }, "failed, asked again: ");
});
