// The naming rules, in one place. Documented in the README's matrix reference.

/** Axis and family names: also bake target and group names, make targets, GitHub matrix keys. */
export const NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_-]*$/;
export const NAME_RULE = "letters, digits, '-' and '_', starting with a letter or digit";

/** Axis value names appear in tags, so they follow Docker's tag alphabet. */
export const VALUE_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;
export const VALUE_RULE = "letters, digits, '.', '-' and '_', starting with a letter or digit";

/** An identifier: letters, digits and '_', not starting with a digit (HCL variables, GitHub secrets). */
export const IDENTIFIER_PATTERN = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Build-arg names, as a Dockerfile's ARG accepts them and a shell could export them. */
export const ARG_NAME_PATTERN = IDENTIFIER_PATTERN;
export const ARG_NAME_RULE = "letters, digits and '_', not starting with a digit";

/** Docker's tag grammar. */
export const TAG_PATTERN = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;

// Docker's reference grammar (distribution/reference): an optional registry host[:port],
// then lowercase path components separated by '/'.
const PATH_COMPONENT = "[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*";
const DOMAIN_COMPONENT = "(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])";
const DOMAIN = `(?:${DOMAIN_COMPONENT}(?:\\.${DOMAIN_COMPONENT})*|\\[[0-9a-fA-F:]+\\])(?::[0-9]+)?`;
const REPOSITORY_PATTERN = new RegExp(`^(?:${DOMAIN}/)?${PATH_COMPONENT}(?:/${PATH_COMPONENT})*$`);

/** Why a repository name is not valid, or undefined when it is. */
export function repositoryProblem(repository: string): string | undefined {
  if (repository.length > 255) return "is longer than 255 characters";
  if (REPOSITORY_PATTERN.test(repository)) return undefined;
  if (repository.includes(":") && !/^[^/]+:[0-9]+\//.test(repository)) {
    return "must not contain a tag (':'); the tag comes from each family's `tag` template";
  }
  if (/[A-Z]/.test(repository.replace(/^[^/]*\//, ""))) return "must be lowercase after the registry host";
  return "is not a valid Docker repository name (registry/path/name, lowercase)";
}

/**
 * Characters no consumer can carry in a build-arg value or a path: newlines and other
 * C0 and C1 controls (YAML forbids them raw), and the invisible line and paragraph
 * separators and byte-order mark, which some tools read as line breaks.
 */
export const CONTROL_CHARACTER = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\ufeff]/;

export function describeControlCharacter(value: string): string {
  const c = CONTROL_CHARACTER.exec(value)![0];
  const named: Record<string, string> = { "\n": "a newline", "\r": "a carriage return", "\t": "a tab", "\u2028": "a line separator (U+2028)", "\u2029": "a paragraph separator (U+2029)", "\ufeff": "a byte-order mark (U+FEFF)" };
  return named[c] ?? `the control character U+${c.charCodeAt(0).toString(16).padStart(4, "0").toUpperCase()}`;
}
