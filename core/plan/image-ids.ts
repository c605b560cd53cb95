// Image ids: unique, stable, valid bake target and make target names (core/graph.ts).

const ID_UNSAFE = /[^A-Za-z0-9_-]/;
const ID_UNSAFE_ALL = /[^A-Za-z0-9_-]/g;

export class ImageIds {
  /** Ids share a namespace with family names (bake targets and groups) and bake's "default" group. */
  private readonly used: Set<string>;
  /** Stem → the suffix its next clash tries first: ids are never freed, so every smaller suffix is taken. */
  private readonly nextSuffix = new Map<string, number>();

  constructor(familyNames: readonly string[]) {
    this.used = new Set(["default", ...familyNames]);
  }

  /** The tag with other characters than [A-Za-z0-9_-] turned into '-': a valid bake target and make target name. */
  unique(tag: string): string {
    const stem = ID_UNSAFE.test(tag) ? tag.replace(ID_UNSAFE_ALL, "-") : tag;
    if (!this.used.has(stem)) {
      this.used.add(stem);
      return stem;
    }
    // Resumed where the stem's last clash ended, not from 2: thousands of tags with one stem stay linear.
    let n = this.nextSuffix.get(stem) ?? 2;
    while (this.used.has(`${stem}-${n}`)) n++;
    const id = `${stem}-${n}`;
    this.nextSuffix.set(stem, n + 1);
    this.used.add(id);
    return id;
  }
}
