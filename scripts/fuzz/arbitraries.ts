// Generators for property-based tests: random valid matrices whose build-arg values
// are hostile text (every character a shell, make, HCL, YAML, GitHub or Cloud Build
// gives meaning to, plus arbitrary unicode), and random mutations of real matrix files.

import fc from "fast-check";
import { tomlString } from "../../import/matrix-write.ts";

/** Characters with a meaning somewhere in our outputs, and plain ones between them. */
const HOSTILE = ["$", "{", "}", "%", "'", '"', "`", "\\", "#", ";", "(", ")", " ", ",", "=", "-", ":", "*", "&", "|", "<", ">", "!", "~", "[", "]", "@", "a", "Z", "0", "é", "✓", "${", "%{", "${{", "$$", "$(", "\\\\"];

/** Printable text: hostile pieces and any grapheme but control characters (which are refused, not carried). */
export const hostileText = fc
  .array(fc.oneof(fc.constantFrom(...HOSTILE), fc.string({ unit: "grapheme", minLength: 1, maxLength: 1 })), { maxLength: 12 })
  .map((parts) => parts.join(""))
  .filter((text) => !/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/.test(text));

export interface FamilyModel {
  readonly axes: readonly number[];
  readonly from: number | undefined;
  /** undefined: the default (every attribute of every axis); else the items. */
  readonly args: readonly ({ axis: number } | { template: string })[] | undefined;
}

export interface MatrixModel {
  readonly axes: readonly (readonly { readonly name: string; readonly attributes: readonly (readonly [string, string])[] }[])[];
  readonly families: readonly FamilyModel[];
}

const ARG_NAMES = ["X", "Y", "BASE_IMAGE", "PYTHON_VERSION", "_u"];

const axisValues = fc.uniqueArray(fc.constantFrom("v0", "v1", "v2.1", "py3.10", "c_11", "x-y"), { minLength: 1, maxLength: 3 }).chain((names) =>
  fc.tuple(...names.map((name) => fc.uniqueArray(fc.tuple(fc.constantFrom(...ARG_NAMES), hostileText), { maxLength: 3, selector: ([k]) => k }).map((attributes) => ({ name, attributes })))),
);

export const matrixModel: fc.Arbitrary<MatrixModel> = fc
  .array(axisValues, { minLength: 1, maxLength: 3 })
  .chain((axes) =>
    fc
      .array(
        fc.record({
          axes: fc.uniqueArray(fc.nat(axes.length - 1), { maxLength: axes.length }),
          from: fc.option(fc.nat(4), { nil: undefined }),
          args: fc.option(fc.array(fc.oneof(fc.record({ axis: fc.nat(axes.length - 1) }), fc.record({ template: hostileText })), { maxLength: 3 }), { nil: undefined }),
        }),
        { minLength: 1, maxLength: 3 },
      )
      .map((raw) => {
        // A family builds FROM an earlier one and spans all of its axes (the format requires it).
        const families: FamilyModel[] = [];
        raw.forEach((family, index) => {
          const from = index > 0 && family.from !== undefined ? family.from % index : undefined;
          const span = new Set([...family.axes, ...(from === undefined ? [] : families[from]!.axes)]);
          const axesOfFamily = [...span].sort();
          const args = family.args?.filter((item) => !("axis" in item) || span.has(item.axis));
          families.push({ axes: axesOfFamily, from, args });
        });
        return { axes, families };
      }),
  );

/** The model as a matrix.toml, as a person would write it. */
export function matrixToml(model: MatrixModel): string {
  const lines = ['repository = "registry.example.com:5000/fuzz/images"'];
  model.axes.forEach((values, axis) => {
    lines.push("", `[axes.a${axis}]`);
    for (const value of values) {
      const attributes = value.attributes.map(([name, text]) => `${name} = ${tomlString(text)}`).join(", ");
      lines.push(`${tomlString(value.name)} = { ${attributes} }`);
    }
  });
  model.families.forEach((family, index) => {
    lines.push("", `[images.f${index}]`);
    lines.push(`tag = ${tomlString([`f${index}`, ...family.axes.map((a) => `{a${a}}`)].join("-"))}`);
    lines.push(`matrix = [${family.axes.map((a) => `"a${a}"`).join(", ")}]`);
    if (family.from !== undefined) lines.push(`from = "f${family.from}"`);
    if (family.args) {
      const items = family.args.map((item) =>
        "axis" in item ? `"a${item.axis}"` : `{ LITERAL = ${tomlString(item.template.replaceAll("{", "{{").replaceAll("}", "}}"))} }`,
      );
      lines.push(`args = [${items.join(", ")}]`);
    }
  });
  return `${lines.join("\n")}\n`;
}

/** Random edits of a real matrix file: deletions, insertions of TOML-significant text, duplicated and swapped lines. */
export function mutatedToml(sources: readonly string[]): fc.Arbitrary<string> {
  const edit = fc.oneof(
    fc.record({ kind: fc.constant("delete" as const), at: fc.nat(), length: fc.integer({ min: 1, max: 8 }) }),
    fc.record({ kind: fc.constant("insert" as const), at: fc.nat(), text: fc.oneof(fc.constantFrom("[", "]", "{", "}", "=", '"', "'", "\n", ",", ".", "#", "[[", '"""', "{x}", "-1", "1.5", "true", "[images.x]", "from = \"x\"", "\\u0000"), hostileText) }),
    fc.record({ kind: fc.constant("duplicate-line" as const), at: fc.nat() }),
    fc.record({ kind: fc.constant("swap-lines" as const), at: fc.nat(), other: fc.nat() }),
  );
  return fc.tuple(fc.constantFrom(...sources), fc.array(edit, { minLength: 1, maxLength: 4 })).map(([source, edits]) => {
    let text = source;
    for (const e of edits) {
      const lines = text.split("\n");
      if (e.kind === "delete") {
        const at = e.at % (text.length + 1);
        text = text.slice(0, at) + text.slice(at + e.length);
      } else if (e.kind === "insert") {
        const at = e.at % (text.length + 1);
        text = text.slice(0, at) + e.text + text.slice(at);
      } else if (e.kind === "duplicate-line") {
        const at = e.at % lines.length;
        lines.splice(at, 0, lines[at]!);
        text = lines.join("\n");
      } else {
        const a = e.at % lines.length;
        const b = e.other % lines.length;
        [lines[a], lines[b]] = [lines[b]!, lines[a]!];
        text = lines.join("\n");
      }
    }
    return text;
  });
}
