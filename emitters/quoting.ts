// One quoting function per output language. Every string a user controls that an
// emitter writes (names, values, paths, options, file names) goes through one of these,
// or is refused with a clear error before anything is written. The tests feed each
// output to the tool that reads it (scripts/validators/), with hostile text in every
// field (fixtures/hostile, scripts/fuzz).

import { CONTROL_CHARACTER } from "../core/names.ts";

/** Text for a '#' comment (a file's name in a generated header): core/printable.ts, shared with import's TOML. */
export { commentText } from "../core/printable.ts";

/** A word for bash: single-quoted, a quote inside written '\''. */
export function shellWord(text: string): string {
  return `'${text.replaceAll("'", `'\\''`)}'`;
}

/** A word for bash as a person would type it: bare when it holds nothing the shell reads, else shellWord's. */
export function readableShellWord(text: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(text) ? text : shellWord(text);
}

/**
 * One shell word in a make recipe line: a shell word, then every '$' doubled, because
 * make expands the line before the shell reads it.
 */
export function recipeWord(text: string): string {
  // Most words hold neither, and the replacing costs even when nothing matches.
  return /['$]/.test(text) ? doubleDollars(shellWord(text)) : `'${text}'`;
}

/**
 * A make variable's value: make reads it literally but for '$', and a '#' would start a
 * comment. `\#` is a literal '#'; backslashes just before a '#' are doubled, as make reads
 * `\\#` as one backslash and then a comment.
 */
export function makeValue(text: string): string {
  return doubleDollars(text).replace(/(\\*)#/g, (_, backslashes: string) => `${backslashes}${backslashes}\\#`);
}

/**
 * Every '$' written as "$$": how make (in a recipe or a variable) and Cloud Build (in a
 * step field, where $NAME is a substitution) both read a literal '$'.
 */
export function doubleDollars(text: string): string {
  // A replacer function: in a replacement string, "$$" would itself mean "$".
  return text.includes("$") ? text.replace(/\$/g, () => "$$") : text;
}

const HCL_NEEDS_ESCAPE = /[\\"]|[$%]\{/;
const HCL_ESCAPES: Record<string, string> = { "\\": "\\\\", '"': '\\"', "${": "$${", "%{": "%%{" };

/** A quoted HCL string holding `text` literally: backslash, quote, and the `${` and `%{` introducers escaped. */
export function hclString(text: string): string {
  // Most text needs no escape, and a replace with a function costs even when nothing matches.
  return HCL_NEEDS_ESCAPE.test(text) ? `"${text.replace(/\\|"|\$\{|%\{/g, (match) => HCL_ESCAPES[match]!)}"` : `"${text}"`;
}

/** Words of characters that mean nothing to YAML, one space apart, not starting with an indicator (YAML 1.2, ns-plain). */
const PLAIN_WORDS = /^[A-Za-z_./$][\w./@+${}*:-]*(?: [\w./@+${}*:-]+)*$/;

/**
 * Plain text YAML reads as something else: a word YAML 1.1 or 1.2 reads as a boolean,
 * null or number (".5", ".5e3"; YAML 1.1 reads "." and ".." as floats too), or a
 * mapping (": " or a final ':').
 */
const NOT_A_STRING = /^(?:true|false|null|yes|no|on|off|y|n|\.inf|\.nan)$|^\.(?:[0-9.]|$)|:(?: |$)/i;

/**
 * A string as a YAML scalar: plain when YAML reads the plain text back as that same
 * string, so that `${{ github.actor }}` and `.github/workflows/x.yml` stay as written;
 * otherwise JSON's double-quoted form, which YAML 1.2 reads as the same string.
 */
export function yamlScalar(text: string): string {
  return PLAIN_WORDS.test(text) && !NOT_A_STRING.test(text) ? text : JSON.stringify(text);
}

/**
 * Multi-line text as the lines of a YAML literal block (after `|-`), each behind
 * `indent`: a block keeps every character as written, so a script reads in the file as
 * the shell gets it. Undefined where a block cannot hold the text exactly, and
 * yamlScalar's quoted form must: a single line; a character YAML would have to escape
 * or reads as a line break (controls but tab and newline, a carriage return, NEL,
 * U+2028/U+2029, a byte order mark, a lone surrogate); a first line with text that
 * starts with a space or a tab (the block's indentation is read from it); a final newline
 * (`|-` drops it).
 */
export function yamlBlock(text: string, indent: string): string[] | undefined {
  if (!text.includes("\n") || text.endsWith("\n") || BLOCK_UNSAFE.test(text)) return undefined;
  const lines = text.split("\n");
  const first = lines.find((line) => line !== "");
  if (first === undefined || /^[ \t]/.test(first)) return undefined;
  return lines.map((line) => (line === "" ? "" : `${indent}${line}`));
}

const BLOCK_UNSAFE = /[\x00-\x08\x0b-\x1f\x7f\x85\u2028\u2029\ufeff]|\p{Surrogate}/u;

/**
 * Text a GitHub workflow file gives a step literally. GitHub evaluates `${{ ... }}`
 * anywhere in a workflow's strings, matrix values included; `${{ '${{' }}` is the
 * expression whose value is the literal text. (Data read with fromJSON is not
 * evaluated: `--format matrix` writes values as they are.)
 */
export function workflowLiteral(text: string): string {
  return text.includes("${{") ? text.replace(/\$\{\{/g, () => "${{ '${{' }}") : text;
}

/**
 * A path as a GitHub path filter that matches it: the filter characters `*?+[]!` and
 * the escape `\` escaped; `${{`, which a filter cannot hold (GitHub reads it as an
 * expression), as `$*{` (`*`: any characters but '/'); white space at either end, and
 * a control character anywhere (a matrix file's name may hold one), which a filter must
 * not have, as `*`. Each of those matches the path and little else.
 */
export function pathFilter(path: string): string {
  return path
    .replace(/[\\*?+[\]!]/g, "\\$&")
    .replace(/\$\{\{/g, "$*{")
    .replace(FILTER_UNSAFE, "*");
}

const FILTER_UNSAFE = new RegExp(`^\\s+|\\s+$|(?:${CONTROL_CHARACTER.source})+`, "g");
