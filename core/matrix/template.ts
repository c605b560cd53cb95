// Templates in tags and build args: `gpu-{cuda}-{python}`, `{python.PYTHON_VERSION}`,
// `{from}` (or its parts, `{from.repository}` and `{from.tag}`: core/base-parts.ts),
// `{$TAG_PREFIX}` (a variable of [vars]: its name keeps the '$', which no axis name
// holds). `{{` and `}}` stand for literal braces. Parsed once per family; the
// reader fills in the variables (core/matrix/matrix-vars.ts), the planner compiles the
// rest against the family's axes (core/plan/compile-family.ts).

export type TemplatePart =
  | { readonly kind: "text"; readonly text: string }
  | { readonly kind: "variable"; readonly name: string; readonly attribute?: string };

export type Template = readonly TemplatePart[];

export class TemplateSyntaxError extends Error {}

const VARIABLE = /^([A-Za-z0-9_-]+|\$[A-Za-z_][A-Za-z0-9_]*)(?:\.([A-Za-z_][A-Za-z0-9_]*))?$/;

export function parseTemplate(source: string): Template {
  const parts: TemplatePart[] = [];
  let text = "";
  for (let i = 0; i < source.length; i++) {
    const c = source[i]!;
    if (c === "{" && source[i + 1] === "{") {
      text += "{";
      i++;
    } else if (c === "}" && source[i + 1] === "}") {
      text += "}";
      i++;
    } else if (c === "{") {
      const end = source.indexOf("}", i);
      if (end < 0) throw new TemplateSyntaxError(`unclosed "{" at character ${i + 1}`);
      const inner = source.slice(i + 1, end).trim();
      const match = VARIABLE.exec(inner);
      if (!match) throw new TemplateSyntaxError(`"{${inner}}" is not a variable: write {axis}, {axis.ATTRIBUTE}, {from} or {$VARIABLE}`);
      if (text) parts.push({ kind: "text", text });
      text = "";
      parts.push(match[2] ? { kind: "variable", name: match[1]!, attribute: match[2] } : { kind: "variable", name: match[1]! });
      i = end;
    } else if (c === "}") {
      throw new TemplateSyntaxError(`unmatched "}" at character ${i + 1}: write "}}" for a literal brace`);
    } else {
      text += c;
    }
  }
  if (text) parts.push({ kind: "text", text });
  return parts;
}

export function templateVariables(template: Template): Extract<TemplatePart, { kind: "variable" }>[] {
  return template.filter((p): p is Extract<TemplatePart, { kind: "variable" }> => p.kind === "variable");
}
