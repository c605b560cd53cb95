// `[vars]`: variables with defaults, set from outside the file with `--var NAME=VALUE`
// when a command plans (TensorFlow's `--arg _TAG_PREFIX`, bake's `variable`). A template
// names one as `{$NAME}`: no axis, family or value name holds a '$', so a variable can
// never be read as an axis, nor an axis as a variable.
//
// Values are filled in as the file is read (readTemplate): the planner, the graph and
// every emitter see text only, as bake evaluates its variables before anything else.
// So each value is checked where it lands, as the text written there is: in a tag by
// the tag grammar, in a repository by the repository's, in a path by the paths check.
// Control characters, which no place can carry, are refused at the value itself.

import { didYouMean, type KeyPath } from "../errors.ts";
import { CONTROL_CHARACTER, describeControlCharacter, IDENTIFIER_PATTERN } from "../names.ts";
import type { Variable } from "./matrix-types.ts";
import type { MatrixReader } from "./matrix-reader.ts";
import type { Template, TemplatePart } from "./template.ts";

/** The values given from outside the file (`--var NAME=VALUE`), by name. */
export interface GivenVariables {
  readonly values: ReadonlyMap<string, string>;
  /**
   * A name the matrix does not declare is left out rather than reported: another
   * revision's matrix (`affected --since`), in which the variable cannot be used.
   */
  readonly undeclaredIgnored?: boolean;
}

export const NO_VARIABLES: GivenVariables = { values: new Map() };

export const VARIABLE_RULE = "letters, digits and '_', not starting with a digit (as make, bake and a shell name a variable)";

/** `[vars]`, each value the given one or its default; the reader then fills them into every template. */
export function readVars(reader: MatrixReader, value: unknown, given: GivenVariables): Variable[] {
  const variables: Variable[] = [];
  const table = value === undefined ? undefined : reader.table(value, ["vars"], 'write each variable with its default, e.g. [vars] TAG_PREFIX = ""');
  for (const name of table === undefined ? [] : reader.keysAsWritten(table, ["vars"])) {
    const at = ["vars", name];
    if (!IDENTIFIER_PATTERN.test(name)) {
      reader.report("INVALID_NAME", at, `"${name}" is not a valid variable name`, `use ${VARIABLE_RULE}`);
      continue;
    }
    const fallback = reader.string(table![name], at);
    const set = given.values.get(name);
    const text = set ?? fallback;
    if (text === undefined) continue;
    if (CONTROL_CHARACTER.test(text)) reader.report("INVALID_VALUE", at, `${set === undefined ? "the default" : `--var ${name}`} contains ${describeControlCharacter(text)}, which no build tool can carry`);
    variables.push({ name, value: text, set: set !== undefined, keyPath: at });
  }
  const declared = new Set(table === undefined ? [] : Object.keys(table));
  for (const name of given.values.keys()) {
    if (declared.has(name) || given.undeclaredIgnored) continue;
    const hint = table === undefined ? `declare it with its default: [vars] ${name} = "..."` : (didYouMean(name, declared) ?? `or declare it: ${name} = "..." in [vars]`);
    reader.report("UNKNOWN_REFERENCE", table === undefined ? [] : ["vars"], `--var ${name}: the matrix declares no variable "${name}"`, hint);
  }
  reader.variables = new Map(variables.map((variable) => [variable.name, variable.value]));
  return variables;
}

/** `{$NAME}` in a template: a variable [vars] declares, with no attribute. */
export function checkTemplateVariable(reader: MatrixReader, name: string, attribute: string | undefined, path: KeyPath): void {
  if (!reader.variables.has(name)) {
    const known = [...reader.variables.keys()];
    const hint = known.length === 0 ? `declare it with its default: [vars] ${name} = "..."` : didYouMean(name, known)?.replace(/"([^"]+)"/g, "{$$$1}");
    reader.report("UNKNOWN_REFERENCE", path, `the template names {$${name}}, which is not a variable of [vars]`, hint);
  } else if (attribute !== undefined) {
    reader.report("INVALID_VALUE", path, `{$${name}} has no attributes: a variable is one value`);
  }
}

/** A hint for `{NAME}` (or `{vars.NAME}`) that names no axis when NAME is a variable: write it `{$NAME}`. */
export function variableHint(reader: MatrixReader, name: string, attribute: string | undefined): string | undefined {
  const variable = reader.variables.has(name) && attribute === undefined ? name : (name === "vars" || name === "var") && attribute !== undefined && reader.variables.has(attribute) ? attribute : undefined;
  return variable === undefined ? undefined : `${variable} is a variable of [vars]: write {$${variable}}`;
}

/** The template with each `{$NAME}` as its value, text that is never templated again (as an attribute's value). */
export function fillVariables(template: Template, values: ReadonlyMap<string, string>): Template {
  if (!template.some((part) => part.kind === "variable" && part.name.startsWith("$"))) return template;
  const filled: TemplatePart[] = [];
  for (const part of template) {
    const text = part.kind === "text" ? part.text : part.name.startsWith("$") ? (values.get(part.name.slice(1)) ?? "") : undefined;
    if (text === undefined) filled.push(part);
    else if (filled.at(-1)?.kind === "text") filled[filled.length - 1] = { kind: "text", text: (filled.at(-1) as { text: string }).text + text };
    else if (text !== "") filled.push({ kind: "text", text });
  }
  return filled;
}
