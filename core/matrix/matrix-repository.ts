// A family's `repository`: where its images are pushed instead of the top-level
// repository, a template over its axes as `tag` is. Begun with `{repository}/` (a path
// below the top-level one: "{repository}/base-notebook") it moves with the top-level repository
// (--base-url, make's REPOSITORY, bake's variable); without, it is absolute and stays.
// The planner checks each image's against Docker's grammar, at this key's line
// (core/plan/image-repository.ts): most are known only once the axes are filled in.

import type { KeyPath } from "../errors.ts";
import type { FamilyRepository } from "./matrix-types.ts";
import type { MatrixReader } from "./matrix-reader.ts";
import { readTemplate, type TemplateScope } from "./matrix-settings.ts";

/** The variable a family's repository begins with to be relative to the top-level one. */
export const TOP_REPOSITORY = "repository";

/**
 * `repository` in [images.NAME], or undefined without one. `{repository}` alone is always
 * the top-level repository here, even in a family that spans an axis of that name (whose
 * attributes stay `{repository.NAME}`).
 */
export function readFamilyRepository(reader: MatrixReader, value: unknown, path: KeyPath, scope: TemplateScope): FamilyRepository | undefined {
  if (value === undefined) return undefined;
  const isAxis = scope.variables.has(TOP_REPOSITORY);
  const template = readTemplate(reader, value, path, undefined, { ...scope, hasFrom: false, variables: new Set([...scope.variables, TOP_REPOSITORY]) });
  if (typeof value === "string" && value.trim() === "") {
    reader.report("INVALID_VALUE", path, "the repository is empty", "leave `repository` out for the top-level repository");
    return undefined;
  }
  const first = template[0];
  const relative = first?.kind === "variable" && first.name === TOP_REPOSITORY && first.attribute === undefined;
  const rest = relative ? template.slice(1) : template;
  let ok = true;
  // A path below the top-level repository: then an image's id (which begins with the last component) is the same wherever --base-url moves it.
  const next = rest[0];
  if (relative && next !== undefined && !(next.kind === "text" && next.text.startsWith("/"))) {
    reader.report("INVALID_VALUE", path, "{repository} is followed by a path below it: a '/' comes next", 'e.g. repository = "{repository}/base-notebook"');
    ok = false;
  }
  for (const part of rest) {
    if (part.kind !== "variable" || part.name !== TOP_REPOSITORY) continue;
    if (part.attribute === undefined) {
      reader.report("INVALID_VALUE", path, "{repository}, the top-level repository, can only begin a family's repository", 'e.g. repository = "{repository}/base-notebook", or a whole repository of its own');
      ok = false;
    } else if (!isAxis) {
      reader.report("INVALID_VALUE", path, "{repository}, the top-level repository, has no attributes");
      ok = false;
    }
  }
  return ok ? { relative, template: rest, keyPath: path } : undefined;
}
