// [sign] (issue 32): a key pair or keyless, read and checked at its line, carried by the
// graph only when given (a graph without it is as it was: its JSON, its shape).

import { describe, expect, test } from "bun:test";
import { formatDiagnostic } from "../errors.ts";
import { planText, problemsOf } from "../../fixtures/test-helpers.ts";

const BASE = `repository = "r.io/p/img"
[images.torch]
tag = "torch"
`;

describe("[sign]", () => {
  const errors = async (sign: string) => (await problemsOf(`${BASE}[sign]\n${sign}\n`)).map((d) => formatDiagnostic(d).split("\n")[0]!);
  const graph = async (sign: string) => (await planText(`${BASE}${sign}`)).graph;

  test("a key pair, or keyless identity and issuer, is carried by the graph as given", async () => {
    expect((await graph(`[sign]\nkey = "env://COSIGN_PRIVATE_KEY"\npublic_key = "keys/cosign.pub"\n`)).sign).toEqual({ key: "env://COSIGN_PRIVATE_KEY", publicKey: "keys/cosign.pub", transparencyLog: true });
    expect((await graph(`[sign]\nkey = "gcpkms://projects/p/locations/global/keyRings/r/cryptoKeys/k"\npublic_key = "gcpkms://projects/p/locations/global/keyRings/r/cryptoKeys/k"\ntransparency_log = false\n`)).sign).toMatchObject({ transparencyLog: false });
    const issuer = "https://token.actions.githubusercontent.com";
    const identity = "https://github.com/acme/images/.github/workflows/images.yml@refs/heads/main";
    expect((await graph(`[sign]\nidentity = "${identity}"\nissuer = "${issuer}"\n`)).sign).toEqual({ identity, issuer, transparencyLog: true });
  });

  test("without [sign] the graph has no sign key at all", async () => {
    expect("sign" in (await graph(""))).toBe(false);
  });

  test("each mistake once, at its line", async () => {
    expect(await errors(`key = "cosign.key"`)).toEqual(["error: m.toml:5:1: sign.key: key needs public_key beside it"]);
    expect(await errors(`public_key = "cosign.pub"`)).toEqual(["error: m.toml:5:1: sign.public_key: public_key needs key beside it"]);
    expect(await errors(`identity = "x"`)).toEqual(["error: m.toml:5:1: sign.identity: identity needs issuer beside it"]);
    expect(await errors(`key = "k"\npublic_key = "p"\nidentity = "i"\nissuer = "s"`)).toEqual(["error: m.toml:7:1: sign.identity: [sign] is either a key pair (key, public_key) or keyless (identity, issuer), not both"]);
    expect(await errors(`transparency_log = false`)).toEqual(["error: m.toml:4:1: sign: [sign] names no key and no identity"]);
    expect(await errors(`identity = "i"\nissuer = "s"\ntransparency_log = false`)).toEqual(["error: m.toml:7:1: sign.transparency_log: a keyless signature is always in the transparency log"]);
    expect(await errors(`key = ""\npublic_key = "p"`)).toEqual(["error: m.toml:5:1: sign.key: is empty"]);
    expect(await errors(`key = "a\\nb"\npublic_key = "p"`)).toEqual(["error: m.toml:5:1: sign.key: holds a newline, which no command line can carry"]);
    expect(await errors(`key = "k"\npublic_key = "p"\ntransparency_log = "no"`)).toEqual(['error: m.toml:7:1: sign.transparency_log: expected true or false, found the string "no"']);
    expect((await errors(`key = "k"\npublic_key = "p"\npublickey = "p"`))[0]).toStartWith('error: m.toml:7:1: sign.publickey: unknown key "publickey"');
  });
});
