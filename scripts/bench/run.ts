// npm run bench: the compiled binary, as CI runs it (a whole process), on matrices
// of about 10, 1,000, 10,000 and 100,000 images of five shapes, for `plan` and each
// built-in emitter, and on legacy configs of those sizes for `import`: median and
// spread of wall time, and peak memory (RSS). An empty
// compiled Bun program is measured the same way, as the floor, and every time is also
// given as a ratio to it. Then (issue 30) each emitter side by side with Caliban's own
// generator at 10,000 and 100,000 images (against-generator.ts), and `plan` and `affected`
// over a 1 GB context in a git repository (large-context.ts; not with --quick). Prints a
// table; writes bench/results.json and bench/results.md.
//
//   npm run bench                  everything (a few minutes)
//   npm run bench -- --quick       up to 10,000 images
//   npm run bench -- --issue30     Caliban's matrix, the generator and the large context only
//   npm run bench -- --docs        also put the table into docs/performance.md

import { cpus, totalmem } from "node:os";
import { closeSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { compileCli, compilePlain } from "../compile.ts";
import { generateLegacyConfig, generateMatrix, generateMistakes, SHAPES, writeCalibanProject, writeGeneratedContext } from "./generate.ts";
import { benchAgainstGenerator, findGenerator, generatorTable } from "./against-generator.ts";
import { benchLargeContext, contextTable } from "./large-context.ts";

const ROOT = join(import.meta.dir, "..", "..");
const WORK = join(ROOT, ".cache", "bench");
const quick = process.argv.includes("--quick");
/** `--issue30`: only Caliban's matrix (the floor), the generator and the large context, issue 30's targets (results.md says so). */
const issue30Only = process.argv.includes("--issue30");
const SIZES = quick ? [10, 1000, 10000] : [10, 1000, 10000, 100000];

interface Measurement {
  readonly size: number;
  readonly shape: string;
  readonly images: number;
  readonly command: string;
  readonly runs: number;
  readonly medianMs: number;
  readonly minMs: number;
  readonly maxMs: number;
  readonly ratioToFloor: number;
  /** The floor's median the ratio is taken against. */
  readonly floorMs: number;
  readonly peakMiB: number;
}

/**
 * Runs a command `runs` times: wall time of each whole process; then its peak RSS, once,
 * from a fresh parent. With `stdoutFile`, stdout goes to that file, truncated before each
 * run as the shell's `>` would (opening it is not timed); otherwise to /dev/null. With
 * `prepareArgv`, that command runs (not timed) before each run. The command must exit
 * with `exitCode` (2: a matrix with mistakes).
 */
function measure(argv: string[], runs: number, stdoutFile?: string, floorArgv?: string[], prepareArgv?: string[], exitCode = 0): { times: number[]; floorTimes: number[]; peakBytes: number } {
  const times: number[] = [];
  const floorTimes: number[] = [];
  const timed = (command: string[], outFile?: string, expectedExit = 0): number => {
    const fd = outFile === undefined ? undefined : openSync(join(WORK, outFile), "w");
    const start = performance.now();
    const result = Bun.spawnSync(command, { stdout: fd ?? "ignore", stderr: "pipe", cwd: WORK });
    const elapsed = performance.now() - start;
    if (fd !== undefined) closeSync(fd);
    if (result.exitCode !== expectedExit) throw new Error(`${command.join(" ")}: exit ${result.exitCode}: ${result.stderr.toString()}`);
    return elapsed;
  };
  for (let i = 0; i < runs; i++) {
    // The floor run in turn with the command's, so that both see the machine in the same state.
    if (floorArgv) floorTimes.push(timed(floorArgv, stdoutFile === undefined ? undefined : "out/floor"));
    if (prepareArgv) {
      timed(prepareArgv);
      // What it wrote goes to the disk now, not during the timed run (at 100,000 images, 100 MB).
      Bun.spawnSync(["sync"]);
    }
    times.push(timed(argv, stdoutFile, exitCode));
  }
  const peak = Bun.spawnSync([process.execPath, join(import.meta.dir, "peak-rss.ts"), ...argv], { cwd: WORK });
  if (peak.exitCode !== exitCode) throw new Error(`peak RSS of ${argv.join(" ")}: exit ${peak.exitCode}`);
  return { times, floorTimes, peakBytes: Number(peak.stdout.toString().trim()) };
}

/** `argv` `runs` times in `cwd`, each after `before` (not timed): wall times, then its peak RSS from a fresh parent. */
function measureIn(argv: string[], runs: number, cwd: string, before?: () => void): { times: number[]; peakBytes: number } {
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    before?.();
    const start = performance.now();
    const result = Bun.spawnSync(argv, { cwd, stdout: "ignore", stderr: "pipe" });
    times.push(performance.now() - start);
    if (result.exitCode !== 0) throw new Error(`${argv.join(" ")}: exit ${result.exitCode}: ${result.stderr.toString()}`);
  }
  before?.();
  const peak = Bun.spawnSync([process.execPath, join(import.meta.dir, "peak-rss.ts"), ...argv], { cwd });
  return { times, peakBytes: Number(peak.stdout.toString().trim()) };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

/** A row of the table: printed now, kept for results.json and results.md. */
function record(run: { size: number; shape: string; images: number; command: string; runs: number; times: number[]; floorMs: number; peakBytes: number }): void {
  const { times, peakBytes, ...rest } = run;
  const medianMs = median(times);
  const row: Measurement = {
    ...rest,
    medianMs,
    minMs: Math.min(...times),
    maxMs: Math.max(...times),
    ratioToFloor: medianMs / run.floorMs,
    peakMiB: peakBytes / 2 ** 20,
  };
  results.push(row);
  console.log(
    `${String(row.images).padStart(6)} ${row.shape.padEnd(15)} ${row.command.padEnd(28)} ${medianMs.toFixed(1).padStart(8)} ms  (${row.minMs.toFixed(1)}–${row.maxMs.toFixed(1)})  ${row.ratioToFloor.toFixed(1).padStart(6)}x  ${row.peakMiB.toFixed(1).padStart(7)} MiB`,
  );
}

rmSync(WORK, { recursive: true, force: true });
mkdirSync(join(WORK, "out"), { recursive: true });
writeGeneratedContext(WORK);
const binary = join(WORK, "caliban-images");
const empty = join(WORK, "empty");
if (compileCli(binary) !== 0) throw new Error("bun build of the binary failed");
writeFileSync(join(WORK, "empty.ts"), "");
// The floor: the binary's flags, its bytecode nothing to lay out.
if (compilePlain(join(WORK, "empty.ts"), empty) !== 0) throw new Error("bun build of the empty program failed");

const floorRun = measure([empty], 21);
const floor = median(floorRun.times);
const floorMiB = floorRun.peakBytes / 2 ** 20;
console.log(`empty compiled Bun program: ${floor.toFixed(1)} ms median, ${floorMiB.toFixed(1)} MiB peak\n`);

// Caliban's own matrix (the embedded default): the case the 2x-of-floor target is about.
/**
 * Each -o command first writes its files for another repository (not timed), so every
 * timed run replaces files whose text differs, as after an edit of the matrix. A rerun
 * over identical files leaves them as they are and costs less: UNCHANGED measures that.
 */
const COMMANDS: [string, (matrix: string, images: number) => string[]][] = [
  ["plan", (m) => ["plan", "--matrix", m]],
  ["plan --json", (m) => ["plan", "--json", "--matrix", m]],
  ["emit cloudbuild", (m) => ["emit", "cloudbuild", "--matrix", m, "-o", "out/"]],
  // A workflow over 500 KB is refused (GitHub would not start it); large matrices use --format matrix.
  ["emit github", (m, images) => ["emit", "github", "--matrix", m, ...(images > 500 ? ["--format", "matrix"] : []), "-o", "out/github"]],
  ["emit make", (m) => ["emit", "make", "--matrix", m, "-o", "out/Makefile"]],
  ["emit bake", (m) => ["emit", "bake", "--matrix", m, "-o", "out/docker-bake.hcl"]],
];

/**
 * Caliban's matrix also with each emitter's output on stdout (`emit bake > docker-bake.hcl`):
 * -o replaces the file atomically, which needs node:fs (about a millisecond to load) and a rename.
 */
const STDOUT_COMMANDS: [string, string[], string][] = ["cloudbuild", "github", "make", "bake"].map((name) => [
  `emit ${name} > file`,
  ["emit", name, "--matrix", "caliban/matrix.toml"],
  `out/stdout-${name}`,
]);

/**
 * For Caliban's matrix and the 10k cross product: each emitter with -o, rerun over its
 * own identical output; and writing to a path where nothing is yet (a CI job's clean
 * checkout), which on a disk that discards freed blocks at once costs less than
 * replacing files.
 */
const UNCHANGED = new Set(["emit cloudbuild", "emit github", "emit github --format matrix", "emit make", "emit bake"]);
const NEW_PATH = "out/new/";
const ANOTHER_REPOSITORY = ["--base-url", "localhost:5000/previous"];

const results: Measurement[] = [];
const cases: { size: number; shape: string; file: string; images: number }[] = [];
writeCalibanProject(join(WORK, "caliban"), readFileSync(join(ROOT, "matrix.toml"), "utf8"));
cases.push({ size: 8, shape: "caliban", file: "caliban/matrix.toml", images: 8 });
for (const size of issue30Only ? [] : SIZES) {
  for (const shape of SHAPES) {
    const file = `${shape}-${size}.toml`;
    writeFileSync(join(WORK, file), generateMatrix(shape, size));
    const planned = Bun.spawnSync([binary, "plan", "--json", "--matrix", file], { cwd: WORK, stderr: "ignore" });
    cases.push({ size, shape, file, images: JSON.parse(planned.stdout.toString()).images.length });
  }
}

/** `import` of a legacy config of each size: its exclude patterns are searched for (import/legacy-import.ts). */
const legacyCases: { size: number; file: string; images: number }[] = [];
for (const size of issue30Only ? [] : SIZES) {
  const file = `legacy-${size}.json`;
  writeFileSync(join(WORK, file), generateLegacyConfig(size));
  legacyCases.push({ size, file, images: JSON.parse(readFileSync(join(WORK, file), "utf8")).images.length });
}

/** `plan` of a matrix whose combinations are mostly mistakes: every one reported, located, with its hint. */
const mistakeCases: { size: number; file: string; images: number }[] = [];
for (const size of issue30Only ? [] : SIZES.filter((size) => size >= 1000)) {
  const file = `mistakes-${size}.toml`;
  writeFileSync(join(WORK, file), generateMistakes(size));
  const rows = readFileSync(join(WORK, file), "utf8").match(/^ {2}\["distro/gm)!.length;
  mistakeCases.push({ size, file, images: rows });
}

for (const { size, shape, file, images } of cases) {
  const commands: [string, string[], string?, boolean?, string[]?][] = COMMANDS.map(([command, argv]) => [command === "emit github" && images > 500 ? "emit github --format matrix" : command, argv(file, images), undefined, argv(file, images).includes("-o")]);
  if (shape === "caliban" || (shape === "cross" && size === 10000)) {
    for (const [command, argv] of [...commands]) if (UNCHANGED.has(command)) commands.push([`${command}, unchanged`, argv]);
    for (const [command, argv] of [...commands]) {
      if (UNCHANGED.has(command)) commands.push([`${command}, to a new path`, argv.map((arg) => arg.replace(/^out\//, NEW_PATH)), undefined, undefined, ["rm", "-rf", NEW_PATH]]);
    }
  }
  if (shape === "caliban") commands.push(...STDOUT_COMMANDS);
  for (const [command, argv, stdoutFile, replacesChanged, clear] of commands) {
    if (size >= 100000 && command.startsWith("emit github")) continue; // its matrices pass GitHub's 50 MB of job outputs: refused
    // Caliban's matrix is what the 2x-of-floor target is about: more runs, for a steadier
    // median, each after a run of the floor, whose median is its ratio's denominator.
    const caliban = shape === "caliban";
    const runs = size >= 100000 ? 5 : size >= 10000 ? 7 : caliban ? 31 : 11;
    const prepare = replacesChanged ? [binary, ...argv, ...ANOTHER_REPOSITORY] : clear;
    const { times, floorTimes, peakBytes } = measure([binary, ...argv], runs, stdoutFile, caliban ? [empty] : undefined, prepare);
    record({ size, shape, images, command, runs, times, floorMs: caliban ? median(floorTimes) : floor, peakBytes });
  }
}

for (const { size, file, images } of legacyCases) {
  const runs = size >= 100000 ? 5 : size >= 10000 ? 7 : 11;
  const { times, peakBytes } = measure([binary, "import", file, "-o", "out/imported.toml"], runs);
  record({ size, shape: "legacy config", images, command: "import", runs, times, floorMs: floor, peakBytes });
}

for (const { size, file, images } of mistakeCases) {
  const runs = size >= 100000 ? 5 : size >= 10000 ? 7 : 11;
  const { times, peakBytes } = measure([binary, "plan", "--matrix", file], runs, undefined, undefined, undefined, 2);
  record({ size, shape: "mistakes", images, command: "plan (exit 2)", runs, times, floorMs: floor, peakBytes });
}

// Digesting contexts (issue 18): 1,000 images over one context of 10,000 files, against the
// same matrix whose context holds only its Dockerfile; the difference is what hashing adds.
const CONTEXT_FILES = 10_000;
if (!issue30Only) {
  mkdirSync(join(WORK, "ctx-10k"), { recursive: true });
  for (let d = 0; d < 100; d++) {
    mkdirSync(join(WORK, "ctx-10k", `dir${d}`), { recursive: true });
    for (let f = 0; f < CONTEXT_FILES / 100; f++) writeFileSync(join(WORK, "ctx-10k", `dir${d}`, `file${f}.py`), `# file ${d}/${f}\n${"x = 1\n".repeat(40)}`);
  }
  // Its Dockerfile as every generated family's (scripts/bench/generate.test.ts plans them).
  writeGeneratedContext(WORK, "ctx-10k");
  writeFileSync(join(WORK, "inputs-files.toml"), generateMatrix("cross", 1000, "ctx-10k"));
  writeGeneratedContext(WORK, "empty-context");
  writeFileSync(join(WORK, "inputs-none.toml"), generateMatrix("cross", 1000, "empty-context"));
  const inputsImages = JSON.parse(Bun.spawnSync([binary, "plan", "--json", "--matrix", "inputs-none.toml"], { cwd: WORK, stderr: "ignore" }).stdout.toString()).images.length;
  const inputsMedians: number[] = [];
  for (const [shape, file] of [["no context files", "inputs-none.toml"], [`context of ${CONTEXT_FILES} files`, "inputs-files.toml"]] as const) {
    const { times, peakBytes } = measure([binary, "plan", "--json", "--matrix", file], 11);
    record({ size: 1000, shape, images: inputsImages, command: "plan --json", runs: 11, times, floorMs: floor, peakBytes });
    inputsMedians.push(median(times));
  }
  console.log(`digesting a context of ${CONTEXT_FILES} files for ${inputsImages} images adds ${(inputsMedians[1]! - inputsMedians[0]!).toFixed(0)} ms`);
}

// Issue 30: against Caliban's generator, and a 1 GB context in a git repository.
const sections: string[] = [];
const generator = await findGenerator(WORK);
if ("path" in generator) {
  const rows = benchAgainstGenerator({ work: WORK, binary, sizes: SIZES.filter((size) => size >= 10000), measure, median }, generator.path);
  for (const r of rows) console.log(`${String(r.images).padStart(6)} vs generator   ${r.command.padEnd(28)} ${r.oursMs.toFixed(1).padStart(8)} ms, generator ${r.generatorMs.toFixed(1)} ms: ${(r.generatorMs / r.oursMs).toFixed(1)}x faster; ${r.oursMiB.toFixed(0)} MiB, generator ${r.generatorMiB.toFixed(0)} MiB`);
  sections.push("", ...generatorTable(rows));
} else {
  console.log(`against Caliban's generator: left out, no ${generator.missing}`);
  sections.push("", `Against Caliban's generator: not measured on this run (no ${generator.missing}).`);
}
if (!quick) {
  const { rows, notes } = benchLargeContext({ work: WORK, binary, median }, measureIn);
  for (const r of rows) console.log(`large context  ${r.command.padEnd(45)} ${r.ms.toFixed(1).padStart(8)} ms  ${r.ratio.toFixed(2)}x empty${r.target === null ? "" : ` (target ${r.target}x)`}`);
  for (const note of notes) console.log(note);
  sections.push("", ...contextTable(rows, notes));
}

const machine = `${cpus().length} × ${cpus()[0]?.model ?? "unknown CPU"}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, ${process.platform}, Bun ${Bun.version}`;
mkdirSync(join(ROOT, "bench"), { recursive: true });
writeFileSync(join(ROOT, "bench", "results.json"), `${JSON.stringify({ machine, floor: { medianMs: floor, peakMiB: floorMiB }, results }, null, 2)}\n`);

const table = [
  `${issue30Only ? "Issue 30's rows only (npm run bench -- --issue30): Caliban's matrix, the generator, the large context. " : ""}Measured on ${machine}, ${new Date().toISOString().slice(0, 10)}. Floor: an empty compiled Bun program, ${floor.toFixed(1)} ms and ${floorMiB.toFixed(1)} MiB. Times are medians of whole processes (min–max in brackets). On Caliban's matrix each run alternates with a run of the floor (its stdout going where the command's goes), and × floor is the ratio of the two medians. An emitter with -o replaces files that differ (written for another repository just before); ", unchanged" reruns it over its own output, which it leaves as it is; ", to a new path" writes where no file is yet.`,
  "",
  "| images | shape | command | median | min–max | × floor | peak RSS |",
  "|---:|---|---|---:|---:|---:|---:|",
  ...results.map((r) => `| ${r.images} | ${r.shape} | ${r.command} | ${r.medianMs.toFixed(1)} ms | ${r.minMs.toFixed(1)}–${r.maxMs.toFixed(1)} | ${r.ratioToFloor.toFixed(1)} | ${r.peakMiB.toFixed(0)} MiB |`),
].join("\n");
writeFileSync(join(ROOT, "bench", "results.md"), `${[table, ...sections].join("\n")}\n`);

if (process.argv.includes("--docs")) {
  const pagePath = join(ROOT, "docs", "performance.md");
  const page = readFileSync(pagePath, "utf8");
  const start = "<!-- bench:start -->";
  const end = "<!-- bench:end -->";
  if (!page.includes(start)) throw new Error("docs/performance.md has no bench markers");
  writeFileSync(pagePath, page.slice(0, page.indexOf(start) + start.length) + `\n${table}\n` + page.slice(page.indexOf(end)));
}
console.log("\nwritten: bench/results.json, bench/results.md");
