// `npm run npm-packages` (scripts/npm-packages.ts), tested on the path a user takes: the
// host's platform package and the main package, packed by npm pack, installed by npm
// install into an empty folder with the registry unreachable, and the installed command
// run. (The other platforms' packages are the same files around another --target's
// binary: built by the release workflow, not here, where each would download a Bun runtime.)

import { afterAll, expect, test } from "bun:test";
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import packageJson from "../package.json" with { type: "json" };
import { REPO_ROOT } from "../fixtures/golden.ts";
import { LAUNCHER, MAIN_PACKAGE, mainManifest, packagedBinary, platformManifest, platformPackageName, VERSION } from "./npm-packages.ts";
import { binaryName, RELEASE_PLATFORMS } from "./release.ts";
import { scratchFolder } from "./validators/scratch.ts";
import { host, hostReleased, npm, NPM_TEST_TIMEOUT, packer, run, UNREACHABLE_REGISTRY, type PackedFile } from "./npm-install-run.ts";

const { packed, remove } = packer();
afterAll(remove);

const skipped = hostReleased ? "" : ` (skipped: this machine is ${host}, not a release platform: ${Object.keys(RELEASE_PLATFORMS).join(", ")})`;


test("each platform package is SCOPE/PLATFORM, from package.json's npmPackages, with npm's os and cpu for it", () => {
  const fields = Object.keys(RELEASE_PLATFORMS).map((platform) => {
    const { name, os, cpu, libc } = platformManifest(platform) as { name: string; os: string[]; cpu: string[]; libc?: string[] };
    return { name, os, cpu, libc, binary: packagedBinary(platform) };
  });
  const scope = packageJson.npmPackages.platformScope;
  expect(fields).toEqual([
    { name: `${scope}/linux-x64`, os: ["linux"], cpu: ["x64"], libc: ["glibc"], binary: "bin/caliban-images" },
    { name: `${scope}/linux-arm64`, os: ["linux"], cpu: ["arm64"], libc: ["glibc"], binary: "bin/caliban-images" },
    { name: `${scope}/darwin-x64`, os: ["darwin"], cpu: ["x64"], libc: undefined, binary: "bin/caliban-images" },
    { name: `${scope}/darwin-arm64`, os: ["darwin"], cpu: ["arm64"], libc: undefined, binary: "bin/caliban-images" },
    { name: `${scope}/windows-x64`, os: ["win32"], cpu: ["x64"], libc: undefined, binary: "bin/caliban-images.exe" },
  ]);
});

test("the main package: the launcher as its bin, every platform package optional at exactly its version, no install script", () => {
  const manifest = mainManifest();
  expect(manifest).toMatchObject({ name: packageJson.npmPackages.name, version: packageJson.version, license: packageJson.license, bin: { "caliban-images": LAUNCHER } });
  expect(manifest.optionalDependencies).toEqual(Object.fromEntries(Object.keys(RELEASE_PLATFORMS).map((platform) => [platformPackageName(platform), packageJson.version])));
  expect(manifest.scripts).toBeUndefined();
  // npm's provenance requires the repository the workflow runs in.
  expect((manifest.repository as { url: string }).url).toBe(`git+${packageJson.repository.url}.git`);
});

test("an unknown platform is refused before anything is written", () => {
  const out = join(scratchFolder("npm-packages-refused-"), "out");
  const run = Bun.spawnSync([process.execPath, join(REPO_ROOT, "scripts", "npm-packages.ts"), "--out", out, "--platforms", "linux-x64,plan9-mips"], { stderr: "pipe" });
  expect(run.exitCode).toBe(2);
  expect(run.stderr.toString()).toBe("error: no release platform plan9-mips: linux-x64, linux-arm64, darwin-x64, darwin-arm64, windows-x64\n");
  expect(existsSync(out)).toBe(false);
});

test("--binaries DIR: each platform's package holds that release file, byte for byte and executable; the main package names all five", () => {
  const root = scratchFolder("npm-packages-binaries-");
  mkdirSync(join(root, "release"));
  for (const platform of Object.keys(RELEASE_PLATFORMS)) writeFileSync(join(root, "release", binaryName(platform)), `binary of ${platform}\n`);
  const out = join(root, "out");
  const run = Bun.spawnSync([process.execPath, join(REPO_ROOT, "scripts", "npm-packages.ts"), "--out", out, "--binaries", join(root, "release")], { stderr: "pipe" });
  expect(run.exitCode).toBe(0);
  expect(readdirSync(out).sort()).toEqual([...Object.keys(RELEASE_PLATFORMS), "main"].sort());
  for (const platform of Object.keys(RELEASE_PLATFORMS)) {
    const binary = join(out, platform, packagedBinary(platform));
    expect(readFileSync(binary, "utf8")).toBe(`binary of ${platform}\n`);
    expect(statSync(binary).mode & 0o777).toBe(0o755);
    expect(JSON.parse(readFileSync(join(out, platform, "package.json"), "utf8"))).toEqual(platformManifest(platform));
  }
  expect(JSON.parse(readFileSync(join(out, "main", "package.json"), "utf8"))).toEqual(mainManifest());
  expect(readFileSync(join(out, "main", LAUNCHER), "utf8")).toBe(readFileSync(join(REPO_ROOT, "scripts", "npm-launcher.cjs"), "utf8"));
  // A release folder without one of the binaries: said, and exit 1.
  rmSync(join(root, "release", binaryName("darwin-x64")));
  const incomplete = Bun.spawnSync([process.execPath, join(REPO_ROOT, "scripts", "npm-packages.ts"), "--out", out, "--binaries", join(root, "release")], { stderr: "pipe" });
  expect(incomplete.exitCode).toBe(1);
  expect(incomplete.stderr.toString()).toContain(binaryName("darwin-x64"));
});

test.skipIf(!hostReleased)(`npm pack: the platform tarball holds the binary (mode 0755), the main one the launcher, each its package.json and README, nothing else${skipped}`, () => {
  const { mainFiles, platformFiles, mainTarball, platformTarball } = packed();
  const listing = (files: PackedFile[]) => files.map(({ path, mode }) => `${path} ${mode.toString(8)}`).sort();
  expect(listing(platformFiles)).toEqual(["README.md 644", `${packagedBinary(host)} 755`, "package.json 644"]);
  expect(listing(mainFiles)).toEqual(["README.md 644", `${LAUNCHER} 755`, "package.json 644"]);
  expect(mainTarball.endsWith(`${MAIN_PACKAGE}-${VERSION}.tgz`)).toBe(true);
  expect(platformTarball.endsWith(`-${host}-${VERSION}.tgz`)).toBe(true);
}, NPM_TEST_TIMEOUT);

test.skipIf(!hostReleased)(`npm install of the two tarballs into an empty folder, the registry unreachable: --version and plan run the binary${skipped}`, async () => {
  // The registry's address refuses connections: whatever npm asks it fails.
  await expect(fetch(UNREACHABLE_REGISTRY)).rejects.toThrow();
  const { root, mainTarball, platformTarball } = packed();
  const app = join(root, "app");
  mkdirSync(app);
  const install = npm(root, app, ["install", "--prefix", app, "--no-audit", "--no-fund", "--loglevel=http", mainTarball, platformTarball]);
  // npm asks the registry (this one: the setting took) for the other platforms'
  // packuments, to learn their os and cpu; each request fails, and npm skips those
  // packages as the optional dependencies they are. Nothing else was asked of the
  // registry, so the install needed nothing from it.
  const others = Object.keys(RELEASE_PLATFORMS).filter((platform) => platform !== host).map(platformPackageName);
  const asked = [...install.stderr.matchAll(/127\.0\.0\.1:9\/(\S+)/g)].map((match) => decodeURIComponent(match[1]!));
  expect(asked.length).toBeGreaterThan(0);
  for (const name of asked) expect(others).toContain(name);
  const lock = JSON.parse(readFileSync(join(app, "package-lock.json"), "utf8")) as { packages: Record<string, { resolved?: string; hasInstallScript?: boolean }> };
  expect(Object.keys(lock.packages).sort()).toEqual(["", `node_modules/${MAIN_PACKAGE}`, `node_modules/${platformPackageName(host)}`].sort());
  for (const [path, entry] of Object.entries(lock.packages)) {
    if (path !== "") expect(entry.resolved).toStartWith("file:");
    expect(entry.hasInstallScript).toBeUndefined();
  }

  const command = join(app, "node_modules", ".bin", "caliban-images");
  expect(run(command, ["--version"], app)).toEqual({ exitCode: 0, stdout: `caliban-images ${VERSION}\n`, stderr: "" });
  writeFileSync(join(app, "python.Dockerfile"), "ARG PYTHON_VERSION\nFROM python:${PYTHON_VERSION}-slim\n");
  writeFileSync(
    join(app, "matrix.toml"),
    `repository = "ghcr.io/example/images"\n\n[axes.python]\npy311 = { PYTHON_VERSION = "3.11" }\npy312 = { PYTHON_VERSION = "3.12" }\n\n` +
      `[images.python]\ndockerfile = "python.Dockerfile"\ntag = "py-{python}"\nmatrix = ["python"]\nargs = ["python"]\n`,
  );
  const plan = run(command, ["plan", "--json"], app);
  expect(plan.exitCode).toBe(0);
  expect((JSON.parse(plan.stdout) as { images: { reference: string }[] }).images.map((image) => image.reference)).toEqual(["ghcr.io/example/images:py-py311", "ghcr.io/example/images:py-py312"]);
  // The binary's own exit code and messages come through the launcher.
  const missing = run(command, ["plan", "--matrix", "absent.toml"], app);
  expect(missing.exitCode).toBe(2);
  expect(missing.stderr).toStartWith("error: ");
}, NPM_TEST_TIMEOUT);

test.skipIf(!hostReleased)(`installed with --omit=optional, the command names the missing platform package and exits 2${skipped}`, () => {
  const { root, mainTarball } = packed();
  const app = join(root, "app-omit-optional");
  mkdirSync(app);
  npm(root, app, ["install", "--prefix", app, "--offline", "--omit=optional", "--no-audit", "--no-fund", mainTarball]);
  expect(readdirSync(join(app, "node_modules")).filter((name) => !name.startsWith("."))).toEqual([MAIN_PACKAGE]);
  const result = run(join(app, "node_modules", ".bin", "caliban-images"), ["--version"], app);
  expect(result.exitCode).toBe(2);
  expect(result.stdout).toBe("");
  expect(result.stderr).toStartWith(`error: caliban-images ${VERSION} has no binary here: its package for ${host}, ${platformPackageName(host)}, is not installed.`);
  expect(result.stderr).toContain("--omit=optional");
  expect(result.stderr).toContain(`npm install ${platformPackageName(host)}@${VERSION}`);
}, NPM_TEST_TIMEOUT);
