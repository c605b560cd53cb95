// How the planner names a combination in its messages ("python=py37, cuda=cu100"), and
// a family's dockerfile and context as plan text shows them.

import type { Axis, AxisValue } from "../matrix/matrix.ts";
import type { Indices } from "./combinations.ts";
import type { Template } from "../matrix/template.ts";

/** The axis values a combination's indices stand for (for messages: the hot path keeps indices). */
export function valuesAt(axes: readonly Axis[], indices: Indices): AxisValue[] {
  return indices.map((value, i) => axes[i]!.values[value]!);
}

/** Family-level dockerfile and context: per-image variables stay as written. */
export function familyLevelText(template: Template, family: string): string {
  let out = "";
  for (const part of template) {
    if (part.kind === "text") out += part.text;
    else if (part.name === "family") out += family;
    else out += `{${part.name}${part.attribute ? `.${part.attribute}` : ""}}`;
  }
  return out;
}

export function describe(axes: readonly string[], values: readonly AxisValue[]): string {
  return describeCombination(Object.fromEntries(axes.map((axis, i) => [axis, values[i]!.name])));
}

export function describeCombination(combination: Readonly<Record<string, string>>): string {
  const entries = Object.entries(combination);
  return entries.length === 0 ? "the single image" : entries.map(([axis, value]) => `${axis}=${value}`).join(", ");
}
