// An image's digest, asked of its registry through the distribution HTTP API (what
// `docker buildx imagetools inspect` and `skopeo inspect` ask): `HEAD
// /v2/NAME/manifests/TAG`, the `Docker-Content-Digest` it answers. A registry that wants a
// token says so (401, `WWW-Authenticate: Bearer realm=...`); an anonymous token is asked
// for, with the user's docker login when docker's config has one for that host.
//
// The digest is the manifest's as the registry has it: for a multi-platform image, its
// index, so a pinned `REF@sha256:...` still serves every platform.
//
// `call` and `retried` are the same requests for any path of the API (prune's tag lists,
// manifests and deletes: cli/registry-repository.ts), with a token for the scope asked.

import { readFileSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import { CalibanError } from "../core/errors.ts";

/** What a manifest may be; the registry answers with the one it has. */
const MANIFEST_TYPES = [
  "application/vnd.oci.image.index.v1+json",
  "application/vnd.docker.distribution.manifest.list.v2+json",
  "application/vnd.oci.image.manifest.v1+json",
  "application/vnd.docker.distribution.manifest.v2+json",
].join(", ");

const TIMEOUT_MS = 30_000;
/** Questions asked at once: enough for many tags or bases, few enough for a registry's rate limits. */
const CONCURRENT_REQUESTS = 8;

export interface ImageName {
  /** The host the reference names (docker.io when it names none). */
  readonly registry: string;
  /** The repository's path in it (library/ubuntu for ubuntu). */
  readonly path: string;
  readonly tag: string;
}

/** A reference as docker reads it: `ubuntu:22.04` is docker.io/library/ubuntu, tag 22.04; no tag is `latest`. */
export function imageName(reference: string): ImageName {
  const slash = reference.indexOf("/");
  const first = slash < 0 ? "" : reference.slice(0, slash);
  const hasRegistry = first.includes(".") || first.includes(":") || first === "localhost";
  const registry = hasRegistry ? first : "docker.io";
  let rest = hasRegistry ? reference.slice(slash + 1) : reference;
  const colon = rest.lastIndexOf(":");
  const tag = colon > rest.lastIndexOf("/") ? rest.slice(colon + 1) : "latest";
  if (colon > rest.lastIndexOf("/")) rest = rest.slice(0, colon);
  const path = registry === "docker.io" && !rest.includes("/") ? `library/${rest}` : rest;
  return { registry, path, tag };
}

export interface RegistryOptions {
  /** Hosts asked over plain http (as docker's insecure-registries); loopback hosts always are. */
  readonly insecure?: readonly string[];
  /** docker's config.json, for logins (default: $DOCKER_CONFIG/config.json, else ~/.docker/config.json). */
  readonly dockerConfig?: string;
  readonly fetch?: typeof fetch;
  /** The waits before each retry of a question the registry could not answer (default: 1, 2, 4 and 8 s). */
  readonly retryDelays?: readonly number[];
}

/** A registry's answer to "do you have this manifest?": a definite one, never a guess. */
export type Lookup = { readonly present: true; readonly digest: string } | { readonly present: false };

/** Could not ask: the network, a 5xx, a rate limit. Asked again; a refusal (401/403) or a malformed answer is not. */
export class Unanswered extends Error {}

/** A repository of a registry: the host and the repository's path in it. */
export type RepositoryName = Pick<ImageName, "registry" | "path">;

export class Registry {
  private readonly fetch: typeof fetch;
  private readonly tokens = new Map<string, string>();
  private logins: Record<string, { auth?: string }> | undefined;

  constructor(private readonly options: RegistryOptions = {}) {
    this.fetch = options.fetch ?? fetch;
  }

  /** The digest ("sha256:<hex>") the registry gives the reference's tag now; no such image is an error. */
  async digest(reference: string): Promise<string> {
    const found = await this.lookup(reference);
    if (found.present) return found.digest;
    const name = imageName(reference);
    throw problem(reference, `${name.registry} has no ${name.path}:${name.tag}`, "check the name and the tag, or that the image is pushed");
  }

  /**
   * Present (with its digest) or absent (404: no such manifest, or no such repository yet).
   * Anything else is no answer: a 5xx, a rate limit or the network is asked again, with
   * backoff; then, or at once for a refusal, a REGISTRY error with the registry's words.
   */
  async lookup(reference: string): Promise<Lookup> {
    return this.retried(reference, () => this.ask(reference), "the registry did not answer: nothing was built or pushed; run it again");
  }

  /**
   * `step`, asked again with backoff while the registry gives no answer (Unanswered: a 5xx,
   * a rate limit, the network); then a REGISTRY error naming `reference`. A refusal or a
   * malformed answer (a CalibanError) ends it at once.
   */
  async retried<T>(reference: string, step: () => Promise<T>, hint: string): Promise<T> {
    const delays = this.options.retryDelays ?? [1000, 2000, 4000, 8000];
    for (let attempt = 0; ; attempt++) {
      try {
        return await step();
      } catch (error) {
        if (!(error instanceof Unanswered)) throw error;
        if (attempt >= delays.length) throw problem(reference, `${error.message} (asked ${attempt + 1} times)`, hint);
        await Bun.sleep(delays[attempt]!);
      }
    }
  }

  private async ask(reference: string): Promise<Lookup> {
    const name = imageName(reference);
    const path = `/v2/${name.path}/manifests/${encodeURIComponent(name.tag)}`;
    let response = await this.call("HEAD", name, path, reference);
    if (response.status === 405 || (response.ok && !response.headers.get("docker-content-digest"))) {
      // A registry that answers no HEAD, or no digest to one: the manifest's own bytes tell it.
      response = await this.call("GET", name, path, reference);
      if (response.ok && !response.headers.get("docker-content-digest")) {
        return { present: true, digest: `sha256:${new Bun.CryptoHasher("sha256").update(await boundedBytes(response, MAX_MANIFEST_BYTES, `${name.registry}'s manifest of ${name.path}:${name.tag}`, reference)).digest("hex")}` };
      }
    }
    if (response.status === 404) return { present: false };
    // A HEAD's answer has no body: an error is asked again by GET, for the registry's own words.
    if (!response.ok && response.status !== 405) {
      const got = await this.call("GET", name, path, reference);
      if (got.status === response.status) response = got;
    }
    if (response.status === 401 || response.status === 403) {
      throw problem(reference, `${name.registry} refused to show ${name.path} (HTTP ${response.status}${await said(response)})`, `log in first (docker login ${name.registry}): caliban-images reads docker's config.json, or podman's auth.json`);
    }
    if (response.status === 429 || response.status >= 500) throw new Unanswered(`${name.registry} answered HTTP ${response.status} for ${name.path}:${name.tag}${await said(response)}`);
    if (!response.ok) throw problem(reference, `${name.registry} answered HTTP ${response.status} for ${name.path}:${name.tag}${await said(response)}`);
    const digest = response.headers.get("docker-content-digest") ?? "";
    if (!/^sha256:[0-9a-f]{64}$/.test(digest)) throw problem(reference, `${name.registry} gave no sha256 digest for ${name.path}:${name.tag} (it gave ${JSON.stringify(digest)})`);
    return { present: true, digest };
  }

  private base(registry: string): string {
    const host = registry === "docker.io" ? "registry-1.docker.io" : registry;
    return `${this.isPlainHttp(registry) ? "http" : "https"}://${host}`;
  }

  /** Whether a registry is asked over plain http: on loopback, or given as insecure. */
  isPlainHttp(registry: string): boolean {
    const hostname = registry.replace(/:[0-9]+$/, "");
    // Loopback by address, never by a name that starts like one (127.attacker.example).
    return hostname === "localhost" || /^127(\.[0-9]{1,3}){3}$/.test(hostname) || hostname === "[::1]" || (this.options.insecure ?? []).includes(registry);
  }

  /**
   * A request to the registry's API about one repository (`path` is /v2/...), with the
   * registry's token when it wants one: asked for once per registry, repository and
   * `actions` (docker's scopes: "pull", or "pull,delete" to delete). Not asked again: see `retried`.
   */
  async call(method: string, name: RepositoryName, path: string, reference: string, options: { readonly actions?: string; readonly accept?: string } = {}): Promise<Response> {
    const actions = options.actions ?? "pull";
    const key = `${name.registry}/${name.path} ${actions}`;
    const url = `${this.base(name.registry)}${path}`;
    const headers: Record<string, string> = { accept: options.accept ?? MANIFEST_TYPES };
    const token = this.tokens.get(key);
    if (token !== undefined) headers.authorization = token;
    let response = await this.send(method, url, headers, name.registry);
    if (response.status !== 401 || token !== undefined) return response;
    const challenge = response.headers.get("www-authenticate") ?? "";
    const login = this.login(name.registry);
    let authorization: string | undefined;
    if (/^bearer\s/i.test(challenge)) authorization = await this.bearer(challenge, name, actions, login, reference);
    else if (/^basic\s/i.test(challenge) && login !== undefined) authorization = `Basic ${login}`;
    if (authorization === undefined) return response;
    this.tokens.set(key, authorization);
    headers.authorization = authorization;
    response = await this.send(method, url, headers, name.registry);
    return response;
  }

  private async bearer(challenge: string, name: RepositoryName, actions: string, login: string | undefined, reference: string): Promise<string | undefined> {
    const parameters = new Map<string, string>();
    for (const match of challenge.replace(/^bearer\s+/i, "").matchAll(/([A-Za-z]+)="([^"]*)"/g)) parameters.set(match[1]!.toLowerCase(), match[2]!);
    const realm = parameters.get("realm");
    if (realm === undefined) return undefined;
    let url: URL;
    try {
      url = new URL(realm);
    } catch {
      throw problem(reference, `${name.registry} named a token service that is no URL (${JSON.stringify(realm.slice(0, 200))})`);
    }
    // A login goes only where the registry itself is asked: https, or plain http for a registry asked so (loopback, --insecure-registry).
    const plain = this.base(name.registry).startsWith("http:");
    if (url.protocol !== "https:" && !(url.protocol === "http:" && plain)) {
      throw problem(reference, `${name.registry} named a token service at ${JSON.stringify(`${url.protocol}//${url.host}`)}, which is not https: no login or token is sent there`, "a registry's token service is https (plain http only for a registry on loopback or given with --insecure-registry)");
    }
    if (parameters.has("service")) url.searchParams.set("service", parameters.get("service")!);
    url.searchParams.set("scope", `repository:${name.path}:${actions}`);
    const response = await this.send("GET", url.href, login === undefined ? {} : { authorization: `Basic ${login}` }, name.registry);
    if (response.status === 429 || response.status >= 500) throw new Unanswered(`${name.registry}'s token service (${url.origin}) answered HTTP ${response.status}`);
    if (!response.ok) throw problem(reference, `${name.registry}'s token service (${url.origin}) answered HTTP ${response.status}`, login === undefined ? `log in first (docker login ${name.registry})` : undefined);
    let body: { token?: unknown; access_token?: unknown } = {};
    try {
      body = JSON.parse(await boundedText(response, MAX_TOKEN_BYTES, `${name.registry}'s token service's answer`, reference)) as typeof body;
    } catch (error) {
      if (error instanceof Unanswered || error instanceof CalibanError) throw error;
      // Not JSON: no token, said below.
    }
    const token = typeof body.token === "string" ? body.token : typeof body.access_token === "string" ? body.access_token : undefined;
    if (token === undefined) throw problem(reference, `${name.registry}'s token service gave no token`);
    return `Bearer ${token}`;
  }

  private async send(method: string, url: string, headers: Record<string, string>, registry: string): Promise<Response> {
    try {
      return await this.fetch(url, { method, headers, redirect: "follow", signal: AbortSignal.timeout(TIMEOUT_MS) });
    } catch (error) {
      throw new Unanswered(`cannot reach ${registry}: ${(error as Error).message}`);
    }
  }

  /** The base64 user:password docker's config.json keeps for a registry, if any (credential helpers are not asked). */
  private login(registry: string): string | undefined {
    if (this.logins === undefined) {
      const docker = this.options.dockerConfig ?? join(process.env.DOCKER_CONFIG ?? join(homedir(), ".docker"), "config.json");
      // podman's logins (`podman login`): REGISTRY_AUTH_FILE, else its runtime folder's auth.json; docker's win.
      const podman = this.options.dockerConfig !== undefined ? [] : [process.env.REGISTRY_AUTH_FILE, process.env.XDG_RUNTIME_DIR && join(process.env.XDG_RUNTIME_DIR, "containers/auth.json")];
      this.logins = {};
      for (const path of [...podman, docker].filter((p): p is string => !!p)) {
        try {
          Object.assign(this.logins, (JSON.parse(readFileSync(path, "utf8")) as { auths?: Record<string, { auth?: string }> }).auths ?? {});
        } catch {
          // No such file, or not one: no login from it.
        }
      }
    }
    const keys = registry === "docker.io" ? ["https://index.docker.io/v1/", "docker.io", "index.docker.io"] : [registry, `https://${registry}`, `http://${registry}`];
    for (const key of keys) {
      const auth = this.logins[key]?.auth;
      if (auth) return auth;
    }
    return undefined;
  }
}

/** A token service's answer holds a token of a few KB: more than this is refused, not read on. */
const MAX_TOKEN_BYTES = 1 << 20;
/** The distribution spec's limit on a manifest a registry must accept (4 MiB). */
export const MAX_MANIFEST_BYTES = 4 << 20;

/** A body's bytes, at most `limit` of them (a larger one is an error, read no further); a stalled body is no answer. */
async function boundedBytes(response: Response, limit: number, what: string, reference: string): Promise<Uint8Array> {
  const declared = Number(response.headers.get("content-length") ?? "0");
  if (declared > limit) throw problem(reference, `${what} is ${declared} bytes, more than the ${limit} caliban-images reads`);
  const chunks: Uint8Array[] = [];
  let total = 0;
  try {
    const reader = response.body?.getReader();
    for (let read = await reader?.read(); read !== undefined && !read.done; read = await reader!.read()) {
      const chunk = read.value;
      total += chunk.byteLength;
      if (total > limit) {
        await response.body?.cancel().catch(() => {});
        throw problem(reference, `${what} is more than the ${limit} bytes caliban-images reads`);
      }
      chunks.push(chunk);
    }
  } catch (error) {
    if (error instanceof CalibanError) throw error;
    throw new Unanswered(`${what} stopped before its end: ${(error as Error).message}`);
  }
  return Buffer.concat(chunks);
}

export async function boundedText(response: Response, limit: number, what: string, reference: string): Promise<string> {
  return new TextDecoder().decode(await boundedBytes(response, limit, what, reference));
}

/** The first line of what a registry said with an error, if it said anything: its own words, for the log. */
export async function said(response: Response): Promise<string> {
  if (response.bodyUsed) return "";
  const text = await boundedText(response, 1 << 16, "an error's text", "").catch(() => "");
  const line = text.slice(0, 300).split("\n")[0]!.trim();
  return line === "" ? "" : `: ${line}`;
}

export function problem(reference: string, message: string, hint?: string): CalibanError {
  return new CalibanError({ code: "REGISTRY", message: `${reference}: ${message}`, ...(hint ? { hint } : {}) });
}

/** `step` of each item, CONCURRENT_REQUESTS at a time, the results in the items' order; the first error ends it. */
export async function eachAtOnce<T, R>(items: readonly T[], step: (item: T) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await step(items[index]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(CONCURRENT_REQUESTS, items.length) }, worker));
  return results;
}
