// make's `help` target: what `make help` prints, the Makefile's targets and each image's
// id and reference, its text written by make.ts.

import { movedRepository, type BuildGraph, type FamilyNode } from "../core/graph.ts";
import { recipeWord } from "./quoting.ts";
import type { TextWriter } from "./text.ts";

/**
 * `make help`: the named targets, then each image's id and reference, each line one
 * word of a printf. One printf per HELP_LINES lines: a recipe line per help line would
 * start a shell each, which took `make help` 22 s at 10,000 images.
 */
export function* writeHelp(out: TextWriter, graph: BuildGraph, families: readonly FamilyNode[]): Generator<string> {
  const targets: [string, string][] = [
    ["all", "build every image"],
    ["push", "build and push every image"],
    ...(graph.images.some((image) => image.test !== null) ? ([["test", "build every tested image and run its test, pushing nothing"]] as [string, string][]) : []),
    ...families.flatMap((f): [string, string][] => [
      [`build/family/${f.name}`, `build the ${f.images.length} image${f.images.length === 1 ? "" : "s"} of ${f.name}`],
      [`push/family/${f.name}`, `build and push them`],
    ]),
  ];
  const targetWidth = Math.max(...targets.map(([target]) => target.length));
  const idWidth = graph.images.reduce((width, image) => Math.max(width, image.id.length), 0);
  const words = [
    "'Targets:'",
    ...targets.map(([target, text]) => recipeWord(`  ${target.padEnd(targetWidth)}  ${text}`)),
    "'Images (build/ID builds one, after its base; push/ID builds and pushes it; build/TAG and push/TAG name them too):'",
    // Ids need no quoting (core/graph.ts); the quoted id runs on into the reference's quotes (make.ts, reference, less its first quote).
    ...graph.images.map((image) => `'  ${image.id.padEnd(idWidth)}  ${movedRepository(image, "$(REPOSITORY)")}':'${image.tag}'`),
  ];
  out.line("help:");
  for (let start = 0; start < words.length; start += HELP_LINES) {
    const end = Math.min(start + HELP_LINES, words.length);
    // Each word on a line of its own: make passes backslash-newline to the shell, less the next line's tab.
    out.line("\t@printf '%s\\n' \\");
    for (let i = start; i < end; i++) out.line(`\t  ${words[i]}${i < end - 1 ? " \\" : ""}`);
    if (out.hasChunk()) yield out.take();
  }
}

/** Help lines per printf: one shell for each, and far below the kernel's limit on one command. */
const HELP_LINES = 64;
