// `[axes.NAME]`: each axis a table of values, each value a table of attributes (which
// become build args). Order is the file's: it is the order images are planned in.

import type { Axis, AxisValue } from "./matrix-types.ts";
import { isTable, type MatrixReader } from "./matrix-reader.ts";
import { VALUE_PATTERN, VALUE_RULE } from "../names.ts";

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
      const valuePath = [...path, valueName];
      if (!VALUE_PATTERN.test(valueName) || valueName.length > 128) {
        reader.report("INVALID_NAME", valuePath, `"${valueName}" is not a valid axis value name`, `use ${VALUE_RULE}`);
      }
      const attributeTable = reader.table(valuesTable[valueName], valuePath, `give the value its build args as a table: ${valueName} = { NAME = "value" }, or {} for none`);
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
    axes.set(axisName, { name: axisName, values, indexByName: new Map(values.map((v, i) => [v.name, i])) });
  }
  return axes;
}
