// GitHub Actions expressions, parsed and evaluated by GitHub's own package
// (@actions/expressions, the lexer, parser and evaluator of GitHub's language services):
// every operator, fromJSON, toJSON, contains, startsWith, endsWith, join, format and case
// are its own. What is left here is what the package does not do:
// - our plain JS contexts converted to its data (data.reviver) and its answers back
//   (data.replacer);
// - the job status functions (success(), failure(), cancelled(), always()), which are the
//   runner's: here a run that has not failed and was not cancelled, unless `status` says
//   otherwise (hashFiles is the runner's too, and not given: no workflow of ours calls it);
// - a string holding `${{ }}` turned into one expression as GitHub's template reader does
//   it (@actions/workflow-parser, TemplateReader.parseScalar): an expression ends at the
//   first `}}` outside a '...' literal; a value that is one expression alone keeps its
//   type; any other is format('literal text {0} ...', expression, ...), so a value is put
//   into a string as GitHub puts it (format's coerceString: null as '', an object as
//   'Object', an array as 'Array', a number to 15 digits).

import { Evaluator, Lexer, Parser, data } from "@actions/expressions";
import { TokenType } from "@actions/expressions/lexer";
import { truthy as expressionTruthy } from "@actions/expressions/result";

export type Value = string | number | boolean | null | readonly Value[] | { readonly [key: string]: Value };

export interface Context {
  readonly [name: string]: Value | Context | undefined;
}

/** The job's state as the status functions see it. */
export interface JobStatus {
  readonly failed?: boolean;
  readonly cancelled?: boolean;
}

const STATUS_FUNCTIONS = ["success", "failure", "cancelled", "always"] as const;

/** The contexts a workflow may name (docs: "Contexts"); one the test does not give is empty. */
const CONTEXTS = ["github", "env", "vars", "job", "jobs", "steps", "runner", "secrets", "strategy", "matrix", "needs", "inputs"];

/** A function the evaluator is given (its FunctionDefinition, which the package does not export by name). */
type FunctionDefinition = NonNullable<ConstructorParameters<typeof Evaluator>[2]> extends Map<string, infer Definition> ? Definition : never;

const OPEN = "${{";
const CLOSE = "}}";

function statusFunctions(status: JobStatus): Map<string, FunctionDefinition> {
  const answer = { success: !status.failed && !status.cancelled, failure: !!status.failed, cancelled: !!status.cancelled, always: true };
  return new Map(STATUS_FUNCTIONS.map((name) => [name, { name, minArgs: 0, maxArgs: 0, call: () => new data.BooleanData(answer[name]) }]));
}

/**
 * The expression GitHub makes of a string of a workflow file (TemplateReader.parseScalar of
 * @actions/workflow-parser): undefined when it holds no `${{`, the expression itself when
 * the string is one `${{ }}` alone, else a format() of its literal text (quotes and braces
 * escaped) and its expressions. An unclosed `${{` is GitHub's error.
 */
export function templateExpression(text: string): string | undefined {
  if (!text.includes(OPEN)) return undefined;
  const literals: string[] = [];
  const expressions: string[] = [];
  let at = 0;
  let start = text.indexOf(OPEN);
  while (start >= 0) {
    literals.push(text.slice(at, start));
    let end = -1;
    let inString = false;
    for (let i = start + OPEN.length; i < text.length; i++) {
      // A quote opens or closes a literal ('' inside one closes and reopens it, as GitHub reads it).
      if (text[i] === "'") inString = !inString;
      else if (!inString && text[i] === "}" && text[i - 1] === "}") {
        end = i + 1;
        break;
      }
    }
    if (end < 0) throw new Error(`The expression is not closed. An unescaped ${OPEN} sequence was found, but the closing ${CLOSE} sequence was not found: ${JSON.stringify(text)}`);
    expressions.push(text.slice(start + OPEN.length, end - CLOSE.length).trim());
    at = end;
    start = text.indexOf(OPEN, at);
  }
  literals.push(text.slice(at));
  if (expressions.length === 1 && literals.every((literal) => literal === "")) return expressions[0]!;
  const escaped = (literal: string) => literal.replaceAll("'", "''").replaceAll("{", "{{").replaceAll("}", "}}");
  const format = literals.map((literal, i) => escaped(literal) + (i < expressions.length ? `{${i}}` : "")).join("");
  return `format('${format}'${expressions.map((expression) => `, ${expression}`).join("")})`;
}

/** Every `${{ ... }}` in a string evaluated and put in its place, as GitHub does it (a value alone keeps its type). */
export function evaluateTemplate(text: string, context: Context, status: JobStatus = {}): Value {
  const expression = templateExpression(text);
  return expression === undefined ? text : evaluateExpression(expression, context, status);
}

/** One expression (without `${{ }}`; an `if:` may be given with them, as GitHub allows: then read as a template). */
export function evaluate(expression: string, context: Context, status: JobStatus = {}): Value {
  const trimmed = expression.trim();
  return evaluateExpression(trimmed.startsWith(OPEN) ? templateExpression(trimmed)! : expression, context, status);
}

function evaluateExpression(bare: string, context: Context, status: JobStatus): Value {
  const functions = statusFunctions(status);
  const parsed = new Parser(lex(bare), [...new Set([...CONTEXTS, ...Object.keys(context)])], [...functions.values()]).parse();
  const result = new Evaluator(parsed, contextData(context), functions).evaluate();
  return fromData(result);
}

/**
 * The package's tokens, each string literal's value unescaped as the runner does it: every
 * '' is one quote (actions/runner, LexicalAnalyzer.ReadStringToken). The package's Lexer
 * (0.3.61) unescapes only the first ('a''b''c' is a'b''c there, a'b'c on GitHub).
 */
function lex(expression: string): ReturnType<Lexer["lex"]>["tokens"] {
  return new Lexer(expression).lex().tokens.map((token) => (token.type === TokenType.STRING ? { ...token, value: token.lexeme.slice(1, -1).replaceAll("''", "'") } : token));
}

/** Whether GitHub reads a value as true (the package's truthy: false, 0, NaN, '' and null are not). */
export function truthy(value: Value): boolean {
  return expressionTruthy(toData(value));
}

/** A context as the package's data: the contexts the test does not give are empty. */
function contextData(context: Context): data.Dictionary {
  return toData({ ...Object.fromEntries(CONTEXTS.map((name) => [name, {}])), ...context } as Value) as data.Dictionary;
}

/** Our plain values as the package's data, and its data back. */
function toData(value: Value): data.ExpressionData {
  return JSON.parse(JSON.stringify(value), data.reviver) as data.ExpressionData;
}

function fromData(value: data.ExpressionData): Value {
  return JSON.parse(JSON.stringify(value, data.replacer) ?? "null") as Value;
}
