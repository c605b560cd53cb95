// The host's npm packages as a user gets them (scripts/npm-packages.ts): built, packed by
// `npm pack` once a test file, and installed by `npm install` into an empty folder with the
// registry unreachable. Shared by the packages' test and the new user's hour (first-hour.test.ts).

import { expect } from "bun:test";
import { mkdirSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import packageJson from "../package.json" with { type: "json" };
import { REPO_ROOT } from "../fixtures/golden.ts";
import { RELEASE_PLATFORMS } from "./release.ts";

/** This machine's platform as the release names it (linux-x64, ...), and whether a package is made for it. */
export const host = `${process.platform === "win32" ? "windows" : process.platform}-${process.arch}`;
export const hostReleased = host in RELEASE_PLATFORMS;

/**
 * npm test's bound on a test (package.json's --timeout), given to the tests that pack and
 * install (about 8 s, then 5 s each), so that they run under it also when their file is run
 * alone, where bun's default is 5 s.
 */
export const NPM_TEST_TIMEOUT = Number(/--timeout (\d+)/.exec(packageJson.scripts.test)![1]);

/** A port no one listens on (discard): any request npm makes to the registry fails. */
export const UNREACHABLE_REGISTRY = "http://127.0.0.1:9/";

export interface PackedFile {
  path: string;
  mode: number;
}

export interface Packed {
  root: string;
  mainTarball: string;
  platformTarball: string;
  mainFiles: PackedFile[];
  platformFiles: PackedFile[];
}

/**
 * The host's packages, built and packed once for the test file that makes this (a 110 MB
 * binary, packed in about 8 s): call it at the file's top, and `remove` after its last
 * test. Their folder is no scratch folder: those go whenever a test file is done
 * (fixtures/test-cleanup.ts), and npm test's workers run files side by side.
 */
export function packer(): { packed: () => Packed; remove: () => void } {
  let packedOnce: Packed | undefined;
  return {
    packed: () => (packedOnce ??= pack()),
    remove: () => {
      if (packedOnce !== undefined) rmSync(packedOnce.root, { recursive: true, force: true });
    },
  };
}

function pack(): Packed {
  const root = mkdtempSync(join(tmpdir(), "npm-packages-"));
  const out = join(root, "out");
  const built = Bun.spawnSync([process.execPath, join(REPO_ROOT, "scripts", "npm-packages.ts"), "--out", out, "--platforms", host], { stdout: "pipe", stderr: "pipe" });
  if (built.exitCode !== 0) throw new Error(`npm-packages failed:\n${built.stdout}${built.stderr}`);
  expect(readdirSync(out).sort()).toEqual([host, "main"].sort());
  mkdirSync(join(root, "packs"));
  const pack = npm(root, root, ["pack", "--json", "--pack-destination", "packs", "./out/main", `./out/${host}`]);
  const [main, platform] = JSON.parse(pack.stdout) as { filename: string; files: PackedFile[] }[];
  return {
    root,
    mainTarball: join(root, "packs", main!.filename),
    platformTarball: join(root, "packs", platform!.filename),
    mainFiles: main!.files,
    platformFiles: platform!.files,
  };
}

/**
 * Runs npm in DIRECTORY, configured by nothing of this machine's or of a parent `npm
 * test` (no npm_* variable, no ~/.npmrc, no proxy), with a cache of its own in ROOT and
 * the unreachable registry; fails the test when npm does.
 */
export function npm(root: string, directory: string, args: string[]): { stdout: string; stderr: string } {
  const inherited = Object.entries(process.env).filter(([name, value]) => value !== undefined && !/^(npm_|(https?|all|no)_proxy$)/i.test(name));
  const env = {
    ...Object.fromEntries(inherited),
    npm_config_registry: UNREACHABLE_REGISTRY,
    npm_config_cache: join(root, "npm-cache"),
    npm_config_userconfig: join(root, "no-npmrc"),
    npm_config_update_notifier: "false",
    npm_config_fetch_retries: "0",
  };
  const run = Bun.spawnSync(["npm", ...args], { cwd: directory, env, stdout: "pipe", stderr: "pipe" });
  const result = { stdout: run.stdout.toString(), stderr: run.stderr.toString() };
  if (run.exitCode !== 0) throw new Error(`npm ${args.join(" ")} failed (exit ${run.exitCode}):\n${result.stderr}`);
  return result;
}

export function run(command: string, args: string[], cwd: string): { exitCode: number | null; stdout: string; stderr: string } {
  const result = Bun.spawnSync([command, ...args], { cwd, stdout: "pipe", stderr: "pipe" });
  return { exitCode: result.exitCode, stdout: result.stdout.toString(), stderr: result.stderr.toString() };
}

