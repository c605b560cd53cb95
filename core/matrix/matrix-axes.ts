// `[axes.NAME]`: each axis a table of values, each value a table of attributes (which
// become build args, but for those the axis's `name_only` lists). Order is the file's:
// it is the order images are planned in.

import type { Axis, AxisValue } from "./matrix-types.ts";
import { isTable, type MatrixReader } from "./matrix-reader.ts";
import { ARG_NAME_PATTERN, VALUE_PATTERN, VALUE_RULE } from "../names.ts";
import { didYouMean, type KeyPath } from "../errors.ts";
import { FAMILY_SECTION, TOP_LEVEL_SECTION, type AXIS_SECTION } from "./matrix-schema.ts";

/**
 * The one key of an axis's table that is no value: the attributes that only name (used in
 * templates: tag, aliases, repository, labels, dockerfile...) and are never build args.
 * Its name could be a value's, so its type tells it apart: a value is a table, this a list.
 */
const NAME_ONLY_KEY = "name_only" satisfies keyof typeof AXIS_SECTION;

export function readAxes(reader: MatrixReader, value: unknown): Map<string, Axis> {
  const axes = new Map<string, Axis>();
  if (value === undefined) return axes;
  const table = reader.table(value, ["axes"]);
  if (!table) return axes;
  for (const axisName of reader.keysAsWritten(table, ["axes"])) {
    const path = ["axes", axisName];
    reader.name(axisName, path, "axis");
    const valuesTable = reader.table(table[axisName], path, `[axes.${axisName}] must be a table of values, e.g. py37 = { PYTHON_VERSION = "3.7" }`);
    if (!valuesTable) continue;
    const values: AxisValue[] = [];
    for (const valueName of reader.keysAsWritten(valuesTable, path)) {
      if (valueName === NAME_ONLY_KEY) continue;
      const valuePath = [...path, valueName];
      if (!VALUE_PATTERN.test(valueName) || valueName.length > 128) {
        reader.report("INVALID_NAME", valuePath, `"${valueName}" is not a valid axis value name`, `use ${VALUE_RULE}`);
      }
      if (misplacedSetting(valueName, valuesTable[valueName])) {
        // One message for the one mistake, not one per key of the table it holds.
        const where = Object.hasOwn(TOP_LEVEL_SECTION, valueName) ? "above the first [table], beside repository" : "in the [images.NAME] table of the family it is for";
        reader.report("UNKNOWN_KEY", valuePath, `"${valueName}" is read as a value of the axis "${axisName}": every key after [axes.${axisName}] belongs to that table, up to the next [table] header`, `${valueName} is a matrix setting: write it ${where}`);
        continue;
      }
      const attributeTable = reader.table(valuesTable[valueName], valuePath, valueHint(valueName, valuesTable[valueName]));
      const attributes = new Map<string, string>();
      for (const [attributeName, attribute] of Object.entries(attributeTable ?? {})) {
        const attributePath = [...valuePath, attributeName];
        // `3.10 = { ... }` unquoted is TOML's dotted key: the value "3" with a table "10" in it.
        if (isTable(attribute) && /^[0-9]+$/.test(attributeName)) {
          const written = `${valueName}.${attributeName}`;
          reader.report("INVALID_NAME", attributePath, `TOML reads the unquoted key ${written} as the dotted key ${valueName} → ${attributeName}, not as one value name`, `quote it: "${written}" = { ... }`);
          continue;
        }
        reader.argName(attributeName, attributePath);
        const text = reader.argValue(attribute, attributePath);
        if (text !== undefined) attributes.set(attributeName, text);
      }
      values.push({ name: valueName, attributes });
    }
    if (values.length === 0) reader.report("EMPTY", path, `axis "${axisName}" has no values`);
    const nameOnly = readNameOnly(reader, valuesTable[NAME_ONLY_KEY], [...path, NAME_ONLY_KEY], values);
    axes.set(axisName, { name: axisName, values, indexByName: new Map(values.map((v, i) => [v.name, i])), nameOnly });
  }
  return axes;
}

/**
 * A matrix setting (`labels`, `platforms`, `dockerfile`, ...) written under an axis's table,
 * as TOML puts every key after a header into that table: its name is a setting's, and what
 * it holds is no table of build args (a list, a string, or keys no build arg can have).
 */
function misplacedSetting(valueName: string, value: unknown): boolean {
  if (!Object.hasOwn(TOP_LEVEL_SECTION, valueName) && !Object.hasOwn(FAMILY_SECTION, valueName)) return false;
  return !isTable(value) || Object.keys(value).some((key) => !ARG_NAME_PATTERN.test(key));
}

/** A value that is no table; a list is most likely a misspelled name_only. */
function valueHint(valueName: string, value: unknown): string {
  const table = `give the value its build args as a table: ${valueName} = { NAME = "value" }, or {} for none`;
  return Array.isArray(value) ? `${table}; the one list an axis may hold is ${NAME_ONLY_KEY} = ["NAME", ...], its attributes that only name` : table;
}

/** `name_only = ["NAME", ...]`: each an attribute of at least one of the axis's values. */
function readNameOnly(reader: MatrixReader, value: unknown, path: KeyPath, values: readonly AxisValue[]): ReadonlySet<string> {
  const nameOnly = new Set<string>();
  if (value === undefined) return nameOnly;
  if (isTable(value)) {
    reader.report("INVALID_NAME", path, `"${NAME_ONLY_KEY}" is reserved in an axis: it lists the attributes that only name images, so no value can be called ${NAME_ONLY_KEY}`, `rename the value, or list attributes: ${NAME_ONLY_KEY} = ["NAME"]`);
    return nameOnly;
  }
  if (!Array.isArray(value)) {
    reader.wrongType(value, path, "an array of attribute names", `${NAME_ONLY_KEY} = ["NAME"]`);
    return nameOnly;
  }
  const known = new Set(values.flatMap((v) => [...v.attributes.keys()]));
  value.forEach((item, index) => {
    const at = [...path, index];
    const name = reader.string(item, at);
    if (name === undefined) return;
    if (nameOnly.has(name)) reader.report("DUPLICATE", at, `${name} is listed twice`);
    else if (!known.has(name)) reader.report("UNKNOWN_REFERENCE", at, `no value of this axis has an attribute ${name}`, didYouMean(name, known) ?? (known.size === 0 ? "its values have no attributes" : undefined));
    nameOnly.add(name);
  });
  return nameOnly;
}
