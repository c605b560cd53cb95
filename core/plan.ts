// matrix → build graph. Expands every family's combinations, matches each image to
// the image it builds FROM, and computes tags, references and build args. Runs once;
// everything after it (every emitter) reads only the graph.

import { CalibanError, didYouMean, type Diagnostic, type ErrorCode, type KeyPath } from "./errors.ts";
import { GRAPH_FORMAT_VERSION, type BuildArg, type BuildGraph, type FamilyNode, type ImageNode } from "./graph.ts";
import type { Combination, Family, Matrix } from "./matrix.ts";
import { TAG_PATTERN } from "./names.ts";
import { expandTemplate, type Template } from "./template.ts";

export interface PlanOptions {
  /** Replaces the matrix's `repository` (the CLI's --base-url). */
  readonly repository?: string;
}

export function planMatrix(matrix: Matrix, options: PlanOptions = {}): BuildGraph {
  return new Planner(matrix, options.repository ?? matrix.repository).plan();
}

/** The combinations a family builds, in order: the product (first axis outermost), less excludes, plus includes. */
export function familyCombinations(family: Family, matrix: Matrix): Combination[] {
  if (family.combinations) return [...family.combinations];
  let product: Record<string, string>[] = [{}];
  for (const axisName of family.axes) {
    const values = matrix.axes.get(axisName)!.values;
    const next: Record<string, string>[] = [];
    for (const partial of product) for (const value of values) next.push({ ...partial, [axisName]: value.name });
    product = next;
  }
  const kept = product.filter((combination) => !family.exclude.some((pattern) => matches(combination, pattern)));
  const keys = new Set(kept.map((c) => combinationKey(c, family.axes)));
  for (const included of family.include) {
    const key = combinationKey(included, family.axes);
    if (!keys.has(key)) {
      keys.add(key);
      kept.push(included);
    }
  }
  return kept;
}

function matches(combination: Combination, pattern: Combination): boolean {
  for (const axis in pattern) if (combination[axis] !== pattern[axis]) return false;
  return true;
}

/** A string key for a combination projected onto some axes. */
function combinationKey(combination: Combination, axes: readonly string[]): string {
  let key = "";
  for (const axis of axes) key += `${combination[axis]}\u0000`;
  return key;
}

/** Families ordered so that each comes after the family it builds FROM; otherwise declaration order. */
export function familyOrder(families: readonly Family[]): Family[] {
  const ordered: Family[] = [];
  const placed = new Set<string>();
  const remaining = [...families];
  const known = new Set(families.map((f) => f.name));
  while (remaining.length > 0) {
    const index = remaining.findIndex((f) => f.from === undefined || !known.has(f.from) || placed.has(f.from));
    // A loop was already reported by readMatrix; place the rest as declared.
    const [next] = remaining.splice(index < 0 ? 0 : index, 1);
    ordered.push(next!);
    placed.add(next!.name);
  }
  return ordered;
}

class Planner {
  private readonly diagnostics: Diagnostic[] = [];
  private readonly images: ImageNode[] = [];
  /** family name → (combination key over the family's axes → image). */
  private readonly byFamily = new Map<string, Map<string, ImageNode>>();
  /** Ids share a namespace with family names (bake targets and groups) and bake's "default" group. */
  private readonly usedIds: Set<string>;
  private readonly missingAttributes = new Set<string>();
  private readonly byReference = new Map<string, { family: string; combination: Combination }>();

  constructor(
    private readonly matrix: Matrix,
    private readonly repository: string,
  ) {
    this.usedIds = new Set(["default", ...matrix.families.map((f) => f.name)]);
  }

  plan(): BuildGraph {
    const families: FamilyNode[] = [];
    for (const family of familyOrder(this.matrix.families)) families.push(this.planFamily(family));
    if (this.diagnostics.length > 0) throw new CalibanError(this.diagnostics);
    return {
      version: GRAPH_FORMAT_VERSION,
      repository: this.repository,
      axes: [...this.matrix.axes.values()].map((axis) => ({ name: axis.name, values: axis.values.map((v) => v.name) })),
      families: this.matrix.families.map((f) => families.find((node) => node.name === f.name)!),
      images: this.images,
    };
  }

  private report(code: ErrorCode, keyPath: KeyPath, message: string, hint?: string): void {
    this.diagnostics.push({ code, file: this.matrix.file, keyPath, message, ...(hint ? { hint } : {}) });
  }

  private planFamily(family: Family): FamilyNode {
    const combinations = familyCombinations(family, this.matrix);
    const ids: string[] = [];
    const index = new Map<string, ImageNode>();
    this.byFamily.set(family.name, index);
    if (combinations.length === 0) {
      this.report("EMPTY", family.keyPath, `family "${family.name}" produces no images`, "its `exclude` removes every combination, or an axis it spans has no values");
    }
    const baseIndex = family.from === undefined ? undefined : this.byFamily.get(family.from);
    const baseAxes = family.from === undefined ? [] : (this.matrix.families.find((f) => f.name === family.from)?.axes ?? []);
    const missingBases = new Set<string>();
    const seenCombinations = new Set<string>();

    for (const combination of combinations) {
      const key = combinationKey(combination, family.axes);
      if (seenCombinations.has(key)) {
        this.report("DUPLICATE", [...family.keyPath, "combinations"], `the combination ${describe(combination)} is listed twice`);
        continue;
      }
      seenCombinations.add(key);

      let base: ImageNode | undefined;
      if (baseIndex) {
        const baseKey = combinationKey(combination, baseAxes);
        base = baseIndex.get(baseKey);
        if (!base) {
          if (!missingBases.has(baseKey)) {
            missingBases.add(baseKey);
            const wanted = Object.fromEntries(baseAxes.map((a) => [a, combination[a]!]));
            this.report(
              "NO_BASE_IMAGE",
              [...family.keyPath, "from"],
              `"${family.from}" has no image with ${describe(wanted)}, which ${describe(combination)} of "${family.name}" builds FROM`,
              `add ${describe(wanted)} to the combinations of "${family.from}", or exclude it from "${family.name}"`,
            );
          }
          continue;
        }
      }
      const image = this.image(family, combination, base);
      if (!image) continue;
      index.set(key, image);
      this.images.push(image);
      ids.push(image.id);
    }
    return {
      name: family.name,
      axes: family.axes,
      dockerfile: expandTemplate(family.dockerfile, (name) => (name === "family" ? family.name : `{${name}}`)),
      context: expandTemplate(family.context, (name) => (name === "family" ? family.name : `{${name}}`)),
      from: family.from ?? null,
      images: ids,
    };
  }

  private image(family: Family, combination: Combination, base: ImageNode | undefined): ImageNode | undefined {
    let currentPath: KeyPath = family.keyPath;
    const resolve = (name: string, attribute?: string): string => {
      if (name === "from") return base!.reference;
      if (name === "family") return family.name;
      const valueName = combination[name]!;
      return attribute === undefined ? valueName : this.attribute(name, valueName, attribute, currentPath);
    };
    const expand = (template: Template, path: KeyPath) => {
      currentPath = path;
      return expandTemplate(template, resolve);
    };

    const tag = expand(family.tag, [...family.keyPath, "tag"]);
    if (!TAG_PATTERN.test(tag)) {
      this.report(
        "INVALID_VALUE",
        [...family.keyPath, "tag"],
        `the tag "${tag}" (for ${describe(combination)}) is not a valid Docker tag`,
        "a tag is 1 to 128 of letters, digits, '_', '.' and '-', not starting with '.' or '-'",
      );
      return undefined;
    }
    const reference = `${this.repository}:${tag}`;
    const clash = this.byReference.get(reference);
    if (clash) {
      this.report(
        "DUPLICATE",
        [...family.keyPath, "tag"],
        `two images would both be ${reference}: ${describe(clash.combination)} of "${clash.family}" and ${describe(combination)} of "${family.name}"`,
        "make the tag templates include every axis that tells the images apart",
      );
      return undefined;
    }
    this.byReference.set(reference, { family: family.name, combination });

    const args = new Map<string, string>();
    for (const source of family.args) {
      if (source.kind === "template") {
        args.set(source.name, expand(source.template, source.keyPath));
      } else if (source.kind === "attribute") {
        args.set(source.attribute, this.attribute(source.axis, combination[source.axis]!, source.attribute, source.keyPath));
      } else {
        const value = this.matrix.axes.get(source.axis)!.valuesByName.get(combination[source.axis]!)!;
        for (const [name, attribute] of value.attributes) args.set(name, attribute);
      }
    }
    if (base && !family.argsNameFrom) args.set(family.fromArg, base.reference);

    return {
      id: this.uniqueId(tag),
      family: family.name,
      values: { ...combination },
      repository: this.repository,
      tag,
      reference,
      dockerfile: expand(family.dockerfile, [...family.keyPath, "dockerfile"]),
      context: expand(family.context, [...family.keyPath, "context"]),
      args: [...args].map(([name, value]): BuildArg => ({ name, value })),
      from: base ? base.id : null,
      fromArg: base ? (family.baseReferenceArg ?? null) : null,
      level: base ? base.level + 1 : 0,
    };
  }

  /** An attribute of an axis value; a value that lacks it is reported once. */
  private attribute(axis: string, valueName: string, attribute: string, keyPath: KeyPath): string {
    const value = this.matrix.axes.get(axis)!.valuesByName.get(valueName)!;
    const text = value.attributes.get(attribute);
    if (text !== undefined) return text;
    const key = `${axis}\u0000${valueName}\u0000${attribute}`;
    if (!this.missingAttributes.has(key)) {
      this.missingAttributes.add(key);
      const known = [...value.attributes.keys()];
      this.report(
        "UNKNOWN_REFERENCE",
        keyPath,
        `axis "${axis}" value "${valueName}" has no attribute ${attribute}`,
        didYouMean(attribute, known) ?? `add ${attribute} to [axes.${axis}] ${valueName}`,
      );
    }
    return "";
  }

  /** The tag with '.' turned into '-', so that it is a valid bake target and make target name. */
  private uniqueId(tag: string): string {
    const stem = tag.replace(/[^A-Za-z0-9_-]/g, "-");
    let id = stem;
    for (let n = 2; this.usedIds.has(id); n++) id = `${stem}-${n}`;
    this.usedIds.add(id);
    return id;
  }
}

function describe(combination: Combination): string {
  const entries = Object.entries(combination);
  return entries.length === 0 ? "the single image" : entries.map(([axis, value]) => `${axis}=${value}`).join(", ");
}
