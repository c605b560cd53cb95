// One repository of a registry as `prune` reads and cleans it, through the Distribution
// API (cli/registry.ts asks, with its tokens, timeouts and retries): its tags (`GET
// /v2/NAME/tags/list`, page by page), the manifest each names (`GET
// /v2/NAME/manifests/DIGEST`: an index's children, whether it is a BuildKit cache, its
// OCI subject), and `DELETE /v2/NAME/manifests/DIGEST`.
//
// The API has no way to list a repository's untagged manifests: only those an index
// being deleted lists are found. GHCR deletes nothing through it: its package API does
// (cli/ghcr-packages.ts).

import type { ManifestFacts, RepositoryContents } from "../core/prune/prune-plan.ts";
import { boundedText, eachAtOnce, imageName, MAX_MANIFEST_BYTES, problem, said, Unanswered, type Registry, type RepositoryName } from "./registry.ts";

const BUILDKIT_CACHE_CONFIG = "application/vnd.buildkit.cacheconfig.v0";
const MANIFEST_MEDIA_TYPES = new Set([
  "application/vnd.oci.image.index.v1+json",
  "application/vnd.docker.distribution.manifest.list.v2+json",
  "application/vnd.oci.image.manifest.v1+json",
  "application/vnd.docker.distribution.manifest.v2+json",
]);
/** At most this many tags a page: the registry may give fewer, and says where the next page is. */
const PAGE = 1000;

const RETRY_HINT = "the registry did not answer: nothing was deleted; run it again";

export class RegistryRepository {
  private readonly name: RepositoryName;

  constructor(
    private readonly registry: Registry,
    /** `HOST/PATH`, as the graph names an image's repository. */
    readonly repository: string,
  ) {
    const { registry: host, path } = imageName(`${repository}:latest`);
    this.name = { registry: host, path };
  }

  /** Every tag, the digest each names, and what each of those manifests (and the `untagged` ones given) holds. */
  async contents(untagged: readonly string[] = []): Promise<RepositoryContents> {
    const listed = await this.tags();
    const lookups = await eachAtOnce(listed, (tag) => this.registry.lookup(`${this.repository}:${tag}`));
    // A tag deleted since the list was read is no tag; so is a manifest.
    const tags = new Map(listed.flatMap((tag, i) => { const found = lookups[i]!; return found.present ? [[tag, found.digest] as const] : []; }));
    const distinct = [...new Set([...tags.values(), ...untagged])];
    const facts = await eachAtOnce(distinct, (digest) => this.manifest(digest));
    const manifests = new Map(distinct.flatMap((digest, i) => (facts[i] === undefined ? [] : [[digest, facts[i]] as const])));
    return { repository: this.repository, tags, manifests, untagged: untagged.filter((digest) => manifests.has(digest)) };
  }

  /** The repository's tags, every page of them; none for a repository the registry does not have (404). */
  async tags(): Promise<string[]> {
    const tags: string[] = [];
    let path: string | undefined = `/v2/${this.name.path}/tags/list?n=${PAGE}`;
    while (path !== undefined) {
      const page: { tags: string[]; next: string | undefined } = await this.registry.retried(this.repository, () => this.tagsPage(path!), RETRY_HINT);
      tags.push(...page.tags);
      path = page.next;
    }
    return [...new Set(tags)].sort();
  }

  private async tagsPage(path: string): Promise<{ tags: string[]; next: string | undefined }> {
    const response = await this.registry.call("GET", this.name, path, this.repository, { accept: "application/json" });
    if (response.status === 404) return { tags: [], next: undefined };
    await this.check(response, "list the tags of");
    const body = parseJson(await boundedText(response, 16 << 20, `${this.name.registry}'s tag list of ${this.name.path}`, this.repository)) as { tags?: unknown };
    if (body === undefined || (body.tags !== null && body.tags !== undefined && !Array.isArray(body.tags))) throw problem(this.repository, `${this.name.registry} answered the tag list of ${this.name.path} with no list of tags`);
    const tags = ((body.tags as unknown[] | null) ?? []).filter((tag): tag is string => typeof tag === "string");
    // RFC 5988's Link: `</v2/NAME/tags/list?n=1000&last=TAG>; rel="next"`; only a page of this repository is followed.
    const link = /<([^>]+)>\s*;\s*rel="?next"?/.exec(response.headers.get("link") ?? "")?.[1];
    const next = link === undefined ? undefined : link.startsWith("http") ? new URL(link).pathname + new URL(link).search : link;
    if (next !== undefined && !next.startsWith(`/v2/${this.name.path}/tags/list`)) throw problem(this.repository, `${this.name.registry} named a next page of tags elsewhere (${JSON.stringify(next.slice(0, 200))})`);
    return { tags, next };
  }

  /** What a manifest holds: an index's children, whether it is a BuildKit cache, its subject; undefined when it is gone. */
  async manifest(digest: string): Promise<ManifestFacts | undefined> {
    return this.registry.retried(`${this.repository}@${digest}`, async () => {
      const response = await this.registry.call("GET", this.name, `/v2/${this.name.path}/manifests/${digest}`, this.repository);
      if (response.status === 404) return undefined;
      await this.check(response, `read ${digest} of`);
      return manifestFacts(parseJson(await boundedText(response, MAX_MANIFEST_BYTES, `${this.name.registry}'s manifest ${digest} of ${this.name.path}`, this.repository)));
    }, RETRY_HINT);
  }

  /** Deletes a manifest, and so every tag naming it; "gone" when the registry had it no more. */
  async delete(digest: string): Promise<"deleted" | "gone"> {
    return this.registry.retried(`${this.repository}@${digest}`, async () => {
      const response = await this.registry.call("DELETE", this.name, `/v2/${this.name.path}/manifests/${digest}`, this.repository, { actions: "pull,delete" });
      if (response.status === 404) return "gone";
      if (response.status === 405) throw problem(`${this.repository}@${digest}`, `${this.name.registry} does not delete manifests (HTTP 405${await said(response)})`, "docker-registry deletes only with storage: { delete: { enabled: true } } in its config");
      await this.check(response, `delete ${digest} of`);
      return "deleted";
    }, RETRY_HINT);
  }

  /** A refusal or another error is a REGISTRY error with the registry's words; no answer is asked again. */
  private async check(response: Response, doing: string): Promise<void> {
    if (response.ok) return;
    const where = `${this.name.registry} answered HTTP ${response.status} when asked to ${doing} ${this.name.path}${await said(response)}`;
    if (response.status === 429 || response.status >= 500) throw new Unanswered(where);
    const refused = response.status === 401 || response.status === 403;
    throw problem(this.repository, where, refused ? `log in first (docker login ${this.name.registry}) with a login that may ${doing.startsWith("delete") ? "delete" : "read"} there` : undefined);
  }
}

/** Parsed JSON, or undefined for text that is none. */
function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

interface Descriptor {
  readonly mediaType?: unknown;
  readonly digest?: unknown;
  readonly platform?: { readonly os?: unknown; readonly architecture?: unknown; readonly variant?: unknown };
  readonly annotations?: Record<string, unknown>;
}

/** A manifest's facts from its JSON; anything unreadable holds nothing (it is then kept or deleted by its tags alone). */
export function manifestFacts(json: unknown): ManifestFacts {
  const manifest = (typeof json === "object" && json !== null ? json : {}) as { manifests?: unknown; config?: Descriptor; subject?: Descriptor };
  const entries = (Array.isArray(manifest.manifests) ? manifest.manifests : []) as Descriptor[];
  const children = entries
    .filter((entry) => typeof entry.digest === "string" && MANIFEST_MEDIA_TYPES.has(String(entry.mediaType)))
    .map((entry) => ({ digest: entry.digest as string, what: childKind(entry) }));
  const buildCache = manifest.config?.mediaType === BUILDKIT_CACHE_CONFIG || entries.some((entry) => entry.mediaType === BUILDKIT_CACHE_CONFIG);
  const subject = typeof manifest.subject?.digest === "string" ? manifest.subject.digest : undefined;
  return { children, buildCache, ...(subject === undefined ? {} : { subject }) };
}

/** "linux/arm64 image", "attestation of sha256:...": what an index's entry is, for the listing. */
function childKind(entry: Descriptor): string {
  const annotations = entry.annotations ?? {};
  if (annotations["vnd.docker.reference.type"] === "attestation-manifest") return `attestation manifest of ${String(annotations["vnd.docker.reference.digest"])}`;
  const platform = entry.platform;
  if (platform && typeof platform.os === "string" && typeof platform.architecture === "string") {
    return `${[platform.os, platform.architecture, ...(typeof platform.variant === "string" ? [platform.variant] : [])].join("/")} image`;
  }
  return "manifest";
}
