// Every link of README.md and docs/*.md leads somewhere: a relative link to a file or
// folder of the repository, and a #anchor to a heading of that page (or of the same
// page), as GitHub makes anchors. Links to other sites are not followed.

import { expect, test } from "bun:test";
import { existsSync } from "node:fs";
import { dirname, join, normalize } from "node:path";
import { REPO_ROOT } from "../../fixtures/golden.ts";
import { anchorsOf, githubAnchor, linksOf, markdownPages, readPage } from "./markdown.ts";

/**
 * Pages another branch writes, linked from here before they land: each is taken as there
 * until it is, and then must leave this list (a test says so). None now.
 */
const WRITTEN_ON_ANOTHER_BRANCH: string[] = [];

/** Why a link leads nowhere, or undefined when it leads somewhere. */
function brokenLink(page: string, target: string): string | undefined {
  if (/^[a-z][a-z0-9+.-]*:/i.test(target)) return undefined;
  const [path = "", anchor] = target.split("#", 2);
  const file = path === "" ? page : normalize(join(dirname(page), decodeURIComponent(path)));
  if (file.startsWith("..")) return `${file} is outside the repository`;
  if (WRITTEN_ON_ANOTHER_BRANCH.includes(file) && anchor === undefined) return undefined;
  if (!existsSync(join(REPO_ROOT, file))) return `${file} does not exist`;
  if (anchor === undefined) return undefined;
  if (!file.endsWith(".md")) return `#${anchor}: ${file} is not a Markdown page`;
  return anchorsOf(readPage(file)).has(anchor) ? undefined : `${file} has no heading whose anchor is #${anchor}`;
}

test("every relative link and #anchor in README.md and docs/*.md resolves", () => {
  const broken: string[] = [];
  let checked = 0;
  for (const page of markdownPages()) {
    for (const link of linksOf(readPage(page))) {
      checked++;
      const why = brokenLink(page, link.target);
      if (why !== undefined) broken.push(`${page}:${link.line}: (${link.target}) ${why}`);
    }
  }
  expect(broken).toEqual([]);
  expect(checked).toBeGreaterThan(100);
});

test("a page written on another branch leaves the exceptions once it is here", () => {
  const landed = WRITTEN_ON_ANOTHER_BRANCH.filter((page) => existsSync(join(REPO_ROOT, page)));
  expect(landed.map((page) => `${page} exists now: remove it from WRITTEN_ON_ANOTHER_BRANCH in scripts/docs/links.test.ts`)).toEqual([]);
});

test("anchors are made as GitHub makes them", () => {
  expect(githubAnchor("`emit github`: GitHub Actions")).toBe("emit-github-github-actions");
  expect(githubAnchor("Variables: `[vars]` and `--var`")).toBe("variables-vars-and---var");
  expect(githubAnchor("The base as parts: `{from.repository}` and `{from.tag}`")).toBe("the-base-as-parts-fromrepository-and-fromtag");
  expect(githubAnchor("Internal images: `published` and `rebuild`")).toBe("internal-images-published-and-rebuild");
  expect([...anchorsOf("# A\n\n```sh\n# not a heading\n```\n\n## A\n")]).toEqual(["a", "a-1"]);
});

test("links are read outside code: a fenced block or a code span holds none", () => {
  const text = "[a](one.md) `[b](two.md)`\n\n```md\n[c](three.md)\n```\n[d\ne](four.md#x) `a code span\nover two lines [f](five.md)`\n";
  expect(linksOf(text)).toEqual([
    { target: "one.md", line: 1 },
    { target: "four.md#x", line: 7 },
  ]);
});
