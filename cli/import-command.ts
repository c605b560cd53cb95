// `import`: Caliban's legacy cloudbuild_config.json as a matrix.toml.

import { displayName } from "../core/printable.ts";
import { importLegacyConfig } from "../import/legacy-import.ts";
import { baseUrlOption, optionalString, type Options } from "./load-graph.ts";
import { readTextFile } from "./matrix-source.ts";
import { writeOutputs } from "./output.ts";
import type { Io } from "./terminal.ts";

export async function importLegacy(path: string, options: Options, io: Io): Promise<number> {
  const source = readTextFile(path, "legacy config");
  const result = importLegacyConfig(source.text, path, baseUrlOption(options));
  for (const warning of result.warnings) io.stderr(`warning: ${displayName(path)}: ${warning}\n`);
  await writeOutputs([{ path: "matrix.toml", contents: result.toml }], optionalString(options.output, "-o"), io);
  return 0;
}
