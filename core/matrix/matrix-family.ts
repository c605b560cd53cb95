// `[images.NAME]`: a family of images, one per combination of the axes in its
// `matrix`, each built from `dockerfile` with the build args `args` gives, optionally
// FROM an image of another family.

import { readAnnotations } from "./matrix-annotations.ts";
import { didYouMean, type KeyPath } from "../errors.ts";
import { readExcludePatterns, readWholeCombinations } from "./matrix-combinations.ts";
import { checkFrom } from "./matrix-from.ts";
import type { Axis, Family } from "./matrix-types.ts";
import type { MatrixReader } from "./matrix-reader.ts";
import { FAMILY_SECTION, keysOf } from "./matrix-schema.ts";
import { readWhen } from "./matrix-when.ts";
import { readSecrets } from "./matrix-secrets.ts";
import type { CombinationSets } from "./matrix-sets.ts";
import { readFamilyRepository } from "./matrix-repository.ts";
import { readPublished, readRebuild } from "./matrix-policy.ts";
import { readArgs, readLabels, readPlatforms, readRunner, readSettingTemplates, readSharedTags, readTemplate, readTemplateList, readTimeout, type TemplateScope } from "./matrix-settings.ts";

/** The build arg a family built FROM another is given the base's reference in, unless it says otherwise (`from_arg`). */
export const DEFAULT_FROM_ARG = "BASE_IMAGE";

const FAMILY_KEYS = keysOf(FAMILY_SECTION);

export function readFamilies(reader: MatrixReader, value: unknown, axes: ReadonlyMap<string, Axis>, sets: CombinationSets = new Map()): Family[] {
  if (value === undefined) {
    reader.report("EMPTY", [], "the matrix defines no images", "add an [images.NAME] table with at least a `tag`");
    return [];
  }
  const table = reader.table(value, ["images"]);
  if (!table) return [];
  const families: Family[] = [];
  for (const name of reader.keysAsWritten(table, ["images"])) {
    const family = readFamily(reader, name, table[name], axes, sets);
    if (family) families.push(family);
  }
  if (families.length === 0 && Object.keys(table).length === 0) {
    reader.report("EMPTY", ["images"], "the matrix defines no images", "add an [images.NAME] table with at least a `tag`");
  }
  checkFrom(reader, families, new Set(Object.keys(table)));
  return families;
}

function readFamily(reader: MatrixReader, name: string, value: unknown, axes: ReadonlyMap<string, Axis>, sets: CombinationSets): Family | undefined {
  const path = ["images", name];
  reader.name(name, path, "image family");
  // Each family is a bake group, beside bake's own `default`, which builds every image.
  if (name === "default") reader.report("INVALID_NAME", path, '"default" cannot name a family: it is the group of every image (docker buildx bake builds it)', "give the family another name");
  const table = reader.table(value, path);
  if (!table) return undefined;
  reader.knownKeys(table, FAMILY_KEYS, path);

  const familyAxes = readFamilyAxes(reader, table.matrix, axes, [...path, "matrix"]);
  const from = table.from === undefined ? undefined : reader.string(table.from, [...path, "from"]);
  const scope: TemplateScope = { variables: new Set([...familyAxes, "family"]), axes, hasFrom: from !== undefined };
  const pathTemplate = (key: string, fallback: string | undefined) => readTemplate(reader, table[key], [...path, key], fallback, { ...scope, hasFrom: false });

  if (table.tag === undefined) {
    const example = familyAxes.length > 0 ? `"${name}-${familyAxes.map((a) => `{${a}}`).join("-")}"` : `"${name}"`;
    reader.report("MISSING_KEY", path, `family "${name}" has no \`tag\``, `add tag = ${example}`);
  }
  const args = readArgs(reader, table.args, [...path, "args"], familyAxes, scope);
  const fromArg = table.from_arg === undefined ? DEFAULT_FROM_ARG : reader.string(table.from_arg, [...path, "from_arg"]);
  if (fromArg !== undefined && table.from_arg !== undefined) reader.argName(fromArg, [...path, "from_arg"]);
  if (table.from_arg !== undefined && from === undefined) reader.report("INVALID_VALUE", [...path, "from_arg"], "`from_arg` has no effect without `from`");
  const skipWithoutBase = table.skip_without_base === undefined ? false : reader.boolean(table.skip_without_base, [...path, "skip_without_base"]);
  if (skipWithoutBase && from === undefined) reader.report("INVALID_VALUE", [...path, "skip_without_base"], "`skip_without_base` has no effect without `from`");

  const spanned = familyAxes.map((axis) => axes.get(axis)!);
  const combinations = readWholeCombinations(reader, table.combinations, [...path, "combinations"], spanned);
  const include = readWholeCombinations(reader, table.include, [...path, "include"], spanned) ?? { count: 0, indices: new Int32Array(0) };
  const exclude = readExcludePatterns(reader, table.exclude, [...path, "exclude"], spanned, sets) ?? { count: 0, indices: new Int32Array(0) };
  if (combinations && (table.include !== undefined || table.exclude !== undefined)) {
    reader.report(
      "INVALID_VALUE",
      [...path, "combinations"],
      "`combinations` lists every image explicitly; it cannot be combined with `include` or `exclude`",
      "either list the combinations, or use include/exclude on the cross product of `matrix`",
    );
  }

  const runner = readRunner(reader, table.runner, [...path, "runner"]);
  const platforms = readPlatforms(reader, table.platforms, [...path, "platforms"]);
  return {
    name,
    keyPath: path,
    description: table.description === undefined ? undefined : reader.string(table.description, [...path, "description"]),
    dockerfile: pathTemplate("dockerfile", "Dockerfile"),
    context: pathTemplate("context", "."),
    tag: pathTemplate("tag", undefined),
    // A smoke test run in the built image before it is pushed: `sh -c TEST`.
    test: table.test === undefined ? undefined : readTemplate(reader, table.test, [...path, "test"], undefined, { ...scope, hasFrom: false }),
    runner,
    runnerTemplates: readSettingTemplates(reader, table.runner, runner, [...path, "runner"], scope),
    timeout: readTimeout(reader, table.timeout, [...path, "timeout"]),
    published: readPublished(reader, table.published, [...path, "published"]),
    rebuild: readRebuild(reader, table.rebuild, [...path, "rebuild"]),
    freeDisk: readPublished(reader, table.free_disk, [...path, "free_disk"]),
    secrets: readSecrets(reader, table.secrets, [...path, "secrets"]),
    annotations: readAnnotations(reader, table.annotations, [...path, "annotations"]),
    aliases: readTemplateList(reader, table.aliases, [...path, "aliases"], scope),
    sharedTags: readSharedTags(reader, table.shared_tags, [...path, "shared_tags"], scope),
    labels: readLabels(reader, table.labels, [...path, "labels"], scope),
    platforms,
    platformTemplates: readSettingTemplates(reader, table.platforms, platforms, [...path, "platforms"], scope),
    // A stage of a multi-stage Dockerfile (docker build --target).
    target: table.target === undefined ? undefined : readTemplate(reader, table.target, [...path, "target"], undefined, { ...scope, hasFrom: false }),
    when: readWhen(reader, table.when, [...path, "when"], familyAxes, scope, sets),
    repository: readFamilyRepository(reader, table.repository, [...path, "repository"], scope),
    axes: familyAxes,
    combinations,
    include,
    exclude,
    args: args.sources,
    from,
    fromArg: fromArg ?? DEFAULT_FROM_ARG,
    skipWithoutBase: skipWithoutBase ?? false,
    argsNameFrom: args.nameFrom,
    baseReferenceArg: from === undefined ? undefined : args.nameFrom ? args.exactFromArg : (fromArg ?? DEFAULT_FROM_ARG),
  };
}

function readFamilyAxes(reader: MatrixReader, value: unknown, axes: ReadonlyMap<string, Axis>, path: KeyPath): string[] {
  // One axis written as a string: said once, and read as the list it means, so that nothing else reports it again.
  if (typeof value === "string") {
    reader.wrongType(value, path, "an array of axis names", undefined, `write matrix = [${JSON.stringify(value)}]`);
    return axes.has(value) ? [value] : [];
  }
  const names = reader.stringList(value, path) ?? [];
  const seen = new Set<string>();
  names.forEach((axis, index) => {
    if (!axes.has(axis)) {
      reader.report("UNKNOWN_REFERENCE", [...path, index], `unknown axis "${axis}"`, didYouMean(axis, axes.keys()) ?? "declare it as an [axes.NAME] table");
    } else if (seen.has(axis)) {
      reader.report("DUPLICATE", [...path, index], `axis "${axis}" is listed twice`);
    }
    seen.add(axis);
  });
  return [...seen].filter((axis) => axes.has(axis));
}
