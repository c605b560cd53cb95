// `from`: a family builds FROM another family's images. It must name another family,
// the base's axes must be a subset of the family's (so one base image matches each
// image), and families must not build FROM each other in a loop.

import type { Family } from "./matrix-types.ts";
import type { MatrixReader } from "./matrix-reader.ts";

export function checkFrom(reader: MatrixReader, families: readonly Family[], declared: ReadonlySet<string>): void {
  const byName = new Map(families.map((f) => [f.name, f]));
  for (const family of families) {
    if (family.from === undefined) continue;
    const path = [...family.keyPath, "from"];
    const base = byName.get(family.from);
    if (family.from === family.name) {
      reader.report("CYCLE", path, `family "${family.name}" builds FROM itself`);
    } else if (!base) {
      // A declared family that is not here had a mistake of its own, already reported.
      if (!declared.has(family.from)) {
        const others = () => [...byName.keys()].filter((name) => name !== family.name);
        reader.report("UNKNOWN_REFERENCE", path, `no image family named "${family.from}"`, reader.hintAmong(family.from, byName.size, others) ?? "`from` names another [images.NAME] table");
      }
    } else {
      const extra = base.axes.filter((axis) => !family.axes.includes(axis));
      if (extra.length > 0) {
        reader.report(
          "INVALID_VALUE",
          path,
          `"${base.name}" spans axis ${extra.map((a) => `"${a}"`).join(", ")}, which "${family.name}" does not, so no single base image matches`,
          `add ${extra.map((a) => `"${a}"`).join(", ")} to the \`matrix\` of "${family.name}"`,
        );
      }
    }
  }
  checkCycles(reader, families, byName);
}

/** Each loop once, named by its families, reported at the `from` of the first one met. */
function checkCycles(reader: MatrixReader, families: readonly Family[], byName: ReadonlyMap<string, Family>): void {
  const done = new Set<string>();
  for (const start of families) {
    const chain: string[] = [];
    // Where each family stands in the chain: a lookup, not a search of it.
    const positions = new Map<string, number>();
    let current: Family | undefined = start;
    while (current && !done.has(current.name)) {
      const seenAt = positions.get(current.name);
      if (seenAt !== undefined) {
        const loop = [...chain.slice(seenAt), current.name];
        // A family building FROM itself (a loop of one) is reported by checkFrom.
        if (loop.length > 2) {
          reader.report("CYCLE", [...byName.get(loop[0]!)!.keyPath, "from"], `families build FROM each other in a loop: ${loop.join(" → ")}`, "one family of the loop must build from an image outside it");
        }
        break;
      }
      positions.set(current.name, chain.push(current.name) - 1);
      current = current.from === undefined ? undefined : byName.get(current.from);
    }
    for (const name of chain) done.add(name);
  }
}
