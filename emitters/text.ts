// What every emitter writes text with: lines at an indentation, handed on in chunks
// as they fill, so that the file for 100,000 images streams instead of being built as
// one string. (Quoting for each language is in quoting.ts.)

import { unmovedFamilies, type BasePart, type BuildArg, type BuildGraph, type ImageNode } from "../core/graph.ts";

/** Text is handed on once this many characters are waiting. */
const CHUNK = 1 << 16;

export class TextWriter {
  private text = "";
  private indentation = "";

  /** One line at the current indentation; an empty line stays empty. */
  line(text = ""): void {
    this.text += text === "" ? "\n" : `${this.indentation}${text}\n`;
  }

  /** Text as it is: whole lines, written out in the shape they take in the file. */
  write(text: string): void {
    this.text += text;
  }

  lines(lines: Iterable<string>): void {
    for (const line of lines) this.line(line);
  }

  /** The lines `body` writes, indented by `by` more than the lines around them. */
  indented(body: () => void, by = "  "): void {
    const outer = this.indentation;
    this.indentation += by;
    try {
      body();
    } finally {
      this.indentation = outer;
    }
  }

  /** Whether a chunk is waiting: a generator that writes as it goes then yields `take()`. */
  hasChunk(): boolean {
    return this.text.length >= CHUNK;
  }

  /** Everything written and not yet handed on. */
  take(): string {
    const text = this.text;
    this.text = "";
    return text;
  }
}

/**
 * A file's contents, written by `write` into a TextWriter: an iterable of chunks that
 * runs `write` anew each time it is read (emitters/contract.ts, `contents`).
 */
export function writtenText(write: (out: TextWriter) => Generator<string, void> | void): Iterable<string> {
  return {
    *[Symbol.iterator]() {
      const out = new TextWriter();
      const chunks = write(out);
      if (chunks) yield* chunks;
      const rest = out.take();
      if (rest) yield rest;
    },
  };
}

/**
 * `text` as one string in memory. Text made by concatenation is a rope (in JavaScriptCore):
 * its pieces are copied when the file is written, and each time it is written, a piece at a
 * time. Text written for thousands of images is cheaper copied together once, here: a join
 * makes one string of its parts (with a single part it could hand that part back as it is).
 */
export function flat(text: string): string {
  return ["", text].join("");
}

/**
 * `make`, remembering what it gave for each key: the images of a graph repeat a few
 * values thousands of times (a dockerfile; an axis value's args, which images share).
 */
export function remembered<Key, Text>(make: (key: Key) => Text): (key: Key) => Text {
  const made = new Map<Key, Text>();
  return (key) => {
    let text = made.get(key);
    if (text === undefined) made.set(key, (text = make(key)));
    return text;
  };
}

/**
 * An image's build args as text, each arg's text made once: `plain(arg)`, or, for an arg
 * holding its base's reference (where {from} put it) or a part of it (`part`, where
 * {from.repository} or {from.tag} did: core/base-parts.ts), `withBase(arg, base, part)`, so
 * that an emitter can write that reference the way it writes the image's own. Such an arg
 * goes with that base alone (the reference is in its value), so it too is remembered by the arg.
 */
export function argsText(plain: (arg: BuildArg) => string, withBase: (arg: BuildArg, base: ImageNode, part: BasePart | undefined) => string): (image: ImageNode, base: ImageNode | undefined) => string {
  const plainText = remembered((arg: BuildArg) => flat(plain(arg)));
  const baseText = new Map<BuildArg, string>();
  return (image, base) => {
    let text = "";
    for (let i = 0; i < image.args.length; i++) {
      const arg = image.args[i]!;
      const part = image.fromParts?.[arg.name];
      if (base === undefined || (part === undefined && !arg.value.includes(base.reference))) {
        text += plainText(arg);
        continue;
      }
      let made = baseText.get(arg);
      if (made === undefined) baseText.set(arg, (made = flat(withBase(arg, base, part))));
      text += made;
    }
    return text;
  };
}

/** A file's comment naming the families a repository variable does not move (their repositories are absolute); none when it moves every image. */
export function unmovedComment(graph: BuildGraph, variable: string): string[] {
  const families = unmovedFamilies(graph);
  return families.length === 0 ? [] : [`# ${variable} moves every image but those of ${families.join(", ")}, whose ${families.length === 1 ? "repository is" : "repositories are"} absolute.`];
}
