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
// one `# escape=` sets) goes on, and comment lines inside it are dropped.

import type { BuildArg } from "./graph.ts";

export interface FromLine {
  /** 1-based line of the FROM instruction. */
  readonly line: number;
  /** The image expression as written (`$BASE_IMAGE`, `nvidia/cuda:${CUDA}-devel`). */
  readonly image: string;
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

export function parseDockerfile(text: string): ParsedDockerfile {
  const globalArgs = new Map<string, string | undefined>();
  const froms: FromLine[] = [];
  for (const instruction of instructions(text)) {
    const match = /^([A-Za-z]+)(?:\s+([\s\S]*))?$/.exec(instruction.text);
    if (!match) continue;
    const keyword = match[1]!.toUpperCase();
    const rest = (match[2] ?? "").trim();
    if (keyword === "ARG" && froms.length === 0) {
      for (const [name, value] of argDeclarations(rest)) globalArgs.set(name, value === undefined ? undefined : expand(value, (n) => globalArgs.get(n)));
    } else if (keyword === "FROM") {
      const words = rest.split(/\s+/).filter((word) => !word.startsWith("--"));
      const image = words[0] ?? "";
      const stage = words.length >= 3 && words[1]!.toUpperCase() === "AS" ? words[2]!.toLowerCase() : undefined;
      froms.push({ line: instruction.line, image, stage });
    }
  }
  return { globalArgs, froms };
}

/** The images a Dockerfile builds FROM with these build args (stages and `scratch` left out), in order. */
export function resolveFroms(parsed: ParsedDockerfile, args: readonly BuildArg[]): ResolvedFrom[] {
  const value = (name: string): string | undefined => {
    if (!parsed.globalArgs.has(name)) return undefined;
    const given = args.find((arg) => arg.name === name);
    return given !== undefined ? given.value : parsed.globalArgs.get(name);
  };
  const stages = new Set<string>();
  const resolved: ResolvedFrom[] = [];
  for (const from of parsed.froms) {
    const reference = expand(from.image, value);
    const whole = /^\$(?:\{([A-Za-z_][A-Za-z0-9_]*)\}|([A-Za-z_][A-Za-z0-9_]*))$/.exec(from.image);
    const pinArg = whole && parsed.globalArgs.has(whole[1] ?? whole[2]!) ? (whole[1] ?? whole[2]!) : undefined;
    if (reference !== "" && reference.toLowerCase() !== "scratch" && !stages.has(reference.toLowerCase())) resolved.push({ line: from.line, reference, pinArg });
    if (from.stage !== undefined) stages.add(from.stage);
  }
  return resolved;
}

/** The instructions of a Dockerfile, continuation lines joined, with the line each starts on. */
function instructions(text: string): { line: number; text: string }[] {
  const lines = text.split(/\r?\n/);
  let escape = "\\";
  let index = 0;
  // Parser directives: `# name=value` lines at the very top; the first other line ends them.
  for (; index < lines.length; index++) {
    const directive = /^#\s*([A-Za-z]+)\s*=\s*(\S+)\s*$/.exec(lines[index]!);
    if (!directive) break;
    if (directive[1]!.toLowerCase() === "escape" && (directive[2] === "`" || directive[2] === "\\")) escape = directive[2]!;
  }
  const result: { line: number; text: string }[] = [];
  let current: { line: number; text: string } | undefined;
  for (; index < lines.length; index++) {
    const line = lines[index]!;
    const trimmed = line.trim();
    if (current === undefined) {
      if (trimmed === "" || trimmed.startsWith("#")) continue;
      current = { line: index + 1, text: "" };
    } else if (trimmed === "" || trimmed.startsWith("#")) {
      continue; // empty and comment lines inside a continued instruction are dropped
    }
    const continues = trimmed.endsWith(escape);
    current.text += continues ? `${trimmed.slice(0, -1)} ` : trimmed;
    if (!continues) {
      result.push({ line: current.line, text: current.text.trim() });
      current = undefined;
    }
  }
  if (current !== undefined) result.push({ line: current.line, text: current.text.trim() });
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
