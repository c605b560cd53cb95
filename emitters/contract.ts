// The emitter contract: public API. Built-in emitters and users' plugins are the
// same kind of plain object; a plugin author needs only `import type` from here and
// from core/graph.ts.

import type { BuildGraph } from "../core/graph.ts";

export type { BuildArg, BuildGraph, FamilyNode, ImageNode } from "../core/graph.ts";

export type OptionValue = string | number | boolean;

export interface OptionSpec {
  readonly type: "string" | "number" | "boolean";
  readonly description: string;
  readonly default?: OptionValue;
  /** For strings: the only values allowed. */
  readonly choices?: readonly string[];
  /** Extra check for a well-typed value: returns what is wrong, or undefined. */
  readonly check?: (value: OptionValue) => string | undefined;
}

export interface EmittedFile {
  /** Relative path; `-o` decides where it goes (a single file may be renamed by `-o FILE`). */
  readonly path: string;
  /**
   * The text, whole or as chunks that are written as they come: a large output is
   * then never held in memory as one string. Give chunks as `chunks(() => gen())`, an
   * iterable that may be read more than once (a bare generator is used up by one read).
   */
  readonly contents: string | Iterable<string>;
  /**
   * Written only beside the others in a directory (`-o DIRECTORY`); left out on stdout
   * and with `-o FILE`. Cloud Build's submit.sh is one: a pipeline that runs it works
   * whether its graph needs one config or several.
   */
  readonly companion?: boolean;
}

/** Chunks that can be read any number of times: each read runs the generator anew. */
export function chunks(generate: () => Iterator<string>): Iterable<string> {
  return { [Symbol.iterator]: generate };
}

/** An emitted file's text as one string (for tests and small outputs). */
export function emittedText(file: EmittedFile): string {
  return typeof file.contents === "string" ? file.contents : [...file.contents].join("");
}

/** A variable of the matrix's [vars]: its value for this graph, and whether it was given with `--var` (else its default). */
export interface PipelineVariable {
  readonly name: string;
  readonly value: string;
  readonly set: boolean;
}

/** Runtime helpers handed to every emitter, so that plugins need no dependencies of their own. */
export interface EmitContext {
  /** The matrix file the graph came from, as the user named it (or "<embedded>"). */
  readonly matrixFile: string;
  /**
   * The matrix file's path from the root of the repository it is in ("ci/matrix.toml"),
   * '/'-separated: what a CI job, which runs at the root, names it by, and what path
   * filters name its Dockerfiles and contexts from. Outside a repository, its name (its
   * folder is taken as the root); undefined for the embedded matrix, or when not known.
   */
  readonly matrixPath?: string;
  /**
   * The graph's shape (core/changes/graph-shape.ts): the graph less its digests and repository. A
   * pipeline that reads the digests from its checkout when it runs (`caliban-images resolve
   * --shape`) stops when the matrix no longer gives this shape. For a part of the graph
   * (`emit --since`), the whole graph's.
   */
  readonly shape: string;
  /**
   * The files the matrix's `[outputs]` lists, each from the repository's root as
   * `matrixPath` is (a directory ends in '/'); empty when it lists none. A workflow
   * watches them too: a commit that edits only a generated file is checked.
   */
  readonly outputs: readonly string[];
  /**
   * The matrix's [vars], in the order declared, with the values the graph was planned
   * with; `set`: given with `--var`. A pipeline that runs caliban-images (resolve, check,
   * lock) passes each value given with --var on to it (`--var NAME=VALUE`), so that it
   * plans the graph this file was emitted for (emitters/pipeline-variables.ts). Empty
   * for a matrix without [vars].
   */
  readonly variables: readonly PipelineVariable[];
  /** Says something the user should know about the output (the CLI prints it on stderr as a warning); the emitter goes on. */
  warn(message: string): void;
  /** Two-space-indented JSON with a final newline. */
  json(value: unknown): string;
  /** YAML 1.2 via the `yaml` package, loaded on first use; strings are quoted where YAML would read them otherwise. */
  yaml(value: unknown): string;
}

export interface Emitter<Options extends Record<string, OptionValue> = Record<string, OptionValue>> {
  readonly name: string;
  readonly description: string;
  readonly options: { readonly [K in keyof Options]-?: OptionSpec };
  /** Pure: reads the graph and options, returns files; writes nothing itself. */
  emit(graph: BuildGraph, options: Options, context: EmitContext): readonly EmittedFile[];
}
