// Where each key of a TOML document stands, so that a semantic error ("images.gpu.from:
// family does not exist") can name a line and column. Bun's parser gives values only,
// so this small scanner walks the text once: on the error path, and to order a table
// whose keys read as numbers (keysAsWritten, core/matrix/toml.ts). It assumes the text
// already parsed; on anything unexpected it stops and keeps what it found.

import { formatKeyPath, type KeyPath } from "../errors.ts";

export interface Position {
  readonly line: number;
  readonly column: number;
}

export function locateKeys(text: string): Map<string, Position> {
  const found = new Map<string, Position>();
  try {
    new Scanner(text, found).document();
  } catch {
    // A partial map still locates every key before the point where scanning stopped.
  }
  return found;
}

/** The position of the key path, or of its nearest ancestor that has one. */
export function positionOf(map: Map<string, Position>, path: KeyPath): Position | undefined {
  for (let length = path.length; length > 0; length--) {
    const position = map.get(formatKeyPath(path.slice(0, length)));
    if (position) return position;
  }
  return undefined;
}

class Scanner {
  private pos = 0;
  private line = 1;
  private lineStart = 0;
  /** For each array-of-tables path (indices included), how many tables it has had. */
  private readonly arrayTableCounts = new Map<string, number>();
  /** Array-of-tables paths without indices → the indexed path of the current element. */
  private readonly currentArrayTable = new Map<string, (string | number)[]>();

  constructor(
    private readonly text: string,
    private readonly found: Map<string, Position>,
  ) {}

  document(): void {
    let table: (string | number)[] = [];
    for (;;) {
      this.skipBlankLinesAndComments();
      if (this.pos >= this.text.length) return;
      const here = this.here();
      if (this.text.startsWith("[[", this.pos)) {
        this.pos += 2;
        const keys = this.dottedKey();
        this.expect("]]");
        table = this.resolveHeader(keys, true);
        this.record(table.slice(0, -1), here);
        this.record(table, here);
      } else if (this.text[this.pos] === "[") {
        this.pos += 1;
        const keys = this.dottedKey();
        this.expect("]");
        table = this.resolveHeader(keys, false);
        // [image.gpu] also defines `image`: a mistake in it is placed at its first header.
        for (let length = 1; length <= table.length; length++) this.record(table.slice(0, length), here);
      } else {
        this.keyValue(table);
      }
    }
  }

  /** Maps a header's plain keys to a path with the current index of every array of tables on it. */
  private resolveHeader(keys: string[], isArrayTable: boolean): (string | number)[] {
    const path: (string | number)[] = [];
    for (let i = 0; i < keys.length; i++) {
      path.push(keys[i]!);
      const plain = keys.slice(0, i + 1).join("\u0000");
      const last = i === keys.length - 1;
      if (last && isArrayTable) {
        const counterKey = formatKeyPath(path);
        const index = this.arrayTableCounts.get(counterKey) ?? 0;
        this.arrayTableCounts.set(counterKey, index + 1);
        path.push(index);
        this.currentArrayTable.set(plain, [...path]);
      } else {
        const current = this.currentArrayTable.get(plain);
        if (current) path.splice(0, path.length, ...current);
      }
    }
    return path;
  }

  private keyValue(table: (string | number)[]): void {
    const here = this.here();
    const path = [...table, ...this.dottedKey()];
    this.record(path, here);
    this.skipSpaces();
    this.expect("=");
    this.skipSpaces();
    this.value(path);
  }

  private value(path: (string | number)[]): void {
    const c = this.text[this.pos];
    if (c === "{") {
      this.pos++;
      for (;;) {
        this.skipSpaces();
        if (this.text[this.pos] === "}") {
          this.pos++;
          return;
        }
        this.keyValue(path);
        this.skipSpaces();
        if (this.text[this.pos] === ",") this.pos++;
      }
    }
    if (c === "[") {
      this.pos++;
      for (let index = 0; ; index++) {
        this.skipBlankLinesAndComments();
        if (this.text[this.pos] === "]") {
          this.pos++;
          return;
        }
        const elementPath = [...path, index];
        this.record(elementPath, this.here());
        this.value(elementPath);
        this.skipBlankLinesAndComments();
        if (this.text[this.pos] === ",") this.pos++;
      }
    }
    if (c === '"' || c === "'") {
      this.string();
      return;
    }
    // A number, boolean or date: everything up to a delimiter.
    while (this.pos < this.text.length && !",]}#\n\r".includes(this.text[this.pos]!)) this.pos++;
  }

  private dottedKey(): string[] {
    const keys: string[] = [];
    for (;;) {
      this.skipSpaces();
      const c = this.text[this.pos];
      if (c === '"' || c === "'") keys.push(this.string());
      else {
        const start = this.pos;
        while (this.pos < this.text.length && /[A-Za-z0-9_-]/.test(this.text[this.pos]!)) this.pos++;
        if (this.pos === start) throw new Error("expected a key");
        keys.push(this.text.slice(start, this.pos));
      }
      this.skipSpaces();
      if (this.text[this.pos] !== ".") return keys;
      this.pos++;
    }
  }

  private string(): string {
    const quote = this.text[this.pos]!;
    const triple = this.text.startsWith(quote.repeat(3), this.pos);
    const delimiter = triple ? quote.repeat(3) : quote;
    this.pos += delimiter.length;
    let out = "";
    while (this.pos < this.text.length) {
      if (this.text.startsWith(delimiter, this.pos)) {
        // A multi-line string may end with up to two extra quotes before its delimiter.
        while (triple && this.text[this.pos + 3] === quote) {
          out += quote;
          this.pos++;
        }
        this.pos += delimiter.length;
        return out;
      }
      const c = this.text[this.pos]!;
      if (c === "\\" && quote === '"') {
        out += this.text.slice(this.pos, this.pos + 2);
        this.pos += 2;
        continue;
      }
      if (c === "\n") this.newline(this.pos + 1);
      out += c;
      this.pos++;
    }
    throw new Error("unterminated string");
  }

  private skipSpaces(): void {
    while (this.text[this.pos] === " " || this.text[this.pos] === "\t") this.pos++;
  }

  private skipBlankLinesAndComments(): void {
    for (;;) {
      const c = this.text[this.pos];
      if (c === " " || c === "\t" || c === "\r") this.pos++;
      else if (c === "\n") this.newline(++this.pos);
      else if (c === "#") while (this.pos < this.text.length && this.text[this.pos] !== "\n") this.pos++;
      else return;
    }
  }

  private newline(nextLineStart: number): void {
    this.line++;
    this.lineStart = nextLineStart;
  }

  private expect(token: string): void {
    this.skipSpaces();
    if (!this.text.startsWith(token, this.pos)) throw new Error(`expected ${token}`);
    this.pos += token.length;
  }

  private here(): Position {
    return { line: this.line, column: this.pos - this.lineStart + 1 };
  }

  private record(path: (string | number)[], position: Position): void {
    const key = formatKeyPath(path);
    if (!this.found.has(key)) this.found.set(key, position);
  }
}
