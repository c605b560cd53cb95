// npm run bench:compare -- REV: the compiled binary of the working tree against the one
// of git revision REV, each command run by both in turn, so that both see the machine in
// the same state (two runs of `npm run bench` minutes apart differ by up to a third on a
// shared machine, with the code unchanged). Prints the medians and their ratio, and
// writes nothing into the repository but .cache/.
//
//   npm run bench:compare -- HEAD~3                 10,000 images, every shape
//   npm run bench:compare -- HEAD~3 --sizes 10,100000
//   npm run bench:compare -- HEAD~3 --shapes cross,chain --commands bake,make --runs 15

import { mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { compilePlain } from "../compile.ts";
import { generateMatrix, SHAPES, writeCalibanProject, writeGeneratedContext } from "./generate.ts";

const ROOT = join(import.meta.dir, "..", "..");
const WORK = join(ROOT, ".cache", "bench-compare");
const revision = process.argv[2];
if (!revision || revision.startsWith("-")) throw new Error("usage: npm run bench:compare -- REV [--sizes 10000,100000] [--runs N]");
const flag = (name: string) => {
  const at = process.argv.indexOf(name);
  return at < 0 ? undefined : process.argv[at + 1];
};
const SIZES = (flag("--sizes") ?? "10000").split(",").map(Number);
const ONLY_SHAPES = flag("--shapes")?.split(",");
const ONLY_COMMANDS = flag("--commands")?.split(",");
const RUNS = Number(flag("--runs") ?? 9);

function run(command: string[], cwd = ROOT): void {
  const result = Bun.spawnSync(command, { cwd, stdout: "ignore", stderr: "pipe" });
  if (result.exitCode !== 0) throw new Error(`${command.join(" ")}: ${result.stderr.toString()}`);
}

/** Both trees with the binary's flags, neither with its bytecode layout (scripts/compile.ts): an older revision may have no profile to record, and the comparison is of the code. */
function compile(tree: string, outfile: string): void {
  if (compilePlain(join(tree, "cli", "main.ts"), outfile) !== 0) throw new Error(`bun build of ${tree} failed`);
}

rmSync(WORK, { recursive: true, force: true });
mkdirSync(join(WORK, "out"), { recursive: true });
writeGeneratedContext(WORK);
const tree = join(WORK, "tree");
run(["git", "worktree", "add", "--detach", "--force", tree, revision]);
try {
  symlinkSync(join(ROOT, "node_modules"), join(tree, "node_modules"));
  compile(tree, join(WORK, "before"));
  compile(ROOT, join(WORK, "after"));
} finally {
  run(["git", "worktree", "remove", "--force", tree]);
}

const cases: { images: string; shape: string; file: string }[] = [];
writeCalibanProject(join(WORK, "caliban"), readFileSync(join(ROOT, "fixtures", "caliban-2020-08", "matrix.toml"), "utf8"));
cases.push({ images: "8", shape: "caliban", file: "caliban/matrix.toml" });
for (const size of SIZES) {
  for (const shape of SHAPES.filter((shape) => !ONLY_SHAPES || ONLY_SHAPES.includes(shape))) {
    const file = `${shape}-${size}.toml`;
    writeFileSync(join(WORK, file), generateMatrix(shape, size));
    cases.push({ images: String(size), shape, file });
  }
}
// Each writes its output as a CI job would, into a new file (stdout redirected) or, for
// Cloud Build's configs, a new directory: `{}` becomes a number of its own each run.
const COMMANDS: [string, (matrix: string) => string[]][] = [
  ["plan > file", (m) => ["plan", "--matrix", m]],
  ["plan --json > file", (m) => ["plan", "--json", "--matrix", m]],
  ["emit cloudbuild -o DIR", (m) => ["emit", "cloudbuild", "--matrix", m, "-o", "out/{}/"]],
  ...["github --format matrix", "make", "bake"].map((name): [string, (m: string) => string[]] => [`emit ${name} > file`, (m) => ["emit", ...name.split(" "), "--matrix", m]]),
];

let outputs = 0;
function timed(binary: string, argv: string[]): number {
  const n = ++outputs;
  const args = argv.map((arg) => arg.replace("{}", String(n)));
  const stdout = Bun.file(join(WORK, "out", `stdout-${n}`));
  const start = performance.now();
  const result = Bun.spawnSync([binary, ...args], { cwd: WORK, stdout, stderr: "pipe" });
  const elapsed = performance.now() - start;
  if (result.exitCode !== 0) throw new Error(`${args.join(" ")}: exit ${result.exitCode}: ${result.stderr.toString()}`);
  return elapsed;
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
console.log(`${"images".padStart(6)}  ${"shape".padEnd(16)}${"command".padEnd(32)}${"before".padStart(10)}${"after".padStart(10)}   ratio`);
for (const { images, shape, file } of cases) {
  for (const [name, argv] of COMMANDS.filter(([name]) => !ONLY_COMMANDS || ONLY_COMMANDS.some((word) => name.includes(word)))) {
    const args = argv(file);
    const times = { before: [] as number[], after: [] as number[] };
    // One untimed run each, so that neither is the first to read the matrix from the disk.
    timed(join(WORK, "before"), args);
    timed(join(WORK, "after"), args);
    for (let i = 0; i < RUNS; i++) {
      times.before.push(timed(join(WORK, "before"), args));
      times.after.push(timed(join(WORK, "after"), args));
    }
    const [before, after] = [median(times.before), median(times.after)];
    rmSync(join(WORK, "out"), { recursive: true, force: true });
    mkdirSync(join(WORK, "out"));
    console.log(`${images.padStart(6)}  ${shape.padEnd(16)}${name.padEnd(32)}${before.toFixed(1).padStart(8)}ms${after.toFixed(1).padStart(8)}ms   ${(after / before).toFixed(2)}`);
  }
}
