// The naming rules, in one place. Documented in docs/matrix.md ("Names").

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

/** A build secret's id, as BuildKit takes it (`--secret id=ID`, `RUN --mount=type=secret,id=ID`). */
export const SECRET_ID_PATTERN = /^[A-Za-z0-9_.-]+$/;
export const SECRET_ID_RULE = "letters, digits, '_', '.' and '-'";

/** Docker's tag grammar. */
export const TAG_PATTERN = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;
export const TAG_RULE = "a tag is 1 to 128 of letters, digits, '_', '.' and '-', not starting with '.' or '-'";

// Docker's reference grammar (distribution/reference): an optional registry host[:port],
// then lowercase path components separated by '/'.
const PATH_COMPONENT = "[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*";
const DOMAIN_COMPONENT = "(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])";
const DOMAIN = `(?:${DOMAIN_COMPONENT}(?:\\.${DOMAIN_COMPONENT})*|\\[[0-9a-fA-F:]+\\])(?::[0-9]+)?`;
/** A registry host, with an optional port, as an image reference starts with it. */
export const REGISTRY_HOST_PATTERN = new RegExp(`^${DOMAIN}$`);
const REPOSITORY_PATTERN = new RegExp(`^(?:${DOMAIN}/)?${PATH_COMPONENT}(?:/${PATH_COMPONENT})*$`);

/** Why a repository name is not valid, or undefined when it is. */
export function repositoryProblem(repository: string): string | undefined {
  const scheme = /^([A-Za-z][A-Za-z0-9+.-]*):\/\//.exec(repository);
  if (scheme) return `names a URL scheme (${scheme[1]}://): a repository is the registry host and path alone, e.g. ${JSON.stringify(repository.slice(scheme[0].length).replace(/\/+$/, ""))}`;
  // A registry with no path: docker would read ghcr.io:TAG as the image "ghcr.io" on Docker Hub.
  if (!repository.includes("/") && (/\./.test(repository) || repository === "localhost" || /^[^:]+:[0-9]+$/.test(repository))) {
    return `is a registry host with no repository path: its images would be ${repository}:TAG, which docker reads as an image on Docker Hub; add the path, e.g. "${repository}/your-org/images"`;
  }
  if (REPOSITORY_PATTERN.test(repository)) {
    // Docker's limit is on the path after the registry, as Docker reads it: a Docker Hub short name is library/NAME.
    const { path } = splitRegistry(repository);
    const counted = repository.includes("/") || path !== repository ? path : `library/${path}`;
    return counted.length > 255 ? `has a path of ${counted.length} characters after the registry${counted === path ? "" : " (Docker counts library/ in a short name)"}; Docker allows 255` : undefined;
  }
  if (repository.includes("@")) return "must not contain a digest ('@'); the images are named by each family's `tag` template";
  if (repository.includes(":") && !/^[^/]+:[0-9]+\//.test(repository)) {
    return "must not contain a tag (':'); the tag comes from each family's `tag` template";
  }
  if (/[A-Z]/.test(repository.replace(/^[^/]*\//, ""))) return "must be lowercase after the registry host";
  return "is not a valid Docker repository name (registry/path/name, lowercase)";
}

/** The registry host and the path after it, as Docker splits a name: the first component is a host when it has '.' or ':', or is localhost. */
function splitRegistry(repository: string): { registry: string | undefined; path: string } {
  const slash = repository.indexOf("/");
  const first = slash < 0 ? "" : repository.slice(0, slash);
  const isHost = slash >= 0 && (/[.:]/.test(first) || first === "localhost" || first !== first.toLowerCase());
  return isHost ? { registry: first, path: repository.slice(slash + 1) } : { registry: undefined, path: repository };
}

const DIGEST = /@[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}$/;

/** Why an image reference (repository, then :tag and @digest, each optional) is not valid, or undefined when it is. */
export function imageReferenceProblem(reference: string): string | undefined {
  const name = reference.replace(DIGEST, "");
  const colon = name.lastIndexOf(":");
  const hasTag = colon > name.lastIndexOf("/");
  if (hasTag && !TAG_PATTERN.test(name.slice(colon + 1))) return `"${reference}" has an invalid tag`;
  const problem = repositoryProblem(hasTag ? name.slice(0, colon) : name);
  return problem ? `"${reference}" is not an image reference (registry/path/name, lowercase, then an optional :tag and @digest)` : undefined;
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

/** The registry a repository lives in: its first component when that is a host, else Docker Hub. */
export function registryHost(repository: string): string {
  const first = repository.split("/")[0]!;
  return repository.includes("/") && (first.includes(".") || first.includes(":") || first === "localhost") ? first : "docker.io";
}

/** A registry host on this machine: localhost, or an IPv4 loopback address, with any port (plain http, as docker reads it). */
export const LOOPBACK = /^(?:localhost|127(?:\.[0-9]{1,3}){3})(?::[0-9]+)?$/;

// distribution/reference's grammar (regexp.go, ReferenceRegexp), as docker, buildx and
// BuildKit parse a FROM: name [":" tag] ["@" digest], the name's path lowercase.
const DOCKER_TAG = "[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}";
const DOCKER_DIGEST = "[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}";
const DOCKER_REFERENCE = new RegExp(`^((?:${DOMAIN}/)?${PATH_COMPONENT}(?:/${PATH_COMPONENT})*)(?::${DOCKER_TAG})?(?:@${DOCKER_DIGEST})?$`);

/**
 * Why docker would refuse a reference (a FROM's, once its build args are in), or
 * undefined: a control character, anything outside Docker's reference grammar, a path
 * over 255 characters (a Docker Hub short name counted as library/NAME, as docker
 * normalises it), or 64 hex digits as a name (docker reads those as an image ID). The
 * phrase names no character of the reference, which the caller shows quoted.
 */
export function dockerReferenceProblem(reference: string): string | undefined {
  if (reference === "") return "is empty";
  if (CONTROL_CHARACTER.test(reference)) return `holds ${describeControlCharacter(reference)}`;
  const match = DOCKER_REFERENCE.exec(reference);
  if (!match) {
    return DOCKER_REFERENCE.test(reference.toLowerCase())
      ? "has capital letters in its repository path, which Docker's grammar refuses (only the registry host may have them)"
      : "is not an image reference in Docker's grammar: [HOST[:PORT]/]PATH[:TAG][@ALGORITHM:HEX], the path lowercase letters, digits and . _ - separators";
  }
  if (/^[a-f0-9]{64}$/.test(reference)) return "is 64 hex digits, which docker reads as an image ID, not a repository";
  const { registry, path } = splitRegistry(match[1]!);
  const dockerHub = registry === undefined || registry === "docker.io" || registry === "index.docker.io";
  const counted = dockerHub && !path.includes("/") ? `library/${path}` : path;
  return counted.length > 255 ? `has a repository path of ${counted.length} characters${counted === path ? "" : " (docker counts library/ in a short name)"}; Docker allows 255` : undefined;
}
