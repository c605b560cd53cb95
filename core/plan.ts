// matrix → build graph. Expands every family's combinations, matches each image to
// the image it builds FROM, and computes tags, references and build args. Runs once;
// everything after it (every emitter) reads only the graph.
//
// It runs over every image of matrices of 100,000 images, so the per-image work is
// kept to lookups: a combination is an array of value indices, templates are
// compiled once per family, excludes and bases are found through hash maps.

import { CalibanError, didYouMean, type Diagnostic, type ErrorCode, type KeyPath } from "./errors.ts";
import { GRAPH_FORMAT_VERSION, type BuildArg, type BuildGraph, type FamilyNode, type ImageNode } from "./graph.ts";
import { Heap } from "./heap.ts";
import type { ArgSource, Axis, AxisValue, Combination, Family, Matrix, ValueIndices } from "./matrix.ts";
import { TAG_PATTERN } from "./names.ts";
import type { Template } from "./template.ts";

export interface PlanOptions {
  /** Replaces the matrix's `repository` (the CLI's --base-url). */
  readonly repository?: string;
}

export function planMatrix(matrix: Matrix, options: PlanOptions = {}): BuildGraph {
  return new Planner(matrix, options.repository ?? matrix.repository).plan();
}

/**
 * Families ordered so that each comes after the family it builds FROM; otherwise
 * declaration order: each step places the first-declared family whose base is placed
 * (a heap of those, by declaration), or, in a loop (already reported by readMatrix),
 * the first-declared family not yet placed.
 */
export function familyOrder(families: readonly Family[]): Family[] {
  const known = new Set(families.map((f) => f.name));
  const builtFrom = new Map<string, number[]>();
  // Families whose base is placed, by index: the first declared comes out first.
  const ready = new Heap<number>((a, b) => b - a);
  families.forEach((family, i) => {
    if (family.from === undefined || !known.has(family.from)) ready.push(i);
    else {
      const children = builtFrom.get(family.from);
      if (children) children.push(i);
      else builtFrom.set(family.from, [i]);
    }
  });
  const ordered: Family[] = [];
  const placed = new Uint8Array(families.length);
  let firstUnplaced = 0;
  while (ordered.length < families.length) {
    let next = ready.pop();
    if (next === undefined) {
      while (placed[firstUnplaced]) firstUnplaced++;
      next = firstUnplaced;
    }
    if (placed[next]) continue;
    placed[next] = 1;
    ordered.push(families[next]!);
    for (const child of builtFrom.get(families[next]!.name) ?? []) if (!placed[child]) ready.push(child);
  }
  return ordered;
}

/** A combination as the index of its value on each of the family's axes. */
type Indices = readonly number[];

/**
 * Visits the combinations a family builds, in order: the product (first axis
 * outermost), less excludes, plus includes; or its explicit list. `visit` may not
 * keep the array it is given: the product reuses one (10,000 images, no 10,000 arrays).
 */
function forEachCombination(family: Family, axes: readonly Axis[], visit: (indices: Indices) => void): void {
  if (family.combinations) {
    const current = axes.map(() => 0);
    for (let i = 0; i < family.combinations.count; i++) visit(combinationAt(family.combinations, i, current));
    return;
  }
  const excluded = new ExcludeSet(family.exclude, axes);
  const excluding = family.exclude.length > 0;
  // An include the product already has is built once: the product's keys, kept only when there are includes.
  const present = family.include.count > 0 ? new Set<string>() : undefined;
  const sizes = axes.map((axis) => axis.values.length);
  if (sizes.every((size) => size > 0)) {
    // An odometer over the axes, the last axis turning fastest.
    const current = sizes.map(() => 0);
    for (;;) {
      if (!excluding || !excluded.has(current)) {
        present?.add(indicesKey(current));
        visit(current);
      }
      let position = current.length - 1;
      while (position >= 0 && ++current[position]! === sizes[position]) current[position--] = 0;
      if (position < 0) break;
    }
  }
  const included = axes.map(() => 0);
  for (let i = 0; i < family.include.count; i++) {
    const key = indicesKey(combinationAt(family.include, i, included));
    if (!present!.has(key)) {
      present!.add(key);
      visit(included);
    }
  }
}

/** The i-th combination of a list, copied into `into` (the matrix keeps its lists as one typed array). */
function combinationAt(list: ValueIndices, i: number, into: number[]): number[] {
  const start = i * into.length;
  for (let a = 0; a < into.length; a++) into[a] = list.indices[start + a]!;
  return into;
}

/** Exclude patterns grouped by the axes they name, each group a hash set: a lookup per group, not per pattern. */
class ExcludeSet {
  private readonly groups: { positions: number[]; keys: Set<string> }[] = [];

  constructor(patterns: readonly Combination[], axes: readonly Axis[]) {
    const byShape = new Map<string, { positions: number[]; keys: Set<string> }>();
    for (const pattern of patterns) {
      const positions = axes.map((axis, i) => (axis.name in pattern ? i : -1)).filter((i) => i >= 0);
      const shape = positions.join(",");
      let group = byShape.get(shape);
      if (!group) byShape.set(shape, (group = { positions, keys: new Set() }));
      group.keys.add(positions.map((i) => axes[i]!.indexByName.get(pattern[axes[i]!.name]!) ?? -1).join(","));
    }
    this.groups = [...byShape.values()];
  }

  has(indices: Indices): boolean {
    for (const group of this.groups) {
      let key = "";
      for (let i = 0; i < group.positions.length; i++) key += (i ? "," : "") + indices[group.positions[i]!];
      if (group.keys.has(key)) return true;
    }
    return false;
  }
}

function indicesKey(indices: Indices): string {
  return indices.join(",");
}

/** A template compiled against a family's axes: text parts, value names, attributes, {from}, {family}. */
type CompiledPart = string | { readonly axis: number; readonly attribute?: string } | { readonly from: true };

type CompiledFamily = ReturnType<Planner["compileFamily"]>;

class Planner {
  private readonly diagnostics: Diagnostic[] = [];
  private readonly images: ImageNode[] = [];
  /** family name → its axes and its images by combination number (see comboNumber). */
  private readonly byFamily = new Map<string, { axes: readonly string[]; strides: readonly number[]; images: Map<number | string, ImageNode> }>();
  /** Ids share a namespace with family names (bake targets and groups) and bake's "default" group. */
  private readonly usedIds: Set<string>;
  /** Stem → the suffix its next clash tries first: ids are never freed, so every smaller suffix is taken. */
  private readonly nextSuffix = new Map<string, number>();
  private readonly byTag = new Map<string, ImageNode>();
  private readonly missingAttributes = new Set<string>();
  /** Arg name → base image → the arg giving that base's reference (see fromArg). */
  private readonly fromArgs = new Map<string, Map<ImageNode, BuildArg>>();
  /** The families another builds FROM. */
  private readonly bases: ReadonlySet<string>;

  constructor(
    private readonly matrix: Matrix,
    private readonly repository: string,
  ) {
    this.usedIds = new Set(["default", ...matrix.families.map((f) => f.name)]);
    this.bases = new Set(matrix.families.flatMap((f) => (f.from === undefined ? [] : [f.from])));
  }

  plan(): BuildGraph {
    const nodes = new Map<string, FamilyNode>();
    for (const family of familyOrder(this.matrix.families)) nodes.set(family.name, this.planFamily(family));
    if (this.diagnostics.length > 0) throw new CalibanError(this.diagnostics);
    return {
      version: GRAPH_FORMAT_VERSION,
      repository: this.repository,
      axes: [...this.matrix.axes.values()].map((axis) => ({ name: axis.name, values: axis.values.map((v) => v.name) })),
      families: this.matrix.families.map((f) => nodes.get(f.name)!),
      images: this.images,
    };
  }

  private report(code: ErrorCode, keyPath: KeyPath, message: string, hint?: string): void {
    this.diagnostics.push({ code, file: this.matrix.file, keyPath, message, ...(hint ? { hint } : {}) });
  }

  private planFamily(family: Family): FamilyNode {
    const axes = family.axes.map((name) => this.matrix.axes.get(name)!);
    const ids: string[] = [];
    const index = new Map<number | string, ImageNode>();
    const strides = comboStrides(axes);
    this.byFamily.set(family.name, { axes: family.axes, strides, images: index });
    const base = family.from === undefined ? undefined : this.byFamily.get(family.from);
    const basePositions = base ? base.axes.map((name) => family.axes.indexOf(name)) : [];
    const missingBases = new Set<number | string>();
    const compiled = this.compileFamily(family, axes);
    // The index finds a base image for the families built FROM this one, and a repeated
    // combination, which only an explicit list or an include can give: the product cannot.
    const isBase = this.bases.has(family.name);
    const mayRepeat = family.combinations !== undefined || family.include.count > 0;
    const indexed = isBase || mayRepeat;

    let combinations = 0;
    const visit = (indices: Indices): void => {
      combinations++;
      const key = indexed ? comboNumber(indices, strides) : 0;
      if (mayRepeat && index.has(key)) {
        this.report("DUPLICATE", [...family.keyPath, "combinations"], `the combination ${describe(family.axes, valuesAt(axes, indices))} is listed twice`);
        return;
      }

      let baseImage: ImageNode | undefined;
      if (base) {
        // Value indices are per axis, so the base family's number for these values is found directly.
        const baseKey = comboNumberAt(indices, basePositions, base.strides);
        baseImage = base.images.get(baseKey);
        if (!baseImage) {
          const values = valuesAt(axes, indices);
          const baseValues = basePositions.map((position) => values[position]!);
          if (!missingBases.has(baseKey)) {
            missingBases.add(baseKey);
            this.report(
              "NO_BASE_IMAGE",
              [...family.keyPath, "from"],
              `"${family.from}" has no image with ${describe(base.axes, baseValues)}, which ${describe(family.axes, values)} of "${family.name}" builds FROM`,
              `add ${describe(base.axes, baseValues)} to the combinations of "${family.from}", or exclude it from "${family.name}"`,
            );
          }
          return;
        }
      }
      const image = this.image(family, compiled, indices, baseImage);
      if (!image) return;
      if (indexed) index.set(key, image);
      this.images.push(image);
      ids.push(image.id);
    };
    forEachCombination(family, axes, visit);
    if (combinations === 0) {
      this.report("EMPTY", family.keyPath, `family "${family.name}" produces no images`, "its `exclude` removes every combination, or an axis it spans has no values");
    }
    return {
      name: family.name,
      axes: family.axes,
      dockerfile: familyLevelText(family.dockerfile, family.name),
      context: familyLevelText(family.context, family.name),
      from: family.from ?? null,
      images: ids,
    };
  }

  /** Everything about a family that does not change from image to image, prepared once. */
  private compileFamily(family: Family, axes: readonly Axis[]) {
    const compile = (template: Template): CompiledPart[] =>
      template.map((part) => {
        if (part.kind === "text") return part.text;
        if (part.name === "from") return { from: true as const };
        if (part.name === "family") return family.name;
        return part.attribute === undefined ? { axis: family.axes.indexOf(part.name) } : { axis: family.axes.indexOf(part.name), attribute: part.attribute };
      });
    // Per value index, what each arg source gives: attribute texts, and an axis's attributes as shared args.
    const args = family.args.map((source: ArgSource) => {
      if (source.kind === "template") return { kind: "template" as const, name: source.name, parts: compile(source.template), keyPath: source.keyPath };
      const axis = family.axes.indexOf(source.axis);
      if (source.kind === "attribute") {
        // One arg object per value, shared by the images with that value (emitters remember their text by object).
        const shared = axes[axis]!.values.map((v) => {
          const text = v.attributes.get(source.attribute);
          return text === undefined ? undefined : { name: source.attribute, value: text };
        });
        return { kind: "attribute" as const, axis, attribute: source.attribute, shared, keyPath: source.keyPath };
      }
      return { kind: "axis" as const, axis, args: axes[axis]!.values.map(attributeArgs) };
    });
    // Whether any two arg sources can set the same name: if not, args are pushed without a scan.
    const namesBySource = family.args.map((source) =>
      source.kind === "template" ? [source.name] : source.kind === "attribute" ? [source.attribute] : [...new Set(this.matrix.axes.get(source.axis)!.values.flatMap((v) => [...v.attributes.keys()]))],
    );
    if (family.from !== undefined && !family.argsNameFrom) namesBySource.push([family.fromArg]);
    const allNames = namesBySource.flat();
    const argsMayCollide = new Set(allNames).size !== allNames.length;
    // Whether every tag is already a valid id ([A-Za-z0-9_-]): then no image's id needs sanitizing.
    const ID_SAFE = /^[A-Za-z0-9_-]*$/;
    const tagIdSafe = family.tag.every((part) => {
      if (part.kind === "text") return ID_SAFE.test(part.text);
      if (part.name === "family") return ID_SAFE.test(family.name);
      const axis = this.matrix.axes.get(part.name);
      return axis !== undefined && axis.values.every((v) => ID_SAFE.test(part.attribute === undefined ? v.name : (v.attributes.get(part.attribute) ?? "")));
    });
    const fixedText = (template: CompiledPart[]) => (template.every((part) => typeof part === "string") ? template.join("") : undefined);
    const dockerfile = compile(family.dockerfile);
    const context = compile(family.context);
    return {
      axes,
      /** Value names by axis position and value index. */
      names: axes.map((axis) => axis.values.map((v) => v.name)),
      argsMayCollide,
      tagIdSafe,
      tag: compile(family.tag),
      dockerfile,
      context,
      /** The dockerfile and context when no image's values change them. */
      fixedDockerfile: fixedText(dockerfile),
      fixedContext: fixedText(context),
      args,
      tagPath: [...family.keyPath, "tag"],
      dockerfilePath: [...family.keyPath, "dockerfile"],
      contextPath: [...family.keyPath, "context"],
    };
  }

  private expand(parts: readonly CompiledPart[], indices: Indices, compiled: CompiledFamily, base: ImageNode | undefined, keyPath: KeyPath): string {
    let out = "";
    for (const part of parts) {
      if (typeof part === "string") out += part;
      else if ("from" in part) out += base!.reference;
      else if (part.attribute === undefined) out += compiled.names[part.axis]![indices[part.axis]!]!;
      else out += this.attribute(compiled.axes[part.axis]!, compiled.axes[part.axis]!.values[indices[part.axis]!]!, part.attribute, keyPath);
    }
    return out;
  }

  private image(family: Family, compiled: CompiledFamily, indices: Indices, base: ImageNode | undefined): ImageNode | undefined {
    const tag = this.expand(compiled.tag, indices, compiled, base, compiled.tagPath);
    // An id-safe tag uses only tag characters: it is valid unless empty, too long or starting with '-'.
    const validTag = compiled.tagIdSafe ? tag.length > 0 && tag.length <= 128 && tag[0] !== "-" : TAG_PATTERN.test(tag);
    if (!validTag) {
      this.report(
        "INVALID_VALUE",
        compiled.tagPath,
        `the tag "${tag}" (for ${describe(family.axes, valuesAt(compiled.axes, indices))}) is not a valid Docker tag`,
        "a tag is 1 to 128 of letters, digits, '_', '.' and '-', not starting with '.' or '-'",
      );
      return undefined;
    }
    const combination: Record<string, string> = {};
    for (let i = 0; i < indices.length; i++) combination[family.axes[i]!] = compiled.names[i]![indices[i]!]!;
    // Every image has the same repository, so two references are equal exactly when their tags are.
    const clash = this.byTag.get(tag);
    if (clash) {
      this.report(
        "DUPLICATE",
        compiled.tagPath,
        `two images would both be ${clash.reference}: ${describeCombination(clash.values)} of "${clash.family}" and ${describeCombination(combination)} of "${family.name}"`,
        "make the tag templates include every axis that tells the images apart",
      );
      return undefined;
    }

    const args: BuildArg[] = [];
    const add = compiled.argsMayCollide ? setArg : pushArg;
    for (let s = 0; s < compiled.args.length; s++) {
      const source = compiled.args[s]!;
      if (source.kind === "template") add(args, { name: source.name, value: this.expand(source.parts, indices, compiled, base, source.keyPath) });
      else if (source.kind === "attribute") {
        const value = indices[source.axis]!;
        const shared = source.shared[value];
        add(args, shared ?? { name: source.attribute, value: this.attribute(compiled.axes[source.axis]!, compiled.axes[source.axis]!.values[value]!, source.attribute, source.keyPath) });
      } else {
        const shared = source.args[indices[source.axis]!]!;
        for (let i = 0; i < shared.length; i++) add(args, shared[i]!);
      }
    }
    if (base && !family.argsNameFrom) add(args, this.fromArg(family.fromArg, base));

    const image: ImageNode = {
      id: this.uniqueId(tag, compiled.tagIdSafe),
      family: family.name,
      values: combination,
      repository: this.repository,
      tag,
      reference: `${this.repository}:${tag}`,
      dockerfile: compiled.fixedDockerfile ?? this.expand(compiled.dockerfile, indices, compiled, base, compiled.dockerfilePath),
      context: compiled.fixedContext ?? this.expand(compiled.context, indices, compiled, base, compiled.contextPath),
      args,
      from: base ? base.id : null,
      fromArg: base ? (family.baseReferenceArg ?? null) : null,
      level: base ? base.level + 1 : 0,
    };
    this.byTag.set(tag, image);
    return image;
  }

  /** The arg naming a base image's reference: one object per base, shared by the images built FROM it. */
  private fromArg(name: string, base: ImageNode): BuildArg {
    let byBase = this.fromArgs.get(name);
    if (!byBase) this.fromArgs.set(name, (byBase = new Map()));
    let arg = byBase.get(base);
    if (!arg) byBase.set(base, (arg = { name, value: base.reference }));
    return arg;
  }

  /** An attribute of an axis value; a value that lacks it is reported once. */
  private attribute(axis: Axis, value: AxisValue, attribute: string, keyPath: KeyPath): string {
    const text = value.attributes.get(attribute);
    if (text !== undefined) return text;
    const key = `${axis.name}\u0000${value.name}\u0000${attribute}`;
    if (!this.missingAttributes.has(key)) {
      this.missingAttributes.add(key);
      this.report(
        "UNKNOWN_REFERENCE",
        keyPath,
        `axis "${axis.name}" value "${value.name}" has no attribute ${attribute}`,
        didYouMean(attribute, [...value.attributes.keys()]) ?? `add ${attribute} to [axes.${axis.name}] ${value.name}`,
      );
    }
    return "";
  }

  /** The tag with other characters than [A-Za-z0-9_-] turned into '-': a valid bake target and make target name. */
  private uniqueId(tag: string, idSafe: boolean): string {
    const stem = idSafe ? tag : tag.replace(/[^A-Za-z0-9_-]/g, "-");
    if (!this.usedIds.has(stem)) {
      this.usedIds.add(stem);
      return stem;
    }
    // Resumed where the stem's last clash ended, not from 2: thousands of tags with one stem stay linear.
    let n = this.nextSuffix.get(stem) ?? 2;
    while (this.usedIds.has(`${stem}-${n}`)) n++;
    const id = `${stem}-${n}`;
    this.nextSuffix.set(stem, n + 1);
    this.usedIds.add(id);
    return id;
  }
}

/** A later arg of the same name replaces an earlier one's value, in its place. Args are few: a scan beats a map. */
function setArg(args: BuildArg[], arg: BuildArg): void {
  for (let i = 0; i < args.length; i++) {
    if (args[i]!.name === arg.name) {
      args[i] = arg;
      return;
    }
  }
  args.push(arg);
}

function pushArg(args: BuildArg[], arg: BuildArg): void {
  args.push(arg);
}

/** An axis value's attributes as build args, made once per family and shared by its images (the graph is readonly). */
function attributeArgs(value: AxisValue): readonly BuildArg[] {
  return [...value.attributes].map(([name, text]) => ({ name, value: text }));
}

/**
 * A combination's number: its value indices read as digits in mixed radix (the axes'
 * sizes). Exact while the product of the sizes stays within a double's integers;
 * beyond that (absurd matrices), a string key.
 */
function comboStrides(axes: readonly Axis[]): number[] {
  const strides: number[] = [];
  let stride = 1;
  for (let i = axes.length - 1; i >= 0; i--) {
    strides[i] = stride;
    stride *= Math.max(1, axes[i]!.values.length);
  }
  return stride <= Number.MAX_SAFE_INTEGER ? strides : [];
}

function comboNumber(indices: Indices, strides: readonly number[]): number | string {
  if (strides.length !== indices.length) return indices.join(",");
  let number = 0;
  for (let i = 0; i < indices.length; i++) number += indices[i]! * strides[i]!;
  return number;
}

/** The axis values a combination's indices stand for (for messages: the hot path keeps indices). */
function valuesAt(axes: readonly Axis[], indices: Indices): AxisValue[] {
  return indices.map((value, i) => axes[i]!.values[value]!);
}

/** comboNumber of the values at `positions` of `indices`, without gathering them. */
function comboNumberAt(indices: Indices, positions: readonly number[], strides: readonly number[]): number | string {
  if (strides.length !== positions.length) return comboNumber(positions.map((position) => indices[position]!), strides);
  let number = 0;
  for (let i = 0; i < positions.length; i++) number += indices[positions[i]!]! * strides[i]!;
  return number;
}

/** Family-level dockerfile and context: per-image variables stay as written. */
function familyLevelText(template: Template, family: string): string {
  let out = "";
  for (const part of template) {
    if (part.kind === "text") out += part.text;
    else if (part.name === "family") out += family;
    else out += `{${part.name}${part.attribute ? `.${part.attribute}` : ""}}`;
  }
  return out;
}

function describe(axes: readonly string[], values: readonly AxisValue[]): string {
  return describeCombination(Object.fromEntries(axes.map((axis, i) => [axis, values[i]!.name])));
}

function describeCombination(combination: Combination): string {
  const entries = Object.entries(combination);
  return entries.length === 0 ? "the single image" : entries.map(([axis, value]) => `${axis}=${value}`).join(", ");
}
