// `caliban-images prune`: list (and with --delete, delete) what the matrix's repositories
// hold that no kept plan needs: content tags no [publish] branch head and no kept lock
// generation reaches, build caches of images no kept plan has, cosign signatures of what
// goes, and the children of the indexes that go. What is kept: cli/kept-plans.ts; what is
// deleted: core/prune/prune-plan.ts; the registry: cli/registry-repository.ts (and GHCR's
// package API, cli/ghcr-packages.ts).

import { fail } from "../core/errors.ts";
import { registryHost } from "../core/names.ts";
import { keptTags, prunedRepositories } from "../core/prune/kept.ts";
import { prunePlan, type Deletion, type LeftTag } from "../core/prune/prune-plan.ts";
import { GHCR, GhcrPackage, githubApi, githubToken } from "./ghcr-packages.ts";
import { keptPlans } from "./kept-plans.ts";
import { loadGraph, optionalString, stringList, type Options } from "./load-graph.ts";
import { Registry } from "./registry.ts";
import { RegistryRepository } from "./registry-repository.ts";
import type { Io } from "./terminal.ts";

export const DEFAULT_KEEP_LOCKS = 3;
/** An untagged manifest younger than this may be a build's by-digest push still waiting for its index: left. */
const UNTAGGED_MIN_AGE_HOURS = 24;

/** What deletes a manifest of one repository: the Distribution API, or GHCR's package API. */
interface ManifestDeleter {
  delete(digest: string): Promise<"deleted" | "gone">;
}

interface RepositoryResult {
  readonly repository: string;
  readonly deletions: readonly Deletion[];
  readonly left: readonly LeftTag[];
}

export async function pruneCommand(options: Options, io: Io): Promise<number> {
  const keepLocks = keepLocksOption(options.keepLocks);
  const deleting = options.delete === true;
  const planned = await loadGraph(options, io);
  if (planned.source.directory === undefined) fail("USAGE", "the embedded matrix is no project's: prune keeps what a repository's branches plan", { hint: "run it where a matrix.toml is, or pass --matrix FILE" });
  const kept = await keptPlans(planned, keepLocks);
  for (const problem of kept.unplanned) io.stderr(`warning: ${problem}\n`);
  if (deleting && kept.unplanned.length > 0) {
    fail("USAGE", `prune --delete deletes nothing it cannot prove unneeded, and ${kept.unplanned.length === 1 ? "a kept plan" : `${kept.unplanned.length} kept plans`} could not be planned (above)`, { hint: "fetch the [publish] branches (git fetch origin), or fix the matrix there; the dry run (without --delete) still lists" });
  }
  io.stderr(`kept: ${kept.plans.map((plan) => plan.label).join(", ")}\n`);

  const repositories = prunedRepositories(kept.plans);
  const token = githubToken(process.env);
  const onGhcr = repositories.filter((repository) => registryHost(repository) === GHCR);
  if (deleting && onGhcr.length > 0 && token === undefined) {
    fail("USAGE", `${onGhcr[0]}: prune --delete deletes from ${GHCR} through GitHub's package API, and needs a token: GITHUB_TOKEN (or GH_TOKEN) is not set`, { hint: "a token with read:packages and delete:packages (in GitHub Actions: permissions: packages: write)" });
  }
  const registry = new Registry({ insecure: stringList(options.insecureRegistry) });
  // One per GHCR repository: its versions are listed once, for the untagged ones and to delete by id.
  const packages = new Map<string, GhcrPackage>();
  const ghcrPackage = token === undefined ? undefined : (repository: string) => packages.get(repository) ?? packages.set(repository, new GhcrPackage(registry, repository, token, githubApi(process.env))).get(repository)!;
  const deleterOf = (repository: string): ManifestDeleter => (registryHost(repository) === GHCR ? ghcrPackage!(repository) : new RegistryRepository(registry, repository));
  const keep = keptTags(kept.plans);
  const results: RepositoryResult[] = [];
  for (const repository of repositories) {
    const untagged = await untaggedManifests(repository, ghcrPackage, io);
    const contents = await new RegistryRepository(registry, repository).contents(untagged);
    results.push({ repository, ...prunePlan(contents, keep.tags.get(repository) ?? new Map(), keep.cacheRepositories.has(repository)) });
  }
  for (const { repository, tag, keptBy } of results.flatMap((result) => result.left)) io.stderr(`left ${repository}:${tag}: its manifest is also ${keptBy}'s, which is kept\n`);
  const total = results.reduce((sum, result) => sum + result.deletions.length, 0);

  const labels = kept.plans.map((plan) => plan.label);
  if (!deleting) {
    if (options.json) io.stdout(pruneJson(results, labels, kept.unplanned, undefined));
    else for (const deletion of results.flatMap((result) => result.deletions)) io.stdout(`${describe(deletion)}\n`);
    io.stderr(`${total} manifest${total === 1 ? "" : "s"} to delete${total === 0 ? "" : " (a dry run: prune --delete deletes them)"}\n`);
    return 0;
  }
  const outcomes = new Map<Deletion, "deleted" | "gone">();
  for (const result of results) {
    const repository = deleterOf(result.repository);
    for (const deletion of result.deletions) {
      const outcome = await repository.delete(deletion.digest);
      outcomes.set(deletion, outcome);
      if (!options.json) io.stdout(`${outcome === "deleted" ? "deleted" : "gone already"} ${describe(deletion).replace(/^delete /, "")}\n`);
    }
  }
  if (options.json) io.stdout(pruneJson(results, labels, kept.unplanned, outcomes));
  const deleted = [...outcomes.values()].filter((outcome) => outcome === "deleted").length;
  io.stderr(`${deleted} manifest${deleted === 1 ? "" : "s"} deleted${deleted === outcomes.size ? "" : `, ${outcomes.size - deleted} gone already`}\n`);
  return 0;
}

/**
 * The untagged manifests of a repository whose registry can list them (GHCR, through its
 * package API, with a token), left alone for UNTAGGED_MIN_AGE_HOURS: none elsewhere.
 */
async function untaggedManifests(repository: string, ghcrPackage: ((repository: string) => GhcrPackage) | undefined, io: Io): Promise<string[]> {
  if (registryHost(repository) !== GHCR) return [];
  if (ghcrPackage === undefined) {
    io.stderr(`note: ${repository}: its untagged versions are listed through GitHub's package API, which needs GITHUB_TOKEN (or GH_TOKEN): not listed\n`);
    return [];
  }
  return ghcrPackage(repository).untaggedBefore(Date.now() - UNTAGGED_MIN_AGE_HOURS * 3_600_000);
}

/** `delete REPOSITORY@DIGEST (TAG, ...): why`: one line a manifest, what a script can read. */
function describe(deletion: Deletion): string {
  const tags = deletion.tags.length === 0 ? "" : ` (${deletion.tags.join(", ")})`;
  return `delete ${deletion.repository}@${deletion.digest}${tags}: ${deletion.why}`;
}

/** `--json`: what is kept, and per repository what goes (with each outcome once deleted) and what is left. */
function pruneJson(results: readonly RepositoryResult[], kept: readonly string[], unplanned: readonly string[], outcomes: ReadonlyMap<Deletion, "deleted" | "gone"> | undefined): string {
  const repositories = results.map(({ repository, deletions, left }) => ({
    repository,
    deletions: deletions.map((deletion) => ({ digest: deletion.digest, tags: deletion.tags, why: deletion.why, ...(outcomes ? { outcome: outcomes.get(deletion) } : {}) })),
    left: left.map(({ tag, digest, keptBy }) => ({ tag, digest, keptBy })),
  }));
  return `${JSON.stringify({ version: 1, deleted: outcomes !== undefined, kept, unplanned, repositories }, null, 2)}\n`;
}

function keepLocksOption(value: unknown): number {
  const text = optionalString(value === undefined ? undefined : String(value), "--keep-locks");
  if (text === undefined) return DEFAULT_KEEP_LOCKS;
  if (!/^[0-9]+$/.test(text)) fail("USAGE", `--keep-locks ${JSON.stringify(text)}: give how many lock generations each branch keeps, a whole number (default ${DEFAULT_KEEP_LOCKS})`);
  return Number(text);
}
