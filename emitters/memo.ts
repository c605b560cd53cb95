// Text an emitter makes once per distinct input: images share their dockerfile and
// context, and the BuildArg objects an axis value gives (core/graph.ts), so each is
// escaped once, not once per image. Consecutive images nearly always share them, so
// the last input is compared before the map is asked.

import { runsPerImage } from "../core/short-lived.ts";

export class Memo<Key, Text> {
  private readonly made = new Map<Key, Text>();
  private lastKey: Key | undefined;
  private lastText: Text | undefined;

  constructor(private readonly make: (key: Key) => Text) {}

  of(key: Key): Text {
    if (key === this.lastKey && this.lastText !== undefined) return this.lastText;
    let text = this.made.get(key);
    if (text === undefined) this.made.set(key, (text = this.make(key)));
    this.lastKey = key;
    this.lastText = text;
    return text;
  }

  // Called once per image (core/short-lived.ts).
  static {
    runsPerImage(Memo.prototype.of);
  }
}
