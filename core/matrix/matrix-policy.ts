// `published` and `rebuild`: what a pipeline does with a family's images (or a `when`
// rule's), not what they are. Neither is an input of an image: they change where it is
// pushed and when it is built, never what a build produces, so the inputs digest and the
// images built FROM it are the same with them or without.

import type { KeyPath } from "../errors.ts";
import type { MatrixReader } from "./matrix-reader.ts";
import { REBUILD_POLICIES } from "./matrix-schema.ts";
import type { RebuildPolicy } from "./matrix-types.ts";

/** `published` (false makes the images internal: pushed under their content reference only), and `free_disk`: true or false. */
export function readPublished(reader: MatrixReader, value: unknown, path: KeyPath): boolean | undefined {
  return value === undefined ? undefined : reader.boolean(value, path);
}

/** `rebuild`: "changed" (the default) or "always". */
export function readRebuild(reader: MatrixReader, value: unknown, path: KeyPath): RebuildPolicy | undefined {
  if (value === undefined) return undefined;
  if (value === true) {
    reader.wrongType(value, path, "a string", undefined, 'write rebuild = "always"');
    return undefined;
  }
  const text = reader.string(value, path);
  if (text === undefined) return undefined;
  if (!(REBUILD_POLICIES as readonly string[]).includes(text)) {
    reader.report("INVALID_VALUE", path, `rebuild must be "changed" or "always", found ${JSON.stringify(text)}`, 'rebuild = "always": built on every run; "changed" (the default): built when the registry lacks its content reference');
    return undefined;
  }
  return text as RebuildPolicy;
}
