// `annotations`: OCI annotations of every pushed image (top-level) and of a family's
// (`[images.NAME] annotations`, a family's of the same name winning): the description,
// source and licence registries show, GHCR and Docker Hub from a multi-platform image's
// index. Plain text, no templates: what a family says of itself. Each emitter writes
// them where its builder takes them (emitters/build-settings.ts, annotationSpecs).

import type { BuildAnnotation } from "../graph.ts";
import type { KeyPath } from "../errors.ts";
import { CONTROL_CHARACTER, describeControlCharacter } from "../names.ts";
import type { MatrixReader } from "./matrix-reader.ts";
import { LABEL_NAME_PATTERN } from "./matrix-settings.ts";

/** An `annotations` table, in the order written; each name as a label's, each value one line of text. */
export function readAnnotations(reader: MatrixReader, value: unknown, path: KeyPath): BuildAnnotation[] {
  if (value === undefined) return [];
  const table = reader.table(value, path, 'annotations = { "org.opencontainers.image.description" = "CUDA base images" }');
  if (!table) return [];
  const annotations: BuildAnnotation[] = [];
  for (const name of reader.keysAsWritten(table, path)) {
    const at = [...path, name];
    if (!LABEL_NAME_PATTERN.test(name)) {
      reader.report("INVALID_NAME", at, `"${name}" is not an annotation name`, "letters, digits, '.', '-', '_' and '/', starting with a letter or digit (e.g. org.opencontainers.image.description)");
      continue;
    }
    const text = reader.string(table[name], at);
    if (text === undefined) continue;
    if (CONTROL_CHARACTER.test(text)) {
      reader.report("INVALID_VALUE", at, `the annotation holds ${describeControlCharacter(text)}, which no builder can carry`);
      continue;
    }
    annotations.push({ name, value: text });
  }
  return annotations;
}

/** The top-level entries (labels, annotations), then a family's own: one of the same name replaces the other, in its place. */
export function mergeByName<T extends { readonly name: string }>(top: readonly T[], own: readonly T[]): T[] {
  const merged = [...top];
  for (const entry of own) {
    const at = merged.findIndex((other) => other.name === entry.name);
    if (at >= 0) merged[at] = entry;
    else merged.push(entry);
  }
  return merged;
}
