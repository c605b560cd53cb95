// `npm run release` (scripts/release.ts) and the workflow that publishes it: the host's
// binary, built the release's way, runs and matches its SHA256SUMS line as sha256sum
// reads it; release.yml passes actionlint. (The other platforms' binaries are the same
// command with another --target: built by hand and by the workflow, not here, where
// each would download a Bun runtime.)

import { expect, test } from "bun:test";
import { chmodSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parse as parseYaml } from "yaml";
import packageJson from "../package.json" with { type: "json" };
import { actionlint } from "./validators/actionlint.ts";
import { ACTIONS } from "../emitters/github-actions.ts";
import { binaryName, RELEASE_PLATFORMS } from "./release.ts";
import { mainManifest, platformManifest, platformPackageName } from "./npm-packages.ts";
import { scratchFolder } from "./validators/scratch.ts";
import { REPO_ROOT } from "../fixtures/golden.ts";

const host = `${process.platform === "win32" ? "windows" : process.platform}-${process.arch}`;

test("the release names a binary per platform: linux x64 and arm64, macOS x64 and arm64, Windows x64", () => {
  expect(Object.keys(RELEASE_PLATFORMS).map(binaryName)).toEqual([
    "caliban-images-linux-x64",
    "caliban-images-linux-arm64",
    "caliban-images-darwin-x64",
    "caliban-images-darwin-arm64",
    "caliban-images-windows-x64.exe",
  ]);
});

test.skipIf(!(host in RELEASE_PLATFORMS))("the host's release binary runs, and SHA256SUMS checks it with sha256sum --check", () => {
  // A 108 MB binary: removed after, or every run of npm test leaves one in /tmp.
  const out = scratchFolder("release-");
  try {
    checkRelease(out);
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});

function checkRelease(out: string): void {
  const built = Bun.spawnSync([process.execPath, join(REPO_ROOT, "scripts", "release.ts"), "--out", out, "--platforms", host], { stderr: "pipe" });
  expect(built.exitCode).toBe(0);
  expect(readdirSync(out).sort()).toEqual(["SHA256SUMS", binaryName(host)]);
  expect(readFileSync(join(out, "SHA256SUMS"), "utf8")).toMatch(new RegExp(`^[0-9a-f]{64}  ${binaryName(host)}\\n$`));
  const checked = Bun.spawnSync(["sha256sum", "--check", "--strict", "SHA256SUMS"], { cwd: out });
  expect(checked.stdout.toString()).toBe(`${binaryName(host)}: OK\n`);
  expect(Bun.spawnSync([join(out, binaryName(host)), "--version"]).stdout.toString()).toBe(`caliban-images ${packageJson.version}\n`);
}

test("release.yml: actionlint finds nothing; on a v* tag it tests, builds and attaches every file of dist/release", async () => {
  const text = readFileSync(join(REPO_ROOT, ".github", "workflows", "release.yml"), "utf8");
  expect(await actionlint(text, ".github/workflows/release.yml")).toEqual([]);
  const workflow = parseYaml(text);
  expect(workflow.on).toEqual({ push: { tags: ["v*"] } });
  const runs = workflow.jobs.release.steps.map((step: { run?: string }) => step.run ?? "").join("\n");
  for (const command of ["npm ci", "npm test", "npm run release", "sha256sum --check --strict SHA256SUMS", "gh release create"]) expect(runs).toContain(command);
  expect(workflow.jobs.release.permissions).toEqual({ contents: "write" });
});

test("release.yml's npm job: after the release, its binaries checked and packed, NPM_TOKEN and OIDC for provenance on that job alone", () => {
  const workflow = parseYaml(readFileSync(join(REPO_ROOT, ".github", "workflows", "release.yml"), "utf8"));
  expect(workflow.permissions).toEqual({ contents: "read" });
  const job = workflow.jobs.npm;
  expect(job.needs).toBe("release");
  expect(job.permissions).toEqual({ contents: "read", "id-token": "write" });
  const steps = job.steps as { uses?: string; run?: string; with?: Record<string, unknown>; env?: Record<string, string> }[];
  expect(steps.find((step) => step.uses?.startsWith("actions/setup-node@"))?.with?.["registry-url"]).toBe("https://registry.npmjs.org");
  const runs = steps.map((step) => step.run ?? "").join("\n");
  for (const command of ["npm ci", 'gh release download "$TAG" --dir dist/release', "sha256sum --check --strict SHA256SUMS", "npm run npm-packages -- --binaries dist/release"]) expect(runs).toContain(command);
  expect(publishStep().env).toEqual({ NODE_AUTH_TOKEN: "${{ secrets.NPM_TOKEN }}" });
});

function publishStep(): { run: string; env: Record<string, string> } {
  const workflow = parseYaml(readFileSync(join(REPO_ROOT, ".github", "workflows", "release.yml"), "utf8"));
  return workflow.jobs.npm.steps.find((step: { run?: string }) => step.run?.includes("npm publish"));
}

/**
 * The publish step's script, run by bash as a runner runs it, over dist/npm as
 * npm-packages writes it, with a stand-in npm that records its calls and says that the
 * packages named in PUBLISHED are on the registry: the npm commands it ran.
 */
function publishCalls(version: string, published: string[]): string[] {
  const root = scratchFolder("release-publish-");
  writeFileSync(join(root, "package.json"), JSON.stringify({ version }));
  for (const platform of Object.keys(RELEASE_PLATFORMS)) {
    mkdirSync(join(root, "dist", "npm", platform), { recursive: true });
    writeFileSync(join(root, "dist", "npm", platform, "package.json"), JSON.stringify(platformManifest(platform)));
  }
  mkdirSync(join(root, "dist", "npm", "main"), { recursive: true });
  writeFileSync(join(root, "dist", "npm", "main", "package.json"), JSON.stringify(mainManifest()));
  mkdirSync(join(root, "bin"));
  writeFileSync(
    join(root, "bin", "npm"),
    `#!/bin/sh\necho "npm $*" >> "${root}/calls"\nif [ "$1" = view ]; then for name in $PUBLISHED; do [ "$2" = "$name@${version}" ] && echo ${version}; done; fi\nexit 0\n`,
  );
  chmodSync(join(root, "bin", "npm"), 0o755);
  const env = { PATH: `${join(root, "bin")}:${process.env.PATH}`, PUBLISHED: published.join(" "), NODE_AUTH_TOKEN: "token" };
  const result = Bun.spawnSync(["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", publishStep().run], { cwd: root, env, stdout: "pipe", stderr: "pipe" });
  expect(result.stderr.toString()).toBe("");
  expect(result.exitCode).toBe(0);
  return readFileSync(join(root, "calls"), "utf8").trimEnd().split("\n").filter((call) => call.startsWith("npm publish"));
}

test.skipIf(process.platform === "win32")("release.yml publishes each platform's package, then the main one; a re-run skips what is on the registry; a pre-release goes to the next tag", () => {
  const publish = (directory: string, tag = "latest") => `npm publish ./dist/npm/${directory} --access public --provenance --tag ${tag}`;
  const platforms = Object.keys(RELEASE_PLATFORMS).sort();
  expect(publishCalls(packageJson.version, [])).toEqual([...platforms.map((platform) => publish(platform)), publish("main")]);
  expect(publishCalls(packageJson.version, [platformPackageName("linux-x64"), platformPackageName("darwin-arm64")])).toEqual([
    ...platforms.filter((platform) => platform !== "linux-x64" && platform !== "darwin-arm64").map((platform) => publish(platform)),
    publish("main"),
  ]);
  expect(publishCalls("9.9.9-rc.1", [])).toEqual([...platforms.map((platform) => publish(platform, "next")), publish("main", "next")]);
});

test("release.yml pins every action by the full commit SHA of a release, checkout at the commit the emitted workflows use", () => {
  const workflow = parseYaml(readFileSync(join(REPO_ROOT, ".github", "workflows", "release.yml"), "utf8"));
  const uses = Object.values(workflow.jobs as Record<string, { steps: { uses?: string }[] }>).flatMap((job) => job.steps.flatMap((step) => (step.uses === undefined ? [] : [step.uses])));
  expect(uses.length).toBeGreaterThan(0);
  for (const action of uses) expect(action).toMatch(/^[\w.-]+\/[\w.-]+@[0-9a-f]{40}$/);
  expect(uses).toContain(ACTIONS.checkout.replace(/ # .*/, ""));
});
