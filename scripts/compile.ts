// Compiling the binary: `npm run build`, the release, the npm packages and the benchmark
// all compile through here, so that the benchmark measures exactly what users run.
//
// It is compiled twice. The first binary runs the commands a team runs most
// (PROFILED_RUNS) with BUN_BYTECODE_ORDER_OUT set, which records the functions each run
// used; the binary is then compiled again with those records (--bytecode-order), and
// Bun lays that bytecode out together at the front, so a run touches fewer of the
// file's pages. Measured on Caliban's matrix against a binary compiled once, the two
// binaries' runs interleaved (80 to 100 each): plan and resolve 1-2% faster, each
// emitter 2-6%, --version 7%, and about 1.7 MiB less RSS. A record names functions by
// their code (Bun: a record from an older build still applies), so the records taken
// here lay out the binaries compiled for the other platforms too.

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { COMPILE_FLAGS } from "./compile-flags.ts";

const ROOT = join(import.meta.dir, "..");
const ENTRY = join(ROOT, "cli", "main.ts");

/**
 * The runs recorded, most common first (Bun reads the records in that order): the resolve
 * every emitted pipeline runs in CI, then plan and each emitter, on the repository's own matrix.
 */
const PROFILED_RUNS: readonly (readonly string[])[] = [
  ["resolve", "--format", "lines"],
  ["plan"],
  ["emit", "github"],
  ["emit", "cloudbuild"],
  ["emit", "gitlab"],
  ["emit", "make"],
  ["emit", "bake"],
  ["emit", "buildkite"],
  ["plan", "--json"],
];

/** The records of this process's profiled runs, taken once (a release compiles five binaries). */
let records: string[] | undefined;

/** `bun build` of `entry` with the binary's flags and `flags`, its bytecode not laid out; returns its exit code, its messages on this process's stderr. */
export function compilePlain(entry: string, outfile: string, flags: readonly string[] = []): number {
  const result = Bun.spawnSync([process.execPath, "build", ...COMPILE_FLAGS, ...flags, entry, "--outfile", outfile], { stdout: "ignore", stderr: "inherit" });
  return result.exitCode ?? 1;
}

/** Compiles a first binary for this machine and records which functions the profiled runs use; throws when a run fails. */
function profiledRecords(): string[] {
  if (records) return records;
  const folder = mkdtempSync(join(tmpdir(), "caliban-images-profile-"));
  process.on("exit", () => rmSync(folder, { recursive: true, force: true }));
  const first = join(folder, "caliban-images");
  if (compilePlain(ENTRY, first) !== 0) throw new Error("bun build failed: the binary to profile was not compiled");
  records = PROFILED_RUNS.map((args, i) => {
    const record = join(folder, `order-${i}.txt`);
    const run = Bun.spawnSync([first, ...args, "--matrix", "matrix.toml"], { cwd: ROOT, stdout: "ignore", stderr: "pipe", env: { ...process.env, BUN_BYTECODE_ORDER_OUT: record } });
    if (run.exitCode !== 0) throw new Error(`caliban-images ${args.join(" ")}, run to profile the binary, failed: ${run.stderr.toString()}`);
    return record;
  });
  return records;
}

/**
 * Compiles the CLI into `outfile`, its bytecode laid out by the profiled runs; `flags`
 * are bun build's (--target=..., --sourcemap=none). Returns bun build's exit code.
 */
export function compileCli(outfile: string, flags: readonly string[] = []): number {
  return compilePlain(ENTRY, outfile, [...flags, `--bytecode-order=${profiledRecords().join(",")}`]);
}
