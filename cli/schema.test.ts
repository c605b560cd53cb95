// `caliban-images schema`, read by a real JSON Schema validator (ajv) and by taplo, the
// TOML toolkit behind Even Better TOML: every matrix the reader accepts validates, a
// misspelled key fails in all three, and every key's type in core/matrix/matrix-schema.ts is
// one whose wrong type the reader refuses too (the two cannot drift apart).

import { describe, expect, test } from "bun:test";
import Ajv from "ajv";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fixtureCases, REPO_ROOT } from "../fixtures/golden.ts";
import { problemsOf, runCli } from "../fixtures/test-helpers.ts";
import { ATTEST_SECTION, CACHE_SECTION, FAMILY_SECTION, PUBLISH_SECTION, TOP_LEVEL_SECTION, type JsonSchema, type Section } from "../core/matrix/matrix-schema.ts";
import { generateMatrix } from "../scripts/bench/generate.ts";
import { scratchFolder } from "../scripts/validators/scratch.ts";

const printed = runCli(["schema"]);
const schema = JSON.parse(printed.stdout) as JsonSchema;
const validate = new Ajv({ strict: true, allErrors: true }).compile(schema);
const TAPLO = join(REPO_ROOT, "node_modules", "@taplo", "cli", "dist", "cli.js");

function ajvErrors(toml: string): string[] {
  return validate(Bun.TOML.parse(toml)) ? [] : validate.errors!.map((e) => `${e.instancePath} ${e.message}`);
}

/** taplo lint of each file against the schema file: its exit code and what it printed. */
function taplo(directory: string, files: readonly string[], schemaFile?: string): { code: number; output: string } {
  const args = ["lint", "--no-auto-config", "--colors", "never", ...(schemaFile ? ["--schema", `file://${schemaFile}`] : []), ...files];
  const result = Bun.spawnSync(["node", TAPLO, ...args], { cwd: directory });
  return { code: result.exitCode, output: result.stdout.toString() + result.stderr.toString() };
}

const MINIMAL = 'repository = "r.io/p/img"\n[axes.python]\npy312 = { V = "3.12" }\n[images.base]\ntag = "base"\n[images.a]\ntag = "a-{python}"\nmatrix = ["python"]\nfrom = "base"\n';

test("schema prints a draft-07 JSON Schema that ajv compiles in strict mode; -o writes it", () => {
  expect(printed.code).toBe(0);
  expect(schema.$schema).toBe("http://json-schema.org/draft-07/schema#");
  const cwd = scratchFolder("schema-");
  expect(runCli(["schema", "-o", "matrix.schema.json"], cwd).code).toBe(0);
  expect(readFileSync(join(cwd, "matrix.schema.json"), "utf8")).toBe(printed.stdout);
});

test("every fixture, the default matrix and generated ones validate, with ajv and with taplo", async () => {
  const directory = scratchFolder("schema-");
  writeFileSync(join(directory, "matrix.schema.json"), printed.stdout);
  const files: string[] = [];
  const texts = [
    ...fixtureCases().map((fixture) => readFileSync(join(REPO_ROOT, fixture.matrix), "utf8")),
    ...(["cross", "chain", "sparse", "explicit", "explicit-tables"] as const).map((shape) => generateMatrix(shape, 50)),
  ];
  texts.forEach((text, index) => {
    expect(ajvErrors(text)).toEqual([]);
    files.push(`m${index}.toml`);
    writeFileSync(join(directory, `m${index}.toml`), text);
  });
  const linted = taplo(directory, files, join(directory, "matrix.schema.json"));
  expect(linted.output).not.toContain("error:");
  expect(linted.code).toBe(0);
});

test("a misspelled key fails in the reader, in ajv and in taplo (read from the file's #:schema line)", async () => {
  const directory = scratchFolder("schema-");
  writeFileSync(join(directory, "matrix.schema.json"), printed.stdout);
  const misspelled = MINIMAL.replace('tag = "base"', 'tagg = "base"\ntag = "base"').replace('matrix = ["python"]', 'matrix = ["python"]\nfrom_args = "B"');
  writeFileSync(join(directory, "matrix.toml"), `#:schema ./matrix.schema.json\n${misspelled}`);
  expect((await problemsOf(misspelled)).map((d) => d.message)).toEqual(['unknown key "tagg" here', 'unknown key "from_args" here']);
  expect(ajvErrors(misspelled)).toEqual(["/images/base must NOT have additional properties", "/images/a must NOT have additional properties"]);
  const linted = taplo(directory, ["matrix.toml"]);
  expect(linted.code).not.toBe(0);
  expect(linted.output).toContain("'tagg' was unexpected");
  expect(linted.output).toContain("'from_args' was unexpected");
  writeFileSync(join(directory, "matrix.toml"), `#:schema ./matrix.schema.json\n${MINIMAL}`);
  expect(taplo(directory, ["matrix.toml"]).code).toBe(0);
});

/** A value of the wrong type for a key's schema: what an editor would underline. */
function wrongValue(spec: JsonSchema): string {
  if (spec.enum) return '"no-such-choice"';
  const type = spec.type ?? "anyOf";
  if (type === "string" || type === "anyOf") return "42";
  if (type === "boolean" || type === "integer") return '"yes"';
  if (type === "array") return "42";
  if (type === "object") return spec.additionalProperties && (spec.additionalProperties as JsonSchema).type === "object" ? "{ x = 1 }" : "42";
  throw new Error(`no wrong value for ${JSON.stringify(spec)}`);
}

/** MINIMAL with one key set: at the top level, in family a, or in a table of its own. */
function withKey(where: "top" | "family" | "publish" | "cache" | "attest", key: string, value: string): string {
  if (where === "top") {
    const rest = key === "repository" ? MINIMAL.replace(/^repository = .*\n/, "") : key === "axes" ? MINIMAL.replace(/\[axes\.python\]\npy312 = .*\n/, "") : MINIMAL;
    return `${key} = ${value}\n${rest}`;
  }
  if (where === "family") {
    const family: Record<string, string> = { tag: '"a-{python}"', matrix: '["python"]', from: '"base"', [key]: value };
    return `${MINIMAL.slice(0, MINIMAL.indexOf("[images.a]"))}[images.a]\n${Object.entries(family).map(([k, v]) => `${k} = ${v}\n`).join("")}`;
  }
  return `${MINIMAL}[${where}]\n${key} = ${value}\n`;
}

describe("each key's type in the schema is one the reader refuses the wrong type of", () => {
  const sections: [Parameters<typeof withKey>[0], Section][] = [["top", TOP_LEVEL_SECTION], ["family", FAMILY_SECTION], ["publish", PUBLISH_SECTION], ["cache", CACHE_SECTION], ["attest", ATTEST_SECTION]];
  for (const [where, section] of sections) {
    for (const [key, spec] of Object.entries(section)) {
      if (where === "top" && ["publish", "cache", "attest", "images"].includes(key)) continue; // their keys are tested as sections; images below
      test(`${where === "top" ? "" : `${where}.`}${key}`, async () => {
        const toml = withKey(where, key, wrongValue(spec.schema));
        expect(ajvErrors(toml)).not.toEqual([]);
        const at = where === "top" ? key : where === "family" ? `images.a.${key}` : `${where}.${key}`;
        // Reported at the key, or inside its value (an axis that is no table is reported at axes.NAME).
        const paths = (await problemsOf(toml)).map((d) => d.keyPath?.join(".") ?? "");
        expect(paths.filter((path) => path === at || path.startsWith(`${at}.`))).not.toEqual([]);
      });
    }
  }
  test("images", async () => {
    const toml = 'repository = "r.io/p/img"\nimages = 42\n';
    expect(ajvErrors(toml)).not.toEqual([]);
    expect((await problemsOf(toml)).map((d) => d.keyPath?.join("."))).toContain("images");
  });
});
