// Generators for property-based tests: random valid matrices in which every field a
// user controls (names, paths, arg values, emitter options, the file's own name) holds
// hostile text (every character a shell, make, HCL, YAML, GitHub or Cloud Build gives
// meaning to, plus arbitrary unicode), and random mutations of real matrix files.

import fc from "fast-check";
import { tomlString } from "../../core/matrix/toml.ts";

/** Characters with a meaning somewhere in our outputs, and plain ones between them. */
const HOSTILE = ["$", "{", "}", "%", "'", '"', "`", "\\", "#", ";", "(", ")", " ", ",", "=", "-", ":", "*", "&", "|", "<", ">", "!", "~", "[", "]", "@", "a", "Z", "0", "é", "✓", "${", "%{", "${{", "$$", "$(", "\\\\"];

/** Printable text: hostile pieces and any grapheme but control characters (which are refused, not carried). */
export const hostileText = fc
  .array(fc.oneof(fc.constantFrom(...HOSTILE), fc.string({ unit: "grapheme", minLength: 1, maxLength: 1 })), { maxLength: 12 })
  .map((parts) => parts.join(""))
  .filter((text) => !/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/.test(text));

export interface FamilyModel {
  readonly name: string;
  readonly axes: readonly number[];
  readonly from: number | undefined;
  /** undefined: the default (every attribute of every axis); else the items. */
  readonly args: readonly ({ axis: number } | { template: string })[] | undefined;
  /** Literal text (written with the template's braces doubled); "." and "Dockerfile" are common. */
  readonly dockerfile: string;
  readonly context: string;
  /** Labels of hostile text (issue 20), the commit's among them when `revision`. */
  readonly labels: readonly (readonly [string, string])[];
  readonly revision: boolean;
  /** An alias `al-...` (as unique as the tag) and a target stage. */
  readonly alias: boolean;
  readonly target: boolean;
}

export interface MatrixModel {
  /** The matrix file's name, as the user gave it: anything, a newline included. */
  readonly file: string;
  readonly axes: readonly { readonly name: string; readonly values: readonly { readonly name: string; readonly attributes: readonly (readonly [string, string])[] }[] }[];
  readonly families: readonly FamilyModel[];
  /** [emit.NAME] settings with text the user controls. */
  readonly emit: {
    readonly github: { readonly name: string; readonly "runs-on": string; readonly username: string };
    readonly bake: { readonly variable: string };
    readonly cloudbuild: { readonly output: string };
    readonly make: { readonly output: string };
  };
}

const ARG_NAMES = ["X", "Y", "BASE_IMAGE", "PYTHON_VERSION", "_u"];

/** Names as the format allows them: axis and family names, axis value names. */
const axisName = fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9_-]{0,6}$/);
const familyName = fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9_-]{0,6}$/).filter((name) => name !== "default");
const valueName = fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,6}$/);
/** A relative path of plain characters, as `output` options take them. */
const outputPath = fc.stringMatching(/^[A-Za-z0-9_][A-Za-z0-9._-]{0,6}(\/[A-Za-z0-9_][A-Za-z0-9._-]{0,6}){0,2}$/).filter((path) => path !== "submit.sh");
/** Text GitHub would not evaluate: hostile, less `${{`. */
const notAnExpression = hostileText.filter((text) => !text.includes("${{"));

const axisValues = fc.uniqueArray(valueName, { minLength: 1, maxLength: 3 }).chain((names) =>
  fc.tuple(...names.map((name) => fc.uniqueArray(fc.tuple(fc.constantFrom(...ARG_NAMES), hostileText), { maxLength: 3, selector: ([k]) => k }).map((attributes) => ({ name, attributes })))),
);

const path = fc.oneof(fc.constantFrom(".", "Dockerfile", "docker/x.Dockerfile"), hostileText.filter((text) => text !== ""));

export const matrixModel: fc.Arbitrary<MatrixModel> = fc
  .record({
    file: fc.string({ minLength: 1, maxLength: 12 }),
    axes: fc.uniqueArray(fc.record({ name: axisName, values: axisValues }), { minLength: 1, maxLength: 3, selector: (axis) => axis.name }),
    names: fc.uniqueArray(familyName, { minLength: 3, maxLength: 3 }),
    emit: fc.record({
      // runs-on: labels actionlint knows (it reports any other as a self-hosted runner's it was not told of).
      github: fc.record({ name: notAnExpression, "runs-on": fc.constantFrom("ubuntu-latest", "ubuntu-22.04", "self-hosted", "windows-latest", "macos-latest"), username: fc.oneof(notAnExpression, fc.constant("${{ github.actor }}")) }),
      bake: fc.record({ variable: fc.stringMatching(/^[A-Za-z_][A-Za-z0-9_]{0,8}$/) }),
      cloudbuild: fc.record({ output: outputPath }),
      make: fc.record({ output: outputPath }),
    }),
  })
  .chain(({ file, axes, names, emit }) =>
    fc
      .array(
        fc.record({
          axes: fc.uniqueArray(fc.nat(axes.length - 1), { maxLength: axes.length }),
          from: fc.option(fc.nat(4), { nil: undefined }),
          args: fc.option(fc.array(fc.oneof(fc.record({ axis: fc.nat(axes.length - 1) }), fc.record({ template: hostileText })), { maxLength: 3 }), { nil: undefined }),
          dockerfile: path,
          context: path,
          labels: fc.uniqueArray(fc.tuple(fc.constantFrom("a.b", "org.opencontainers.image.title", "x/y", "z-1"), hostileText), { maxLength: 2, selector: ([name]) => name }),
          revision: fc.boolean(),
          alias: fc.boolean(),
          target: fc.boolean(),
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
          families.push({
            name: names[index]!,
            axes: axesOfFamily,
            from,
            args,
            dockerfile: family.dockerfile,
            context: family.context,
            labels: family.labels,
            revision: family.revision,
            alias: family.alias,
            target: family.target,
          });
        });
        return { file, axes, families, emit };
      }),
  );

/** Literal text in a template: its braces doubled. */
const literally = (text: string) => text.replaceAll("{", "{{").replaceAll("}", "}}");

/** The model as a matrix.toml, as a person would write it. */
export function matrixToml(model: MatrixModel): string {
  const lines = ['repository = "registry.example.com:5000/fuzz/images"'];
  for (const axis of model.axes) {
    lines.push("", `[axes.${axis.name}]`);
    for (const value of axis.values) {
      const attributes = value.attributes.map(([name, text]) => `${name} = ${tomlString(text)}`).join(", ");
      lines.push(`${tomlString(value.name)} = { ${attributes} }`);
    }
  }
  for (const family of model.families) {
    const axes = family.axes.map((a) => model.axes[a]!.name);
    lines.push("", `[images.${family.name}]`);
    lines.push(`tag = ${tomlString([family.name, ...axes.map((axis) => `{${axis}}`)].join("-"))}`);
    lines.push(`matrix = [${axes.map((axis) => tomlString(axis)).join(", ")}]`);
    lines.push(`dockerfile = ${tomlString(literally(family.dockerfile))}`, `context = ${tomlString(literally(family.context))}`);
    if (family.from !== undefined) lines.push(`from = ${tomlString(model.families[family.from]!.name)}`);
    const labels = [...family.labels.map(([name, text]) => `${tomlString(name)} = ${tomlString(literally(text))}`), ...(family.revision ? ['"org.opencontainers.image.revision" = "{revision}"'] : [])];
    if (labels.length > 0) lines.push(`labels = { ${labels.join(", ")} }`);
    if (family.alias) lines.push(`aliases = [${tomlString(["al", family.name, ...axes.map((axis) => `{${axis}}`)].join("-"))}]`);
    if (family.target) lines.push('target = "final"');
    if (family.args) {
      const items = family.args.map((item) => ("axis" in item ? tomlString(model.axes[item.axis]!.name) : `{ LITERAL = ${tomlString(literally(item.template))} }`));
      lines.push(`args = [${items.join(", ")}]`);
    }
  }
  for (const [emitter, options] of Object.entries(model.emit)) {
    lines.push("", `[emit.${emitter}]`);
    for (const [key, value] of Object.entries(options)) lines.push(`${tomlString(key)} = ${tomlString(value)}`);
  }
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
