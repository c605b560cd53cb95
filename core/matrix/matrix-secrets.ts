// `secrets` of `[images.NAME]`: build secrets, each an id (BuildKit's, what a Dockerfile's
// `RUN --mount=type=secret,id=ID` names) and where the build takes its value from: an
// environment variable or a file. caliban-images never reads a value: it only names the
// source, which make and bake hand to BuildKit (`--secret id=ID,env=NAME`). A value must
// reach no build arg, no digest, no emitted file and no log.

import type { KeyPath } from "../errors.ts";
import { CONTROL_CHARACTER, IDENTIFIER_PATTERN, SECRET_ID_PATTERN, SECRET_ID_RULE } from "../names.ts";
import { isTable, type MatrixReader } from "./matrix-reader.ts";
import type { SecretSource } from "./matrix-types.ts";

const SOURCE_KEYS = ["env", "file"] as const;

/**
 * Characters a secret's file path cannot hold: docker and bake read `id=ID,src=PATH` as
 * one CSV record, where a ',' or '"' would start another field or a quoted one.
 */
const UNSAFE_IN_SPEC = /[,"]/;

export function readSecrets(reader: MatrixReader, value: unknown, path: KeyPath): SecretSource[] {
  if (value === undefined) return [];
  const table = reader.table(value, path, 'for example: secrets = { pip_index = { env = "PIP_INDEX_URL" } }');
  if (!table) return [];
  const secrets: SecretSource[] = [];
  for (const id of reader.keysAsWritten(table, path)) {
    const at = [...path, id];
    if (!SECRET_ID_PATTERN.test(id)) reader.report("INVALID_NAME", at, `"${id}" is not a valid secret id`, `use ${SECRET_ID_RULE}: the id a Dockerfile's RUN --mount=type=secret,id=ID names`);
    const source = readSource(reader, id, table[id], at);
    if (source && SECRET_ID_PATTERN.test(id)) secrets.push(source);
  }
  return secrets;
}

function readSource(reader: MatrixReader, id: string, value: unknown, at: KeyPath): SecretSource | undefined {
  if (!isTable(value)) {
    const example = typeof value === "string" ? `write ${id} = { env = ${JSON.stringify(value)} } (an environment variable) or ${id} = { file = ${JSON.stringify(value)} } (a file)` : `write ${id} = { env = "NAME" } or ${id} = { file = "PATH" }`;
    reader.wrongType(value, at, "a table with `env` or `file`", undefined, example);
    return undefined;
  }
  reader.knownKeys(value, SOURCE_KEYS, at);
  const given = SOURCE_KEYS.filter((key) => value[key] !== undefined);
  if (given.length === 0) {
    reader.report("MISSING_KEY", at, `secret "${id}" names no source`, `give it env = "NAME" (an environment variable) or file = "PATH" (relative to the matrix file's folder)`);
    return undefined;
  }
  if (given.length > 1) {
    reader.report("INVALID_VALUE", at, `secret "${id}" has both \`env\` and \`file\`; it takes its value from one`, "keep one of them");
    return undefined;
  }
  if (value.env !== undefined) {
    const env = reader.string(value.env, [...at, "env"]);
    if (env === undefined) return undefined;
    if (!IDENTIFIER_PATTERN.test(env)) {
      reader.report("INVALID_NAME", [...at, "env"], `"${env}" is not an environment variable name`, "letters, digits and '_', not starting with a digit; the variable's name, not its value");
      return undefined;
    }
    return { id, env, keyPath: at };
  }
  const file = reader.string(value.file, [...at, "file"]);
  if (file === undefined) return undefined;
  if (file === "" || CONTROL_CHARACTER.test(file) || UNSAFE_IN_SPEC.test(file)) {
    const what = file === "" ? "is empty" : "holds a control character, ',' or '\"', which docker's --secret id=ID,src=PATH cannot carry";
    reader.report("INVALID_VALUE", [...at, "file"], `secret "${id}"'s file ${what}`, "name the file by a plain path, relative to the matrix file's folder or absolute");
    return undefined;
  }
  return { id, file, keyPath: at };
}
