// `[images.NAME]`: a family of images, one per combination of the axes in its
// `matrix`, each built from `dockerfile` with the build args `args` gives, optionally
// FROM an image of another family.

import { didYouMean, type KeyPath } from "../errors.ts";
import { readExcludePatterns, readWholeCombinations } from "./matrix-combinations.ts";
import { checkFrom } from "./matrix-from.ts";
import type { Axis, Family } from "./matrix-types.ts";
import type { MatrixReader } from "./matrix-reader.ts";
import { FAMILY_SECTION, keysOf } from "./matrix-schema.ts";
import { CONTROL_CHARACTER, describeControlCharacter } from "../names.ts";
import { readWhen } from "./matrix-when.ts";
import type { CombinationSets } from "./matrix-sets.ts";
import { readFamilyRepository } from "./matrix-repository.ts";
import { readArgs, readLabels, readPlatforms, readTemplate, readTemplateList, type TemplateScope } from "./matrix-settings.ts";

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

  return {
    name,
    keyPath: path,
    description: table.description === undefined ? undefined : reader.string(table.description, [...path, "description"]),
    dockerfile: pathTemplate("dockerfile", "Dockerfile"),
    context: pathTemplate("context", "."),
    tag: pathTemplate("tag", undefined),
    // A smoke test run in the built image before it is pushed: `sh -c TEST`.
    test: table.test === undefined ? undefined : readTemplate(reader, table.test, [...path, "test"], undefined, { ...scope, hasFrom: false }),
    runner: readRunner(reader, table.runner, [...path, "runner"]),
    timeout: readTimeout(reader, table.timeout, [...path, "timeout"]),
    aliases: readTemplateList(reader, table.aliases, [...path, "aliases"], scope),
    labels: readLabels(reader, table.labels, [...path, "labels"], scope),
    platforms: readPlatforms(reader, table.platforms, [...path, "platforms"]),
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

/**
 * `runner`: the CI machine the family's images build (and are tested) on, as GitHub's
 * `runs-on` names it: one label, or labels that a runner must all have.
 */
function readRunner(reader: MatrixReader, value: unknown, path: KeyPath): string[] | undefined {
  if (value === undefined) return undefined;
  const labels = typeof value === "string" ? [value] : Array.isArray(value) ? reader.stringList(value, path) : undefined;
  if (labels === undefined) {
    reader.wrongType(value, path, "a runner label or a list of labels", 'runner = "gpu-large" or runner = ["self-hosted", "gpu"]');
    return undefined;
  }
  const fixed = typeof value === "string" ? path : undefined;
  labels.forEach((label, index) => {
    const at = fixed ?? [...path, index];
    if (label.trim() === "" || label !== label.trim()) reader.report("INVALID_VALUE", at, `the runner label ${JSON.stringify(label)} is empty or has white space at an end`);
    else if (CONTROL_CHARACTER.test(label)) reader.report("INVALID_VALUE", at, `the runner label contains ${describeControlCharacter(label)}`);
    else if (label.includes("${{")) reader.report("INVALID_VALUE", at, "a runner label cannot hold an expression (`${{`): it is written as text");
  });
  if (labels.length === 0) reader.report("INVALID_VALUE", path, "the list of runner labels is empty", "leave `runner` out for the emitter's default runner");
  return labels;
}

/** The longest a `timeout` may be, in minutes: Cloud Build's limit on a build (24 hours). */
export const MAX_TIMEOUT_MINUTES = 24 * 60;

/** `timeout`: whole minutes an image's build (its job, its step) may run, for a long CUDA build. */
function readTimeout(reader: MatrixReader, value: unknown, path: KeyPath): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== "number" || !Number.isInteger(value) || value < 1 || value > MAX_TIMEOUT_MINUTES) {
    const hint = typeof value === "string" && /^\d+$/.test(value) ? `write it unquoted: timeout = ${value}` : "timeout = 360 (minutes: six hours)";
    reader.report("INVALID_VALUE", path, `timeout must be a whole number of minutes from 1 to ${MAX_TIMEOUT_MINUTES}, found ${JSON.stringify(value)}`, hint);
    return undefined;
  }
  return value;
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
