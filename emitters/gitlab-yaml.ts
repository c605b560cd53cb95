// A GitLab pipeline as typed data, written once: every key and every string goes through
// yamlScalar (emitters/quoting.ts), or, for a script of several lines, yamlBlock (a
// literal block, which reads as the shell gets it), so that no value a user controls is
// ever spliced into YAML as text. Lists of scalars are block sequences, maps block mappings; an empty list
// is `[]`. Nothing here knows GitLab's keywords: gitlab.ts and ci-job.ts build the data (buildkite.ts too).

import { yamlBlock, yamlScalar } from "./quoting.ts";

export type YamlValue = string | number | boolean | readonly YamlValue[] | YamlMap;
export interface YamlMap {
  readonly [key: string]: YamlValue | undefined;
}

/** The lines of `value` as a top-level mapping's entries (keys in insertion order; undefined values left out). */
export function yamlLines(value: YamlMap, indent = ""): string[] {
  const lines: string[] = [];
  for (const [key, item] of Object.entries(value)) {
    if (item === undefined) continue;
    const head = `${indent}${yamlScalar(key)}:`;
    const block = typeof item === "string" ? yamlBlock(item, `${indent}  `) : undefined;
    if (block !== undefined) lines.push(`${head} |-`, ...block);
    else if (isScalar(item) || (Array.isArray(item) && item.length === 0)) lines.push(`${head} ${scalar(item)}`);
    else if (Array.isArray(item)) lines.push(head, ...sequenceLines(item, `${indent}  `));
    else lines.push(head, ...yamlLines(item as YamlMap, `${indent}  `));
  }
  return lines;
}

function sequenceLines(items: readonly YamlValue[], indent: string): string[] {
  const lines: string[] = [];
  for (const item of items) {
    const block = typeof item === "string" ? yamlBlock(item, `${indent}  `) : undefined;
    if (block !== undefined) lines.push(`${indent}- |-`, ...block);
    else if (isScalar(item) || (Array.isArray(item) && item.length === 0)) lines.push(`${indent}- ${scalar(item)}`);
    else if (Array.isArray(item)) lines.push(`${indent}-`, ...sequenceLines(item, `${indent}  `));
    else {
      const [first, ...rest] = yamlLines(item as YamlMap, `${indent}  `);
      lines.push(`${indent}- ${first!.slice(indent.length + 2)}`, ...rest);
    }
  }
  return lines;
}

function isScalar(value: YamlValue): value is string | number | boolean {
  return typeof value !== "object";
}

function scalar(value: YamlValue): string {
  if (typeof value === "string") return yamlScalar(value);
  if (typeof value === "number" || typeof value === "boolean") return String(value);
  return "[]";
}
