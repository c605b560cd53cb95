// GitHub Actions expressions, evaluated by GitHub's own evaluator (@actions/expressions,
// the parser and evaluator GitHub's language server uses): every form a workflow of ours
// writes, fromJSON, contains, format (braces doubled to escape) and index access
// included. The job status functions (success(), cancelled(), ...) are the runner's, not
// the library's: here a run that has not failed and was not cancelled, unless the
// context's `status` says otherwise.

import { Evaluator, Lexer, Parser, data } from "@actions/expressions";

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

function statusFunctions(status: JobStatus): Map<string, FunctionDefinition> {
  const answer = { success: !status.failed && !status.cancelled, failure: !!status.failed, cancelled: !!status.cancelled, always: true };
  return new Map(STATUS_FUNCTIONS.map((name) => [name, { name, minArgs: 0, maxArgs: 0, call: () => new data.BooleanData(answer[name]) }]));
}

/** Every `${{ ... }}` in a string evaluated and put in its place (a value alone keeps its type). */
export function evaluateTemplate(text: string, context: Context, status: JobStatus = {}): Value {
  const whole = /^\$\{\{(.*)\}\}$/s.exec(text.trim());
  if (whole && !whole[1]!.includes("}}")) return evaluate(whole[1]!, context, status);
  return text.replace(/\$\{\{(.*?)\}\}/gs, (_, expression: string) => asText(evaluate(expression, context, status)));
}

/** One expression (without `${{ }}`; an `if:` may be given with them, as GitHub allows). */
export function evaluate(expression: string, context: Context, status: JobStatus = {}): Value {
  const bare = /^\s*\$\{\{(.*)\}\}\s*$/s.exec(expression)?.[1] ?? expression;
  const lexed = new Lexer(bare).lex();
  const functions = statusFunctions(status);
  const parsed = new Parser(lexed.tokens, [...new Set([...CONTEXTS, ...Object.keys(context)])], [...functions.values()]).parse();
  const contextData = JSON.parse(JSON.stringify({ ...Object.fromEntries(CONTEXTS.map((name) => [name, {}])), ...context }), data.reviver) as data.Dictionary;
  const result = new Evaluator(parsed, contextData, functions).evaluate();
  return JSON.parse(JSON.stringify(result, data.replacer) ?? "null") as Value;
}

export function truthy(value: Value): boolean {
  return value !== false && value !== 0 && value !== "" && value !== null;
}

/** A value as GitHub puts it into a string: objects and arrays as JSON (toJSON), null as empty. */
function asText(value: Value): string {
  if (value === null) return "";
  if (typeof value === "object") return JSON.stringify(value, null, 2);
  return String(value);
}
