// Deleting a GHCR manifest through GitHub's package API, against a fake of the API on
// loopback: the version of that digest found page by page (an organisation's package,
// else a user's), deleted by id with the token; a digest it has not is gone already; a
// refusal is a REGISTRY error (exit 4) with GitHub's message.

import { expect, test } from "bun:test";
import { CalibanError } from "../core/errors.ts";
import { loopbackServer } from "../fixtures/test-helpers.ts";
import { GhcrPackage, githubApi, githubToken } from "./ghcr-packages.ts";
import { Registry } from "./registry.ts";

const digest = (n: number) => `sha256:${String(n).padStart(64, "0")}`;
/** The fake API's packages: `kind/owner/package` → versions. */
const packages = new Map<string, { id: number; name: string; updated_at?: string; metadata?: unknown }[]>();
const requests: string[] = [];
let refuse = false;
const api = loopbackServer((request, url) => {
  requests.push(`${request.method} ${url.pathname}${url.search} ${request.headers.get("authorization")}`);
  if (refuse) return Response.json({ message: "Must have admin rights to Repository." }, { status: 403 });
  const listing = /^\/(orgs|users)\/([^/]+)\/packages\/container\/([^/]+)\/versions$/.exec(url.pathname);
  if (listing && request.method === "GET") {
    const versions = packages.get(`${listing[1]}/${listing[2]}/${decodeURIComponent(listing[3]!)}`);
    if (!versions) return Response.json({ message: "Package not found." }, { status: 404 });
    const page = Number(url.searchParams.get("page"));
    const perPage = Number(url.searchParams.get("per_page"));
    return Response.json(versions.slice((page - 1) * perPage, page * perPage));
  }
  const one = /^\/(orgs|users)\/([^/]+)\/packages\/container\/([^/]+)\/versions\/([0-9]+)$/.exec(url.pathname);
  if (one && request.method === "DELETE") {
    const versions = packages.get(`${one[1]}/${one[2]}/${decodeURIComponent(one[3]!)}`) ?? [];
    const at = versions.findIndex((version) => version.id === Number(one[4]));
    if (at < 0) return new Response(null, { status: 404 });
    versions.splice(at, 1);
    return new Response(null, { status: 204 });
  }
  return new Response(null, { status: 404 });
});

const ghcr = (repository: string) => new GhcrPackage(new Registry({ retryDelays: [] }), repository, "t0ken", `http://${api.host}`);

test("an organisation's package: the digest's version is found past the first page and deleted by id, with the token", async () => {
  packages.set("orgs/acme/images/base", Array.from({ length: 150 }, (_, i) => ({ id: 1000 + i, name: digest(i) })));
  requests.length = 0;
  expect(await ghcr("ghcr.io/acme/images/base").delete(digest(120))).toBe("deleted");
  expect(packages.get("orgs/acme/images/base")!.some((version) => version.name === digest(120))).toBe(false);
  expect(requests).toEqual([
    "GET /orgs/acme/packages/container/images%2Fbase/versions?per_page=100&page=1 Bearer t0ken",
    "GET /orgs/acme/packages/container/images%2Fbase/versions?per_page=100&page=2 Bearer t0ken",
    "DELETE /orgs/acme/packages/container/images%2Fbase/versions/1120 Bearer t0ken",
  ]);
});

test("a user's package, when no organisation has it; a digest it has no version of is gone already", async () => {
  packages.set("users/someone/app", [{ id: 7, name: digest(1) }]);
  const userPackage = ghcr("ghcr.io/someone/app");
  expect(await userPackage.delete(digest(1))).toBe("deleted");
  expect(await userPackage.delete(digest(2))).toBe("gone");
  expect(packages.get("users/someone/app")).toEqual([]);
});

test("the untagged versions, last updated before the cutoff: a tagged one, a newer one, or one whose tags the API did not give, is none", async () => {
  const container = (tags?: string[]) => ({ package_type: "container", container: tags === undefined ? {} : { tags } });
  packages.set("orgs/acme/untagged", [
    { id: 1, name: digest(1), updated_at: "2026-01-01T00:00:00Z", metadata: container([]) },
    { id: 2, name: digest(2), updated_at: "2026-01-01T00:00:00Z", metadata: container(["latest"]) },
    { id: 3, name: digest(3), updated_at: "2026-06-01T00:00:00Z", metadata: container([]) },
    { id: 4, name: digest(4), updated_at: "2026-01-01T00:00:00Z", metadata: container() },
    { id: 5, name: digest(5), metadata: container([]) },
  ]);
  expect(await ghcr("ghcr.io/acme/untagged").untaggedBefore(Date.parse("2026-03-01T00:00:00Z"))).toEqual([digest(1)]);
});

test("a refusal is a REGISTRY error with GitHub's words; a package nobody has is one too", async () => {
  refuse = true;
  const refused = await ghcr("ghcr.io/acme/images/base").delete(digest(1)).catch((error: unknown) => error);
  refuse = false;
  expect(refused).toBeInstanceOf(CalibanError);
  expect((refused as CalibanError).code).toBe("REGISTRY");
  expect((refused as CalibanError).message).toContain("answered HTTP 403 when asked to list the versions of package images/base of acme: Must have admin rights to Repository.");
  const missing = (await ghcr("ghcr.io/nobody/nothing").delete(digest(1)).catch((error: unknown) => error)) as CalibanError;
  expect(missing.message).toContain("has no container package nothing of nobody");
});

test("the token and the API: GITHUB_TOKEN, else GH_TOKEN; GITHUB_API_URL only over https, or plain http on loopback", () => {
  expect(githubToken({ GITHUB_TOKEN: "a", GH_TOKEN: "b" })).toBe("a");
  expect(githubToken({ GITHUB_TOKEN: "", GH_TOKEN: "b" })).toBe("b");
  expect(githubToken({})).toBeUndefined();
  expect(githubApi({})).toBe("https://api.github.com");
  expect(githubApi({ GITHUB_API_URL: "https://github.example.com/api/v3/" })).toBe("https://github.example.com/api/v3");
  expect(() => githubApi({ GITHUB_API_URL: "http://github.example.com/api/v3" })).toThrow("is not https: no token is sent there");
});
