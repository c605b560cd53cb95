// Build secrets on the CI emitters for real (issue 32): the secrets fixture in a git
// repository on `main`, its pipeline emitted and committed, run against the e2e docker
// engine and a registry on 127.0.0.1 by what runs it here (Buildkite's steps as the agent
// runs them; GitLab's jobs by gitlab-ci-local), each secret's value in the environment as
// the CI's secret store gives it. A branch's build hands the builds their secrets: the
// token image keeps the token's sha256, the tools images saw the pip index, and the file
// secret's path (every character a shell or YAML could misread) reached BuildKit whole.
// A pull or merge request's build of an edited token image hands it none, though the
// environment holds the value: its `required=true` mount fails the build, as docs/secrets.md
// says. No value is in the pipeline file, the log or the image's history.

import { describe, expect, test } from "bun:test";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { createHash, randomBytes } from "node:crypto";
import { fixtureRepository, loopbackRegistry, shimmedTools } from "./pipeline-runs.ts";
import { runCli } from "../../fixtures/test-helpers.ts";
import { engineForFile } from "./docker-engine.ts";
import { runBuildkite } from "./buildkite-run.ts";
import { gitlabCiLocal } from "../validators/readback-gitlab.ts";

const { scratch, engine } = engineForFile("e2e-secrets-ci-");

/** The file secret's path in the fixture (fixtures/secrets/matrix.toml). */
const FILE_SECRET = "keys/ngc $key's ${HOME} %{x} `id` #1 \\ back.txt";

interface CiRun {
  readonly exit: number;
  readonly log: string;
}

/**
 * The fixture through one CI: `run(work, env, pullRequest)` runs its pipeline. Checks a
 * branch's build, then a pull (merge) request's of an edited token image.
 */
async function secretsOnCi(name: string, emitter: string, output: string, run: (work: string, env: Record<string, string>, pullRequest: boolean) => CiRun): Promise<void> {
  const registry = await loopbackRegistry(join(scratch, name, "registry"));
  const work = join(scratch, name, "secrets");
  const git = fixtureRepository(work, "secrets");
  const token = `token-${randomBytes(16).toString("hex")}`;
  const pipIndex = `https://user:pip-${randomBytes(16).toString("hex")}@pypi.example/simple`;
  const fileValue = `ngc-${randomBytes(16).toString("hex")}`;
  // The file secret, committed here only because each step runs in a fresh clone: a real pipeline writes it in an earlier step.
  mkdirSync(dirname(join(work, FILE_SECRET)), { recursive: true });
  writeFileSync(join(work, FILE_SECRET), fileValue);
  writeFileSync(join(work, ".gitignore"), ".gitlab-ci-local/\n.caliban-images/\n");
  const repository = `127.0.0.1:${registry.port}/sec`;
  expect(runCli(["emit", emitter, "--base-url", repository, "--option", "install-command=true", "-o", output], work).code).toBe(0);
  git("add", "-A");
  git("commit", "-q", "-m", "images");
  const { calls, env } = shimmedTools(join(scratch, name, "bin"), engine());
  const withValues = { ...env, CALIBAN_E2E_TOKEN: token, PIP_INDEX_URL: pipIndex };
  const docker = (...args: string[]) => Bun.spawnSync([engine().docker, ...args], { env: withValues });
  const builds = () => readFileSync(calls, "utf8").split("\n").filter((line) => line.startsWith("build "));
  // A secret is no input of a layer's cache key: another case's token layer would be taken from the build cache.
  expect(docker("builder", "prune", "--all", "--force").exitCode).toBe(0);
  try {
    writeFileSync(calls, "");
    const branch = run(work, withValues, false);
    expect({ exit: branch.exit, log: branch.exit === 0 ? "" : branch.log }).toEqual({ exit: 0, log: "" });
    expect(builds().length).toBe(3);
    for (const build of builds()) expect(build).toContain("--secret");
    const read = (tag: string, file: string) => docker("run", "--rm", "--network=none", `${repository}:${tag}`, "/bin/busybox", "cat", file).stdout.toString().trim();
    expect(read("token", "/token.sha256")).toBe(createHash("sha256").update(token).digest("hex"));
    expect(read("tools-plain", "/tools.txt")).toBe("plain: a pip index");
    expect(read("tools-fancy", "/tools.txt")).toBe("fancy: a pip index");
    const history = docker("history", "--no-trunc", `${repository}:token`).stdout.toString();
    const places = { pipeline: readFileSync(join(work, output), "utf8"), log: branch.log, history };
    for (const value of [token, pipIndex, fileValue]) expect(Object.entries(places).filter(([, text]) => text.includes(value)).map(([place]) => place)).toEqual([]);

    // A pull request of an edited token image: built, handed no secret; its required mount fails it, nothing pushed.
    // The edit is before the RUN, so that BuildKit runs it again rather than take the branch build's layer from its cache.
    const dockerfile = join(work, "docker/token.Dockerfile");
    writeFileSync(dockerfile, readFileSync(dockerfile, "utf8").replace("COPY busybox /bin/busybox\n", "COPY busybox /bin/busybox\nENV EDITED=yes\n"));
    git("commit", "-q", "-am", "edit the token image");
    writeFileSync(calls, "");
    const pullRequest = run(work, withValues, true);
    expect(pullRequest.exit).not.toBe(0);
    // BuildKit's own words: the mount found no secret, though the environment held its value.
    expect(pullRequest.log).toContain("secret token: not found");
    expect(builds().length).toBeGreaterThan(0);
    for (const build of builds()) expect(build).not.toContain("--secret");
    expect(readFileSync(calls, "utf8")).not.toContain("push ");
    for (const value of [token, pipIndex, fileValue]) expect(pullRequest.log).not.toContain(value);
  } finally {
    await registry.stop();
  }
}

describe("build secrets on a CI, built for real: a branch's build reads them, a pull request's gets none", () => {
  test("Buildkite, its steps run as the agent runs them, the values in the agent's environment", async () => {
    await secretsOnCi("buildkite", "buildkite", ".buildkite/pipeline.yml", (work, env, pullRequest) => {
      const result = runBuildkite(work, { branch: "main", pullRequest: pullRequest ? "7" : null }, env, scratch);
      return { exit: result.exit, log: result.log };
    });
  }, 600_000);

  test("GitLab, gitlab-ci-local running the pipeline, the values as CI/CD variables", async () => {
    await secretsOnCi("gitlab", "gitlab", ".gitlab-ci.yml", (work, env, pullRequest) => {
      const { CALIBAN_E2E_TOKEN, PIP_INDEX_URL, ...rest } = env;
      const variables = Object.entries({ CALIBAN_E2E_TOKEN, PIP_INDEX_URL }).flatMap(([name, value]) => ["--variable", `${name}=${value}`]);
      const result = gitlabCiLocal(work, ["--concurrency", "1", ...variables, ...(pullRequest ? ["--variable", "CI_PIPELINE_SOURCE=merge_request_event"] : [])], rest as Record<string, string>);
      return { exit: result.exitCode, log: `${result.stdout}\n${result.stderr}` };
    });
  }, 600_000);
});
