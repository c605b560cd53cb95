// `[images.NAME]`: a family of images, one per combination of the axes in its
// `matrix`, each built from `dockerfile` with the build args `args` gives, optionally
// FROM an image of another family.

import { didYouMean, type KeyPath } from "../errors.ts";
import { readExcludePatterns, readWholeCombinations } from "./matrix-combinations.ts";
import { checkFrom } from "./matrix-from.ts";
import type { ArgSource, Axis, Family, LabelSource } from "./matrix-types.ts";
import { isTable, type MatrixReader, type Table } from "./matrix-reader.ts";
import { FAMILY_SECTION, keysOf } from "./matrix-schema.ts";
import { CONTROL_CHARACTER, describeControlCharacter } from "../names.ts";
import { parseTemplate, TemplateSyntaxError, templateVariables, type Template } from "./template.ts";

/** The build arg a family built FROM another is given the base's reference in, unless it says otherwise (`from_arg`). */
export const DEFAULT_FROM_ARG = "BASE_IMAGE";

const FAMILY_KEYS = keysOf(FAMILY_SECTION);

export function readFamilies(reader: MatrixReader, value: unknown, axes: ReadonlyMap<string, Axis>): Family[] {
  if (value === undefined) {
    reader.report("EMPTY", [], "the matrix defines no images", "add an [images.NAME] table with at least a `tag`");
    return [];
  }
  const table = reader.table(value, ["images"]);
  if (!table) return [];
  const families: Family[] = [];
  for (const name of reader.keysAsWritten(table, ["images"])) {
    const family = readFamily(reader, name, table[name], axes);
    if (family) families.push(family);
  }
  if (families.length === 0 && Object.keys(table).length === 0) {
    reader.report("EMPTY", ["images"], "the matrix defines no images", "add an [images.NAME] table with at least a `tag`");
  }
  checkFrom(reader, families, new Set(Object.keys(table)));
  return families;
}

/** What a family's templates may name: its axes, {family}, and {from} in the args of a family with `from`. */
export interface TemplateScope {
  readonly variables: ReadonlySet<string>;
  readonly axes: ReadonlyMap<string, Axis>;
  readonly hasFrom: boolean;
  /** Labels: {revision} is the commit, and must be the whole value. */
  readonly revision?: boolean;
}

function readFamily(reader: MatrixReader, name: string, value: unknown, axes: ReadonlyMap<string, Axis>): Family | undefined {
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
  const exclude = readExcludePatterns(reader, table.exclude, [...path, "exclude"], spanned) ?? { count: 0, indices: new Int32Array(0) };
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

/** `aliases`: more tag templates, each checked per image like the tag. */
function readTemplateList(reader: MatrixReader, value: unknown, path: KeyPath, scope: TemplateScope): Template[] {
  const sources = reader.stringList(value, path) ?? [];
  return sources.map((_, index) => readTemplate(reader, sources[index], [...path, index], undefined, { ...scope, hasFrom: false }));
}

/** A label's name: reverse-DNS style, as OCI's and docker's conventions write them. */
export const LABEL_NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._/-]*$/;

/**
 * `labels`: name → template, each value templated per image. `{revision}`, the whole
 * value, is the commit the CI builds, set at build time: nothing that changes from run
 * to run is written into an emitted file.
 */
export function readLabels(reader: MatrixReader, value: unknown, path: KeyPath, scope: TemplateScope): LabelSource[] {
  if (value === undefined) return [];
  const table = reader.table(value, path, 'labels = { "org.opencontainers.image.source" = "https://github.com/your-org/images" }');
  if (!table) return [];
  const labels: LabelSource[] = [];
  for (const name of reader.keysAsWritten(table, path)) {
    const at = [...path, name];
    if (!LABEL_NAME_PATTERN.test(name)) {
      reader.report("INVALID_NAME", at, `"${name}" is not a label name`, "letters, digits, '.', '-', '_' and '/', starting with a letter or digit (e.g. org.opencontainers.image.source)");
      continue;
    }
    const source = reader.string(table[name], at);
    if (source === undefined) continue;
    if (/^\{\s*revision\s*\}$/.test(source)) {
      labels.push({ name, template: [], revision: true, keyPath: at });
      continue;
    }
    const template = readTemplate(reader, source, at, undefined, { ...scope, hasFrom: false, revision: true });
    labels.push({ name, template, revision: false, keyPath: at });
  }
  return labels;
}

/** `platforms`: os/arch[/variant], as buildx and docker name them. */
function readPlatforms(reader: MatrixReader, value: unknown, path: KeyPath): string[] {
  const platforms = reader.stringList(value, path) ?? [];
  const seen = new Set<string>();
  platforms.forEach((platform, index) => {
    if (!/^[a-z0-9]+\/[a-z0-9_]+(?:\/[a-z0-9]+)?$/.test(platform)) {
      reader.report("INVALID_VALUE", [...path, index], `${JSON.stringify(platform)} is not a platform`, "os/arch or os/arch/variant, e.g. linux/amd64, linux/arm64, linux/arm/v7");
    } else if (seen.has(platform)) {
      reader.report("DUPLICATE", [...path, index], `platform ${platform} is listed twice`);
    }
    seen.add(platform);
  });
  if (value !== undefined && platforms.length === 0) reader.report("INVALID_VALUE", path, "the list of platforms is empty", "leave `platforms` out for the builder's own platform");
  return [...seen];
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

export function readTemplate(reader: MatrixReader, value: unknown, path: KeyPath, fallback: string | undefined, scope: TemplateScope): Template {
  const source = value === undefined ? fallback : reader.string(value, path);
  if (source === undefined) return [];
  if (CONTROL_CHARACTER.test(source)) {
    reader.report("INVALID_VALUE", path, `contains ${describeControlCharacter(source)}, which no build tool can carry`);
    return [];
  }
  let template: Template;
  try {
    template = parseTemplate(source);
  } catch (error) {
    if (!(error instanceof TemplateSyntaxError)) throw error;
    reader.report("INVALID_VALUE", path, `invalid template "${source}": ${error.message}`);
    return [];
  }
  for (const { name, attribute } of templateVariables(template)) checkVariable(reader, name, attribute, path, scope);
  return template;
}

function checkVariable(reader: MatrixReader, name: string, attribute: string | undefined, path: KeyPath, scope: TemplateScope): void {
  if (name === "revision" && scope.revision) {
    reader.report("INVALID_VALUE", path, "{revision} is the commit the CI builds, set at build time: it must be the whole value", 'write the label as its own, e.g. "org.opencontainers.image.revision" = "{revision}"');
    return;
  }
  if (name === "from") {
    if (!scope.hasFrom) reader.report("UNKNOWN_REFERENCE", path, "{from} is only defined in the build args of a family with `from`");
    else if (attribute) reader.report("INVALID_VALUE", path, "{from} has no attributes");
    return;
  }
  if (!scope.variables.has(name)) {
    const hint = scope.axes.has(name) ? `add "${name}" to this family's \`matrix\`` : didYouMean(name, [...scope.variables, ...(scope.hasFrom ? ["from"] : [])]);
    reader.report("UNKNOWN_REFERENCE", path, `the template names {${name}${attribute ? `.${attribute}` : ""}}, which is not an axis of this family`, hint);
    return;
  }
  if (attribute && name === "family") reader.report("INVALID_VALUE", path, "{family} has no attributes");
}

interface Args {
  readonly sources: ArgSource[];
  /** Whether an arg template names {from}: then no automatic `from_arg` is added. */
  readonly nameFrom: boolean;
  /** The arg written exactly "{from}", if any. */
  readonly exactFromArg?: string;
}

/** `args`: axis names (every attribute), "axis.ATTRIBUTE", and tables of templates; without it, every attribute of every axis. */
function readArgs(reader: MatrixReader, value: unknown, path: KeyPath, familyAxes: readonly string[], scope: TemplateScope): Args {
  if (value === undefined) return { sources: familyAxes.map((axis) => ({ kind: "axis", axis, keyPath: path })), nameFrom: false };
  if (!Array.isArray(value)) {
    reader.wrongType(value, path, "an array", 'args = ["python", { BASE_IMAGE = "ubuntu:18.04" }]');
    return { sources: [], nameFrom: false };
  }
  const sources: ArgSource[] = [];
  let nameFrom = false;
  let exactFromArg: string | undefined;
  value.forEach((item, index) => {
    const itemPath = [...path, index];
    if (typeof item === "string") {
      const source = readAxisArg(reader, item, itemPath, familyAxes, scope.axes);
      if (source) sources.push(source);
    } else if (isTable(item)) {
      for (const [name, template] of Object.entries(item as Table)) {
        const argPath = [...itemPath, name];
        reader.argName(name, argPath);
        const parsed = readTemplate(reader, template, argPath, undefined, scope);
        if (templateVariables(parsed).some((v) => v.name === "from")) nameFrom = true;
        const only = parsed.length === 1 ? parsed[0] : undefined;
        if (only?.kind === "variable" && only.name === "from") exactFromArg = name;
        sources.push({ kind: "template", name, template: parsed, keyPath: argPath });
      }
    } else {
      reader.wrongType(item, itemPath, 'an axis name ("python"), "axis.ATTRIBUTE", or a table { NAME = "value" }');
    }
  });
  return { sources, nameFrom, ...(exactFromArg ? { exactFromArg } : {}) };
}

/** "axis" (every attribute of its value) or "axis.ATTRIBUTE" (that one). */
function readAxisArg(reader: MatrixReader, item: string, path: KeyPath, familyAxes: readonly string[], axes: ReadonlyMap<string, Axis>): ArgSource | undefined {
  const [axis, attribute, ...rest] = item.split(".");
  if (rest.length > 0 || !axis) {
    reader.report("INVALID_VALUE", path, `"${item}" is not an axis or axis.ATTRIBUTE`);
    return undefined;
  }
  if (!familyAxes.includes(axis)) {
    const hint = axes.has(axis) ? `add "${axis}" to this family's \`matrix\`` : didYouMean(axis, familyAxes);
    reader.report("UNKNOWN_REFERENCE", path, `"${axis}" is not an axis of this family`, hint);
    return undefined;
  }
  return attribute !== undefined ? { kind: "attribute", axis, attribute, keyPath: path } : { kind: "axis", axis, keyPath: path };
}
