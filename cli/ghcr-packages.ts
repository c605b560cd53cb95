// Deleting from GHCR, whose Distribution API deletes nothing: GitHub's REST API for
// packages does, by version id. A container package's versions are its manifests (a
// version's `name` is the manifest's digest), so a digest prune lists is deleted as the
// version of that name: `DELETE /orgs/OWNER/packages/container/PACKAGE/versions/ID` (or
// `/users/OWNER/...` for a user's package). ghcr.io/OWNER/A/B is the package "A/B" of
// OWNER. The token is GITHUB_TOKEN (or GH_TOKEN), with the packages:delete permission (in
// Actions: `permissions: packages: write`, and the package granting the repository admin
// access); GITHUB_API_URL names another API (GitHub Enterprise, a test's).

import { problem, Unanswered, type Registry } from "./registry.ts";

export const GHCR = "ghcr.io";
const PER_PAGE = 100;
const RETRY_HINT = "GitHub's API did not answer: run prune --delete again";

/** A package version as the API gives it (the fields read here). */
interface Version {
  readonly id: number;
  readonly name: string;
  readonly updated_at?: string;
  readonly metadata?: { readonly container?: { readonly tags?: readonly string[] } };
}

interface Listed {
  readonly id: number;
  readonly untagged: boolean;
  /** When it was last pushed or tagged, in ms since the epoch (NaN when the API did not say). */
  readonly updated: number;
}

export class GhcrPackage {
  private readonly owner: string;
  private readonly packageName: string;
  /** The owner's kind, "orgs" or "users", and the package's versions by digest, once listed. */
  private listed: { readonly kind: string; readonly versions: ReadonlyMap<string, Listed> } | undefined;

  constructor(
    private readonly registry: Registry,
    /** `ghcr.io/OWNER/PACKAGE...`. */
    private readonly repository: string,
    private readonly token: string,
    private readonly api: string,
    private readonly fetcher: typeof fetch = fetch,
  ) {
    const [, owner, ...name] = repository.split("/");
    this.owner = owner!;
    this.packageName = name.join("/");
  }

  /** Deletes the version whose name is `digest`; "gone" when the package has none (any more). */
  async delete(digest: string): Promise<"deleted" | "gone"> {
    const { kind, versions } = await this.versions();
    const id = versions.get(digest)?.id;
    if (id === undefined) return "gone";
    return this.registry.retried(`${this.repository}@${digest}`, async () => {
      const response = await this.ask("DELETE", `/${kind}/${this.owner}/packages/container/${encodeURIComponent(this.packageName)}/versions/${id}`);
      if (response.status === 404) return "gone";
      await this.check(response, `delete version ${id} (${digest}) of`);
      return "deleted";
    }, RETRY_HINT);
  }

  /**
   * The digests of the package's untagged versions last updated before `cutoff` (ms since
   * the epoch): the manifests the Distribution API cannot list. A newer one may be a build's
   * by-digest push still waiting for its index (GitHub's native runners), so it is left.
   */
  async untaggedBefore(cutoff: number): Promise<string[]> {
    const { versions } = await this.versions();
    return [...versions].filter(([, version]) => version.untagged && version.updated < cutoff).map(([digest]) => digest).sort();
  }

  /** Every version of the package, page by page, from the organisation's packages or else the user's. */
  private async versions(): Promise<{ kind: string; versions: ReadonlyMap<string, Listed> }> {
    if (this.listed) return this.listed;
    for (const kind of ["orgs", "users"]) {
      const versions = new Map<string, Listed>();
      for (let page = 1; ; page++) {
        const path = `/${kind}/${this.owner}/packages/container/${encodeURIComponent(this.packageName)}/versions?per_page=${PER_PAGE}&page=${page}`;
        const answer = await this.registry.retried(this.repository, async () => {
          const response = await this.ask("GET", path);
          if (response.status === 404) return undefined;
          await this.check(response, "list the versions of");
          return (await response.json().catch(() => undefined)) as unknown;
        }, RETRY_HINT);
        if (answer === undefined) break;
        if (!Array.isArray(answer)) throw problem(this.repository, `${this.api} answered the versions of package ${this.packageName} with no list`);
        for (const version of answer as Version[]) {
          if (typeof version.id !== "number" || typeof version.name !== "string") continue;
          const tags = version.metadata?.container?.tags;
          // No tag list is no proof it has none: such a version counts as tagged.
          versions.set(version.name, { id: version.id, untagged: Array.isArray(tags) && tags.length === 0, updated: Date.parse(version.updated_at ?? "") });
        }
        if (answer.length < PER_PAGE) return (this.listed = { kind, versions });
      }
    }
    throw problem(this.repository, `${this.api} has no container package ${this.packageName} of ${this.owner} (neither an organisation's nor a user's)`, "the token must see the package: GITHUB_TOKEN with read:packages and delete:packages");
  }

  private async ask(method: string, path: string): Promise<Response> {
    try {
      return await this.fetcher(`${this.api}${path}`, {
        method,
        headers: { accept: "application/vnd.github+json", authorization: `Bearer ${this.token}`, "x-github-api-version": "2022-11-28" },
        signal: AbortSignal.timeout(30_000),
      });
    } catch (error) {
      throw new Unanswered(`cannot reach ${this.api}: ${(error as Error).message}`);
    }
  }

  private async check(response: Response, doing: string): Promise<void> {
    if (response.ok) return;
    const said = ((await response.json().catch(() => ({}))) as { message?: unknown }).message;
    const where = `${this.api} answered HTTP ${response.status} when asked to ${doing} package ${this.packageName} of ${this.owner}${typeof said === "string" ? `: ${said.slice(0, 300)}` : ""}`;
    // GitHub's secondary rate limit is a 403 with a retry-after.
    if (response.status === 429 || response.status >= 500 || (response.status === 403 && response.headers.has("retry-after"))) throw new Unanswered(where);
    throw problem(this.repository, where, response.status === 401 || response.status === 403 ? "GITHUB_TOKEN needs read:packages and delete:packages, and admin access to the package" : undefined);
  }
}

/** GITHUB_API_URL, else GitHub's: https, or plain http on loopback only (a test's). */
export function githubApi(environment: Record<string, string | undefined>): string {
  const api = (environment.GITHUB_API_URL ?? "https://api.github.com").replace(/\/+$/, "");
  if (!/^https:\/\//.test(api) && !/^http:\/\/(localhost|127(\.[0-9]{1,3}){3})(:[0-9]+)?$/.test(api)) {
    throw problem(GHCR, `GITHUB_API_URL ${JSON.stringify(api)} is not https: no token is sent there`);
  }
  return api;
}

/** The token prune deletes GHCR package versions with: GITHUB_TOKEN, else GH_TOKEN. */
export function githubToken(environment: Record<string, string | undefined>): string | undefined {
  return environment.GITHUB_TOKEN || environment.GH_TOKEN || undefined;
}
