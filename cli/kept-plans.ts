// The plans `prune` keeps the images of, read from git: the head of each branch that
// [publish] names (a local branch, or origin/BRANCH; a pattern matches the branches
// that exist), the last N commits on each that changed the lock file (lock generations:
// what was published before an upstream base moved, kept for a rollback), and the
// working tree's plan. What cannot be planned (a matrix that does not plan, or is not
// there) is said, never skipped in silence: prune refuses to delete then.

import { lockFileName } from "../core/changes/lock.ts";
import { branchPublishes } from "../core/branch-patterns.ts";
import { CalibanError, formatDiagnostic } from "../core/errors.ts";
import type { KeptPlan } from "../core/prune/kept.ts";
import { findRepository, type Repository } from "./git-tree.ts";
import type { Planned } from "./load-graph.ts";
import { planRevision, revisionMatrixPath } from "./revision-plan.ts";

export interface KeptPlans {
  readonly plans: readonly KeptPlan[];
  /** What could not be planned (or found), each a sentence: nothing may be deleted while there is one. */
  readonly unplanned: readonly string[];
}

/** The branches, their lock generations and the working tree, planned; `keepLocks` generations per branch. A matrix file's only (not the embedded one). */
export async function keptPlans(planned: Planned, keepLocks: number): Promise<KeptPlans> {
  const plans: KeptPlan[] = [{ label: "the working tree", graph: planned.graph }];
  const unplanned: string[] = [];
  const { source, loaded } = planned;
  const repository = findRepository(source.directory!);
  const branchPatterns = planned.graph.publish.branches;
  if (repository === undefined) {
    unplanned.push(`${source.file} is in no git repository: no branch of [publish] (${branchPatterns.join(", ")}) could be planned`);
    return { plans, unplanned };
  }
  const heads = publishedHeads(repository, branchPatterns);
  if (heads.length === 0) unplanned.push(`no branch [publish] names (${branchPatterns.join(", ")}) is here, as a local branch or origin/BRANCH`);
  const lockPath = revisionMatrixPath(repository, lockFileName(source.file));
  const revisions = new Map<string, string>();
  for (const head of heads) {
    if (!revisions.has(head.commit)) revisions.set(head.commit, `${head.name} (${head.commit.slice(0, 7)})`);
  }
  for (const head of heads) {
    for (const commit of keepLocks === 0 ? [] : gitLines(repository, ["log", "--format=%H", `-n${keepLocks}`, head.commit, "--", lockPath])) {
      if (!revisions.has(commit)) revisions.set(commit, `lock generation ${commit.slice(0, 7)} (${head.name})`);
    }
  }
  for (const [commit, label] of revisions) {
    try {
      const plan = await planRevision(repository, commit, commit.slice(0, 12), source.file, loaded, planned.repository === undefined ? {} : { repository: planned.repository });
      // Its images may be planned by a matrix elsewhere (moved, renamed): what it needs cannot be told.
      if (plan === undefined) unplanned.push(`${label} has no ${revisionMatrixPath(repository, source.file)}`);
      else plans.push({ label, graph: plan.graph });
    } catch (error) {
      if (!(error instanceof CalibanError)) throw error;
      unplanned.push(`${label} does not plan: ${formatDiagnostic(error.diagnostics[0]!).replace(/^error: /, "")}`);
    }
  }
  return { plans, unplanned };
}

/** Each branch [publish] names that exists, local and origin/ (both when they differ), by name. */
function publishedHeads(repository: Repository, patterns: readonly string[]): { name: string; commit: string }[] {
  const heads: { name: string; commit: string }[] = [];
  for (const line of gitLines(repository, ["for-each-ref", "--format=%(objectname) %(refname)", "refs/heads/", "refs/remotes/origin/"])) {
    const [commit, ref] = line.split(" ") as [string, string];
    const local = ref.startsWith("refs/heads/");
    const branch = ref.slice(local ? "refs/heads/".length : "refs/remotes/origin/".length);
    if (branch === "HEAD" || !branchPublishes(patterns, branch)) continue;
    heads.push({ name: local ? branch : `origin/${branch}`, commit });
  }
  return heads.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

function gitLines(repository: Repository, args: readonly string[]): string[] {
  const result = Bun.spawnSync(["git", ...args], { cwd: repository.root, stdout: "pipe", stderr: "pipe" });
  if (result.exitCode !== 0) throw new CalibanError({ code: "USAGE", message: `git ${args[0]} failed in ${repository.root}: ${result.stderr.toString().trim()}` });
  return result.stdout.toString().split("\n").filter((line) => line !== "");
}
