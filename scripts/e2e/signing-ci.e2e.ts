// Signing and verified reuse on the CI emitters for real (issue 32): the signing fixture
// in a git repository on `main`, its pipeline emitted and committed, run against the e2e
// docker engine and a registry on 127.0.0.1 by what runs it here (Buildkite's steps as the
// agent runs them; GitLab's jobs by gitlab-ci-local; GitHub's workflow by github-run.ts,
// the key as repository secrets), cosign (Debian's) on the PATH and
// the key in COSIGN_PRIVATE_KEY as the CI's secret store gives it. A first build signs
// every image it pushes, each tag and the shared tag's list; cosign verifies each with the
// public key, bound to its inputs digest. A second build reuses them all. An unsigned image
// put under a content tag is rebuilt, not reused, and the resolve job's log says why.

import { describe, expect, test } from "bun:test";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { loopbackRegistry, shimmedTools } from "./pipeline-runs.ts";
import { cosignVerify, signingRepository } from "./cosign-run.ts";
import { runCli } from "../../fixtures/test-helpers.ts";
import { engineForFile } from "./docker-engine.ts";
import { runBuildkite } from "./buildkite-run.ts";
import { gitlabCiLocal } from "../validators/readback-gitlab.ts";
import { runWorkflow } from "./github-run.ts";

const { scratch, engine } = engineForFile("e2e-signing-ci-");

interface CiRun {
  readonly exit: number;
  readonly log: string;
}

async function signingOnCi(name: string, emitter: string, output: string, run: (work: string, env: Record<string, string>) => CiRun, more: { readonly options?: readonly string[]; readonly saysEachReused?: boolean } = {}): Promise<void> {
  const registry = await loopbackRegistry(join(scratch, name, "registry"));
  const work = join(scratch, name, "signing");
  // The key pair the fixture names, its private half in the CI's secret store.
  const { git, privateKey } = signingRepository(work, join(scratch, name, "cosign"));
  writeFileSync(join(work, ".gitignore"), ".gitlab-ci-local/\n.caliban-images/\n");
  const repository = `127.0.0.1:${registry.port}/signed`;
  expect(runCli(["emit", emitter, "--base-url", repository, "--option", "install-command=true", "--option", "cosign-install-command=true", ...(more.options ?? []).flatMap((option) => ["--option", option]), "-o", output], work).code).toBe(0);
  git("add", "-A");
  git("commit", "-q", "-m", "images");
  const { env } = shimmedTools(join(scratch, name, "bin"), engine());
  const withKey = { ...env, COSIGN_PRIVATE_KEY: privateKey, COSIGN_PASSWORD: "" };
  const planned = JSON.parse(runCli(["plan", "--json", "--base-url", repository], work).stdout) as { images: { id: string; tag: string; inputs: string; contentReference: string }[] };
  const verify = (reference: string, hex?: string) => cosignVerify(work, reference, hex);
  try {
    const first = run(work, withKey);
    expect({ exit: first.exit, log: first.exit === 0 ? "" : first.log }).toEqual({ exit: 0, log: "" });
    for (const image of planned.images) {
      const hex = image.inputs.slice("sha256:".length);
      for (const reference of [image.contentReference, `${repository}:${image.tag}`]) expect({ reference, ...verify(reference, hex) }).toMatchObject({ reference, exit: 0 });
    }
    expect(verify(`${repository}:base`).exit).toBe(0);
    // Each signature names the commit the CI built: explain plans the matrix there and finds each image.
    const commit = Bun.spawnSync(["git", "rev-parse", "HEAD"], { cwd: work, stdout: "pipe" }).stdout.toString().trim();
    for (const image of planned.images) {
      const explained = runCli(["explain", `${repository}:${image.tag}`, "--cosign", "cosign", "--json"], work);
      const told = explained.code === 0 ? (JSON.parse(explained.stdout) as { revision: string; image: { inputs: string } }) : { revision: explained.stderr, image: { inputs: "" } };
      expect({ tag: image.tag, revision: told.revision, inputs: told.image.inputs }).toEqual({ tag: image.tag, revision: commit, inputs: image.inputs });
    }

    const again = run(work, withKey);
    expect(again.exit).toBe(0);
    // A job script's line per image (GitLab's, Buildkite's); GitHub's jobs say it on stdout, unread here: resolve's count says it.
    if (more.saysEachReused !== false) for (const image of planned.images) expect(again.log).toContain(`${image.id}: the registry has its inputs digest`);
    expect(again.log).toContain(`${planned.images.length} of ${planned.images.length} images are in ${repository} by their inputs digest; 0 to build`);

    // Someone with push rights puts an unsigned image under app-x86_64's content tag.
    const app = planned.images.find((image) => image.tag === "app-x86_64")!;
    writeFileSync(join(scratch, name, "Dockerfile.evil"), "FROM scratch\nCOPY hello /evil\n");
    const evil = Bun.spawnSync([engine().docker, "buildx", "build", "--push", "-t", app.contentReference, "-f", join(scratch, name, "Dockerfile.evil"), join(work, "docker")], { env: withKey });
    expect({ exit: evil.exitCode, stderr: evil.exitCode === 0 ? "" : evil.stderr.toString() }).toEqual({ exit: 0, stderr: "" });
    const rebuilt = run(work, withKey);
    expect({ exit: rebuilt.exit, log: rebuilt.exit === 0 ? "" : rebuilt.log }).toEqual({ exit: 0, log: "" });
    expect(rebuilt.log).toContain(`${app.contentReference} is in the registry, but cosign does not verify it (no signatures found): rebuilt, not reused`);
    expect(verify(app.contentReference, app.inputs.slice("sha256:".length)).exit).toBe(0);
  } finally {
    await registry.stop();
  }
}

describe("signing on a CI, for real: every pushed image signed and verified; what does not verify is rebuilt", () => {
  test("Buildkite, its steps run as the agent runs them, the key in the agent's environment", async () => {
    await signingOnCi("buildkite", "buildkite", ".buildkite/pipeline.yml", (work, env) => {
      const result = runBuildkite(work, { branch: "main", pullRequest: null }, env, scratch);
      return { exit: result.exit, log: result.log };
    });
  }, 600_000);

  test("GitHub, the workflow's jobs run as a runner runs them, the key as repository secrets", async () => {
    const output = ".github/workflows/build-images.yml";
    await signingOnCi("github", "github", output, (work, env) => {
      const { COSIGN_PRIVATE_KEY, COSIGN_PASSWORD, ...rest } = env;
      // The key reaches the signing steps only as `secrets.*`: the jobs' environment has none of it.
      const result = runWorkflow(readFileSync(join(work, output), "utf8"), { cwd: work, event: "push", ref: "refs/heads/main", docker: join(scratch, "github", "bin", "docker"), env: rest, sha: Bun.spawnSync(["git", "rev-parse", "HEAD"], { cwd: work, stdout: "pipe" }).stdout.toString().trim(), secrets: { COSIGN_PRIVATE_KEY: COSIGN_PRIVATE_KEY!, COSIGN_PASSWORD: COSIGN_PASSWORD! } });
      return { exit: result.exit, log: result.exit === 0 ? result.log : `${result.stderr}\n${result.ran.join("\n")}` };
    }, { options: ["login=false"], saysEachReused: false });
  }, 600_000);

  test("GitLab, gitlab-ci-local running the pipeline, the key as a CI/CD variable", async () => {
    await signingOnCi("gitlab", "gitlab", ".gitlab-ci.yml", (work, env) => {
      const { COSIGN_PRIVATE_KEY, COSIGN_PASSWORD, ...rest } = env;
      const variables = Object.entries({ COSIGN_PRIVATE_KEY, COSIGN_PASSWORD }).flatMap(([name, value]) => ["--variable", `${name}=${value}`]);
      const result = gitlabCiLocal(work, ["--concurrency", "1", ...variables], rest as Record<string, string>);
      return { exit: result.exitCode, log: `${result.stdout}\n${result.stderr}` };
    });
  }, 600_000);
});
