// `npm run release`: the standalone binary for each platform a team's CI or laptop runs,
// compiled as `npm run build` compiles it (scripts/compile.ts, with --target), each
// named for its platform, and SHA256SUMS beside them (sha256sum's format: `sha256sum
// --check` reads it). .github/workflows/release.yml attaches them to the GitHub release
// of a v* tag; the emitted workflows download them (emitters/github-install.ts).
//
//   bun scripts/release.ts [--out DIR] [--platforms linux-x64,darwin-arm64,...]

import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { compileCli } from "./compile.ts";

/** Platform name (in the file name) → Bun's compile target. */
export const RELEASE_PLATFORMS: Readonly<Record<string, string>> = {
  "linux-x64": "bun-linux-x64",
  "linux-arm64": "bun-linux-arm64",
  "darwin-x64": "bun-darwin-x64",
  "darwin-arm64": "bun-darwin-arm64",
  "windows-x64": "bun-windows-x64",
};

export function binaryName(platform: string): string {
  return `caliban-images-${platform}${platform.startsWith("windows-") ? ".exe" : ""}`;
}

/**
 * Compiles the CLI for PLATFORM (a key of RELEASE_PLATFORMS) into OUTFILE, bun build's
 * messages on this process's stderr; returns bun build's exit code. The npm packages
 * (scripts/npm-packages.ts) compile with this too, so both carry the same binary.
 */
export function compileBinary(platform: string, outfile: string): number {
  const target = RELEASE_PLATFORMS[platform];
  if (target === undefined) throw new Error(`no release platform ${platform}`);
  return compileCli(outfile, ["--sourcemap=none", `--target=${target}`]);
}

/** --platforms a,b (default: every release platform); an unknown one is said, and exit 2, before anything is written. */
export function platformsOption(value: string | undefined): string[] {
  const platforms = value === undefined ? Object.keys(RELEASE_PLATFORMS) : value.split(",");
  for (const platform of platforms) {
    if (!(platform in RELEASE_PLATFORMS)) {
      console.error(`error: no release platform ${platform}: ${Object.keys(RELEASE_PLATFORMS).join(", ")}`);
      process.exit(2);
    }
  }
  return platforms;
}

/** SHA256SUMS: `HEX  NAME` per file, in name order, as sha256sum writes it. */
export function checksums(directory: string, names: readonly string[]): string {
  return [...names]
    .sort()
    .map((name) => `${new Bun.CryptoHasher("sha256").update(readFileSync(join(directory, name))).digest("hex")}  ${name}\n`)
    .join("");
}

if (import.meta.main) {
  const { values } = parseArgs({ options: { out: { type: "string" }, platforms: { type: "string" } } });
  const out = values.out ?? join(import.meta.dir, "..", "dist", "release");
  const platforms = platformsOption(values.platforms);
  // A folder of this release only: no binary of an earlier one is listed in its SHA256SUMS.
  rmSync(out, { recursive: true, force: true });
  mkdirSync(out, { recursive: true });
  for (const platform of platforms) {
    const exitCode = compileBinary(platform, join(out, binaryName(platform)));
    if (exitCode !== 0) process.exit(exitCode);
  }
  const names = readdirSync(out).filter((name) => name.startsWith("caliban-images-"));
  writeFileSync(join(out, "SHA256SUMS"), checksums(out, names));
  console.error(`wrote ${names.length} binaries and SHA256SUMS to ${out}`);
}
