// `caliban-images prune` against a fake registry (fixtures/fake-registry.ts: tags/list in
// pages, manifests by tag and digest, DELETE, a token per scope) and a git repository of
// three commits: a lock, an edit, a lock update. What the [publish] branch's head, its lock
// generations and the working tree plan is kept, with every child and signature of it;
// the rest is listed, deleted only with --delete, and a second run finds nothing.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { appendFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { lockText } from "../core/changes/lock.ts";
import { FakeRegistry, imageManifest, indexManifest } from "../fixtures/fake-registry.ts";
import { REPO_ROOT } from "../fixtures/golden.ts";
import { loopbackServer, runCli, runCliAsync } from "../fixtures/test-helpers.ts";

const registry = new FakeRegistry();
const server = loopbackServer((request, url) => registry.answer(request, url));
const CACHE_CONFIG = "application/vnd.buildkit.cacheconfig.v0";

/** A repository of `main`'s three commits (c1: a lock; c2: an edit; c3: the lock moved), and each commit's content tags by image id. */
let work: string;
const generations: Record<string, string>[] = [];
const git = (...args: string[]) => {
  const run = Bun.spawnSync(["git", "-c", "user.name=t", "-c", "user.email=t@example.com", "-c", "commit.gpgsign=false", ...args], { cwd: work });
  if (run.exitCode !== 0) throw new Error(`git ${args.join(" ")}: ${run.stderr.toString()}`);
};
const repository = () => `${server.host}/app`;
const prune = (...args: string[]) => runCliAsync(work, "prune", ...args);
const lockOf = (letter: string) => lockText(new Map([[`${server.host}/upstream:1`, `sha256:${letter.repeat(64)}`]]));
const contentTags = async (): Promise<Record<string, string>> => {
  const plan = JSON.parse((await runCliAsync(work, "plan", "--json")).stdout) as { images: { id: string; contentReference: string }[] };
  return Object.fromEntries(plan.images.map((image) => [image.id, image.contentReference.slice(image.contentReference.lastIndexOf(":") + 1)]));
};

/** What a build of one generation pushes: per image an index over a platform and an attestation manifest, under its content tag. */
function push(generation: Record<string, string>, seed: string, humanTags: boolean): Record<string, string> {
  const indexes: Record<string, string> = {};
  for (const [id, tag] of Object.entries(generation)) {
    const platform = registry.put("app", imageManifest(`${seed}-${id}-amd64`));
    const attestation = registry.put("app", imageManifest(`${seed}-${id}-attestation`));
    indexes[id] = registry.put("app", indexManifest({ "linux/amd64": platform }, { [platform]: attestation }), tag, ...(humanTags ? [id] : []));
  }
  return indexes;
}

/** Every folder the tests make, removed after them. */
const folders: string[] = [];
const folder = (prefix: string) => {
  const made = mkdtempSync(join(tmpdir(), prefix));
  folders.push(made);
  return made;
};
afterAll(() => folders.forEach((made) => rmSync(made, { recursive: true, force: true })));

beforeAll(async () => {
  work = folder("prune-");
  git("init", "-q", "-b", "main");
  writeFileSync(
    join(work, "matrix.toml"),
    `repository = "${server.host}/app"\n[axes.py]\na = { V = "1" }\nb = { V = "2" }\n[images.app]\ndockerfile = "Dockerfile"\nmatrix = ["py"]\ntag = "app-{py}"\nargs = ["py"]\n[cache]\ntype = "registry"\n`,
  );
  writeFileSync(join(work, "Dockerfile"), `ARG BASE=${server.host}/upstream:1\nFROM $BASE\nARG V\nLABEL v=$V\n`);
  writeFileSync(join(work, "matrix.lock"), lockOf("1"));
  git("add", "-A");
  git("commit", "-qm", "c1: images, locked");
  generations.push(await contentTags());
  appendFileSync(join(work, "Dockerfile"), "LABEL edited=yes\n");
  git("commit", "-qam", "c2: an edit");
  generations.push(await contentTags());
  writeFileSync(join(work, "matrix.lock"), lockOf("2"));
  git("commit", "-qam", "c3: the upstream image moved");
  generations.push(await contentTags());
});

describe("prune", () => {
  test("lists what no kept plan needs, deletes it only with --delete, keeps every child and signature of what stays; a second run finds nothing", async () => {
    registry.tokens = true;
    const [first, second, third] = [push(generations[0]!, "g1", false), push(generations[1]!, "g2", false), push(generations[2]!, "g3", true)];
    const cacheKept = registry.put("app", imageManifest("cache-a", { configType: CACHE_CONFIG }), "cache-app-a");
    const cacheGone = registry.put("app", imageManifest("cache-old", { configType: CACHE_CONFIG }), "cache-app-old");
    const handCache = registry.put("app", imageManifest("by-hand"), "cache-by-hand");
    const signatureKept = registry.put("app", imageManifest("sig-g1"), `${first["app-a"]!.replace(":", "-")}.sig`);
    const signatureGone = registry.put("app", imageManifest("sig-g2"), `${second["app-a"]!.replace(":", "-")}.sig`);
    // Someone else's tag on the second generation's image b: it keeps that image, and so its content tag stays (left).
    registry.repositories.get("app")!.tags.set("release-candidate", second["app-b"]!);

    const dry = await prune();
    expect({ code: dry.code, stderr: dry.stderr }).toMatchObject({ code: 0 });
    expect(dry.stderr).toContain(`kept: the working tree, main (`);
    expect(dry.stderr).toContain("lock generation");
    expect(dry.stderr).toContain(`left ${repository()}:${generations[1]!["app-b"]}: its manifest is also release-candidate's, which is kept`);
    const children = (index: string) => (JSON.parse(registry.repositories.get("app")!.manifests.get(index)!.body) as { manifests: { digest: string }[] }).manifests.map((m) => m.digest);
    const [platform, attestation] = children(second["app-a"]!);
    expect(dry.stdout).toBe(
      [
        `delete ${repository()}@${cacheGone} (cache-app-old): build cache of no image of the kept plans`,
        `delete ${repository()}@${second["app-a"]} (${generations[1]!["app-a"]}): content tag of no image of the kept plans`,
        `delete ${repository()}@${platform}: linux/amd64 image of ${second["app-a"]}`,
        `delete ${repository()}@${attestation}: attestation manifest of ${platform} of ${second["app-a"]}`,
        `delete ${repository()}@${signatureGone} (${second["app-a"]!.replace(":", "-")}.sig): cosign signature of ${second["app-a"]}, which is not kept`,
        "",
      ].join("\n"),
    );
    expect(dry.stderr).toContain("5 manifests to delete (a dry run: prune --delete deletes them)");
    expect(registry.requests.filter((r) => r.startsWith("DELETE"))).toEqual([]);
    // The dry run read the tags in pages (two a page here), each page asked once its token was had.
    expect(registry.requests.filter((r) => r === "GET /v2/app/tags/list").length).toBeGreaterThan(5);

    // Fewer lock generations keep less: with none, the first commit's images go too.
    const headsOnly = await prune("--keep-locks", "0");
    expect(headsOnly.stdout).toContain(`(${generations[0]!["app-a"]}): content tag`);
    expect(headsOnly.stdout).toContain(`(${first["app-a"]!.replace(":", "-")}.sig): cosign signature`);

    const deleted = await prune("--delete");
    expect({ code: deleted.code, stderr: deleted.code === 0 ? "" : deleted.stderr }).toEqual({ code: 0, stderr: "" });
    expect(deleted.stdout).toBe(dry.stdout.replaceAll(/^delete /gm, "deleted "));
    expect(deleted.stderr).toContain("5 manifests deleted");
    for (const gone of [cacheGone, second["app-a"]!, platform!, attestation!, signatureGone]) expect(registry.has("app", gone)).toBe(false);
    // Everything kept still there: both kept generations' indexes and every child, the kept cache, signature, and what is not ours.
    for (const kept of [...Object.values(first), ...Object.values(third), second["app-b"]!, cacheKept, handCache, signatureKept]) {
      expect(registry.has("app", kept)).toBe(true);
      for (const child of registry.repositories.get("app")!.manifests.get(kept)!.mediaType.includes("index") ? children(kept) : []) expect(registry.has("app", child)).toBe(true);
    }
    expect(registry.tagged("app", "app-a")).toBe(third["app-a"]);

    const again = await prune();
    expect({ code: again.code, stdout: again.stdout }).toEqual({ code: 0, stdout: "" });
    expect(again.stderr).toContain("0 manifests to delete");
  });

  test("--json lists the same, per repository", async () => {
    const listed = await prune("--json");
    expect(listed.code).toBe(0);
    const json = JSON.parse(listed.stdout) as { version: number; deleted: boolean; kept: string[]; repositories: { repository: string; deletions: unknown[]; left: unknown[] }[] };
    expect(json).toMatchObject({ version: 1, deleted: false, repositories: [{ repository: repository(), deletions: [] }] });
    expect(json.kept[0]).toBe("the working tree");
  });

  test("a registry that refuses, or deletes nothing, is exit 4 naming it; nothing is deleted past the first refusal", async () => {
    registry.overrides.push({ pattern: /tags\/list$/, answer: () => new Response("denied: no access", { status: 403 }) });
    const refused = await prune();
    expect(refused.code).toBe(4);
    expect(refused.stderr).toContain(`${server.host} answered HTTP 403 when asked to list the tags of app: denied: no access`);
    registry.overrides.length = 0;

    const stale = [registry.put("app", imageManifest("stale-cache", { configType: CACHE_CONFIG }), "cache-stale"), registry.put("app", imageManifest("stale-too", { configType: CACHE_CONFIG }), "cache-stale-too")];
    registry.overrides.push({ pattern: /manifests\/sha256:/, method: "DELETE", answer: () => new Response("unsupported", { status: 405 }) });
    registry.requests.length = 0;
    const unsupported = await prune("--delete");
    expect(unsupported.code).toBe(4);
    expect(registry.requests.filter((r) => r.startsWith("DELETE"))).toEqual([`DELETE /v2/app/manifests/${stale[0]}`]);
    expect(unsupported.stderr).toContain("does not delete manifests (HTTP 405: unsupported)");
    expect(unsupported.stderr).toContain("storage: { delete: { enabled: true } }");
    registry.overrides.length = 0;
    // Once the registry deletes, both go; --json says so of each.
    const deleted = await prune("--delete", "--json");
    expect(deleted.code).toBe(0);
    const json = JSON.parse(deleted.stdout) as { deleted: boolean; repositories: { deletions: { digest: string; outcome: string }[] }[] };
    expect(json.deleted).toBe(true);
    expect(json.repositories[0]!.deletions.map(({ digest, outcome }) => [digest, outcome])).toEqual(stale.map((digest) => [digest, "deleted"]));
    for (const digest of stale) expect(registry.has("app", digest)).toBe(false);
  });

  test("a [publish] branch that is not here: the dry run warns, --delete is refused (exit 2) before asking any registry", async () => {
    writeFileSync(join(work, "matrix.toml"), `${(await Bun.file(join(work, "matrix.toml")).text())}[publish]\nbranches = ["release/**"]\n`);
    const dry = await prune();
    expect(dry.code).toBe(0);
    expect(dry.stderr).toContain("warning: no branch [publish] names (release/**) is here, as a local branch or origin/BRANCH");
    registry.requests.length = 0;
    const refused = await prune("--delete");
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain("prune --delete deletes nothing it cannot prove unneeded");
    expect(registry.requests).toEqual([]);
    git("checkout", "-q", "--", "matrix.toml");
  });

  test("a branch that exists only as origin/BRANCH, matched by a pattern, is kept as its own plan", async () => {
    const head = Bun.spawnSync(["git", "rev-parse", "HEAD~1"], { cwd: work }).stdout.toString().trim();
    git("update-ref", "refs/remotes/origin/release/1.0", head);
    writeFileSync(join(work, "matrix.toml"), `${await Bun.file(join(work, "matrix.toml")).text()}[publish]\nbranches = ["main", "release/**"]\n`);
    const dry = await prune("--keep-locks", "0");
    expect(dry.code).toBe(0);
    expect(dry.stderr).toContain(`kept: the working tree, main (`);
    expect(dry.stderr).toContain(`, origin/release/1.0 (${head.slice(0, 7)})`);
    git("checkout", "-q", "--", "matrix.toml");
    git("update-ref", "-d", "refs/remotes/origin/release/1.0");
  });

  test("a [publish] branch whose head has no matrix file (moved, perhaps) refuses --delete: what it publishes cannot be told", async () => {
    const emptyTree = Bun.spawnSync(["git", "hash-object", "-t", "tree", "/dev/null"], { cwd: work }).stdout.toString().trim();
    const commit = Bun.spawnSync(["git", "-c", "user.name=t", "-c", "user.email=t@example.com", "commit-tree", emptyTree, "-m", "no matrix here"], { cwd: work }).stdout.toString().trim();
    git("branch", "elsewhere", commit);
    writeFileSync(join(work, "matrix.toml"), `${await Bun.file(join(work, "matrix.toml")).text()}[publish]\nbranches = ["main", "elsewhere"]\n`);
    const refused = await prune("--delete");
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain(`warning: elsewhere (${commit.slice(0, 7)}) has no matrix.toml`);
    git("checkout", "-q", "--", "matrix.toml");
    git("branch", "-D", "elsewhere");
  });

  test("--delete from ghcr.io, which deletes through GitHub's package API only, is refused without a token before anything is asked", async () => {
    const matrix = await Bun.file(join(work, "matrix.toml")).text();
    writeFileSync(join(work, "matrix.toml"), matrix.replace(`"${server.host}/app"`, '"ghcr.io/acme/app"'));
    registry.requests.length = 0;
    const child = Bun.spawn([process.execPath, join(REPO_ROOT, "cli/main.ts"), "prune", "--delete"], { cwd: work, env: { ...process.env, GITHUB_TOKEN: "", GH_TOKEN: "" }, stdout: "pipe", stderr: "pipe" });
    const [stderr, code] = await Promise.all([new Response(child.stderr).text(), child.exited]);
    expect(code).toBe(2);
    expect(stderr).toContain("error: ghcr.io/acme/app: prune --delete deletes from ghcr.io through GitHub's package API, and needs a token: GITHUB_TOKEN (or GH_TOKEN) is not set");
    expect(registry.requests).toEqual([]);
    git("checkout", "-q", "--", "matrix.toml");
  });

  test("the embedded matrix (no matrix.toml here) is no project's to prune: exit 2, no registry asked", async () => {
    const elsewhere = folder("prune-embedded-");
    const run = await runCliAsync(elsewhere, "prune");
    expect(run.code).toBe(2);
    expect(run.stderr).toContain("the embedded matrix is no project's");
  });

  test("a matrix in no git repository: the dry run warns that no branch could be planned, --delete is refused", async () => {
    const alone = folder("prune-alone-");
    writeFileSync(join(alone, "matrix.toml"), `repository = "${server.host}/alone"\n[images.x]\ndockerfile = "Dockerfile"\ntag = "x"\n`);
    writeFileSync(join(alone, "Dockerfile"), "FROM scratch\n");
    const dry = await runCliAsync(alone, "prune");
    expect({ code: dry.code, stdout: dry.stdout }).toEqual({ code: 0, stdout: "" });
    expect(dry.stderr).toContain("warning: matrix.toml is in no git repository: no branch of [publish] (main) could be planned");
    expect((await runCliAsync(alone, "prune", "--delete")).code).toBe(2);
  });

  test("--keep-locks takes a whole number", async () => {
    const bad = await prune("--keep-locks", "many");
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("--keep-locks");
  });
});

test("docs/prune.md's prune help is what prune --help prints", () => {
  const page = readFileSync(join(REPO_ROOT, "docs/prune.md"), "utf8");
  const section = page.slice(page.indexOf("# A registry that does not only grow: `caliban-images prune`"));
  const block = /\*\*Help\*\* \(`caliban-images prune --help`\):\n\n  ```\n([\s\S]*?)\n  ```/.exec(section)![1]!;
  const help = runCli(["prune", "--help"]);
  expect(help.code).toBe(0);
  expect(block.split("\n").map((line) => line.slice(2))).toEqual(help.stdout.trimEnd().split("\n").map((line) => line.trimEnd()));
});
