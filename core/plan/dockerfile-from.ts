// What a Dockerfile builds FROM, as docker reads it: the images its FROM lines name
// once the build args are put in. `lock` resolves those that no image of the graph
// is (the external bases: nvidia/cuda:..., ubuntu:22.04) to digests, and a locked
// digest becomes part of `inputs`.
//
// Docker's rules, followed here: a FROM line may use only the args declared by an
// ARG before the first FROM (a build arg changes one only when it is declared there);
// `$NAME`, `${NAME}`, `${NAME:-word}`, `${NAME-word}`, `${NAME:+word}` and `${NAME+word}`
// are expanded; a FROM naming an earlier stage (`AS name`, case-insensitive) or
// `scratch` builds from no image; a line ending in the escape character (`\`, or the
// one `# escape=` sets) goes on, and comment lines inside it are dropped. Words are split
// where BuildKit splits them (spaces, tabs, \v, \f, \r): any other character stays in
// the reference, which must then be one in Docker's grammar (core/names.ts) before it is
// used, so no control character reaches a lock, a bake file or a terminal.

import { CalibanError, type Diagnostic } from "../errors.ts";
import type { BuildArg } from "../graph.ts";
import { dockerReferenceProblem } from "../names.ts";
import { commentText } from "../printable.ts";

export interface FromLine {
  /** 1-based line of the FROM instruction. */
  readonly line: number;
  /** The image expression as written (`$BASE_IMAGE`, `nvidia/cuda:${CUDA}-devel`). */
  readonly image: string;
  /** Where the image expression starts (1-based), which may be a continuation line. */
  readonly imageAt: { readonly line: number; readonly column: number };
  /** The stage name it gives (`AS name`), lowercased, or undefined. */
  readonly stage: string | undefined;
}

export interface ParsedDockerfile {
  /** The ARGs before the first FROM, in order: name → default (undefined for none). */
  readonly globalArgs: ReadonlyMap<string, string | undefined>;
  readonly froms: readonly FromLine[];
}

/** A FROM that builds from an image, with the build args put in. */
export interface ResolvedFrom {
  readonly line: number;
  /** The image reference the build pulls. */
  readonly reference: string;
  /**
   * The global arg that is the whole image expression (`FROM $BASE_IMAGE`): setting
   * that build arg to `REF@sha256:...` pins the build to a digest. Undefined when the
   * reference is written in the Dockerfile, or made of several parts.
   */
  readonly pinArg: string | undefined;
}

/** An instruction's keyword and the rest; words are split at Docker's parser's separators (tokenWhitespace, `[\t\v\f\r ]+`). */
const INSTRUCTION = /^([A-Za-z]+)(?:[\t\v\f\r ]+([\s\S]*))?$/;
const WORD = /[^\t\v\f\r ]+/g;

export function parseDockerfile(text: string): ParsedDockerfile {
  const globalArgs = new Map<string, string | undefined>();
  const froms: FromLine[] = [];
  for (const instruction of instructions(text)) {
    const match = INSTRUCTION.exec(instruction.text);
    if (!match) continue;
    const keyword = match[1]!.toUpperCase();
    if (keyword === "ARG" && froms.length === 0) {
      for (const [name, value] of argDeclarations((match[2] ?? "").trim())) globalArgs.set(name, value === undefined ? undefined : expand(value, (n) => globalArgs.get(n)));
    } else if (keyword === "FROM") {
      const words = [...instruction.text.slice(match[1]!.length).matchAll(WORD)].filter((word) => !word[0].startsWith("--"));
      const image = words[0]?.[0] ?? "";
      const stage = words.length >= 3 && words[1]![0].toUpperCase() === "AS" ? words[2]![0].toLowerCase() : undefined;
      const imageAt = instruction.at(words[0] === undefined ? 0 : match[1]!.length + words[0].index!);
      froms.push({ line: instruction.line, image, imageAt, stage });
    }
  }
  return { globalArgs, froms };
}

/**
 * The images a Dockerfile builds FROM with these build args (stages and `scratch` left
 * out), in order. A reference that is not one in Docker's grammar once the args are in
 * is refused at its place in `file`, the Dockerfile's path as messages name it.
 */
export function resolveFroms(parsed: ParsedDockerfile, args: readonly BuildArg[], file: string): ResolvedFrom[] {
  const value = argValues(parsed, args);
  const stages = new Set<string>();
  const resolved: ResolvedFrom[] = [];
  const problems: Diagnostic[] = [];
  for (const from of parsed.froms) {
    const reference = expand(from.image, value);
    const whole = /^\$(?:\{([A-Za-z_][A-Za-z0-9_]*)\}|([A-Za-z_][A-Za-z0-9_]*))$/.exec(from.image);
    const pinArg = whole && parsed.globalArgs.has(whole[1] ?? whole[2]!) ? (whole[1] ?? whole[2]!) : undefined;
    if (reference !== "" && reference.toLowerCase() !== "scratch" && !stages.has(reference.toLowerCase())) {
      const problem = dockerReferenceProblem(reference);
      if (problem) problems.push(referenceProblem(file, from, reference, problem));
      else resolved.push({ line: from.line, reference, pinArg });
    }
    if (from.stage !== undefined) stages.add(from.stage);
  }
  if (problems.length > 0) throw new CalibanError(problems);
  return resolved;
}

/** A FROM line's image with these build args put in ("" where it names none that is set), stage names and `scratch` left as they are. */
export function fromImage(parsed: ParsedDockerfile, from: FromLine, args: readonly BuildArg[]): string {
  return expand(from.image, argValues(parsed, args));
}

/** What a FROM line sees of an arg: a build arg given, else its default, and only when declared before the first FROM. */
function argValues(parsed: ParsedDockerfile, args: readonly BuildArg[]): (name: string) => string | undefined {
  return (name) => {
    if (!parsed.globalArgs.has(name)) return undefined;
    const given = args.find((arg) => arg.name === name);
    return given !== undefined ? given.value : parsed.globalArgs.get(name);
  };
}

/** `docker.io/library/ubuntu:22.04` and `ubuntu:22.04` are one image. */
export function sameImage(a: string, b: string): boolean {
  const short = (reference: string) => reference.replace(/^(?:index\.)?docker\.io\//, "").replace(/^library\//, "");
  return short(a) === short(b);
}

/** Whether a FROM's image expression names the arg (`$NAME`, `${NAME}`, `${NAME:-word}`, ...). */
export function namesArg(from: FromLine, arg: string): boolean {
  return new RegExp(`\\$(?:\\{${arg}(?=[}:+-])|${arg}(?![A-Za-z0-9_]))`).test(from.image);
}

/** A reference in a message: JSON-quoted, in printable ASCII, since it may hold what would move a terminal's cursor or forge a log line. */
export function quotedReference(text: string): string {
  return /^[\x20-\x7e]*$/.test(text) ? JSON.stringify(text) : commentText(text);
}

function referenceProblem(file: string, from: FromLine, reference: string, problem: string): Diagnostic {
  const expression = reference === from.image ? "" : ` (${quotedReference(from.image)} with the build args put in)`;
  return {
    code: "INVALID_VALUE",
    file,
    ...from.imageAt,
    message: `FROM ${quotedReference(reference)}${expression} ${problem}`,
    hint: "a FROM names an image as docker pulls it, e.g. nvidia/cuda:12.4.1-devel-ubuntu22.04 or registry.example.com:5000/team/base@sha256:<64 hex>; check the line, and the build args the matrix gives it",
  };
}

interface Instruction {
  /** The line it starts on. */
  readonly line: number;
  readonly text: string;
  /** Where a character of `text` is in the Dockerfile (1-based line and column). */
  at(offset: number): { line: number; column: number };
}

/** The instructions of a Dockerfile, continuation lines joined, with the line each starts on. */
function instructions(text: string): Instruction[] {
  const lines = text.split(/\r?\n/);
  let escape = "\\";
  let index = 0;
  // Parser directives: `# name=value` lines at the very top; the first other line ends them.
  for (; index < lines.length; index++) {
    const directive = /^#\s*([A-Za-z]+)\s*=\s*(\S+)\s*$/.exec(lines[index]!);
    if (!directive) break;
    if (directive[1]!.toLowerCase() === "escape" && (directive[2] === "`" || directive[2] === "\\")) escape = directive[2]!;
  }
  const result: Instruction[] = [];
  // Each physical line's part of the instruction: where it starts in the joined text, and in the file.
  let current: { line: number; text: string; parts: { offset: number; line: number; column: number }[] } | undefined;
  const finish = ({ line, text, parts }: NonNullable<typeof current>) => {
    const at = (offset: number) => {
      const part = parts.findLast((p) => p.offset <= offset) ?? parts[0]!;
      return { line: part.line, column: part.column + offset - part.offset };
    };
    result.push({ line, text: text.trim(), at });
  };
  for (; index < lines.length; index++) {
    const line = lines[index]!;
    const trimmed = line.trim();
    if (current === undefined) {
      if (trimmed === "" || trimmed.startsWith("#")) continue;
      current = { line: index + 1, text: "", parts: [] };
    } else if (trimmed === "" || trimmed.startsWith("#")) {
      continue; // empty and comment lines inside a continued instruction are dropped
    }
    current.parts.push({ offset: current.text.length, line: index + 1, column: line.length - line.trimStart().length + 1 });
    const continues = trimmed.endsWith(escape);
    current.text += continues ? `${trimmed.slice(0, -1)} ` : trimmed;
    if (!continues) {
      finish(current);
      current = undefined;
    }
  }
  if (current !== undefined) finish(current);
  return result;
}

/** `ARG A=1 B="two words" C`: each name with its default (quotes removed), or undefined. */
function argDeclarations(rest: string): [string, string | undefined][] {
  const declarations: [string, string | undefined][] = [];
  const pattern = /([A-Za-z_][A-Za-z0-9_]*)(?:=("(?:[^"\\]|\\.)*"|'[^']*'|\S*))?/gy;
  let position = 0;
  while (position < rest.length) {
    const space = /\s*/y;
    space.lastIndex = position;
    space.exec(rest);
    position = space.lastIndex;
    if (position >= rest.length) break;
    pattern.lastIndex = position;
    const match = pattern.exec(rest);
    if (!match) break;
    const raw = match[2];
    const value = raw === undefined ? undefined : raw.startsWith('"') ? raw.slice(1, -1).replace(/\\(.)/g, "$1") : raw.startsWith("'") ? raw.slice(1, -1) : raw;
    declarations.push([match[1]!, value]);
    position = pattern.lastIndex;
  }
  return declarations;
}

/** `$NAME` and `${NAME}` forms, as docker's shell-word expansion gives them; an unset name is "". */
function expand(text: string, value: (name: string) => string | undefined): string {
  return text.replace(/\$(?:\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-+])([^}]*))?\}|([A-Za-z_][A-Za-z0-9_]*))/g, (_, braced: string | undefined, operator: string | undefined, word: string | undefined, bare: string | undefined) => {
    const current = value((braced ?? bare)!);
    if (operator === undefined) return current ?? "";
    const set = operator.startsWith(":") ? current !== undefined && current !== "" : current !== undefined;
    const useWord = operator.endsWith("-") ? !set : set;
    return useWord ? expand(word ?? "", value) : operator.endsWith("-") ? current! : "";
  });
}
