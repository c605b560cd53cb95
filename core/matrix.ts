// The matrix file's model: what `matrix.toml` says, checked and typed, before any
// combination is expanded. readMatrix collects every problem it finds and throws
// them together, each with the key path it concerns.

import { CalibanError, didYouMean, type Diagnostic, type ErrorCode, type KeyPath } from "./errors.ts";
import {
  ARG_NAME_PATTERN,
  ARG_NAME_RULE,
  CONTROL_CHARACTER,
  describeControlCharacter,
  NAME_PATTERN,
  NAME_RULE,
  repositoryProblem,
  VALUE_PATTERN,
  VALUE_RULE,
} from "./names.ts";
import { parseTemplate, TemplateSyntaxError, templateVariables, type Template } from "./template.ts";
import type { KeysAsWritten } from "./toml.ts";

export interface AxisValue {
  readonly name: string;
  /** Attribute name → value, in declaration order; they become build args. */
  readonly attributes: ReadonlyMap<string, string>;
}

export interface Axis {
  readonly name: string;
  readonly values: readonly AxisValue[];
  /** Value name → its index in `values` (combinations are read and planned as indices). */
  readonly indexByName: ReadonlyMap<string, number>;
}

/** Where a family's build args come from, in order; a later arg of the same name overrides an earlier one. */
export type ArgSource =
  | { readonly kind: "axis"; readonly axis: string; readonly keyPath: KeyPath }
  | { readonly kind: "attribute"; readonly axis: string; readonly attribute: string; readonly keyPath: KeyPath }
  | { readonly kind: "template"; readonly name: string; readonly template: Template; readonly keyPath: KeyPath };

/** A combination of axis values: axis name → value name (an exclude pattern may name some axes only). */
export type Combination = Readonly<Record<string, string>>;

/**
 * Whole combinations (`combinations`, `include`), read: for each, the index of its
 * value on each axis of `matrix`, in order; combination i is at [i * axes, (i + 1) *
 * axes). One typed array rather than names per combination: a list of 100,000 would
 * otherwise stay in memory as 400,000 objects, which every garbage collection visits.
 */
export interface ValueIndices {
  readonly count: number;
  readonly indices: Int32Array;
}

export interface Family {
  readonly name: string;
  readonly keyPath: KeyPath;
  readonly description: string | undefined;
  readonly dockerfile: Template;
  readonly context: Template;
  readonly tag: Template;
  readonly axes: readonly string[];
  /** Explicit combinations replacing the cross product, or undefined for the product. */
  readonly combinations: ValueIndices | undefined;
  readonly include: ValueIndices;
  readonly exclude: readonly Combination[];
  readonly args: readonly ArgSource[];
  readonly from: string | undefined;
  readonly fromArg: string;
  /** True when an arg template names {from}, so no automatic `fromArg` is added. */
  readonly argsNameFrom: boolean;
  /** The arg whose value is exactly the base image's reference: `fromArg`, or an arg written "{from}". */
  readonly baseReferenceArg: string | undefined;
}

export interface Matrix {
  readonly file: string;
  readonly repository: string;
  readonly axes: ReadonlyMap<string, Axis>;
  readonly families: readonly Family[];
  /** Per-emitter settings from `[emit.NAME]`, checked against each emitter's options later. */
  readonly emit: Readonly<Record<string, Readonly<Record<string, unknown>>>>;
  readonly plugins: readonly string[];
}

const TOP_LEVEL_KEYS = ["repository", "axes", "images", "emit", "plugins"];
const FAMILY_KEYS = [
  "description",
  "dockerfile",
  "context",
  "tag",
  "matrix",
  "combinations",
  "include",
  "exclude",
  "args",
  "from",
  "from_arg",
];
export const DEFAULT_FROM_ARG = "BASE_IMAGE";

export function readMatrix(data: Record<string, unknown>, file: string, keysAsWritten: KeysAsWritten): Matrix {
  const reader = new MatrixReader(file, keysAsWritten);
  const matrix = reader.read(data);
  if (reader.diagnostics.length > 0) throw new CalibanError(reader.diagnostics);
  return matrix;
}

type Table = Record<string, unknown>;

/**
 * How many names all "did you mean" hints among names that may be many (an axis's
 * values, the families) may compare with, per matrix. Each hint compares the word with
 * every name, so ten thousand unknown values of an axis of ten thousand took 18 s;
 * past the budget (a few hundredths of a second), such an error comes without its hint.
 */
const HINT_COMPARISONS = 200_000;

class MatrixReader {
  readonly diagnostics: Diagnostic[] = [];
  private hintBudget = HINT_COMPARISONS;

  constructor(
    private readonly file: string,
    /** Where order means something (axes, their values, families): the file's order, not the object's. */
    private readonly keysAsWritten: KeysAsWritten,
  ) {}

  read(data: Table): Matrix {
    this.knownKeys(data, TOP_LEVEL_KEYS, []);
    const repository = this.repository(data.repository);
    const axes = this.axes(data.axes);
    const families = this.families(data.images, axes);
    const emit = this.emitSettings(data.emit);
    const plugins = this.stringList(data.plugins, ["plugins"]) ?? [];
    return { file: this.file, repository, axes, families, emit, plugins };
  }

  private report(code: ErrorCode, keyPath: KeyPath, message: string, hint?: string): void {
    this.diagnostics.push({ code, file: this.file, keyPath, message, ...(hint ? { hint } : {}) });
  }

  /** "Did you mean" for a value an axis does not have, within the budget above. */
  private valueHint(text: string, values: ReadonlyMap<string, unknown>): string | undefined {
    return this.hintAmong(text, values.size, () => values.keys());
  }

  /** "Did you mean" among `count` names, listed only when the budget above allows. */
  private hintAmong(word: string, count: number, names: () => Iterable<string>): string | undefined {
    if (count > this.hintBudget) return undefined;
    this.hintBudget -= count;
    return didYouMean(word, names());
  }

  private repository(value: unknown): string {
    if (value === undefined) {
      this.report("MISSING_KEY", [], "`repository` is missing", 'add repository = "gcr.io/my-project/images" at the top');
      return "";
    }
    const repository = this.string(value, ["repository"]);
    if (repository === undefined) return "";
    const problem = repositoryProblem(repository);
    if (problem) this.report("INVALID_VALUE", ["repository"], `"${repository}" ${problem}`);
    return repository;
  }

  private axes(value: unknown): Map<string, Axis> {
    const axes = new Map<string, Axis>();
    if (value === undefined) return axes;
    const table = this.table(value, ["axes"]);
    if (!table) return axes;
    for (const axisName of this.keysAsWritten(table, ["axes"])) {
      const axisValue = table[axisName];
      const path = ["axes", axisName];
      this.name(axisName, path, "axis");
      const valuesTable = this.table(axisValue, path, `[axes.${axisName}] must be a table of values, e.g. py37 = { PYTHON_VERSION = "3.7" }`);
      if (!valuesTable) continue;
      const values: AxisValue[] = [];
      for (const valueName of this.keysAsWritten(valuesTable, path)) {
        const attributesValue = valuesTable[valueName];
        const valuePath = [...path, valueName];
        if (!VALUE_PATTERN.test(valueName) || valueName.length > 128) {
          this.report("INVALID_NAME", valuePath, `"${valueName}" is not a valid axis value name`, `use ${VALUE_RULE}`);
        }
        const attributeTable = this.table(
          attributesValue,
          valuePath,
          `give the value its build args as a table: ${valueName} = { NAME = "value" }, or {} for none`,
        );
        const attributes = new Map<string, string>();
        for (const [attributeName, attribute] of Object.entries(attributeTable ?? {})) {
          const attributePath = [...valuePath, attributeName];
          this.argName(attributeName, attributePath);
          const text = this.argValue(attribute, attributePath);
          if (text !== undefined) attributes.set(attributeName, text);
        }
        values.push({ name: valueName, attributes });
      }
      if (values.length === 0) this.report("EMPTY", path, `axis "${axisName}" has no values`);
      axes.set(axisName, { name: axisName, values, indexByName: new Map(values.map((v, i) => [v.name, i])) });
    }
    return axes;
  }

  private families(value: unknown, axes: ReadonlyMap<string, Axis>): Family[] {
    if (value === undefined) {
      this.report("EMPTY", [], "the matrix defines no images", "add an [images.NAME] table with at least a `tag`");
      return [];
    }
    const table = this.table(value, ["images"]);
    if (!table) return [];
    const families: Family[] = [];
    for (const name of this.keysAsWritten(table, ["images"])) {
      const family = this.family(name, table[name], axes);
      if (family) families.push(family);
    }
    if (families.length === 0 && Object.keys(table).length === 0) {
      this.report("EMPTY", ["images"], "the matrix defines no images", "add an [images.NAME] table with at least a `tag`");
    }
    this.checkFrom(families, new Set(Object.keys(table)));
    return families;
  }

  private family(name: string, value: unknown, axes: ReadonlyMap<string, Axis>): Family | undefined {
    const path = ["images", name];
    this.name(name, path, "image family");
    const table = this.table(value, path);
    if (!table) return undefined;
    this.knownKeys(table, FAMILY_KEYS, path);

    const familyAxes = this.familyAxes(table.matrix, axes, [...path, "matrix"]);
    const from = table.from === undefined ? undefined : this.string(table.from, [...path, "from"]);
    const variables = new Set([...familyAxes, "family"]);
    const templateIn = (key: string, fallback: string | undefined, allowFrom: boolean): Template =>
      this.template(table[key], [...path, key], fallback, variables, axes, allowFrom && from !== undefined);

    if (table.tag === undefined) {
      const example = familyAxes.length > 0 ? `"${name}-${familyAxes.map((a) => `{${a}}`).join("-")}"` : `"${name}"`;
      this.report("MISSING_KEY", path, `family "${name}" has no \`tag\``, `add tag = ${example}`);
    }
    const args = this.args(table.args, [...path, "args"], familyAxes, variables, axes, from !== undefined);
    const fromArg = table.from_arg === undefined ? DEFAULT_FROM_ARG : this.string(table.from_arg, [...path, "from_arg"]);
    if (fromArg !== undefined && table.from_arg !== undefined) this.argName(fromArg, [...path, "from_arg"]);
    if (table.from_arg !== undefined && from === undefined) {
      this.report("INVALID_VALUE", [...path, "from_arg"], "`from_arg` has no effect without `from`");
    }

    const combinations = table.combinations === undefined ? undefined : this.wholeCombinations(table.combinations, [...path, "combinations"], familyAxes, axes);
    const include = this.wholeCombinations(table.include, [...path, "include"], familyAxes, axes) ?? { count: 0, indices: new Int32Array(0) };
    const exclude = this.excludePatterns(table.exclude, [...path, "exclude"], familyAxes, axes) ?? [];
    if (combinations && (table.include !== undefined || table.exclude !== undefined)) {
      this.report(
        "INVALID_VALUE",
        [...path, "combinations"],
        "`combinations` lists every image explicitly; it cannot be combined with `include` or `exclude`",
        "either list the combinations, or use include/exclude on the cross product of `matrix`",
      );
    }

    return {
      name,
      keyPath: path,
      description: table.description === undefined ? undefined : this.string(table.description, [...path, "description"]),
      dockerfile: templateIn("dockerfile", "Dockerfile", false),
      context: templateIn("context", ".", false),
      tag: templateIn("tag", undefined, false),
      axes: familyAxes,
      combinations,
      include,
      exclude,
      args: args.sources,
      from,
      fromArg: fromArg ?? DEFAULT_FROM_ARG,
      argsNameFrom: args.nameFrom,
      baseReferenceArg: from === undefined ? undefined : args.nameFrom ? args.exactFromArg : (fromArg ?? DEFAULT_FROM_ARG),
    };
  }

  private familyAxes(value: unknown, axes: ReadonlyMap<string, Axis>, path: KeyPath): string[] {
    const names = this.stringList(value, path) ?? [];
    const seen = new Set<string>();
    names.forEach((axis, index) => {
      if (!axes.has(axis)) {
        this.report("UNKNOWN_REFERENCE", [...path, index], `unknown axis "${axis}"`, didYouMean(axis, axes.keys()) ?? "declare it as an [axes.NAME] table");
      } else if (seen.has(axis)) {
        this.report("DUPLICATE", [...path, index], `axis "${axis}" is listed twice`);
      }
      seen.add(axis);
    });
    return [...seen].filter((axis) => axes.has(axis));
  }

  private template(
    value: unknown,
    path: KeyPath,
    fallback: string | undefined,
    variables: ReadonlySet<string>,
    axes: ReadonlyMap<string, Axis>,
    allowFrom: boolean,
  ): Template {
    const source = value === undefined ? fallback : this.string(value, path);
    if (source === undefined) return [];
    if (CONTROL_CHARACTER.test(source)) {
      this.report("INVALID_VALUE", path, `contains ${describeControlCharacter(source)}, which no build tool can carry`);
      return [];
    }
    try {
      const template = parseTemplate(source);
      for (const variable of templateVariables(template)) {
        this.templateVariable(variable.name, variable.attribute, path, variables, axes, allowFrom);
      }
      return template;
    } catch (error) {
      if (!(error instanceof TemplateSyntaxError)) throw error;
      this.report("INVALID_VALUE", path, `invalid template "${source}": ${error.message}`);
      return [];
    }
  }

  private templateVariable(
    name: string,
    attribute: string | undefined,
    path: KeyPath,
    variables: ReadonlySet<string>,
    axes: ReadonlyMap<string, Axis>,
    allowFrom: boolean,
  ): void {
    if (name === "from") {
      if (!allowFrom) this.report("UNKNOWN_REFERENCE", path, "{from} is only defined in the build args of a family with `from`");
      else if (attribute) this.report("INVALID_VALUE", path, "{from} has no attributes");
      return;
    }
    if (!variables.has(name)) {
      const hint = axes.has(name)
        ? `add "${name}" to this family's \`matrix\``
        : didYouMean(name, [...variables, ...(allowFrom ? ["from"] : [])]);
      this.report("UNKNOWN_REFERENCE", path, `the template names {${name}${attribute ? `.${attribute}` : ""}}, which is not an axis of this family`, hint);
      return;
    }
    if (attribute && name === "family") this.report("INVALID_VALUE", path, "{family} has no attributes");
  }

  private args(
    value: unknown,
    path: KeyPath,
    familyAxes: readonly string[],
    variables: ReadonlySet<string>,
    axes: ReadonlyMap<string, Axis>,
    hasFrom: boolean,
  ): { sources: ArgSource[]; nameFrom: boolean; exactFromArg?: string } {
    // Without `args`, an image gets every attribute of every axis it spans.
    if (value === undefined) return { sources: familyAxes.map((axis) => ({ kind: "axis", axis, keyPath: path })), nameFrom: false };
    if (!Array.isArray(value)) {
      this.wrongType(value, path, "an array", 'args = ["python", { BASE_IMAGE = "ubuntu:18.04" }]');
      return { sources: [], nameFrom: false };
    }
    const sources: ArgSource[] = [];
    let nameFrom = false;
    let exactFromArg: string | undefined;
    value.forEach((item, index) => {
      const itemPath = [...path, index];
      if (typeof item === "string") {
        const [axis, attribute, ...rest] = item.split(".");
        if (rest.length > 0 || !axis) {
          this.report("INVALID_VALUE", itemPath, `"${item}" is not an axis or axis.ATTRIBUTE`);
        } else if (!familyAxes.includes(axis)) {
          const hint = axes.has(axis) ? `add "${axis}" to this family's \`matrix\`` : didYouMean(axis, familyAxes);
          this.report("UNKNOWN_REFERENCE", itemPath, `"${axis}" is not an axis of this family`, hint);
        } else if (attribute !== undefined) {
          sources.push({ kind: "attribute", axis, attribute, keyPath: itemPath });
        } else {
          sources.push({ kind: "axis", axis, keyPath: itemPath });
        }
      } else if (isTable(item)) {
        for (const [name, template] of Object.entries(item)) {
          const argPath = [...itemPath, name];
          this.argName(name, argPath);
          const parsed = this.template(template, argPath, undefined, variables, axes, hasFrom);
          if (templateVariables(parsed).some((v) => v.name === "from")) nameFrom = true;
          const only = parsed.length === 1 ? parsed[0] : undefined;
          if (only?.kind === "variable" && only.name === "from") exactFromArg = name;
          sources.push({ kind: "template", name, template: parsed, keyPath: argPath });
        }
      } else {
        this.wrongType(item, itemPath, 'an axis name ("python"), "axis.ATTRIBUTE", or a table { NAME = "value" }');
      }
    });
    return { sources, nameFrom, ...(exactFromArg ? { exactFromArg } : {}) };
  }

  /**
   * `combinations` or `include`: whole combinations, each a table naming every axis or a
   * row giving one value per axis in `matrix` order. Lists of 100,000 are read here: a
   * combination is read into value indices (ValueIndices), and key paths are built only
   * for a report. A combination with a mistake is reported and left as zeros: a matrix
   * with a mistake is never planned.
   */
  private wholeCombinations(value: unknown, path: KeyPath, familyAxes: readonly string[], axes: ReadonlyMap<string, Axis>): ValueIndices | undefined {
    if (!this.isList(value, path, familyAxes, true)) return undefined;
    const positions = familyAxes.map((axis) => axes.get(axis)!.indexByName);
    const width = familyAxes.length;
    const indices = new Int32Array(value.length * width);
    for (let index = 0; index < value.length; index++) {
      const item: unknown = value[index];
      if (Array.isArray(item)) {
        this.readRow(item, path, index, familyAxes, positions, indices);
        continue;
      }
      if (readWholeTable(item, familyAxes, positions, indices, index * width)) continue;
      // Not a table naming each axis once with a known value: read again to say what is wrong.
      const combination = this.tableCombination(item, path, index, familyAxes, axes);
      if (!combination) continue;
      const missing = familyAxes.filter((axis) => !Object.hasOwn(item as Table, axis));
      if (missing.length > 0) {
        this.report("MISSING_KEY", [...path, index], `the combination does not give a value for ${missing.map((a) => `"${a}"`).join(", ")}`, "an included combination names a value for every axis in `matrix`");
      }
      for (let i = 0; i < width; i++) indices[index * width + i] = positions[i]!.get(combination[familyAxes[i]!] ?? "") ?? 0;
    }
    return { count: value.length, indices };
  }

  /** `exclude`: tables, each naming the values of some axes that the combinations it removes have. */
  private excludePatterns(value: unknown, path: KeyPath, familyAxes: readonly string[], axes: ReadonlyMap<string, Axis>): Combination[] | undefined {
    if (!this.isList(value, path, familyAxes, false)) return undefined;
    const list: Combination[] = [];
    for (let index = 0; index < value.length; index++) {
      const combination = this.tableCombination(value[index], path, index, familyAxes, axes);
      if (combination) list.push(combination);
    }
    return list;
  }

  private isList(value: unknown, path: KeyPath, familyAxes: readonly string[], rows: boolean): value is unknown[] {
    if (value === undefined) return false;
    if (Array.isArray(value)) return true;
    const table = `{ ${familyAxes.map((a) => `${a} = "..."`).join(", ")} }`;
    if (rows) this.wrongType(value, path, "an array of tables or rows", `[${table}] or [[${familyAxes.map(() => '"..."').join(", ")}]]`);
    else this.wrongType(value, path, "an array of tables", `[${table}]`);
    return false;
  }

  /**
   * A combination written as a table: the values it names, in the family's axis order
   * whatever order the table was written in; undefined when it is not a table.
   */
  private tableCombination(item: unknown, path: KeyPath, index: number, familyAxes: readonly string[], axes: ReadonlyMap<string, Axis>): Combination | undefined {
    if (!isTable(item)) {
      // Only whole combinations can be rows: an exclude pattern may name some axes only.
      this.table(item, [...path, index], Array.isArray(item) ? `a pattern names the axes it matches: { ${familyAxes[0] ?? "axis"} = "..." }` : undefined);
      return undefined;
    }
    const combination: Record<string, string> = {};
    let given = 0;
    for (const axisName of familyAxes) {
      if (!Object.hasOwn(item, axisName)) continue;
      given++;
      const text = item[axisName];
      if (typeof text !== "string") {
        this.string(text, [...path, index, axisName]);
      } else if (!axes.get(axisName)!.indexByName.has(text)) {
        this.report("UNKNOWN_REFERENCE", [...path, index, axisName], `axis "${axisName}" has no value "${text}"`, this.valueHint(text, axes.get(axisName)!.indexByName));
      } else {
        combination[axisName] = text;
      }
    }
    if (given !== Object.keys(item).length) {
      for (const axisName of Object.keys(item)) {
        if (!familyAxes.includes(axisName)) {
          this.report("UNKNOWN_REFERENCE", [...path, index, axisName], `"${axisName}" is not an axis of this family`, didYouMean(axisName, familyAxes));
        }
      }
    }
    return combination;
  }

  /**
   * A combination written as a row: one value per axis of `matrix`, in its order
   * (half the text of a table, and Bun parses arrays three times as fast as inline
   * tables), read into `indices` at the combination's place.
   */
  private readRow(item: readonly unknown[], path: KeyPath, index: number, familyAxes: readonly string[], positions: readonly ReadonlyMap<string, number>[], indices: Int32Array): void {
    if (item.length !== familyAxes.length) {
      this.report(
        "INVALID_VALUE",
        [...path, index],
        `the row has ${item.length} value${item.length === 1 ? "" : "s"}; a row gives one value per axis of \`matrix\`, in its order (${familyAxes.join(", ")})`,
        `e.g. [${positions.map((names, i) => `"${names.keys().next().value ?? familyAxes[i]}"`).join(", ")}]`,
      );
      return;
    }
    for (let position = 0; position < item.length; position++) {
      const text = item[position];
      const valueIndex = typeof text === "string" ? positions[position]!.get(text) : undefined;
      if (valueIndex !== undefined) indices[index * item.length + position] = valueIndex;
      else if (typeof text !== "string") this.string(text, [...path, index, position]);
      else this.report("UNKNOWN_REFERENCE", [...path, index, position], `axis "${familyAxes[position]}" has no value "${text}"`, this.valueHint(text, positions[position]!));
    }
  }

  /** `from` must name another family, the base's axes must be a subset of ours, and there is no loop. */
  private checkFrom(families: readonly Family[], declared: ReadonlySet<string>): void {
    const byName = new Map(families.map((f) => [f.name, f]));
    for (const family of families) {
      if (family.from === undefined) continue;
      const path = [...family.keyPath, "from"];
      const base = byName.get(family.from);
      if (family.from === family.name) {
        this.report("CYCLE", path, `family "${family.name}" builds FROM itself`);
      } else if (!base) {
        if (!declared.has(family.from)) {
          const others = () => [...byName.keys()].filter((name) => name !== family.name);
          this.report("UNKNOWN_REFERENCE", path, `no image family named "${family.from}"`, this.hintAmong(family.from, byName.size, others) ?? "`from` names another [images.NAME] table");
        }
      } else {
        const extra = base.axes.filter((axis) => !family.axes.includes(axis));
        if (extra.length > 0) {
          this.report(
            "INVALID_VALUE",
            path,
            `"${base.name}" spans axis ${extra.map((a) => `"${a}"`).join(", ")}, which "${family.name}" does not, so no single base image matches`,
            `add ${extra.map((a) => `"${a}"`).join(", ")} to the \`matrix\` of "${family.name}"`,
          );
        }
      }
    }
    this.checkCycles(families, byName);
  }

  private checkCycles(families: readonly Family[], byName: ReadonlyMap<string, Family>): void {
    const done = new Set<string>();
    for (const start of families) {
      const chain: string[] = [];
      const positions = new Map<string, number>();
      let current: Family | undefined = start;
      while (current && !done.has(current.name)) {
        const seenAt = positions.get(current.name) ?? -1;
        if (seenAt >= 0) {
          const loop = [...chain.slice(seenAt), current.name];
          if (loop.length > 2) {
            this.report("CYCLE", [...byName.get(loop[0]!)!.keyPath, "from"], `families build FROM each other in a loop: ${loop.join(" → ")}`, "one family of the loop must build from an image outside it");
          }
          break;
        }
        positions.set(current.name, chain.push(current.name) - 1);
        current = current.from === undefined ? undefined : byName.get(current.from);
      }
      for (const name of chain) done.add(name);
    }
  }

  private emitSettings(value: unknown): Record<string, Record<string, unknown>> {
    if (value === undefined) return {};
    const table = this.table(value, ["emit"]);
    const settings: Record<string, Record<string, unknown>> = {};
    for (const [name, options] of Object.entries(table ?? {})) {
      const optionsTable = this.table(options, ["emit", name], `[emit.${name}] holds that emitter's options, e.g. timeout = "3600s"`);
      if (optionsTable) settings[name] = optionsTable;
    }
    return settings;
  }

  // Small typed readers; each reports and returns undefined on a wrong type.

  private knownKeys(table: Table, allowed: readonly string[], path: KeyPath): void {
    for (const key of Object.keys(table)) {
      if (!allowed.includes(key)) {
        const where = path.length === 0 ? "at the top level" : "here";
        this.report("UNKNOWN_KEY", [...path, key], `unknown key "${key}" ${where}`, didYouMean(key, allowed));
      }
    }
  }

  private name(name: string, path: KeyPath, what: string): void {
    if (!NAME_PATTERN.test(name)) this.report("INVALID_NAME", path, `"${name}" is not a valid ${what} name`, `use ${NAME_RULE}`);
  }

  private argName(name: string, path: KeyPath): void {
    if (!ARG_NAME_PATTERN.test(name)) this.report("INVALID_NAME", path, `"${name}" is not a valid build-arg name`, `use ${ARG_NAME_RULE}`);
  }

  private argValue(value: unknown, path: KeyPath): string | undefined {
    const text = this.string(value, path);
    if (text !== undefined && CONTROL_CHARACTER.test(text)) {
      this.report("INVALID_VALUE", path, `the value contains ${describeControlCharacter(text)}, which no build tool can carry in a build arg`);
      return undefined;
    }
    return text;
  }

  private string(value: unknown, path: KeyPath): string | undefined {
    if (typeof value === "string") return value;
    const hint = typeof value === "number" || typeof value === "boolean" ? `quote it: "${String(value)}"` : undefined;
    this.wrongType(value, path, "a string", undefined, hint);
    return undefined;
  }

  private stringList(value: unknown, path: KeyPath): string[] | undefined {
    if (value === undefined) return undefined;
    if (!Array.isArray(value)) {
      this.wrongType(value, path, "an array of strings");
      return undefined;
    }
    const out: string[] = [];
    value.forEach((item, index) => {
      const text = this.string(item, [...path, index]);
      if (text !== undefined) out.push(text);
    });
    return out;
  }

  private table(value: unknown, path: KeyPath, hint?: string): Table | undefined {
    if (isTable(value)) return value;
    this.wrongType(value, path, "a table", undefined, hint);
    return undefined;
  }

  private wrongType(value: unknown, path: KeyPath, expected: string, example?: string, hint?: string): void {
    this.report("WRONG_TYPE", path, `expected ${expected}, found ${describeType(value)}`, hint ?? (example ? `for example: ${example}` : undefined));
  }
}

/**
 * A combination table that names every axis of the family with one of its values, and
 * nothing else, read into `indices` at `at`; false for anything else (left for the
 * careful reading, which reports it). Nearly every entry of a long list is like this,
 * so it only looks: no key paths, no copies.
 */
function readWholeTable(item: unknown, familyAxes: readonly string[], positions: readonly ReadonlyMap<string, number>[], indices: Int32Array, at: number): boolean {
  if (!isTable(item)) return false;
  for (let i = 0; i < familyAxes.length; i++) {
    // An inherited property (an axis named "constructor") is not a string: the careful reading decides.
    const text = item[familyAxes[i]!];
    const valueIndex = typeof text === "string" ? positions[i]!.get(text) : undefined;
    if (valueIndex === undefined) return false;
    indices[at + i] = valueIndex;
  }
  let keys = 0;
  for (const key in item) if (Object.hasOwn(item, key)) keys++;
  return keys === familyAxes.length;
}

function isTable(value: unknown): value is Table {
  return typeof value === "object" && value !== null && !Array.isArray(value) && !(value instanceof Date);
}

function describeType(value: unknown): string {
  if (Array.isArray(value)) return "an array";
  if (value instanceof Date) return "a date";
  if (value === null) return "nothing";
  if (typeof value === "object") return "a table";
  if (typeof value === "string") return `the string ${JSON.stringify(value)}`;
  if (typeof value === "number") return `the number ${value}`;
  return `${typeof value} ${String(value)}`;
}
