// `[sign]`: every pushed image signed with cosign, and an image the registry already has
// reused only when its signature verifies (verified reuse, docs/signing.md). Either a
// key pair (`key` signs, `public_key` verifies: any CI) or keyless (`identity` and
// `issuer`: the CI's OIDC identity, on GitHub Actions and GitLab CI). Read here, carried
// by the graph; each pushing emitter signs in its own terms, and `resolve` verifies.

import type { SignPolicy } from "../graph.ts";
import { CONTROL_CHARACTER, describeControlCharacter } from "../names.ts";
import type { MatrixReader } from "./matrix-reader.ts";
import { keysOf, SIGN_SECTION } from "./matrix-schema.ts";

const SIGN_KEYS = keysOf(SIGN_SECTION);

/** `[sign]`, or undefined without the table (nothing signed, reuse unverified). */
export function readSign(reader: MatrixReader, value: unknown): SignPolicy | undefined {
  if (value === undefined) return undefined;
  const table = reader.table(value, ["sign"], '[sign] signs every pushed image, e.g. key = "env://COSIGN_PRIVATE_KEY" and public_key = "cosign.pub"');
  if (!table) return undefined;
  reader.knownKeys(table, SIGN_KEYS, ["sign"]);
  const text = (key: string): string | undefined => {
    if (table[key] === undefined) return undefined;
    const given = reader.string(table[key], ["sign", key]);
    if (given === undefined) return undefined;
    if (given.trim() === "") reader.report("INVALID_VALUE", ["sign", key], "is empty");
    else if (CONTROL_CHARACTER.test(given)) reader.report("INVALID_VALUE", ["sign", key], `holds ${describeControlCharacter(given)}, which no command line can carry`);
    else return given;
    return undefined;
  };
  const key = text("key");
  const publicKey = text("public_key");
  const identity = text("identity");
  const issuer = text("issuer");
  const transparencyLog = table.transparency_log === undefined ? true : reader.boolean(table.transparency_log, ["sign", "transparency_log"]) ?? true;
  const keyed = table.key !== undefined || table.public_key !== undefined;
  const keyless = table.identity !== undefined || table.issuer !== undefined;
  if (keyed && keyless) {
    reader.report("INVALID_VALUE", ["sign", table.key !== undefined ? "identity" : "issuer"], "[sign] is either a key pair (key, public_key) or keyless (identity, issuer), not both", "keep the pair your pipelines sign with");
    return undefined;
  }
  if (!keyed && !keyless) {
    reader.report("INVALID_VALUE", ["sign"], "[sign] names no key and no identity", 'give key and public_key (e.g. key = "env://COSIGN_PRIVATE_KEY", public_key = "cosign.pub"), or keyless identity and issuer');
    return undefined;
  }
  const missing = (present: string, absent: string) => reader.report("INVALID_VALUE", ["sign", present], `${present} needs ${absent} beside it`, keyed ? "cosign signs with key and verifies with public_key: give both" : "a keyless signature is verified by its identity and the issuer that vouched for it: give both");
  if (keyed) {
    if (table.key !== undefined && table.public_key === undefined) missing("key", "public_key");
    if (table.public_key !== undefined && table.key === undefined) missing("public_key", "key");
    return key !== undefined && publicKey !== undefined ? { key, publicKey, transparencyLog } : undefined;
  }
  if (table.identity !== undefined && table.issuer === undefined) missing("identity", "issuer");
  if (table.issuer !== undefined && table.identity === undefined) missing("issuer", "identity");
  if (!transparencyLog) {
    reader.report("INVALID_VALUE", ["sign", "transparency_log"], "a keyless signature is always in the transparency log", "its short-lived certificate is trusted only through the log's entry: remove transparency_log, or sign with a key");
    return undefined;
  }
  return identity !== undefined && issuer !== undefined ? { identity, issuer, transparencyLog } : undefined;
}
