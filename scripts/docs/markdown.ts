// What the docs tests read of the project's Markdown: its pages, their headings as
// GitHub anchors them, their links, and their fenced blocks with the HTML comment that
// marks one (`<!-- not run: ... -->`, `<!-- write: PATH -->`). A small reader of the
// subset these pages use, not a Markdown parser: fences, ATX headings, inline links.

import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { REPO_ROOT } from "../../fixtures/golden.ts";

/** README.md and every docs/*.md, as paths from the repository's root, in a fixed order. */
export function markdownPages(): string[] {
  const docs = readdirSync(join(REPO_ROOT, "docs"))
    .filter((name) => name.endsWith(".md"))
    .sort()
    .map((name) => `docs/${name}`);
  return ["README.md", ...docs];
}

export function readPage(page: string): string {
  return readFileSync(join(REPO_ROOT, page), "utf8");
}

export interface FencedBlock {
  /** The info string's first word: sh, console, toml, ... ("" for none). */
  readonly language: string;
  readonly body: string;
  /** 1-based line of the opening fence. */
  readonly line: number;
  /** The HTML comment on the line just before the fence (blank lines between allowed), if any. */
  readonly marker?: string;
}

/**
 * The fenced blocks of a page, and its text with every block's lines blanked (so that
 * headings and links are read outside code only, and line numbers stay). A block may
 * be indented, as inside a list item: its body loses that indentation.
 */
export function splitFences(text: string): { blocks: FencedBlock[]; prose: string[] } {
  const lines = text.split("\n");
  const blocks: FencedBlock[] = [];
  const prose: string[] = [];
  let open: { fence: string; indent: number; language: string; start: number; body: string[]; marker?: string } | undefined;
  lines.forEach((line, index) => {
    const fence = /^( *)(`{3,}|~{3,})\s*([^\s`]*)/.exec(line);
    if (open === undefined) {
      if (fence) {
        open = { fence: fence[2]!, indent: fence[1]!.length, language: fence[3]!, start: index + 1, body: [], marker: markerBefore(lines, index) };
        prose.push("");
      } else {
        prose.push(line);
      }
      return;
    }
    prose.push("");
    if (fence && fence[2]!.startsWith(open.fence) && line.trim() === fence[2]) {
      blocks.push({ language: open.language, body: open.body.join("\n"), line: open.start, ...(open.marker === undefined ? {} : { marker: open.marker }) });
      open = undefined;
      return;
    }
    open.body.push(line.startsWith(" ".repeat(open.indent)) ? line.slice(open.indent) : line.trimStart());
  });
  if (open !== undefined) throw new Error(`a fence opened at line ${open.start} is never closed`);
  return { blocks, prose };
}

function markerBefore(lines: readonly string[], fenceIndex: number): string | undefined {
  for (let index = fenceIndex - 1; index >= 0; index--) {
    const line = lines[index]!.trim();
    if (line === "") continue;
    return /^<!--\s*([\s\S]*?)\s*-->$/.exec(line)?.[1];
  }
  return undefined;
}

/** A heading's anchor as GitHub makes it: lowercase, punctuation but '-' and '_' dropped, spaces as '-'. */
export function githubAnchor(heading: string): string {
  return heading
    .replace(/\[([^\]]*)\]\([^)]*\)/g, "$1")
    .replace(/`/g, "")
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\- _]/gu, "")
    .replace(/ /g, "-");
}

/** Every anchor of a page's headings; a repeated heading gets -1, -2, ... as on GitHub. */
export function anchorsOf(text: string): Set<string> {
  const anchors = new Set<string>();
  const seen = new Map<string, number>();
  for (const line of splitFences(text).prose) {
    const heading = /^#{1,6} +(.*?)\s*#*\s*$/.exec(line);
    if (!heading) continue;
    const anchor = githubAnchor(heading[1]!);
    const count = seen.get(anchor) ?? 0;
    seen.set(anchor, count + 1);
    anchors.add(count === 0 ? anchor : `${anchor}-${count}`);
  }
  return anchors;
}

export interface MarkdownLink {
  readonly target: string;
  readonly line: number;
}

/** The targets of a page's inline links `[text](target)`, outside code blocks and code spans. */
export function linksOf(text: string): MarkdownLink[] {
  // A code span may run over lines, never past a paragraph: blank each one within its
  // paragraph, keeping its newlines so that line numbers stay.
  const paragraphs = splitFences(text).prose.join("\n").split(/(\n[ \t]*\n)/);
  const prose = paragraphs.map((paragraph) => paragraph.replace(/(`+)[\s\S]*?\1/g, (span) => span.replace(/[^\n]/g, " "))).join("");
  const links: MarkdownLink[] = [];
  prose.split("\n").forEach((line, index) => {
    for (const match of line.matchAll(/\]\(([^)\s]+)\)/g)) links.push({ target: match[1]!, line: index + 1 });
  });
  return links;
}
