// The script of an image's job (or step), in POSIX sh, shared by the pipelines that run
// one job per image with a shell: GitLab CI (gitlab.ts) and Buildkite (buildkite.ts). With
// content tags it decides when it runs, from what the resolve job left in
// .caliban-images/resolved (`caliban-images resolve --format lines`: `ID HEX`, and
// ` present` when the registry has the image's content reference): an image the registry
// has is not rebuilt (its tags are pointed at it, when the pipeline publishes); any other
// is built FROM its base's content reference, its smoke test run, and, when the pipeline
// publishes ($CALIBAN_PUSH, which each CI sets its own way), pushed under its content
// reference, its tag and its aliases. An internal image (published = false) is pushed
// under its content reference alone; one rebuilt every run (rebuild = "always") reads no
// answer. Every user's string is a shell word (shellWord) here, and a YAML scalar where
// the emitter writes the script. The CI's own variables (the commit, the branch, when the
// pipeline was created) are named by a CiVariables.

import { SHORT_COMMIT_LENGTH, buildTimeParts } from "../core/build-time.ts";
import { sharedTags, type BasePart, type BuildGraph, type ImageNode } from "../core/graph.ts";
import type { EmitContext } from "./contract.ts";
import { annotationSpecs, attestSpecs, cacheSpecs, needsBuildx, sharedTagAnnotationSpecs } from "./build-settings.ts";
import { branchTagCommand, cutCommand, renderAlias, splitAliases, valuesNamed } from "./build-time.ts";
import { installScript, type InstallOptions } from "./github-install.ts";
import { matrixFromRoot } from "./input-paths.ts";
import { shellVarFlags } from "./pipeline-variables.ts";
import { shellWord } from "./quoting.ts";
import { secretFlags } from "./secrets.ts";
import { argsText } from "./text.ts";

/** Where the resolve job leaves each image's digest; passed on as an artifact. */
export const RESOLVED_FILE = ".caliban-images/resolved";

/** The condition of every push, login to push and moved tag: the CI sets $CALIBAN_PUSH for a publishing pipeline (GitLab: workflow:rules; Buildkite: the step's prelude). */
export const PUBLISHING = '[ "$CALIBAN_PUSH" = true ]';

/** What talks to the registry is asked again on failure, 4 tries in all, 5, 20 and 45 s apart. */
const RETRY_FUNCTION = [
  "retry() {",
  '  for try in 1 2 3; do "$@" && return 0; echo "failed, asked again: $* (try $try)" >&2; sleep $((try * try * 5)); done',
  '  "$@"',
  "}",
];

/** `inputs_of ID` and `registry_has ID`, read from the resolve job's file (exit 2 when it is missing). */
const RESOLVED_FUNCTIONS = [
  "inputs_of() {",
  `  while read -r id hex rest; do if [ "$id" = "$1" ]; then echo "$hex"; return 0; fi; done < ${RESOLVED_FILE}`,
  '  echo "error: no digest for $1: the resolve job did not run" >&2; exit 2',
  "}",
  "registry_has() {",
  `  while read -r id hex rest; do if [ "$id" = "$1" ]; then [ "$rest" = present ]; return; fi; done < ${RESOLVED_FILE}`,
  "  return 1",
  "}",
];

/**
 * `point_tag SOURCE TARGET`: a tag moved to an image the registry has, without pulling it
 * (buildx's imagetools; skopeo when $DOCKER is podman 4, which cannot copy one image).
 */
const POINT_TAG_FUNCTION = [
  "point_tag() {",
  '  case "$DOCKER" in',
  '    *podman) retry skopeo copy "docker://$1" "docker://$2" ;;',
  '    *) retry "$DOCKER" buildx imagetools create --tag "$2" "$1" ;;',
  "  esac",
  "}",
];

/** What a CI's jobs start with beside the shared functions: its lines run first (setup), and where the scripts get their credentials (the login function). */
export interface JobPrelude {
  readonly setup?: readonly string[];
  readonly login: readonly string[];
  /** With [sign]: the functions that sign (emitters/signing.ts, signShellFunctions). */
  readonly signing?: readonly string[];
}

/** The CI's variables a job's script reads, by name. */
export interface CiVariables {
  /** The commit built: the revision label, and the commit's build-time values. */
  readonly commit: string;
  /** The branch built: the branch's build-time value. */
  readonly branch: string;
  /** Why the branch variable is set, said when it is empty. */
  readonly branchSetBy: string;
  /** When the pipeline was created (ISO 8601, UTC): one date for every job; the job's own date when unset. */
  readonly created: string;
}

/** The functions a job's script starts with (one script item): set -eu, the CI's setup, retry, login, and with content tags the resolved file's readers. */
export function preludeItem(prelude: JobPrelude, contentTags: boolean): string {
  return ["set -eu", ...(prelude.setup ?? []), ...RETRY_FUNCTION, ...(prelude.signing ?? []), ...prelude.login, ...(contentTags ? [...RESOLVED_FUNCTIONS, ...POINT_TAG_FUNCTION] : [])].join("\n");
}

/** The commands that put caliban-images on the PATH: the release binary for the runner (checked against its SHA256SUMS), or the install-command. */
export function installCommands(options: InstallOptions): string[] {
  return options["install-command"].trim() !== ""
    ? [options["install-command"]]
    : [`(\n${installScript(options, '"$HOME/.caliban-images/bin"').map((line) => `  ${line}`).join("\n")}\n)`, 'export PATH="$HOME/.caliban-images/bin:$PATH"'];
}

/**
 * The resolve job's commands before its artifact is kept: install caliban-images (the
 * release binary, or the install-command), log in, and write every image's `ID HEX
 * [present]` line to RESOLVED_FILE.
 */
export function resolveCommands(graph: BuildGraph, options: InstallOptions & { readonly output: string }, context: EmitContext): string[] {
  return [
    ...installCommands(options),
    // With [sign], resolve verifies each image the registry has with cosign before it is reused.
    ...(graph.sign === undefined ? [] : ["need_cosign"]),
    "registry_login",
    // Written beside the checkout, then moved in: a build context holding the checkout's root is digested without it.
    `resolved=$(mktemp)`,
    `caliban-images resolve --matrix ${shellWord(matrixFromRoot(context))}${shellVarFlags(context.variables)} --for ${shellWord(options.output)} --shape ${context.shape} --registry ${shellWord(graph.repository)} --format lines > "$resolved"`,
    `mkdir -p .caliban-images && mv "$resolved" ${RESOLVED_FILE}`,
  ];
}

/**
 * The shared tags' job: each tag one manifest list over its images, as this pipeline pushed
 * them (or found them), in a publishing pipeline only.
 */
export function sharedTagsScript(graph: BuildGraph, contentTags: boolean): string[] {
  const source = (image: ImageNode) => (contentTags ? `"${image.repository}:inputs-$(inputs_of ${image.id})"` : shellWord(image.reference));
  return [
    `if ! ${PUBLISHING}; then echo "this pipeline does not publish: no shared tag is pushed"; exit 0; fi`,
    "registry_login",
    ...sharedTags(graph).flatMap((tag) => [
      `retry "$DOCKER" buildx imagetools create${sharedTagAnnotationSpecs(tag.images).map((spec) => ` --annotation ${shellWord(spec)}`).join("")} --tag ${shellWord(tag.reference)} ${tag.images.map(source).join(" ")}`,
      // With [sign], the new manifest list is signed too (it is no one image's: no inputs digest).
      ...(graph.sign === undefined ? [] : [`sign_reference ${shellWord(tag.reference)}`]),
    ]),
  ];
}

/** The script items of an image's job after the prelude. */
export function imageScript(graph: BuildGraph, image: ImageNode, base: ImageNode | undefined, contentTags: boolean, ci: CiVariables): string[] {
  const words = imageWords(graph, image, base, contentTags, ci);
  const stamped = buildTimeLines(image, ci);
  const publish = [...stamped.define, ...words.publish];
  if (!contentTags) {
    return [`registry_login`, `if ${PUBLISHING}; then\n${indent(publish)}\nelse\n${indent(words.local)}\nfi`];
  }
  const assign = [`content=${image.repository}:inputs-$(inputs_of ${image.id})`, ...(base === undefined ? [] : [`base=${base.repository}:inputs-$(inputs_of ${base.id})`])];
  const build = `if ${PUBLISHING}; then\n${indent(publish)}\nelse\n${indent(words.local)}\nfi`;
  if (image.rebuild === "always") return [...assign, "registry_login", build];
  // A pointed tag may name a new manifest (buildx wraps a single-platform image in an index): with [sign], it is signed too.
  const signPointed = (word: string) => (graph.sign === undefined ? [] : [`sign_reference ${word} "$(inputs_of ${image.id})"`]);
  const pointed = [...stamped.define, ...words.named.flatMap((word) => [`point_tag "$content" ${word}`, ...signPointed(word)])];
  const found = [`echo ${shellWord(`${image.id}: the registry has its inputs digest`)}" ($content): not rebuilt"`, ...(pointed.length === 0 ? [] : [`if ${PUBLISHING}; then\n${indent(pointed)}\nfi`])];
  return [...assign, "registry_login", `if registry_has ${image.id}; then\n${indent(found)}\nelif ${PUBLISHING}; then\n${indent(publish)}\nelse\n${indent(words.local)}\nfi`];
}

function indent(lines: readonly string[]): string {
  return lines.map((line) => line.split("\n").map((part) => `  ${part}`).join("\n")).join("\n");
}

interface ImageWords {
  /** The references its tags are pointed from when the registry has it: its tag and aliases (none for an internal image). */
  readonly named: readonly string[];
  /** The commands that build, test and push it. */
  readonly publish: readonly string[];
  /** The commands that build and test it, pushing nothing (a merge request's pipeline). */
  readonly local: readonly string[];
}

function imageWords(graph: BuildGraph, image: ImageNode, base: ImageNode | undefined, contentTags: boolean, ci: CiVariables): ImageWords {
  const own = contentTags ? '"$content"' : shellWord(image.reference);
  const { fixed } = splitAliases(image);
  // The tag first, then the content reference, then the aliases (as make tags them); an internal image has its content reference alone.
  const tag = image.published === false ? [] : [shellWord(image.reference)];
  const aliases = [...fixed.map((alias) => shellWord(`${image.repository}:${alias}`)), ...buildTimeWords(image)];
  const named = [...tag, ...aliases];
  const pushed = contentTags ? [...tag, own, ...aliases] : named;
  // A build that pushes nothing tags the image in the engine by its tag too (and its content reference), as make's build/ID does.
  const local = contentTags ? [...tag, own] : [own];
  const args = buildArgs(image, base, contentTags);
  const labels = image.labels.map((label) => ` --label ${label.revision ? `${shellWord(`${label.name}=`)}"$${ci.commit}"` : shellWord(`${label.name}=${label.value}`)}`).join("");
  const target = image.target === null ? "" : ` --target ${shellWord(image.target)}`;
  const rest = `${labels}${target} -f ${shellWord(image.dockerfile)}${args} ${shellWord(image.context)}`;
  const tags = (references: readonly string[]) => references.map((reference) => ` -t ${reference}`).join("");
  const test = image.test === null ? [] : [`"$DOCKER" run --rm ${own} sh -c ${shellWord(image.test)}`];
  // Build secrets go to a publishing pipeline's builds only: a merge or pull request's build gets none (docs/secrets.md).
  const secrets = secretFlags(image, shellWord);
  if (!needsBuildx(graph, image)) {
    const build = (references: readonly string[], flags = "") => `"$DOCKER" build${tags(references)}${flags}${rest}`;
    return { named, publish: [build(pushed, secrets), ...test, ...pushed.map((reference) => `retry "$DOCKER" push ${reference}`)], local: [build(local), ...test] };
  }
  // buildx: the test in a build for this machine, loaded; then one build that pushes every tag, the cache and the attestations.
  const platforms = image.platforms.length === 0 ? "" : ` --platform ${shellWord(image.platforms.join(","))}`;
  const cache = cacheSpecs(graph, image, "registry");
  const cacheFlags = [...cache.from.map((spec) => ` --cache-from ${shellWord(spec)}`), ...cache.to.map((spec) => ` --cache-to ${shellWord(spec)}`)].join("");
  const attest = [...attestSpecs(graph).map((spec) => ` --attest ${shellWord(spec)}`), ...annotationSpecs(graph, image).map((spec) => ` --annotation ${shellWord(spec)}`)].join("");
  const buildx = (flags: string, references: readonly string[]) => `"$DOCKER" buildx build${flags}${tags(references)}${rest}`;
  const cacheFrom = cache.from.map((spec) => ` --cache-from ${shellWord(spec)}`).join("");
  const tested = (references: readonly string[], flags = "") => (image.test === null ? [] : [buildx(`${cacheFrom}${flags} --load`, references), ...test]);
  const built = image.test !== null ? tested(local) : [buildx(`${platforms}${cacheFrom}${image.platforms.length > 1 ? " --output type=cacheonly" : " --load"}`, local)];
  // Asked again as a `docker push` is (a registry's 5xx mid-push), as the GitHub and Cloud Build
  // pipelines ask again theirs: a build that fails for itself fails again quickly, from the builder's cache.
  const push = `retry ${buildx(`${platforms}${cacheFlags}${attest}${secrets} --push${graph.sign === undefined ? "" : ' --metadata-file "$meta"'}`, pushed)}`;
  // With [sign], what buildx pushed is signed by the digest its metadata file names (emitters/signing.ts).
  const signed = graph.sign === undefined ? [push] : ["meta=$(mktemp)", push, `sign_pushed ${shellWord(image.repository)} "$meta" "$(inputs_of ${image.id})"`];
  return { named, publish: [...tested([own], secrets), ...signed], local: built };
}

/** The build args: an arg naming the base (where {from} put its reference, or a part of it) names the base as this pipeline builds FROM it. */
function buildArgs(image: ImageNode, base: ImageNode | undefined, contentTags: boolean): string {
  const text = argsText(
    (arg) => ` --build-arg ${shellWord(`${arg.name}=${arg.value}`)}`,
    (arg, from, part) => ` --build-arg ${contentTags ? withBase(`${arg.name}=${arg.value}`, from, part) : shellWord(`${arg.name}=${arg.value}`)}`,
  );
  return text(image, base);
}

function withBase(text: string, base: ImageNode, part: BasePart | undefined): string {
  const name = text.slice(0, text.indexOf("=") + 1);
  if (part === "repository") return shellWord(`${name}${base.repository}`);
  if (part === "tag") return `${shellWord(name)}"\${base##*:}"`;
  return text
    .split(base.reference)
    .map((piece) => (piece === "" ? "" : shellWord(piece)))
    .join('"$base"');
}

/**
 * The aliases that name build-time values, and the lines that find those values (only
 * in a publishing pipeline): the date the pipeline was created (ci.created, UTC: one date
 * for every job), the commit (ci.commit), the branch (ci.branch, read as data and made a
 * tag by core's rule).
 */
function buildTimeLines(image: ImageNode, ci: CiVariables): { define: string[] } {
  const { buildTime } = splitAliases(image);
  if (buildTime.length === 0) return { define: [] };
  const named = valuesNamed([image]);
  const rooms = new Set(buildTime.flatMap((alias) => buildTimeParts(alias).flatMap((part) => (typeof part !== "string" && part.value === "branch" ? [part.length] : []))));
  const fail = (what: string, why: string) => `{ echo "error: ${what} is unknown (${why}): the aliases that name it are not pushed" >&2; exit 2; }`;
  return {
    define: [
      ...(named.has("date") ? [`build_date=$(printf '%s' "\${${ci.created}:-$(date -u +%Y-%m-%d)}" | cut -c1-10 | tr -d -)`] : []),
      ...(named.has("commit") || named.has("short_commit") ? [`commit="\${${ci.commit}:-}"`, `[ -n "$commit" ] || ${fail("the commit", `${ci.commit} is empty`)}`] : []),
      ...(named.has("short_commit") ? [`short_commit=$(${cutCommand('"$commit"', SHORT_COMMIT_LENGTH)})`] : []),
      ...(named.has("branch") ? [`branch=$(${branchTagCommand(`"\${${ci.branch}:-}"`)})`, `[ -n "$branch" ] || ${fail("the branch", `${ci.branch} is empty: ${ci.branchSetBy}`)}`] : []),
      ...[...rooms].map((room) => `branch_${room}=$(${cutCommand('"$branch"', room)})`),
    ],
  };
}

/** Each build-time alias as a shell word, once buildTimeLines ran: the tag's text needs no quoting (core/graph.ts). */
function buildTimeWords(image: ImageNode): string[] {
  const variable = { date: "build_date", commit: "commit", short_commit: "short_commit" } as const;
  return splitAliases(image).buildTime.map((alias) => `${image.repository}:${renderAlias(alias, (text) => text, (part) => (part.value === "branch" ? `"\${branch_${part.length}}"` : `"\${${variable[part.value]}}"`))}`);
}
