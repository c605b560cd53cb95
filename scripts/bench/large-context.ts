// Issue 30's repository: a git repository whose build context holds 20,000 files, 1 GB,
// as an ML repository that builds from its root does. `plan` on a matrix over it against
// `plan` on the same matrix over a context of just its Dockerfile, warm (the files in the
// page cache) and cold (dropped before each run, where /proc/sys/vm/drop_caches can be
// written); and `affected --since HEAD~1` after a one-file change. Targets: plan at most
// 3× the empty context's, warm and cold; affected at most 5×. Beside them, what git
// itself takes over the same context (rows with no target): its listing, and the stat
// of every file that tells an unchanged one from an edited one, which no reader of the
// working tree can leave out (a changed Dockerfile must always ship).

import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { generateMatrix } from "./generate.ts";
import type { GeneratorBench } from "./against-generator.ts";

const FILES = 20_000;
const FOLDERS = 200;
/** 20,000 files of 50 KiB: about 1 GB. */
const FILE_BYTES = 50 * 1024;
const IMAGES = 100;

export interface ContextRow {
  readonly command: string;
  readonly ms: number;
  readonly peakMiB: number;
  /** Its median over the empty context's plan (the same warmth). */
  readonly ratio: number;
  /** At most this × the empty context's plan; null: a reference, git's own time. */
  readonly target: number | null;
}

function git(cwd: string, ...args: string[]): void {
  const run = Bun.spawnSync(["git", "-c", "user.name=bench", "-c", "user.email=bench@example.com", "-c", "commit.gpgsign=false", ...args], { cwd, stderr: "pipe", stdout: "ignore" });
  if (run.exitCode !== 0) throw new Error(`git ${args.join(" ")}: ${run.stderr.toString()}`);
}

/** Whether the page cache can be dropped here (root, and /proc/sys/vm writable). */
function canDropCaches(): boolean {
  try {
    Bun.spawnSync(["sync"]);
    writeFileSync("/proc/sys/vm/drop_caches", "3");
    return true;
  } catch {
    return false;
  }
}

export function benchLargeContext(bench: Pick<GeneratorBench, "work" | "binary" | "median">, measure: (argv: string[], runs: number, cwd: string, before?: () => void) => { times: number[]; peakBytes: number }): { rows: ContextRow[]; notes: string[] } {
  const repo = join(bench.work, "large-context");
  mkdirSync(join(repo, "empty"), { recursive: true });
  // Text that differs from file to file (git stores each once) and compresses as source does.
  const line = "import numpy as np  # a line of a model's source, repeated to fill the file\n";
  const body = line.repeat(Math.ceil(FILE_BYTES / line.length)).slice(0, FILE_BYTES - 64);
  for (let d = 0; d < FOLDERS; d++) {
    const folder = join(repo, "src", `pkg${d}`);
    mkdirSync(folder, { recursive: true });
    for (let f = 0; f < FILES / FOLDERS; f++) writeFileSync(join(folder, `module${f}.py`), `# ${d}/${f}\n${body}`);
  }
  for (const context of ["src", "empty"]) writeFileSync(join(repo, context, "Dockerfile"), "ARG BASE_IMAGE=scratch\nFROM $BASE_IMAGE\nCOPY . /app\n");
  writeFileSync(join(repo, "large.toml"), generateMatrix("cross", IMAGES, "src"));
  writeFileSync(join(repo, "empty.toml"), generateMatrix("cross", IMAGES, "empty"));
  git(repo, "init", "-q", "-b", "main");
  git(repo, "add", "-A");
  git(repo, "commit", "-q", "-m", "a large context");
  // One file changed, committed: what `affected --since HEAD~1` compares.
  writeFileSync(join(repo, "src", "pkg7", "module3.py"), `# changed\n${body}`);
  git(repo, "commit", "-q", "-am", "one file");

  const rows: ContextRow[] = [];
  const notes: string[] = [];
  const plan = (file: string) => [bench.binary, "plan", "--json", "--matrix", file];
  const warmEmpty = measure(plan("empty.toml"), 7, repo);
  const warmLarge = measure(plan("large.toml"), 7, repo);
  const emptyMs = bench.median(warmEmpty.times);
  const row = (command: string, run: { times: number[]; peakBytes: number }, over: number, target: number | null) =>
    rows.push({ command, ms: bench.median(run.times), peakMiB: run.peakBytes / 2 ** 20, ratio: bench.median(run.times) / over, target });
  row("plan, empty context (warm)", warmEmpty, emptyMs, 1);
  row(`plan, ${FILES} files / 1 GB (warm)`, warmLarge, emptyMs, 3);
  // As plan runs them (cli/git-index.ts), git's defaults kept: diff-files stats in threads (core.preloadIndex).
  row("git ls-files -s (git's listing alone)", measure(["git", "ls-files", "-s", "-v", "-z", "--", ":(literal)src"], 7, repo), emptyMs, null);
  row("git diff-files (git's stat of each file alone)", measure(["git", "diff-files", "-z", "--name-only", "--", ":(literal)src"], 7, repo), emptyMs, null);
  if (canDropCaches()) {
    const drop = () => {
      Bun.spawnSync(["sync"]);
      writeFileSync("/proc/sys/vm/drop_caches", "3");
    };
    const coldEmpty = measure(plan("empty.toml"), 5, repo, drop);
    const coldLarge = measure(plan("large.toml"), 5, repo, drop);
    const coldEmptyMs = bench.median(coldEmpty.times);
    row("plan, empty context (cold)", coldEmpty, coldEmptyMs, 1);
    row(`plan, ${FILES} files / 1 GB (cold)`, coldLarge, coldEmptyMs, 3);
  } else {
    notes.push("cold runs left out: /proc/sys/vm/drop_caches cannot be written here");
  }
  row("affected --since HEAD~1 (one file changed)", measure([bench.binary, "affected", "--since", "HEAD~1", "--matrix", "large.toml"], 7, repo), emptyMs, 5);
  if (!existsSync(join(repo, ".git"))) throw new Error("the large context's repository is gone");
  return { rows, notes };
}

/** The rows as results.md's section. */
export function contextTable(rows: readonly ContextRow[], notes: readonly string[]): string[] {
  return [
    `A git repository whose context is ${FILES} files, 1 GB, and a matrix of ${IMAGES} images over it, against the same matrix over a context of its Dockerfile alone (× empty: the ratio of the medians, warm to warm, cold to cold; targets 3× for plan, 5× for affected). The git rows are git's own time over the same context, warm, with no target: any reader of the working tree stats every file, to tell an edited one from one the index knows.${notes.length > 0 ? ` ${notes.join("; ")}.` : ""}`,
    "",
    "| command | median | × empty | target | peak RSS |",
    "|---|---:|---:|---:|---:|",
    // A git row (no target) has no peak RSS: peak-rss.ts reads at least its own fork's (about 23 MiB), more than git's.
    ...rows.map((r) => `| ${r.command} | ${r.ms.toFixed(1)} ms | ${r.ratio.toFixed(2)} | ${r.target === null ? "– | –" : `${r.target}× | ${r.peakMiB.toFixed(0)} MiB`} |`),
  ];
}
