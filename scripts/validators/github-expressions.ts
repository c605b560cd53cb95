// GitHub Actions expressions, as the runner evaluates them (docs: "Evaluate expressions in
// workflows and actions"), for the forms a workflow of ours writes: literals, property
// access (matrix.x, github.sha, steps.id.outputs.x), ! == != && || and parentheses,
// format(). && and || return one of their operands, so `c && x || y` is y when x is empty.
// Comparison of strings ignores case, as GitHub's does.

export type Value = string | number | boolean | null;

export interface Context {
  readonly [name: string]: Value | Context | undefined;
}

/** Every `${{ ... }}` in a string evaluated and put in its place (a value alone keeps its type). */
export function evaluateTemplate(text: string, context: Context): Value {
  const whole = /^\$\{\{(.*)\}\}$/s.exec(text.trim());
  if (whole && !whole[1]!.includes("}}")) return evaluate(whole[1]!, context);
  return text.replace(/\$\{\{(.*?)\}\}/gs, (_, expression: string) => toText(evaluate(expression, context)));
}

export function evaluate(expression: string, context: Context): Value {
  const tokens = tokenize(expression);
  let at = 0;
  const peek = () => tokens[at];
  const take = (expected?: string) => {
    const token = tokens[at++];
    if (expected !== undefined && token !== expected) throw new Error(`expression ${JSON.stringify(expression)}: expected ${expected}, found ${token}`);
    return token!;
  };
  const or = (): Value => {
    let left = and();
    while (peek() === "||") {
      take();
      const right = and();
      left = truthy(left) ? left : right;
    }
    return left;
  };
  const and = (): Value => {
    let left = comparison();
    while (peek() === "&&") {
      take();
      const right = comparison();
      left = truthy(left) ? right : left;
    }
    return left;
  };
  const comparison = (): Value => {
    const left = unary();
    const operator = peek();
    if (operator !== "==" && operator !== "!=") return left;
    take();
    const right = unary();
    const equal = typeof left === "string" && typeof right === "string" ? left.toLowerCase() === right.toLowerCase() : left === right;
    return operator === "==" ? equal : !equal;
  };
  const unary = (): Value => {
    if (peek() === "!") {
      take();
      return !truthy(unary());
    }
    return primary();
  };
  const primary = (): Value => {
    const token = take();
    if (token === "(") {
      const value = or();
      take(")");
      return value;
    }
    if (token.startsWith("'")) return token.slice(1, -1).replaceAll("''", "'");
    if (/^[0-9]/.test(token)) return Number(token);
    if (token === "true" || token === "false") return token === "true";
    if (token === "null") return null;
    if (token === "format" && peek() === "(") {
      take("(");
      const args: Value[] = [or()];
      while (peek() === ",") {
        take();
        args.push(or());
      }
      take(")");
      return toText(args[0]!).replace(/\{(\d+)\}/g, (_, index: string) => toText(args[Number(index) + 1] ?? ""));
    }
    let value: Value | Context | undefined = context[token];
    while (peek() === ".") {
      take();
      const name = take();
      value = typeof value === "object" && value !== null ? (value as Context)[name] : undefined;
    }
    return value === undefined || (typeof value === "object" && value !== null) ? null : value;
  };
  const value = or();
  if (at !== tokens.length) throw new Error(`expression ${JSON.stringify(expression)}: unexpected ${tokens[at]}`);
  return value;
}

function tokenize(expression: string): string[] {
  const tokens: string[] = [];
  const pattern = /\s*('(?:[^']|'')*'|&&|\|\||==|!=|[!().,]|[A-Za-z_][A-Za-z0-9_-]*|[0-9]+(?:\.[0-9]+)?)/y;
  let at = 0;
  while (at < expression.length) {
    if (/^\s*$/.test(expression.slice(at))) break;
    pattern.lastIndex = at;
    const match = pattern.exec(expression);
    if (!match) throw new Error(`expression ${JSON.stringify(expression)}: cannot read ${JSON.stringify(expression.slice(at))}`);
    tokens.push(match[1]!);
    at = pattern.lastIndex;
  }
  return tokens;
}

export function truthy(value: Value): boolean {
  return value !== false && value !== 0 && value !== "" && value !== null;
}

function toText(value: Value): string {
  return value === null ? "" : String(value);
}
