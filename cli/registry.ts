// An image's digest, asked of its registry through the distribution HTTP API (what
// `docker buildx imagetools inspect` and `skopeo inspect` ask): `HEAD
// /v2/NAME/manifests/TAG`, the `Docker-Content-Digest` it answers. A registry that wants a
// token says so (401, `WWW-Authenticate: Bearer realm=...`); an anonymous token is asked
// for, with the user's docker login when docker's config has one for that host.
//
// The digest is the manifest's as the registry has it: for a multi-platform image, its
// index, so a pinned `REF@sha256:...` still serves every platform.

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
}

export class Registry {
  private readonly fetch: typeof fetch;
  private readonly tokens = new Map<string, string>();
  private logins: Record<string, { auth?: string }> | undefined;

  constructor(private readonly options: RegistryOptions = {}) {
    this.fetch = options.fetch ?? fetch;
  }

  /** The digest ("sha256:<hex>") the registry gives the reference's tag now. */
  async digest(reference: string): Promise<string> {
    const name = imageName(reference);
    const url = `${this.base(name.registry)}/v2/${name.path}/manifests/${encodeURIComponent(name.tag)}`;
    let response = await this.request("HEAD", url, name, reference);
    if (response.status === 405 || (response.ok && !response.headers.get("docker-content-digest"))) {
      // A registry that answers no HEAD, or no digest to one: the manifest's own bytes tell it.
      response = await this.request("GET", url, name, reference);
      if (response.ok && !response.headers.get("docker-content-digest")) {
        return `sha256:${new Bun.CryptoHasher("sha256").update(new Uint8Array(await response.arrayBuffer())).digest("hex")}`;
      }
    }
    if (response.status === 404) throw problem(reference, `${name.registry} has no ${name.path}:${name.tag}`, "check the name and the tag, or that the image is pushed");
    if (response.status === 401 || response.status === 403) {
      throw problem(reference, `${name.registry} refused to show ${name.path} (HTTP ${response.status})`, `log in first (docker login ${name.registry}): lock reads docker's config.json`);
    }
    if (!response.ok) throw problem(reference, `${name.registry} answered HTTP ${response.status} for ${name.path}:${name.tag}`);
    const digest = response.headers.get("docker-content-digest") ?? "";
    if (!/^sha256:[0-9a-f]{64}$/.test(digest)) throw problem(reference, `${name.registry} gave no sha256 digest for ${name.path}:${name.tag} (it gave ${JSON.stringify(digest)})`);
    return digest;
  }

  private base(registry: string): string {
    const host = registry === "docker.io" ? "registry-1.docker.io" : registry;
    const hostname = host.replace(/:[0-9]+$/, "");
    const plain = hostname === "localhost" || /^127\./.test(hostname) || hostname === "[::1]" || (this.options.insecure ?? []).includes(registry);
    return `${plain ? "http" : "https"}://${host}`;
  }

  /** A request, with the registry's token when it wants one (asked for once per registry and repository). */
  private async request(method: string, url: string, name: ImageName, reference: string): Promise<Response> {
    const key = `${name.registry}/${name.path}`;
    const headers: Record<string, string> = { accept: MANIFEST_TYPES };
    const token = this.tokens.get(key);
    if (token !== undefined) headers.authorization = token;
    let response = await this.send(method, url, headers, reference, name.registry);
    if (response.status !== 401 || token !== undefined) return response;
    const challenge = response.headers.get("www-authenticate") ?? "";
    const login = this.login(name.registry);
    let authorization: string | undefined;
    if (/^bearer\s/i.test(challenge)) authorization = await this.bearer(challenge, name, login, reference);
    else if (/^basic\s/i.test(challenge) && login !== undefined) authorization = `Basic ${login}`;
    if (authorization === undefined) return response;
    this.tokens.set(key, authorization);
    headers.authorization = authorization;
    response = await this.send(method, url, headers, reference, name.registry);
    return response;
  }

  private async bearer(challenge: string, name: ImageName, login: string | undefined, reference: string): Promise<string | undefined> {
    const parameters = new Map<string, string>();
    for (const match of challenge.replace(/^bearer\s+/i, "").matchAll(/([A-Za-z]+)="([^"]*)"/g)) parameters.set(match[1]!.toLowerCase(), match[2]!);
    const realm = parameters.get("realm");
    if (realm === undefined) return undefined;
    const url = new URL(realm);
    if (parameters.has("service")) url.searchParams.set("service", parameters.get("service")!);
    url.searchParams.set("scope", `repository:${name.path}:pull`);
    const response = await this.send("GET", url.href, login === undefined ? {} : { authorization: `Basic ${login}` }, reference, name.registry);
    if (!response.ok) throw problem(reference, `${name.registry}'s token service (${url.origin}) answered HTTP ${response.status}`, login === undefined ? `log in first (docker login ${name.registry})` : undefined);
    const body = (await response.json().catch(() => ({}))) as { token?: unknown; access_token?: unknown };
    const token = typeof body.token === "string" ? body.token : typeof body.access_token === "string" ? body.access_token : undefined;
    if (token === undefined) throw problem(reference, `${name.registry}'s token service gave no token`);
    return `Bearer ${token}`;
  }

  private async send(method: string, url: string, headers: Record<string, string>, reference: string, registry: string): Promise<Response> {
    try {
      return await this.fetch(url, { method, headers, redirect: "follow", signal: AbortSignal.timeout(TIMEOUT_MS) });
    } catch (error) {
      throw problem(reference, `cannot reach ${registry}: ${(error as Error).message}`, "check the network; lock exits 4, so a CI step can retry it");
    }
  }

  /** The base64 user:password docker's config.json keeps for a registry, if any (credential helpers are not asked). */
  private login(registry: string): string | undefined {
    if (this.logins === undefined) {
      const path = this.options.dockerConfig ?? join(process.env.DOCKER_CONFIG ?? join(homedir(), ".docker"), "config.json");
      try {
        this.logins = (JSON.parse(readFileSync(path, "utf8")) as { auths?: Record<string, { auth?: string }> }).auths ?? {};
      } catch {
        this.logins = {};
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

function problem(reference: string, message: string, hint?: string): CalibanError {
  return new CalibanError({ code: "REGISTRY", message: `FROM ${reference}: ${message}`, ...(hint ? { hint } : {}) });
}
