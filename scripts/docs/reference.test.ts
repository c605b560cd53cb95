// The reference pages are what `npm run docs` writes from the schema and the commands'
// specs: a key, an option or a description changed without it fails here.

import { expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { REPO_ROOT } from "../../fixtures/golden.ts";
import { REFERENCE_PAGES, typeInWords } from "./reference.ts";

for (const page of REFERENCE_PAGES) {
  test(`${page.path} is what npm run docs writes`, () => {
    const committed = readFileSync(join(REPO_ROOT, page.path), "utf8");
    const written = page.text();
    if (committed !== written) throw new Error(`${page.path} is not what \`npm run docs\` writes from the code: run npm run docs, and commit what it writes`);
    expect(page.text()).toBe(written); // the same text every time
  });
}

test("every key of the schema and every command and emitter option is in the references", () => {
  const matrix = readFileSync(join(REPO_ROOT, "docs/matrix-reference.md"), "utf8");
  for (const key of ["repository", "name_only", "skip_without_base", "free_disk", "match", "transparency_log", "pull_requests", "sbom"]) expect(matrix).toContain(`| \`${key}\` |`);
  const commands = readFileSync(join(REPO_ROOT, "docs/commands-reference.md"), "utf8");
  for (const option of ["--keep-locks <n>", "--insecure-registry <host>", "--ci <names>", "lock-token-secret", "max-jobs", "platform-runners"]) expect(commands).toContain(`| \`${option}\` |`);
});

test("types are said in words, alternatives of a part in parentheses", () => {
  expect(typeInWords({ type: "array", items: { anyOf: [{ type: "string" }, { type: "object", additionalProperties: { type: "string" } }] } })).toBe("list of (strings or tables of strings)");
  expect(typeInWords({ type: "integer", minimum: 1, maximum: 1440 })).toBe("integer from 1 to 1440");
  expect(typeInWords({ enum: ["min", "max", true, false] })).toBe('`"min"`, `"max"`, `true` or `false`');
});
