#!/usr/bin/env node
// The `caliban-images` command of the npm package (scripts/npm-packages.ts ships this
// file as its bin/caliban-images.cjs). The CLI itself is a compiled binary, one npm
// package per platform, each an optional dependency of this one that npm installs only
// where its `os` and `cpu` match; this finds the one installed here and runs it, as
// esbuild's and Biome's packages do. Plain Node.js, no dependencies: it runs before
// anything of the CLI can.
"use strict";

const { spawn } = require("node:child_process");
const { constants } = require("node:os");
const path = require("node:path");
const manifest = require("../package.json");

// The platform as scripts/release.ts names it: linux-x64, darwin-arm64, windows-x64, ...
const platform = `${process.platform === "win32" ? "windows" : process.platform}-${process.arch}`;

function fail(message) {
  process.stderr.write(`error: ${message}\n`);
  process.exit(2);
}

// This package's own optionalDependencies name the platform packages: no name is
// written twice (a fork that renames them changes only package.json's npmPackages).
const platformPackages = Object.keys(manifest.optionalDependencies || {});
const wanted = platformPackages.find((name) => name.endsWith(`/${platform}`));
if (wanted === undefined) {
  const built = platformPackages.map((name) => name.slice(name.lastIndexOf("/") + 1)).join(", ");
  fail(`caliban-images ${manifest.version} has no binary for ${platform} (there are: ${built}); see ${manifest.homepage} for the release binaries and building from source`);
}

let wantedManifestPath;
try {
  wantedManifestPath = require.resolve(`${wanted}/package.json`);
} catch {
  fail(
    `caliban-images ${manifest.version} has no binary here: its package for ${platform}, ${wanted}, is not installed. ` +
      "npm skips that optional dependency under --omit=optional, --no-optional or optional=false in an .npmrc " +
      `(or node_modules came from another platform): install again without it, or run npm install ${wanted}@${manifest.version}`,
  );
}
const installed = require(wantedManifestPath);
if (installed.version !== manifest.version) {
  fail(`caliban-images ${manifest.version} found ${wanted} ${installed.version}, not ${manifest.version}: install both again at one version`);
}

const binary = path.join(path.dirname(wantedManifestPath), "bin", process.platform === "win32" ? "caliban-images.exe" : "caliban-images");
const child = spawn(binary, process.argv.slice(2), { stdio: "inherit" });

// A signal sent to this process alone (a CI job cancelled, `kill`) reaches the binary,
// which removes its temporary files before it exits; Ctrl-C reaches both anyway.
const FORWARDED = ["SIGINT", "SIGTERM", "SIGHUP"];
const forward = (signal) => child.kill(signal);
for (const signal of FORWARDED) process.on(signal, forward);

child.on("error", (error) => fail(`cannot run ${binary}: ${error.message}`));
child.on("exit", (code, signal) => {
  for (const forwarded of FORWARDED) process.off(forwarded, forward);
  if (signal !== null) {
    // Killed by a signal: this process dies of the same one, so whoever ran it sees what
    // happened (a shell's $? of 128 + N, a parent's `signal`), not an ordinary failure.
    process.kill(process.pid, signal);
    process.exit(128 + (constants.signals[signal] || 0));
  }
  process.exit(code);
});
