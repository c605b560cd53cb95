// What every image's build sets, beside its family's own: labels for every image
// (top-level `labels`), the build cache (`[cache]`) and attestations (`[attest]`).
// Read here, carried by the graph, rendered by each emitter in its consumer's terms.

import type { AttestSettings, CacheSettings, CacheType, LabelSource } from "./matrix-types.ts";
export type { AttestSettings, CacheSettings, CacheType };
import { readLabels } from "./matrix-settings.ts";
import type { MatrixReader } from "./matrix-reader.ts";
import { ATTEST_SECTION, CACHE_SECTION, CACHE_TYPES, keysOf } from "./matrix-schema.ts";
import { repositoryProblem } from "../names.ts";

export const NO_ATTESTATIONS: AttestSettings = { provenance: undefined, sbom: false };


/** Top-level `labels`: every image's, before its family's (a family's label of the same name wins). */
export function readTopLabels(reader: MatrixReader, value: unknown): LabelSource[] {
  return readLabels(reader, value, ["labels"], { variables: new Set(["family"]), axes: new Map(), hasFrom: false });
}

/** `[cache]`: type = "registry" | "gha" | "inline" | "none", repository = "..."; undefined without the table (no cache). */
export function readCache(reader: MatrixReader, value: unknown): CacheSettings | undefined {
  if (value === undefined) return undefined;
  const table = reader.table(value, ["cache"], '[cache] sets the build cache, e.g. type = "registry"');
  if (!table) return undefined;
  reader.knownKeys(table, keysOf(CACHE_SECTION), ["cache"]);
  const type = table.type === undefined ? undefined : reader.string(table.type, ["cache", "type"]);
  if (type !== undefined && !(CACHE_TYPES as readonly string[]).includes(type)) {
    reader.report("INVALID_VALUE", ["cache", "type"], `${JSON.stringify(type)} is not a cache type`, `one of ${CACHE_TYPES.join(", ")}`);
  }
  const repository = table.repository === undefined ? undefined : reader.string(table.repository, ["cache", "repository"]);
  const problem = repository === undefined ? undefined : repositoryProblem(repository);
  if (problem) reader.report("INVALID_VALUE", ["cache", "repository"], `"${repository}" ${problem}`);
  if (type === "none") return undefined;
  return { type: type as CacheType | undefined, repository };
}

/** `[attest]`: provenance = "min" | "max" | true (max) | false, sbom = true | false. */
export function readAttest(reader: MatrixReader, value: unknown): AttestSettings {
  if (value === undefined) return NO_ATTESTATIONS;
  const table = reader.table(value, ["attest"], "[attest] turns on attestations, e.g. provenance = \"max\" and sbom = true");
  if (!table) return NO_ATTESTATIONS;
  reader.knownKeys(table, keysOf(ATTEST_SECTION), ["attest"]);
  let provenance: AttestSettings["provenance"];
  if (table.provenance === true || table.provenance === "max") provenance = "max";
  else if (table.provenance === "min") provenance = "min";
  else if (table.provenance !== undefined && table.provenance !== false) {
    reader.report("INVALID_VALUE", ["attest", "provenance"], `${JSON.stringify(table.provenance)} is not a provenance mode`, '"min", "max" (or true), or false');
  }
  let sbom = false;
  if (table.sbom !== undefined) {
    if (typeof table.sbom === "boolean") sbom = table.sbom;
    else reader.wrongType(table.sbom, ["attest", "sbom"], "true or false");
  }
  return { provenance, sbom };
}
