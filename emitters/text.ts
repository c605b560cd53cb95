// What every emitter writes text with: lines at an indentation, handed on in chunks
// as they fill, so that the file for 100,000 images streams instead of being built as
// one string. (Quoting for each language is in quoting.ts.)

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
