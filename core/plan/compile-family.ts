// Everything about a family that does not change from image to image, prepared once
// before its images are planned: templates compiled against its axes, and the build
// args each axis value gives, made once and shared by the images with that value.

import type { KeyPath } from "../errors.ts";
import type { BasePart, BuildArg, BuildAnnotation, BuildSecret } from "../graph.ts";
import type { ArgSource, Axis, AxisValue, Family } from "../matrix/matrix.ts";
import type { RebuildPolicy } from "../matrix/matrix-types.ts";
import type { Template } from "../matrix/template.ts";
import { isBuildTimeValue } from "../build-time.ts";

/** A template part: text, an axis's value name or attribute (by the axis's position in the family), or {from} (the base's reference) or a part of it ({from.tag}). */
export type CompiledPart = string | { readonly axis: number; readonly attribute?: string } | { readonly from: "reference" | BasePart };

/** Where an image's build args come from, in order (a later arg of the same name replaces an earlier one). */
export type CompiledArg =
  | { readonly kind: "template"; readonly name: string; readonly parts: readonly CompiledPart[]; readonly keyPath: KeyPath }
  /** One attribute of an axis's value: per value index, its arg, or undefined for a value without it. */
  | { readonly kind: "attribute"; readonly axis: number; readonly attribute: string; readonly byValue: readonly (BuildArg | undefined)[]; readonly keyPath: KeyPath }
  /** Every attribute of an axis's value but its name-only ones: per value index, its args. */
  | { readonly kind: "axis"; readonly axis: number; readonly byValue: readonly (readonly BuildArg[])[] };

export interface CompiledFamily {
  readonly family: Family;
  /** The family's axes, in its order. */
  readonly axes: readonly Axis[];
  readonly tag: readonly CompiledPart[];
  readonly test: readonly CompiledPart[] | undefined;
  readonly dockerfile: readonly CompiledPart[];
  readonly context: readonly CompiledPart[];
  /** The dockerfile and context when no image's values change them. */
  readonly fixedDockerfile: string | undefined;
  readonly fixedContext: string | undefined;
  readonly args: readonly CompiledArg[];
  readonly aliases: readonly (readonly CompiledPart[])[];
  readonly sharedTags: readonly (readonly CompiledPart[])[];
  readonly labels: readonly { readonly name: string; readonly parts: readonly CompiledPart[]; readonly revision: boolean; readonly keyPath: KeyPath }[];
  readonly target: readonly CompiledPart[] | undefined;
  /** os/arch[/variant]; empty for the builder's own. */
  readonly platforms: readonly string[];
  /** The runner's labels and the minutes a build may take: the family's, or a `when` rule's. */
  readonly runner: readonly string[] | undefined;
  readonly timeout: number | undefined;
  /** `published` and `rebuild` (core/plan/image-policy.ts): the family's, or a `when` rule's; where the last `published` is written. */
  readonly published: boolean | undefined;
  readonly publishedPath: KeyPath;
  readonly rebuild: RebuildPolicy | undefined;
  readonly freeDisk: boolean | undefined;
  /** The family's build secrets as the graph carries them, one array its images share; undefined for none. */
  readonly secrets: readonly BuildSecret[] | undefined;
  /** The family's annotations, one array its images share; undefined for none. */
  readonly annotations: readonly BuildAnnotation[] | undefined;
  /** The platforms and runner labels as templates, each image's own once expanded; undefined where they are fixed. */
  readonly platformParts: readonly (readonly CompiledPart[])[] | undefined;
  readonly runnerParts: readonly (readonly CompiledPart[])[] | undefined;
  /** Where the tag, dockerfile, context, each alias, each shared tag, the platforms, the runner and the target are written, for a report. */
  readonly aliasPaths: readonly KeyPath[];
  readonly sharedTagPaths: readonly KeyPath[];
  readonly platformsPath: KeyPath;
  readonly runnerPath: KeyPath;
  readonly targetPath: KeyPath;
  readonly tagPath: KeyPath;
  readonly testPath: KeyPath;
  readonly dockerfilePath: KeyPath;
  readonly contextPath: KeyPath;
}

/** A template compiled against a family's axes. */
export function compileTemplate(family: Family, template: Template): CompiledPart[] {
  return template.map((part) => {
    if (part.kind === "text") return part.text;
    if (part.name === "from") return { from: (part.attribute as BasePart | undefined) ?? "reference" };
    if (part.name === "family") return family.name;
    const axis = family.axes.indexOf(part.name);
    // A value the CI fills in when it builds stays as written (an alias's: core/build-time.ts).
    if (axis < 0 && isBuildTimeValue(part.name)) return `{${part.name}}`;
    return part.attribute === undefined ? { axis } : { axis, attribute: part.attribute };
  });
}

/** Build-arg sources compiled against a family's axes (`axes`: its axes, in its order). */
export function compileArgs(family: Family, axes: readonly Axis[], sources: readonly ArgSource[]): CompiledArg[] {
  return sources.map((source): CompiledArg => {
    if (source.kind === "template") return { kind: "template", name: source.name, parts: compileTemplate(family, source.template), keyPath: source.keyPath };
    const axis = family.axes.indexOf(source.axis);
    const { values, nameOnly } = axes[axis]!;
    if (source.kind === "axis") return { kind: "axis", axis, byValue: values.map((value) => attributeArgs(value, nameOnly)) };
    const byValue = values.map((value) => {
      const text = value.attributes.get(source.attribute);
      return text === undefined ? undefined : { name: source.attribute, value: text };
    });
    return { kind: "attribute", axis, attribute: source.attribute, byValue, keyPath: source.keyPath };
  });
}

export function compileFamily(family: Family, axes: readonly Axis[]): CompiledFamily {
  const compile = (template: Template): CompiledPart[] => compileTemplate(family, template);
  const args = compileArgs(family, axes, family.args);
  const dockerfile = compile(family.dockerfile);
  const context = compile(family.context);
  return {
    family,
    axes,
    tag: compile(family.tag),
    test: family.test === undefined ? undefined : compile(family.test),
    dockerfile,
    context,
    fixedDockerfile: fixedText(dockerfile),
    fixedContext: fixedText(context),
    args,
    aliases: family.aliases.map(compile),
    sharedTags: family.sharedTags.map(compile),
    labels: family.labels.map((label) => ({ name: label.name, parts: compile(label.template), revision: label.revision, keyPath: label.keyPath })),
    target: family.target === undefined ? undefined : compile(family.target),
    platforms: family.platforms,
    runner: family.runner,
    timeout: family.timeout,
    published: family.published,
    publishedPath: [...family.keyPath, "published"],
    rebuild: family.rebuild,
    freeDisk: family.freeDisk,
    annotations: family.annotations.length === 0 ? undefined : family.annotations,
    secrets: family.secrets.length === 0 ? undefined : family.secrets.map(({ id, env, file }) => (env !== undefined ? { id, env } : { id, file: file! })),
    platformParts: family.platformTemplates?.map(compile),
    runnerParts: family.runnerTemplates?.map(compile),
    aliasPaths: family.aliases.map((_, index) => [...family.keyPath, "aliases", index]),
    sharedTagPaths: family.sharedTags.map((_, index) => [...family.keyPath, "shared_tags", index]),
    platformsPath: [...family.keyPath, "platforms"],
    runnerPath: [...family.keyPath, "runner"],
    targetPath: [...family.keyPath, "target"],
    tagPath: [...family.keyPath, "tag"],
    testPath: [...family.keyPath, "test"],
    dockerfilePath: [...family.keyPath, "dockerfile"],
    contextPath: [...family.keyPath, "context"],
  };
}

/** Platforms as the matrix writes them, as buildx takes them, and the Windows release one names (`windows(10.0.26100)/amd64`). */
export function builderPlatforms(written: readonly string[]): { readonly platforms: readonly string[]; readonly osVersion: string | undefined } {
  const release = written.map((platform) => /^[a-z0-9]+\(([0-9.]+)\)\//.exec(platform)?.[1]).find((version) => version !== undefined);
  return release === undefined ? { platforms: written, osVersion: undefined } : { platforms: written.map((platform) => platform.replace(/\([0-9.]+\)/, "")), osVersion: release };
}

export function fixedText(parts: readonly CompiledPart[]): string | undefined {
  return parts.every((part) => typeof part === "string") ? parts.join("") : undefined;
}

/** An axis value's attributes as build args, but those that only name (its axis's `name_only`). */
function attributeArgs(value: AxisValue, nameOnly: ReadonlySet<string>): readonly BuildArg[] {
  const args: BuildArg[] = [];
  for (const [name, text] of value.attributes) if (!nameOnly.has(name)) args.push({ name, value: text });
  return args;
}
