// The settings a family's images share, read the same wherever they are written: in the
// family's table (matrix-family.ts) or in one of its `when` rules (matrix-when.ts).
// Templates are checked against what the family's templates may name.

import { didYouMean, type KeyPath } from "../errors.ts";
import type { ArgSource, Axis, LabelSource } from "./matrix-types.ts";
import { isTable, type MatrixReader, type Table } from "./matrix-reader.ts";
import { CONTROL_CHARACTER, describeControlCharacter } from "../names.ts";
import { parseTemplate, TemplateSyntaxError, templateVariables, type Template } from "./template.ts";
import { checkTemplateVariable, fillVariables, variableHint } from "./matrix-vars.ts";
import { isBuildTimeValue } from "../build-time.ts";

/** What a family's templates may name: its axes, {family}, and {from} in the args of a family with `from`. */
export interface TemplateScope {
  readonly variables: ReadonlySet<string>;
  readonly axes: ReadonlyMap<string, Axis>;
  readonly hasFrom: boolean;
  /** Labels: {revision} is the commit, and must be the whole value. */
  readonly revision?: boolean;
  /** Aliases: they may name build-time values ({date}, {commit}, {short_commit}, {branch}; core/build-time.ts). */
  readonly buildTime?: boolean;
}

/** `aliases`: more tag templates, each checked per image like the tag. */
export function readTemplateList(reader: MatrixReader, value: unknown, path: KeyPath, scope: TemplateScope): Template[] {
  const sources = reader.stringList(value, path) ?? [];
  return sources.map((_, index) => readTemplate(reader, sources[index], [...path, index], undefined, { ...scope, hasFrom: false, buildTime: true }));
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
export function readPlatforms(reader: MatrixReader, value: unknown, path: KeyPath): string[] {
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
  return fillVariables(template, reader.variables);
}

function checkVariable(reader: MatrixReader, name: string, attribute: string | undefined, path: KeyPath, scope: TemplateScope): void {
  if (name.startsWith("$")) return checkTemplateVariable(reader, name.slice(1), attribute, path);
  if (name === "revision" && scope.revision) {
    reader.report("INVALID_VALUE", path, "{revision} is the commit the CI builds, set at build time: it must be the whole value", 'write the label as its own, e.g. "org.opencontainers.image.revision" = "{revision}"');
    return;
  }
  if (name === "from") {
    if (!scope.hasFrom) reader.report("UNKNOWN_REFERENCE", path, "{from} is only defined in the build args of a family with `from`");
    else if (attribute) reader.report("INVALID_VALUE", path, "{from} has no attributes");
    return;
  }
  if (isBuildTimeValue(name) && !scope.variables.has(name)) return checkBuildTimeValue(reader, name, attribute, path, scope);
  if (!scope.variables.has(name)) {
    const hint = scope.axes.has(name) ? `add "${name}" to this family's \`matrix\`` : variableHint(reader, name, attribute) ?? didYouMean(name, [...scope.variables, ...(scope.hasFrom ? ["from"] : [])]);
    reader.report("UNKNOWN_REFERENCE", path, `the template names {${name}${attribute ? `.${attribute}` : ""}}, which is not an axis of this family`, hint);
    return;
  }
  if (attribute && name === "family") reader.report("INVALID_VALUE", path, "{family} has no attributes");
}

/**
 * A build-time value (an axis of the family of that name wins): an alias may name it; any
 * other template is known when the plan is made, as the image's id and inputs digest are.
 */
function checkBuildTimeValue(reader: MatrixReader, name: string, attribute: string | undefined, path: KeyPath, scope: TemplateScope): void {
  if (scope.buildTime) {
    if (attribute) reader.report("INVALID_VALUE", path, `{${name}} has no attributes`);
    return;
  }
  const hint = name === "commit" && scope.revision
    ? 'a label that is the commit is written "{revision}", the whole value'
    : `keep the tag fixed and add this as an alias, e.g. aliases = ["nightly.{${name}}"]: the tag, args, dockerfile, context, labels, target, test and repository are known when the plan is made`;
  reader.report("INVALID_VALUE", path, `{${name}} is known only when the CI builds: only an alias may name it`, hint);
}

export interface Args {
  readonly sources: ArgSource[];
  /** Whether an arg template names {from}: then no automatic `from_arg` is added. */
  readonly nameFrom: boolean;
  /** The arg written exactly "{from}", if any. */
  readonly exactFromArg?: string;
}

/** `args`: axis names (every attribute but the axis's name-only ones), "axis.ATTRIBUTE", and tables of templates; without it, every axis in `matrix`. */
export function readArgs(reader: MatrixReader, value: unknown, path: KeyPath, familyAxes: readonly string[], scope: TemplateScope): Args {
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
  // The axis says the attribute only names: passing it as it is contradicts that (a leftover, most
  // likely). A family that does want its value in a build says so with a template arg of its own.
  if (attribute !== undefined && axes.get(axis)?.nameOnly.has(attribute)) {
    reader.report("INVALID_VALUE", path, `${item} is name-only ([axes.${axis}] name_only): it names images and is never a build arg`, `to pass it to this family's builds anyway, write { ${attribute} = "{${item}}" }; or take it out of name_only`);
    return undefined;
  }
  return attribute !== undefined ? { kind: "attribute", axis, attribute, keyPath: path } : { kind: "axis", axis, keyPath: path };
}
