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
import { BASE_PARTS, isBasePart } from "../base-parts.ts";

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

/**
 * `shared_tags`: tags several images share (bashbrew's SharedTags), each pushed as one
 * manifest list over the images that name it. Known when the plan is made: a shared tag
 * names no build-time value, whose images could not be told when the plan is checked.
 */
export function readSharedTags(reader: MatrixReader, value: unknown, path: KeyPath, scope: TemplateScope): Template[] {
  const sources = reader.stringList(value, path) ?? [];
  return sources.map((_, index) => readTemplate(reader, sources[index], [...path, index], undefined, { ...scope, hasFrom: false }));
}

/**
 * `platforms` and `runner` written as templates: a value's attribute says what the value
 * builds for and where (`platforms = ["{arch.PLATFORM}"]`, `runner = "{arch.RUNNER}"`), so
 * a family need not repeat a rule per value. Undefined when no entry names a variable:
 * fixed lists stay as they are, checked once. Each image's values are checked when planned.
 */
export function readSettingTemplates(reader: MatrixReader, value: unknown, list: readonly string[] | undefined, path: KeyPath, scope: TemplateScope): Template[] | undefined {
  if (list === undefined || !list.some((entry) => entry.includes("{"))) return undefined;
  const single = typeof value === "string";
  return list.map((entry, index) => readTemplate(reader, entry, single ? path : [...path, index], undefined, { ...scope, hasFrom: false }));
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

/**
 * os/arch[/variant], as buildx and docker name a platform; a Windows one may name the
 * Windows release in containerd's way, windows(10.0.26100)/amd64, which is what tells
 * two Windows images of one shared tag apart (a manifest list's os.version).
 */
export const PLATFORM = /^([a-z0-9]+)(?:\((\d+(?:\.\d+)+)\))?\/[a-z0-9_]+(?:\/[a-z0-9]+)?$/;

/** `platforms`: os/arch[/variant], as buildx and docker name them (see PLATFORM). */
export function readPlatforms(reader: MatrixReader, value: unknown, path: KeyPath): string[] {
  const platforms = reader.stringList(value, path) ?? [];
  for (const p of platformProblems(platforms, (index) => [...path, index])) reader.report(p.code, p.keyPath, p.message, p.hint);
  if (value !== undefined && platforms.length === 0) reader.report("INVALID_VALUE", path, "the list of platforms is empty", "leave `platforms` out for the builder's own platform");
  return [...new Set(platforms)];
}

/**
 * The mistakes of a list of platforms: one that is no platform, an OS version on a
 * platform not Windows's, one listed twice, a Windows release beside other platforms.
 * A template (`{arch.PLATFORM}`) is left to the planner, which asks again of each image's
 * expanded list (core/plan/plan-runner.ts).
 */
export function platformProblems(platforms: readonly string[], at: (index: number) => KeyPath): { code: "INVALID_VALUE" | "DUPLICATE"; keyPath: KeyPath; message: string; hint?: string }[] {
  const problems: ReturnType<typeof platformProblems> = [];
  const seen = new Set<string>();
  platforms.forEach((platform, index) => {
    const parts = PLATFORM.exec(platform);
    if (platform.includes("{")) {
      // A template: its value is checked per image.
    } else if (parts === null) {
      problems.push({ code: "INVALID_VALUE", keyPath: at(index), message: `${JSON.stringify(platform)} is not a platform`, hint: "os/arch or os/arch/variant, e.g. linux/amd64, linux/arm64, linux/arm/v7; a Windows image's may name its OS version: windows(10.0.26100)/amd64" });
    } else if (parts[2] !== undefined && parts[1] !== "windows") {
      problems.push({ code: "INVALID_VALUE", keyPath: at(index), message: `${platform} names an OS version, which only a Windows platform has`, hint: `write ${parts[1]}/${platform.split("/").slice(1).join("/")}` });
    } else if (seen.has(platform)) {
      problems.push({ code: "DUPLICATE", keyPath: at(index), message: `platform ${platform} is listed twice` });
    }
    seen.add(platform);
  });
  const release = platforms.findIndex((platform) => PLATFORM.exec(platform)?.[2] !== undefined);
  if (release >= 0 && platforms.length > 1) problems.push({ code: "INVALID_VALUE", keyPath: at(release), message: `${platforms[release]} names a Windows release: an image of one release is built for that platform alone`, hint: "give the other platforms images of their own (a `when` rule per release)" });
  return problems;
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
  if (name === "from") return checkFrom(reader, attribute, path, scope);
  if (isBuildTimeValue(name) && !scope.variables.has(name)) return checkBuildTimeValue(reader, name, attribute, path, scope);
  if (!scope.variables.has(name)) {
    const hint = scope.axes.has(name) ? `add "${name}" to this family's \`matrix\`` : variableHint(reader, name, attribute) ?? didYouMean(name, [...scope.variables, ...(scope.hasFrom ? ["from"] : [])]);
    reader.report("UNKNOWN_REFERENCE", path, `the template names {${name}${attribute ? `.${attribute}` : ""}}, which is not an axis of this family`, hint);
    return;
  }
  if (attribute && name === "family") reader.report("INVALID_VALUE", path, "{family} has no attributes");
}

/** The base's parts, as every message about {from.X} names them. */
const FROM_FORMS = `{from} (the base's reference, repository:tag), ${BASE_PARTS.map((part) => `{from.${part}}`).join(" or ")}`;

/** {from}, {from.repository}, {from.tag}: the base image, in the build args of a family built FROM another (core/base-parts.ts). */
function checkFrom(reader: MatrixReader, attribute: string | undefined, path: KeyPath, scope: TemplateScope): void {
  if (attribute !== undefined && !isBasePart(attribute)) {
    reader.report("INVALID_VALUE", path, `{from.${attribute}} is no part of the base image`, `write ${FROM_FORMS}`);
  } else if (!scope.hasFrom) {
    const hint = attribute === undefined ? undefined : 'a family with from = "FAMILY" names its base\'s parts in its args, e.g. args = [{ IMAGE_NAME = "{from.repository}", BASE_TAG = "{from.tag}" }]';
    reader.report("UNKNOWN_REFERENCE", path, `{from${attribute === undefined ? "" : `.${attribute}`}} is only defined in the build args of a family with \`from\``, hint);
  }
}

/**
 * {from.repository} and {from.tag} are each an arg's whole value: a pipeline that builds
 * FROM the image this run built gives a tag arg the base's content tag, in place of the
 * whole value, which it could not do to a tag inside other text.
 */
function checkWholePart(reader: MatrixReader, template: Template, path: KeyPath): void {
  const part = templateVariables(template).find((v) => v.name === "from" && v.attribute !== undefined && isBasePart(v.attribute));
  if (part === undefined || template.length === 1) return;
  const example = part.attribute === "tag" ? '{ BASE_TAG = "{from.tag}" }, and FROM ${IMAGE_NAME}:${BASE_TAG} in the Dockerfile' : '{ IMAGE_NAME = "{from.repository}" }, and FROM ${IMAGE_NAME}:${BASE_TAG} in the Dockerfile';
  const message = `{from.${part.attribute}} must be the whole value of its arg: a pipeline that builds FROM the image this run built replaces that whole value (a tag by the base's content tag, inputs-<hex>; a repository as REPOSITORY moves it)`;
  reader.report("INVALID_VALUE", path, message, `give it an arg of its own, ${example}; or, for the base's whole reference, write {from}`);
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
        if (scope.hasFrom) checkWholePart(reader, parsed, argPath);
        const only = parsed.length === 1 ? parsed[0] : undefined;
        if (only?.kind === "variable" && only.name === "from" && only.attribute === undefined) exactFromArg = name;
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

/**
 * `runner`: the CI machine a family's images (or a `when` rule's) build (and are tested) on, as GitHub's
 * `runs-on` names it: one label, or labels that a runner must all have.
 */
export function readRunner(reader: MatrixReader, value: unknown, path: KeyPath): string[] | undefined {
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
export function readTimeout(reader: MatrixReader, value: unknown, path: KeyPath): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== "number" || !Number.isInteger(value) || value < 1 || value > MAX_TIMEOUT_MINUTES) {
    const hint = typeof value === "string" && /^\d+$/.test(value) ? `write it unquoted: timeout = ${value}` : "timeout = 360 (minutes: six hours)";
    reader.report("INVALID_VALUE", path, `timeout must be a whole number of minutes from 1 to ${MAX_TIMEOUT_MINUTES}, found ${JSON.stringify(value)}`, hint);
    return undefined;
  }
  return value;
}
