// The main npm package's launcher (scripts/npm-launcher.cjs), laid out as npm installs it
// (node_modules/caliban-images, written by writeMainPackage, beside the platform package)
// around a stand-in binary, a shell script: it passes the arguments and the streams on,
// exits with the binary's code, dies of the signal that killed the binary, passes a
// signal sent to it alone on to the binary, and says why when there is nothing to run.

import { expect, test } from "bun:test";
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { LAUNCHER, MAIN_PACKAGE, packagedBinary, platformPackageName, VERSION, writeMainPackage } from "./npm-packages.ts";
import { RELEASE_PLATFORMS } from "./release.ts";
import { scratchFolder } from "./validators/scratch.ts";

const host = `${process.platform === "win32" ? "windows" : process.platform}-${process.arch}`;
const runnable = host in RELEASE_PLATFORMS && process.platform !== "win32";
const skipped = runnable ? "" : ` (skipped: the stand-in binary is a shell script, and this machine is ${host})`;

const STAND_IN = `#!/bin/sh
case "$1" in
  exit) echo "out: $2"; echo "err: $2" >&2; exit "$2" ;;
  args) shift; for arg in "$@"; do echo "[$arg]"; done ;;
  kill) kill -"$2" $$ ;;
  wait) trap 'echo "got TERM"; exit 143' TERM; : > "$2"; while :; do sleep 0.05; done ;;
esac
`;

/** node_modules with the main package and, unless told otherwise, the host's platform package around the stand-in. */
function installed(platformPackage: { version?: string; binary?: string | null } = {}): string {
  const root = scratchFolder("npm-launcher-");
  writeMainPackage(join(root, "node_modules", MAIN_PACKAGE));
  if (platformPackage.binary !== null) {
    const directory = join(root, "node_modules", platformPackageName(host));
    mkdirSync(join(directory, "bin"), { recursive: true });
    writeFileSync(join(directory, "package.json"), JSON.stringify({ name: platformPackageName(host), version: platformPackage.version ?? VERSION }));
    writeFileSync(join(directory, packagedBinary(host)), platformPackage.binary ?? STAND_IN);
    chmodSync(join(directory, packagedBinary(host)), 0o755);
  }
  return root;
}

function launch(root: string, args: string[]) {
  const result = Bun.spawnSync(["node", join(root, "node_modules", MAIN_PACKAGE, LAUNCHER), ...args], { cwd: root, stdout: "pipe", stderr: "pipe" });
  return { exitCode: result.exitCode, signal: result.signalCode ?? null, stdout: result.stdout.toString(), stderr: result.stderr.toString() };
}

test.skipIf(!runnable)(`the binary gets the arguments as given, and the launcher exits with its code, its output passed through${skipped}`, () => {
  const root = installed();
  expect(launch(root, ["args", "two words", "$HOME", "", "--version"])).toEqual({ exitCode: 0, signal: null, stdout: "[two words]\n[$HOME]\n[]\n[--version]\n", stderr: "" });
  expect(launch(root, ["exit", "7"])).toEqual({ exitCode: 7, signal: null, stdout: "out: 7\n", stderr: "err: 7\n" });
});

test.skipIf(!runnable)(`a binary killed by a signal: the launcher dies of the same signal${skipped}`, () => {
  const root = installed();
  expect(launch(root, ["kill", "TERM"])).toMatchObject({ exitCode: null, signal: "SIGTERM" });
  expect(launch(root, ["kill", "KILL"])).toMatchObject({ exitCode: null, signal: "SIGKILL" });
});

test.skipIf(!runnable)(`SIGTERM sent to the launcher alone reaches the binary, whose exit code it returns${skipped}`, async () => {
  const root = installed();
  const ready = join(root, "ready");
  const launcher = Bun.spawn(["node", join(root, "node_modules", MAIN_PACKAGE, LAUNCHER), "wait", ready], { stdout: "pipe", stderr: "pipe" });
  // No deadline: the binary says it is listening by making the file.
  while (!existsSync(ready)) await Bun.sleep(20);
  launcher.kill("SIGTERM");
  expect(await launcher.exited).toBe(143);
  expect(await new Response(launcher.stdout).text()).toBe("got TERM\n");
});

test.skipIf(!runnable)(`no platform package installed: exit 2, naming the package and what skipped it${skipped}`, () => {
  const result = launch(installed({ binary: null }), ["--version"]);
  expect(result).toMatchObject({ exitCode: 2, stdout: "" });
  expect(result.stderr).toBe(
    `error: caliban-images ${VERSION} has no binary here: its package for ${host}, ${platformPackageName(host)}, is not installed. ` +
      "npm skips that optional dependency under --omit=optional, --no-optional or optional=false in an .npmrc " +
      `(or node_modules came from another platform): install again without it, or run npm install ${platformPackageName(host)}@${VERSION}\n`,
  );
});

test.skipIf(!runnable)(`a platform package of another version, or a binary that cannot run: exit 2 and why${skipped}`, () => {
  const other = launch(installed({ version: "0.0.1" }), ["--version"]);
  expect(other).toMatchObject({ exitCode: 2, stdout: "" });
  expect(other.stderr).toBe(`error: caliban-images ${VERSION} found ${platformPackageName(host)} 0.0.1, not ${VERSION}: install both again at one version\n`);
  const root = installed();
  const binary = join(root, "node_modules", platformPackageName(host), packagedBinary(host));
  chmodSync(binary, 0o644);
  const denied = launch(root, ["--version"]);
  expect(denied).toMatchObject({ exitCode: 2, stdout: "" });
  expect(denied.stderr).toBe(`error: cannot run ${binary}: spawn ${binary} EACCES\n`);
});

test(`a platform with no package: exit 2, naming the platforms there are (this one: ${host})`, () => {
  const root = installed({ binary: null });
  const manifestPath = join(root, "node_modules", MAIN_PACKAGE, "package.json");
  const manifest = JSON.parse(readFileSync(manifestPath, "utf8"));
  delete manifest.optionalDependencies[platformPackageName(host)];
  writeFileSync(manifestPath, JSON.stringify(manifest));
  const result = launch(root, ["--version"]);
  const others = Object.keys(RELEASE_PLATFORMS).filter((platform) => platform !== host);
  expect(result).toMatchObject({ exitCode: 2, stdout: "" });
  expect(result.stderr).toBe(`error: caliban-images ${VERSION} has no binary for ${host} (there are: ${others.join(", ")}); see ${manifest.homepage} for the release binaries and building from source\n`);
});
