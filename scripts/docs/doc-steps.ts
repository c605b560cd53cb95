// The steps of a page's shell blocks, as docs/development.md ("Docs that run") states
// the convention: a ```sh or ```bash block is a script that must exit 0; a ```console
// block is a transcript, `$ COMMAND` lines each followed by what it prints (stdout and
// stderr as one stream), compared line by line, a `...` line standing for any lines.
// The HTML comment just before a block says otherwise: `<!-- not run: REASON -->`,
// `<!-- needs: TOOL -->` (run only where TOOL is installed), and `<!-- write: PATH -->`
// or `<!-- append: PATH -->`, which put the block's text into that file of the page's
// folder instead of running it (a matrix snippet, then the command that plans it).

import { splitFences, type FencedBlock } from "./markdown.ts";

export type DocStep =
  | { readonly kind: "script"; readonly line: number; readonly script: string; readonly needs?: string }
  | { readonly kind: "transcript"; readonly line: number; readonly commands: readonly TranscriptCommand[]; readonly needs?: string }
  | { readonly kind: "file"; readonly line: number; readonly path: string; readonly text: string; readonly append: boolean }
  | { readonly kind: "not run"; readonly line: number; readonly language: string; readonly reason: string };

export interface TranscriptCommand {
  readonly command: string;
  /** The lines it prints; a line `...` matches any number of lines. */
  readonly output: readonly string[];
}

const SCRIPT_LANGUAGES = new Set(["sh", "bash", "shell"]);

/** A page's steps, in order; a block in no shell language, and unmarked, is no step. */
export function docSteps(markdown: string): DocStep[] {
  return splitFences(markdown).blocks.flatMap((block) => {
    const step = stepOf(block);
    return step === undefined ? [] : [step];
  });
}

function stepOf(block: FencedBlock): DocStep | undefined {
  const marker = parseMarker(block);
  const runs = SCRIPT_LANGUAGES.has(block.language) || block.language === "console";
  if (marker?.kind === "write" || marker?.kind === "append") {
    return { kind: "file", line: block.line, path: marker.value, text: `${block.body}\n`, append: marker.kind === "append" };
  }
  if (!runs) {
    // A transcript in a block of no language would be shown as one and never compared.
    if (block.language === "" && block.body.startsWith("$ ")) throw new Error(`line ${block.line}: a block of commands and their output: make it \`\`\`console (and mark it <!-- not run: REASON --> if it cannot run)`);
    return undefined;
  }
  if (marker?.kind === "not run") return { kind: "not run", line: block.line, language: block.language, reason: marker.value };
  const needs = marker?.kind === "needs" ? { needs: marker.value } : {};
  if (block.language === "console") return { kind: "transcript", line: block.line, commands: transcriptCommands(block), ...needs };
  return { kind: "script", line: block.line, script: block.body, ...needs };
}

type Marker = { kind: "not run" | "needs" | "write" | "append"; value: string };

function parseMarker(block: FencedBlock): Marker | undefined {
  if (block.marker === undefined) return undefined;
  const match = /^(not run|needs|write|append):\s*(\S[\s\S]*)$/.exec(block.marker);
  if (!match) throw new Error(`line ${block.line}: the comment before the block, "${block.marker}", is none of not run: REASON, needs: TOOL, write: PATH, append: PATH`);
  return { kind: match[1] as Marker["kind"], value: match[2]!.trim() };
}

/** `$ ` lines and the output after each; a command ending in `\` goes on to the next line. */
function transcriptCommands(block: FencedBlock): TranscriptCommand[] {
  const lines = block.body.split("\n");
  if (!lines[0]?.startsWith("$ ")) throw new Error(`line ${block.line}: a console block starts with a command, "$ COMMAND"`);
  const commands: { command: string; output: string[] }[] = [];
  for (let index = 0; index < lines.length; index++) {
    const line = lines[index]!;
    if (!line.startsWith("$ ")) {
      commands.at(-1)!.output.push(line);
      continue;
    }
    let command = line.slice(2);
    while (command.endsWith("\\") && index + 1 < lines.length) command = `${command}\n${lines[++index]!}`;
    commands.push({ command, output: [] });
  }
  return commands;
}

/** Whether printed lines are what a transcript shows: equal lines, or any run of lines where it says `...`. */
export function outputMatches(expected: readonly string[], printed: readonly string[]): boolean {
  const matchFrom = (e: number, p: number): boolean => {
    if (e === expected.length) return p === printed.length;
    if (expected[e] === "...") {
      for (let skip = p; skip <= printed.length; skip++) if (matchFrom(e + 1, skip)) return true;
      return false;
    }
    return p < printed.length && printed[p] === expected[e] && matchFrom(e + 1, p + 1);
  };
  return matchFrom(0, 0);
}

/** Output as compared: each line's trailing white space dropped, and trailing blank lines. */
export function comparableLines(text: string): string[] {
  const lines = text.split("\n").map((line) => line.trimEnd());
  while (lines.length > 0 && lines.at(-1) === "") lines.pop();
  return lines;
}
