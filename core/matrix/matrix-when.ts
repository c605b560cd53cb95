// `[[images.NAME.when]]`: settings per value or per combination. Each rule has a `match`
// (axis = value, or a list of values; the axes it leaves out match any value) and the
// settings the matched images get over the family's own: `latest` and `3` for the newest
// python only, `-slim`'s platforms, a build arg for one OS and not another, an alias for
// a single image. Written the way GitHub Actions' `include` adds keys to the combinations
// it matches; applied in order.

import { didYouMean, type KeyPath } from "../errors.ts";
import type { Axis, WhenRule } from "./matrix-types.ts";
import { isTable, type MatrixReader } from "./matrix-reader.ts";
import { FAMILY_SECTION, keysOf, WHEN_SECTION, WHEN_SETTINGS } from "./matrix-schema.ts";
import { isRange, rangeIndices } from "./value-range.ts";
import { setPatterns, type CombinationSets } from "./matrix-sets.ts";
import { readPublished, readRebuild } from "./matrix-policy.ts";
import { readArgs, readLabels, readPlatforms, readRunner, readSettingTemplates, readSharedTags, readTemplate, readTemplateList, readTimeout, type TemplateScope } from "./matrix-settings.ts";

const WHEN_KEYS = keysOf(WHEN_SECTION);
const FAMILY_KEYS = new Set(keysOf(FAMILY_SECTION));

/** A family's `when` rules; `familyAxes` in the family's order. */
export function readWhen(reader: MatrixReader, value: unknown, path: KeyPath, familyAxes: readonly string[], scope: TemplateScope, sets: CombinationSets = new Map()): WhenRule[] {
  if (value === undefined) return [];
  if (!Array.isArray(value)) {
    reader.wrongType(value, path, "an array of tables", `[[${path.join(".")}]] tables, each with a match, e.g. match = { ${familyAxes[0] ?? "axis"} = "..." }`);
    return [];
  }
  const rules: WhenRule[] = [];
  value.forEach((item, index) => {
    const at = [...path, index];
    const table = reader.table(item, at);
    if (!table) return;
    // A family's key that is not per combination (yet): said as such, not as an unknown key.
    const familyOnly = Object.keys(table).filter((key) => FAMILY_KEYS.has(key) && !WHEN_KEYS.includes(key));
    for (const key of familyOnly) reader.report("INVALID_VALUE", [...at, key], `\`${key}\` is the family's, for all its images: a \`when\` rule cannot set it`, `rules set ${WHEN_SETTINGS.join(", ")}`);
    reader.knownKeys(Object.fromEntries(Object.entries(table).filter(([key]) => !familyOnly.includes(key))), WHEN_KEYS, at);
    // A set's name: any of its patterns.
    const matchPath = [...at, "match"];
    const patterns = typeof table.match === "string" ? setPatterns(reader, sets, table.match, matchPath, familyAxes) : [table.match];
    const match = patterns?.map((pattern) => readMatch(reader, pattern, matchPath, familyAxes, scope.axes));
    if (Object.keys(table).every((key) => key === "match")) {
      reader.report("INVALID_VALUE", at, "this `when` rule sets nothing", `give the matched images one of: ${WHEN_SETTINGS.join(", ")}`);
    }
    const template = (key: string) => (table[key] === undefined ? undefined : readTemplate(reader, table[key], [...at, key], undefined, { ...scope, hasFrom: false }));
    const runner = readRunner(reader, table.runner, [...at, "runner"]);
    const platforms = table.platforms === undefined ? undefined : readPlatforms(reader, table.platforms, [...at, "platforms"]);
    rules.push({
      keyPath: at,
      match: match?.every((pattern) => pattern !== undefined) ? match : [familyAxes.map(() => undefined)],
      dockerfile: template("dockerfile"),
      context: template("context"),
      test: template("test"),
      target: template("target"),
      platforms,
      aliases: table.aliases === undefined ? [] : readTemplateList(reader, table.aliases, [...at, "aliases"], scope),
      sharedTags: readSharedTags(reader, table.shared_tags, [...at, "shared_tags"], scope),
      runner,
      runnerTemplates: readSettingTemplates(reader, table.runner, runner, [...at, "runner"], scope),
      platformTemplates: readSettingTemplates(reader, table.platforms, platforms, [...at, "platforms"], scope),
      timeout: readTimeout(reader, table.timeout, [...at, "timeout"]),
      published: readPublished(reader, table.published, [...at, "published"]),
      rebuild: readRebuild(reader, table.rebuild, [...at, "rebuild"]),
      freeDisk: readPublished(reader, table.free_disk, [...at, "free_disk"]),
      labels: readLabels(reader, table.labels, [...at, "labels"], scope),
      // Only the args it names: none, where the family's own `args` left out means every attribute.
      args: table.args === undefined ? [] : readArgs(reader, table.args, [...at, "args"], familyAxes, scope).sources,
    });
  });
  return rules;
}

/** `match`: for each axis of the family, the value indices it names (undefined: any). */
function readMatch(reader: MatrixReader, value: unknown, path: KeyPath, familyAxes: readonly string[], axes: ReadonlyMap<string, Axis>): (ReadonlySet<number> | undefined)[] | undefined {
  if (value === undefined) {
    reader.report("MISSING_KEY", path.slice(0, -1), "this `when` rule has no `match`", `say which images it is for, e.g. match = { ${familyAxes[0] ?? "axis"} = "..." }`);
    return undefined;
  }
  if (!isTable(value)) {
    reader.wrongType(value, path, "a table of axis = value (or a list of values)", `match = { ${familyAxes[0] ?? "axis"} = "..." }`);
    return undefined;
  }
  const names = reader.keysAsWritten(value, path);
  if (names.length === 0) reader.report("INVALID_VALUE", path, "the match names no axis, so it is every image", "set what every image gets in the family's own table");
  const match: (ReadonlySet<number> | undefined)[] = familyAxes.map(() => undefined);
  for (const name of names) {
    const at = [...path, name];
    const position = familyAxes.indexOf(name);
    if (position < 0) {
      reader.report("UNKNOWN_REFERENCE", at, `"${name}" is not an axis of this family`, axes.has(name) ? `add "${name}" to this family's \`matrix\`` : didYouMean(name, familyAxes));
      continue;
    }
    const raw = value[name];
    const wanted = typeof raw === "string" ? [raw] : Array.isArray(raw) && raw.every((v) => typeof v === "string") ? (raw as string[]) : undefined;
    if (wanted === undefined || wanted.length === 0) {
      reader.wrongType(raw, at, "a value of the axis, or a non-empty list of values");
      continue;
    }
    const axis = axes.get(name)!;
    const values = axis.values;
    const indices = new Set<number>();
    wanted.forEach((text, index) => {
      const where = typeof raw === "string" ? at : [...at, index];
      // A range (">=cu125"): the values from or up to one, in the order the axis writes them.
      if (isRange(text)) {
        for (const found of rangeIndices(reader, axis, text, where) ?? []) indices.add(found);
        return;
      }
      const found = values.findIndex((v) => v.name === text);
      if (found < 0) reader.report("UNKNOWN_REFERENCE", typeof raw === "string" ? at : [...at, index], `axis "${name}" has no value "${text}"`, didYouMean(text, values.map((v) => v.name)) ?? `its values: ${values.map((v) => v.name).join(", ")}`);
      else indices.add(found);
    });
    match[position] = indices;
  }
  return match;
}
