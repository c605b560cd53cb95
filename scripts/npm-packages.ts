// `npm run npm-packages`: the npm packages that install the compiled CLI with no build,
// as esbuild's and Biome's do. One package per platform of the release (its `os` and
// `cpu`, the binary in bin/), and the main package: its bin a Node.js launcher
// (scripts/npm-launcher.cjs) that runs the platform package npm installed, its
// optionalDependencies every platform package at exactly its version. npm installs only
// the platform package whose os and cpu match; no package has an install script, so an
// install runs no code. .github/workflows/release.yml publishes them on a v* tag.
//
//   bun scripts/npm-packages.ts [--out DIR] [--platforms linux-x64,...] [--binaries DIR]
//
// DIR/main is the main package, DIR/<platform> each platform's (default DIR: dist/npm).
// The binaries are compiled as `npm run release` compiles them, or, with --binaries, taken
// from a folder of the release's files (scripts/release.ts's names), so that the packages
// carry the very binaries of the GitHub release. --platforms builds some platform
// packages; the main package still names all of them.
//
// The names come from package.json, so a fork changes them there once: npmPackages.name
// (the main package, the one users install), npmPackages.platformScope (the platform
// packages are SCOPE/linux-x64, ...), repository.url (npm's provenance checks that it is
// the repository the workflow ran in), and version, license and description.

import { chmodSync, copyFileSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import packageJson from "../package.json" with { type: "json" };
import { binaryName, compileBinary, platformsOption, RELEASE_PLATFORMS } from "./release.ts";

export const MAIN_PACKAGE = packageJson.npmPackages.name;
export const VERSION = packageJson.version;
const REPOSITORY_URL = packageJson.repository.url;

/** The npm package holding PLATFORM's binary, e.g. @caliban-images/linux-x64. */
export function platformPackageName(platform: string): string {
  return `${packageJson.npmPackages.platformScope}/${platform}`;
}

/** Where a platform package keeps the binary, from its folder. */
export function packagedBinary(platform: string): string {
  return platform.startsWith("windows-") ? "bin/caliban-images.exe" : "bin/caliban-images";
}

/** Where the main package keeps the launcher, from its folder. */
export const LAUNCHER = "bin/caliban-images.cjs";

// The fields every package shares, after name, version and description. The URL is
// written as npm normalises it (git+https://....git), or npm publish warns that it rewrote it.
const COMMON = {
  license: packageJson.license,
  homepage: REPOSITORY_URL,
  repository: { type: "git", url: `git+${REPOSITORY_URL.replace(/\.git$/, "")}.git` },
};

/** PLATFORM's package.json: npm installs the package only where os, cpu (and libc) match. */
export function platformManifest(platform: string): Record<string, unknown> {
  const [system, cpu] = platform.split("-") as [string, string];
  const os = system === "windows" ? "win32" : system;
  return {
    name: platformPackageName(platform),
    version: VERSION,
    description: `The ${MAIN_PACKAGE} binary for ${describe(platform)}: install ${MAIN_PACKAGE}, which runs it.`,
    ...COMMON,
    os: [os],
    cpu: [cpu],
    // Bun's linux binaries link glibc: on musl (Alpine) npm skips the package, and the
    // launcher says there is none, rather than the binary failing with "not found".
    ...(os === "linux" ? { libc: ["glibc"] } : {}),
    // Yarn's Plug'n'Play would otherwise leave the binary inside a zip, where it cannot run.
    preferUnplugged: true,
  };
}

/** The main package's package.json: the launcher as its bin, every platform package optional. */
export function mainManifest(): Record<string, unknown> {
  return {
    name: MAIN_PACKAGE,
    version: VERSION,
    description: packageJson.description,
    ...COMMON,
    bin: { "caliban-images": LAUNCHER },
    engines: { node: packageJson.engines.node },
    optionalDependencies: Object.fromEntries(Object.keys(RELEASE_PLATFORMS).map((platform) => [platformPackageName(platform), VERSION])),
  };
}

function describe(platform: string): string {
  const [system, cpu] = platform.split("-") as [string, string];
  return `${{ linux: "Linux", darwin: "macOS", windows: "Windows" }[system] ?? system} ${cpu}`;
}

function platformReadme(platform: string): string {
  return `# ${platformPackageName(platform)}

The \`caliban-images\` command compiled for ${describe(platform)}, as a standalone binary
(\`${packagedBinary(platform)}\`).

Install [\`${MAIN_PACKAGE}\`](https://www.npmjs.com/package/${MAIN_PACKAGE}) rather than this
package: it depends on the package of every platform, npm installs the one that matches
the machine, and its \`caliban-images\` command runs that binary.

${REPOSITORY_URL}
`;
}

function mainReadme(): string {
  const platforms = Object.keys(RELEASE_PLATFORMS);
  return `# ${MAIN_PACKAGE}

${packageJson.description}

\`\`\`sh
npm install -g ${MAIN_PACKAGE}
caliban-images --version
\`\`\`

or, without installing it, \`npx ${MAIN_PACKAGE}@${VERSION} plan\`; in a project,
\`npm install -D ${MAIN_PACKAGE}\`.

The command is a standalone binary, compiled for each platform (${platforms.join(", ")}),
each in a package of its own (\`${platformPackageName(platforms[0]!)}\`, ...) that this one
names as an optional dependency: npm installs only the one for the machine, and this
package's \`caliban-images\` command, a small Node.js launcher, runs it. Nothing runs at
install time. An install with \`--omit=optional\` (or \`--no-optional\`) has no binary:
the command then says so and exits 2.

Documentation: ${REPOSITORY_URL}
`;
}

function writeJson(path: string, value: unknown): void {
  writeFileSync(path, `${JSON.stringify(value, null, 2)}\n`);
}

/** PLATFORM's package in DIRECTORY, its binary compiled, or copied from BINARIES (a release folder). */
export function writePlatformPackage(directory: string, platform: string, binaries?: string): void {
  mkdirSync(join(directory, "bin"), { recursive: true });
  const binary = join(directory, packagedBinary(platform));
  if (binaries === undefined) {
    const exitCode = compileBinary(platform, binary);
    if (exitCode !== 0) throw new Error(`bun build failed for ${platform} (exit ${exitCode})`);
  } else {
    copyFileSync(join(binaries, binaryName(platform)), binary);
  }
  // npm pack keeps the executable bit (as 0755); without it the launcher's spawn fails with EACCES.
  chmodSync(binary, 0o755);
  writeJson(join(directory, "package.json"), platformManifest(platform));
  writeFileSync(join(directory, "README.md"), platformReadme(platform));
}

/** The main package in DIRECTORY: package.json, README.md and the launcher. */
export function writeMainPackage(directory: string): void {
  mkdirSync(join(directory, "bin"), { recursive: true });
  const launcher = join(directory, LAUNCHER);
  writeFileSync(launcher, readFileSync(join(import.meta.dir, "npm-launcher.cjs")));
  chmodSync(launcher, 0o755);
  writeJson(join(directory, "package.json"), mainManifest());
  writeFileSync(join(directory, "README.md"), mainReadme());
}

if (import.meta.main) {
  const { values } = parseArgs({ options: { out: { type: "string" }, platforms: { type: "string" }, binaries: { type: "string" } } });
  const out = values.out ?? join(import.meta.dir, "..", "dist", "npm");
  const platforms = platformsOption(values.platforms);
  // This version's packages only: nothing of an earlier run is published with them.
  rmSync(out, { recursive: true, force: true });
  try {
    for (const platform of platforms) writePlatformPackage(join(out, platform), platform, values.binaries);
  } catch (error) {
    console.error(`error: ${(error as Error).message}`);
    process.exit(1);
  }
  writeMainPackage(join(out, "main"));
  console.error(`wrote ${platforms.map(platformPackageName).join(", ")} and ${MAIN_PACKAGE} ${VERSION} to ${out}`);
}
