// Issue 30's yardstick: Caliban's own generator (scripts/cloudbuild.py of google/caliban
// at commit 9247955, the one that wrote the cloudbuild.json this project replaces), run
// side by side with each emitter on the same images: a legacy config of about 10,000 and
// 100,000 images, given to the generator as it is and to us as `import` made it (not
// timed). Each run of ours alternates with a run of the generator, so that both see the
// machine in the same state; the ratio is the generator's median over ours.
//
// The script is another project's code: never kept here. It is looked for, in order, at
// $CALIBAN_GENERATOR, in the bench's cache, in a clone of google/caliban at
// $CALIBAN_REPO (`git show COMMIT:scripts/cloudbuild.py`), and on GitHub; whatever gives
// it, its sha256 must be the pinned one. It needs python3 with absl-py (`pip install
// absl-py`). Without them the rows are left out, and the bench says why.

import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { generateLegacyConfig } from "./generate.ts";

export const GENERATOR_COMMIT = "92479550cd92438f6451da1142c9a405f4e6f536";
export const GENERATOR_SHA256 = "63e420dbc03f5063a7aabbd5fdf5a42a27b12358d06e7b41cb1fa7e82cd0dd36";
const GENERATOR_URL = `https://raw.githubusercontent.com/google/caliban/${GENERATOR_COMMIT}/scripts/cloudbuild.py`;

export interface Measured {
  readonly times: number[];
  /** The generator's, each run in turn with ours. */
  readonly floorTimes: number[];
  readonly peakBytes: number;
}

export interface GeneratorBench {
  readonly work: string;
  readonly binary: string;
  readonly sizes: readonly number[];
  /** run.ts's measure: `argv` `runs` times, each after a run of `otherArgv`; then argv's peak RSS. */
  measure(argv: string[], runs: number, stdoutFile?: string, otherArgv?: string[]): Measured;
  median(values: number[]): number;
}

export interface GeneratorRow {
  readonly images: number;
  readonly command: string;
  readonly oursMs: number;
  readonly generatorMs: number;
  readonly oursMiB: number;
  readonly generatorMiB: number;
}

const sha256 = (bytes: Uint8Array) => new Bun.CryptoHasher("sha256").update(bytes).digest("hex");

/** The generator's path, or why there is none. */
export async function findGenerator(work: string): Promise<{ path: string } | { missing: string }> {
  const cached = join(work, "..", "caliban-cloudbuild.py");
  const pinned = (bytes: Uint8Array | undefined) => bytes !== undefined && sha256(bytes) === GENERATOR_SHA256;
  const sources: [string, () => Promise<Uint8Array | undefined>][] = [
    ["$CALIBAN_GENERATOR", async () => (process.env.CALIBAN_GENERATOR && existsSync(process.env.CALIBAN_GENERATOR) ? readFileSync(process.env.CALIBAN_GENERATOR) : undefined)],
    ["the cache", async () => (existsSync(cached) ? readFileSync(cached) : undefined)],
    [
      "$CALIBAN_REPO",
      async () => {
        if (!process.env.CALIBAN_REPO) return undefined;
        const shown = Bun.spawnSync(["git", "-C", process.env.CALIBAN_REPO, "show", `${GENERATOR_COMMIT}:scripts/cloudbuild.py`], { stderr: "ignore" });
        return shown.exitCode === 0 ? shown.stdout : undefined;
      },
    ],
    ["GitHub", async () => fetch(GENERATOR_URL, { signal: AbortSignal.timeout(20_000) }).then(async (answer) => (answer.ok ? new Uint8Array(await answer.arrayBuffer()) : undefined)).catch(() => undefined)],
  ];
  const tried: string[] = [];
  for (const [where, read] of sources) {
    const bytes = await read();
    if (bytes === undefined) continue;
    if (!pinned(bytes)) {
      tried.push(`${where} (not the pinned sha256)`);
      continue;
    }
    writeFileSync(cached, bytes);
    const absl = Bun.spawnSync(["python3", "-c", "import absl"], { stderr: "ignore" });
    if (absl.exitCode !== 0) return { missing: "python3 with absl-py (pip install absl-py)" };
    return { path: cached };
  }
  return { missing: `scripts/cloudbuild.py at ${GENERATOR_COMMIT.slice(0, 7)} (tried ${[...tried, "$CALIBAN_GENERATOR", "$CALIBAN_REPO", "GitHub"].join(", ")})` };
}

/** Each emitter's and `plan --json`'s rows against the generator, at each size. */
export function benchAgainstGenerator(bench: GeneratorBench, generator: string): GeneratorRow[] {
  const rows: GeneratorRow[] = [];
  for (const size of bench.sizes) {
    // The matrix in a folder of its own, with the Dockerfiles it names: its context, as Caliban's is its repository.
    const config = `generator-${size}.json`;
    const folder = join(bench.work, `generator-${size}`);
    const matrix = `generator-${size}/matrix.toml`;
    mkdirSync(join(folder, "dockerfiles"), { recursive: true });
    for (const name of ["Dockerfile", "Dockerfile.gpu"]) writeFileSync(join(folder, "dockerfiles", name), "ARG BASE_IMAGE=scratch\nFROM $BASE_IMAGE\n");
    writeFileSync(join(bench.work, config), generateLegacyConfig(size));
    const imported = Bun.spawnSync([bench.binary, "import", config, "-o", matrix], { cwd: bench.work, stderr: "pipe" });
    if (imported.exitCode !== 0) throw new Error(`import ${config}: ${imported.stderr.toString()}`);
    const images = (JSON.parse(readFileSync(join(bench.work, config), "utf8")) as { images: unknown[] }).images.length;
    const runs = size >= 100000 ? 5 : 7;
    const generatorArgv = ["python3", generator, "--config", config, "--output", "out/generator.json"];
    const peak = bench.measure(generatorArgv, 1).peakBytes;
    for (const [command, argv] of [
      ["plan --json", ["plan", "--json", "--matrix", matrix]],
      ["emit cloudbuild", ["emit", "cloudbuild", "--matrix", matrix, "-o", "out/generator-cloudbuild/"]],
      ["emit make", ["emit", "make", "--matrix", matrix, "-o", "out/generator-Makefile"]],
      ["emit bake", ["emit", "bake", "--matrix", matrix, "-o", "out/generator-bake.hcl"]],
    ] as const) {
      const { times, floorTimes, peakBytes } = bench.measure([bench.binary, ...argv], runs, undefined, generatorArgv);
      rows.push({ images, command, oursMs: bench.median(times), generatorMs: bench.median(floorTimes), oursMiB: peakBytes / 2 ** 20, generatorMiB: peak / 2 ** 20 });
    }
  }
  return rows;
}

/** The rows as results.md's section. */
export function generatorTable(rows: readonly GeneratorRow[]): string[] {
  return [
    `Against Caliban's generator (scripts/cloudbuild.py of google/caliban at ${GENERATOR_COMMIT.slice(0, 7)}, python3), on a legacy config it reads and the matrix \`import\` writes from it; each run of ours in turn with one of the generator's. Faster is the generator's median over ours; the targets: at least 5× at 10,000 images, and at 100,000 no more memory than the generator.`,
    "",
    "| images | command | ours | generator | faster | our peak RSS | generator's peak RSS |",
    "|---:|---|---:|---:|---:|---:|---:|",
    ...rows.map((r) => `| ${r.images} | ${r.command} | ${r.oursMs.toFixed(1)} ms | ${r.generatorMs.toFixed(1)} ms | ${(r.generatorMs / r.oursMs).toFixed(1)}× | ${r.oursMiB.toFixed(0)} MiB | ${r.generatorMiB.toFixed(0)} MiB |`),
  ];
}
