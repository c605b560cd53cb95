// The registry client against registries that do not behave: a token service that is a
// local file or plain http, answers too large to read, a body that stalls, a realm that
// is no URL. Each is a REGISTRY error (exit 4 from the CLI) with what the registry did,
// never a stack trace, and no login goes where it should not.

import { expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { CalibanError } from "../core/errors.ts";
import { Registry } from "./registry.ts";
import { loopbackServer } from "../fixtures/test-helpers.ts";
import { scratchFolder } from "../scripts/validators/scratch.ts";

/** What the fake registry does for the next request, by path. */
let behave: (request: Request, url: URL) => Response | Promise<Response> = () => new Response("", { status: 404 });
const seen: { url: string; authorization: string | null }[] = [];
const server = loopbackServer((request, url) => {
  seen.push({ url: url.pathname, authorization: request.headers.get("authorization") });
  return behave(request, url);
});

/** docker's config.json with a login for `registry`, so that a leak would show. */
function dockerConfig(registry: string): string {
  const directory = scratchFolder("docker-config-");
  const path = join(directory, "config.json");
  writeFileSync(path, JSON.stringify({ auths: { [registry]: { auth: Buffer.from("user:secret").toString("base64") } } }));
  return path;
}

async function failure(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(CalibanError);
    expect((error as CalibanError).code).toBe("REGISTRY");
    return (error as CalibanError).message;
  }
  throw new Error("no error");
}

const challenge = (realm: string) => () => new Response("", { status: 401, headers: { "www-authenticate": `Bearer realm="${realm}",service="x"` } });

test("a token realm that is a local file, or not https for an https registry, gets no login and no request", async () => {
  seen.length = 0;
  const registry = new Registry({ retryDelays: [], dockerConfig: dockerConfig("registry.example"), fetch: (async (url: string, init: RequestInit) => {
    seen.push({ url, authorization: new Headers(init.headers).get("authorization") });
    return challenge(url.includes("/v2/") ? "file:///etc/passwd" : "")();
  }) as unknown as typeof fetch });
  expect(await failure(registry.lookup("registry.example/x:t"))).toContain('named a token service at "file://", which is not https: no login or token is sent there');
  expect(seen.map((s) => s.url)).toEqual(["https://registry.example/v2/x/manifests/t"]);
  const plain = new Registry({ retryDelays: [], dockerConfig: dockerConfig("registry.example"), fetch: (async (url: string, init: RequestInit) => {
    seen.push({ url, authorization: new Headers(init.headers).get("authorization") });
    return challenge("http://tokens.example/token")();
  }) as unknown as typeof fetch });
  seen.length = 0;
  expect(await failure(plain.lookup("registry.example/x:t"))).toContain('"http://tokens.example", which is not https');
  expect(seen.every((s) => s.authorization === null && !s.url.startsWith("http://tokens"))).toBe(true);
});

test("a loopback registry may name a plain-http token service: its own", async () => {
  behave = (request, url) => (url.pathname === "/token" ? Response.json({ token: "t" }) : request.headers.get("authorization") === "Bearer t" ? new Response("", { status: 404 }) : challenge(`http://${server.host}/token`)());
  expect(await new Registry({ retryDelays: [] }).lookup(`${server.host}/x:t`)).toEqual({ present: false });
});

test("a realm that is no URL is an error that says so, not a crash", async () => {
  behave = challenge("::not a url::");
  expect(await failure(new Registry({ retryDelays: [] }).lookup(`${server.host}/x:t`))).toContain("named a token service that is no URL");
});

test("answers too large to read are refused before they are read whole: a token, a manifest", async () => {
  const big = "x".repeat(2 << 20);
  behave = (_, url) => (url.pathname === "/token" ? new Response(`{"token":"${big}"}`) : challenge(`http://${server.host}/token`)());
  expect(await failure(new Registry({ retryDelays: [] }).lookup(`${server.host}/x:t`))).toContain("token service's answer is");
  // A registry that gives no digest header: the manifest is read to hash it, at most 4 MiB of it.
  behave = () => new Response(new ReadableStream({ pull: (controller) => controller.enqueue(new Uint8Array(1 << 20)) }));
  expect(await failure(new Registry({ retryDelays: [] }).lookup(`${server.host}/x:t`))).toContain("is more than the 4194304 bytes caliban-images reads");
});

test("a body that stops before its end is no answer: asked again, then an error, never a stack trace", async () => {
  let requests = 0;
  behave = () => {
    requests++;
    // A digest-less manifest whose body breaks off.
    return new Response(
      new ReadableStream({
        start: (controller) => {
          controller.enqueue(new Uint8Array(10));
          // After the headers and the first bytes have gone out.
          setTimeout(() => controller.error(new Error("connection reset")), 50);
        },
      }),
    );
  };
  const message = await failure(new Registry({ retryDelays: [0] }).lookup(`${server.host}/x:t`));
  expect(message).toContain("stopped before its end");
  expect(message).toContain("(asked 2 times)");
  expect(requests).toBe(4); // HEAD and GET, twice
});
