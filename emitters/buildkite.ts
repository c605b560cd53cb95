// Buildkite: `.buildkite/pipeline.yml`, for `buildkite-agent pipeline upload
// --no-interpolation`, a command step per image. With content tags (the default) a first
// step, `resolve`, runs `caliban-images resolve` in the checkout (as GitLab's resolve job
// does: ci-job.ts) and uploads `.caliban-images/resolved` as an artifact; each image's
// step `depends_on` resolve and its base's step only, so a failed image stops its
// descendants alone (Buildkite does not run a step whose dependency failed), and
// downloads the artifact first. [publish] is said twice: each step's `if` (evaluated when
// the pipeline is uploaded) keeps a build on another branch from running any step, and
// each step's prelude sets $CALIBAN_PUSH from Buildkite's variables, so that a pull
// request's build (BUILDKITE_PULL_REQUEST is its number, else "false") builds and tests
// without pushing even when its branch is a publishing one. A last step pushes the shared
// tags.
//
// Why --no-interpolation: by default the agent expands $NAME and ${NAME} in the whole file
// when it uploads it, with the uploading job's environment, and it has no escape for a
// backslash before a '$' (the install script's `\$`, a user's value holding one). Without
// interpolation every value reaches the shell as written; each step first checks that it
// did (a '$$' left whole), and stops with the fix when it did not.
//
// Past `max-steps` (500, what one upload takes) the images are split into runs in level
// order (image-runs.ts): the first file holds the first run and a step, `upload-parts`,
// that uploads the others (.buildkite/pipeline-02.yml, ...) in order, so that every
// `depends_on` names a step already in the build. A base built by an earlier run is
// depended on all the same: a build's steps share one set of keys.
//
// Runner labels are not read: Buildkite sends a step to an agent by `agents` tags, each a
// key=value pair (`queue=builders`), which a family's GitHub-style labels (`ubuntu-latest`,
// `gpu`) do not name. The `queue` option puts every step on one queue.

import { branchFilter } from "../core/branch-patterns.ts";
import { CalibanError } from "../core/errors.ts";
import { imagesById, imageTimeout, sharedTags, type BuildGraph, type ImageNode } from "../core/graph.ts";
import { imageRuns, partNumber, writtenInto } from "./image-runs.ts";
import { inDirectory } from "./input-paths.ts";
import { BUILDKITE_LOCK_OPTIONS, BUILDKITE_LOCK_STEP, buildkiteLockCommands } from "./buildkite-lock-step.ts";
import { imageScript, installCommands, preludeItem, resolveCommands, RESOLVED_FILE, sharedTagsScript, type CiVariables, type JobPrelude } from "./ci-job.ts";
import type { EmitContext, Emitter, OptionSpec } from "./contract.ts";
import { INSTALL_OPTIONS, type InstallOptions } from "./github-install.ts";
import { yamlLines, type YamlMap } from "./gitlab-yaml.ts";
import { checkInternalImages } from "./image-policy.ts";
import { loginRegistry } from "./login-registry.ts";
import { CONTENT_TAGS_OPTION, hasLockJob, outputPathProblem, variableNameProblem } from "./options.ts";
import { commentText, shellWord } from "./quoting.ts";
import { writtenText, type TextWriter } from "./text.ts";
import { secretsHeader } from "./secrets.ts";
import { refuseSigning, SIGN_REVISION, signShellFunctions } from "./signing.ts";
import { cosignInstallCommands } from "./cosign-install.ts";
import { matrixNamed } from "./context.ts";

export const RESOLVE_STEP = "resolve";
export const SHARED_TAGS_STEP = "shared-tags";
export const UPLOAD_STEP = "upload-parts";
/** Steps in one upload: Buildkite takes at most 500 (docs: buildkite-agent pipeline upload; an organization's job limit is 500 too). */
export const MAX_BUILDKITE_STEPS = 500;
/** A step's key (Buildkite's pipeline schema): at most 100 of these characters, and not a UUID. */
const STEP_KEY = /^[a-zA-Z0-9_\-:${}.,]{1,100}$/;
const UUID = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;

/** Buildkite's variables the step scripts read. BUILDKITE_BUILD_CREATED_AT is when the build was created, UTC. */
const BUILDKITE_VARIABLES: CiVariables = { commit: "BUILDKITE_COMMIT", branch: "BUILDKITE_BRANCH", branchSetBy: "a build for a branch sets it", created: "BUILDKITE_BUILD_CREATED_AT" };

/** An agent tag's value, as the agent takes one on its command line (`--tags queue=VALUE`). */
const queueName = (value: unknown) => (String(value) === "" || /^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(String(value)) ? undefined : `"${value}" is not a queue name (letters, digits, '.', '_' and '-')`);

export interface BuildkiteOptions extends InstallOptions, Record<string, string | number | boolean> {
  output: string;
  "max-steps": number;
  directory: string;
  "content-tags": boolean;
  "registry-user-variable": string;
  "registry-password-variable": string;
  queue: string;
  "lock-token-variable": string;
}

export const buildkite: Emitter<BuildkiteOptions> = {
  name: "buildkite",
  description: "Buildkite pipeline: a resolve step, then a step per image depending on its base's, [publish] as each step's if",
  options: {
    output: { type: "string", default: ".buildkite/pipeline.yml", description: "file name, when -o names a directory", check: outputPathProblem },
    "content-tags": CONTENT_TAGS_OPTION,
    ...INSTALL_OPTIONS,
    "registry-user-variable": { type: "string", default: "REGISTRY_USER", description: "the environment variable holding the registry user (set by an agent hook or a secret)", check: variableNameProblem },
    "registry-password-variable": { type: "string", default: "REGISTRY_PASSWORD", description: "the environment variable holding its password or token; no login when it is empty", check: variableNameProblem },
    "max-steps": {
      type: "number",
      default: MAX_BUILDKITE_STEPS,
      description: "most steps in one file; more images go to further files, which the first uploads (-o then names a folder)",
      check: (value) => (Number.isInteger(value) && Number(value) >= 4 && Number(value) <= MAX_BUILDKITE_STEPS ? undefined : `must be a whole number from 4 to ${MAX_BUILDKITE_STEPS}, what one upload takes`),
    },
    directory: {
      type: "string",
      default: "",
      description: "the folder -o writes into, from the repository's root: where the upload step finds the further files; empty: the root",
      check: (value) => (value === "" ? undefined : outputPathProblem(value)),
    },
    ...BUILDKITE_LOCK_OPTIONS,
    queue: { type: "string", default: "", description: "the agent queue every step runs on (agents: queue=...); empty: the pipeline's default queue. A family's runner labels are not read", check: queueName },
  } satisfies Record<string, OptionSpec>,
  emit(graph, options, context) {
    if (!options["content-tags"]) refuseSigning(graph, "buildkite", "with content-tags=false no inputs digest is pushed to bind a signature to", "leave content-tags on (the default) to sign");
    checkInternalImages(graph, "buildkite", options["content-tags"]);
    checkSteps(graph);
    const registry = loginRegistry(graph, "buildkite", "push the other registry's images with another pipeline");
    const parts = pipelineParts(graph, options);
    return parts.map((part) => ({ path: part.path, contents: writtenText((out) => writePipeline(out, graph, options, context, registry, part, parts)) }));
  },
};

/** A file of the pipeline: its path (from the -o folder) and the images it builds. */
interface PipelinePart {
  readonly path: string;
  readonly images: readonly ImageNode[];
}

/** One file while the graph fits in `max-steps`; else runs of images in level order, each file at most max-steps steps. */
function pipelineParts(graph: BuildGraph, options: BuildkiteOptions): PipelinePart[] {
  const own = (options["content-tags"] ? 1 : 0) + (sharedTags(graph).length > 0 ? 1 : 0) + (hasLockJob(graph) ? 1 : 0);
  if (graph.images.length + own <= options["max-steps"]) return [{ path: options.output, images: graph.images }];
  // The upload step too, in the first file.
  const runs = imageRuns(graph, options["max-steps"] - own - 1);
  const stem = options.output.replace(/\.ya?ml$/, "");
  return runs.map((images, index) => ({ path: index === 0 ? options.output : `${stem}-${partNumber(index + 1, runs.length)}.yml`, images }));
}

function* writePipeline(out: TextWriter, graph: BuildGraph, options: BuildkiteOptions, context: EmitContext, registry: string, part: PipelinePart, parts: readonly PipelinePart[]): Generator<string> {
  const contentTags = options["content-tags"];
  const first = part === parts[0];
  const last = part === parts.at(-1);
  const publish = graph.publish;
  out.lines([
    `# Generated by caliban-images from ${commentText(matrixNamed(context))}; regenerate with \`caliban-images emit buildkite\`.`,
    `# caliban-images shape: ${context.shape}`,
    "#",
    "# Upload it with `buildkite-agent pipeline upload --no-interpolation` (or BUILDKITE_PIPELINE_NO_INTERPOLATION=true):",
    "# its scripts are written for the shell, not for the agent's $VARIABLE interpolation.",
    `# Builds of ${publish.branches.join(", ")} publish${publish.pullRequests ? "; a pull request's build builds and tests, pushing nothing" : ""}; other builds run no step.`,
    ...(publish.schedule ? [`# [publish] schedule "${commentText(publish.schedule)}" (UTC): create a pipeline schedule with it for a publishing branch (Pipeline Settings > Schedules).`] : []),
    ...(hasLockJob(graph) ? [`# A schedule's build also runs ${BUILDKITE_LOCK_STEP}: a moved upstream digest goes to a pull request on GitHub, pushed with the token in the environment variable ${options["lock-token-variable"]}.`] : []),
    contentTags ? "# An image whose inputs digest the registry has is not rebuilt; its tags are pointed at it." : "# Every image is built and pushed under its tags.",
    "# $DOCKER (an agent environment variable) names the engine: docker by default, or podman.",
    ...secretsHeader(graph, "the agent's environment (an environment hook, or Buildkite secrets)", "A pull request's build"),
    ...(parts.length === 1 ? [] : first ? [`# The ${graph.images.length} images are in ${parts.length} files of at most ${options["max-steps"]} steps (max-steps): this one's ${UPLOAD_STEP} step uploads the others.`] : [`# Part ${parts.indexOf(part) + 1} of ${parts.length}: uploaded by ${commentText(options.output)}'s ${UPLOAD_STEP} step.`]),
    "",
  ]);
  const when = stepCondition(graph);
  const prelude = preludeItem(stepPrelude(graph, registry, options), contentTags);
  const download = contentTags ? [`buildkite-agent artifact download --step ${RESOLVE_STEP} ${RESOLVED_FILE} .`] : [];
  if (options.queue !== "") out.lines(yamlLines({ agents: { queue: options.queue } }));
  out.line("steps:");
  // One step at a time, as an item of `steps:` (the file is written in chunks).
  const step = (map: YamlMap) => out.lines(yamlLines({ steps: [map] }).slice(1));
  if (first && hasLockJob(graph)) {
    // A schedule's build of a publishing branch: beside the images, which build with the lock as committed.
    step({
      label: BUILDKITE_LOCK_STEP,
      key: BUILDKITE_LOCK_STEP,
      if: `build.source == "schedule" && build.branch ${branchMatch(graph)}`,
      command: [prelude, ...installCommands(options), ...buildkiteLockCommands(graph, inDirectory(options.directory, options.output), options["lock-token-variable"], context)].join("\n"),
    });
  }
  if (contentTags && first) {
    step({
      label: RESOLVE_STEP,
      key: RESOLVE_STEP,
      if: when,
      // Split, a stale pipeline is named by the folder -o wrote it into (`emit buildkite -o FOLDER/` writes it again).
      command: [prelude, ...resolveCommands(graph, parts.length > 1 ? { ...options, output: writtenInto(options.directory) } : options, context), `buildkite-agent artifact upload ${RESOLVED_FILE}`].join("\n"),
    });
  }
  if (first && parts.length > 1) {
    step({
      label: UPLOAD_STEP,
      key: UPLOAD_STEP,
      if: when,
      // In order: each file's steps depend on steps of the files before it, already in the build.
      command: [prelude, ...parts.slice(1).map((later) => `buildkite-agent pipeline upload --no-interpolation ${shellWord(inDirectory(options.directory, later.path))}`)].join("\n"),
    });
  }
  const byId = imagesById(graph);
  const families = new Map(graph.families.map((family) => [family.name, family]));
  for (const image of part.images) {
    const base = image.from === null ? undefined : byId.get(image.from)!;
    const timeout = imageTimeout(families.get(image.family)!, image);
    step({
      label: image.id,
      key: image.id,
      depends_on: [...(contentTags ? [RESOLVE_STEP] : []), ...(base === undefined ? [] : [base.id])],
      if: when,
      ...(timeout === null ? {} : { timeout_in_minutes: timeout }),
      command: [prelude, ...download, ...imageScript(graph, image, base, contentTags, BUILDKITE_VARIABLES)].join("\n"),
    });
    if (out.hasChunk()) yield out.take();
  }
  const shared = last ? sharedTags(graph) : [];
  if (shared.length > 0) {
    const images = [...new Set(shared.flatMap((tag) => tag.images.map((image: ImageNode) => image.id)))];
    step({
      label: SHARED_TAGS_STEP,
      key: SHARED_TAGS_STEP,
      depends_on: [...(contentTags ? [RESOLVE_STEP] : []), ...images],
      if: when,
      command: [prelude, ...download, ...sharedTagsScript(graph, contentTags)].join("\n"),
    });
  }
}

/**
 * Each step's `if`, evaluated when the pipeline is uploaded: a build of a publishing branch
 * (a push, a schedule, a manual build), and with [publish] pull_requests any pull
 * request's build. The branches as one regular expression (`=~`, written /.../: a '/' in
 * it is escaped), as GitLab's workflow:rules and Cloud Build's triggers take them.
 */
function stepCondition(graph: BuildGraph): string {
  const branches = `build.branch ${branchMatch(graph)}`;
  return graph.publish.pullRequests ? `build.pull_request.id != null || ${branches}` : `build.pull_request.id == null && ${branches}`;
}

function branchMatch(graph: BuildGraph): string {
  const filter = branchFilter(graph.publish.branches);
  return `${filter.invertRegex ? "!~" : "=~"} /${filter.regex.replace(/\\.|\//g, (match) => (match === "/" ? "\\/" : match))}/`;
}

/**
 * What every step runs first: the check that the agent did not interpolate the file, the
 * engine ($DOCKER, docker when unset), and whether this build publishes: a build that is
 * not a pull request's, of a [publish] branch (the same expression as the steps' `if`, as
 * grep -E reads it; a branch name holds no newline). Then the login: the variables the
 * options name; none without a password.
 */
function stepPrelude(graph: BuildGraph, registry: string, options: BuildkiteOptions): JobPrelude {
  const filter = branchFilter(graph.publish.branches);
  const user = options["registry-user-variable"];
  const password = options["registry-password-variable"];
  return {
    signing: signShellFunctions(graph, cosignInstallCommands(options), SIGN_REVISION.buildkite),
    setup: [
      "uploaded='$$'",
      `case "$uploaded" in '$'?) ;; *) echo "error: the agent interpolated this pipeline's variables: upload it with buildkite-agent pipeline upload --no-interpolation" >&2; exit 2 ;; esac`,
      ': "${DOCKER:=docker}"',
      // Exported, as GitLab's CI/CD variable of the same name is.
      "export CALIBAN_PUSH=false",
      `if [ "\${BUILDKITE_PULL_REQUEST:-false}" = false ] && printf '%s\\n' "\${BUILDKITE_BRANCH:-}" | grep -Eq${filter.invertRegex ? "v" : ""} ${shellWord(filter.regex)}; then CALIBAN_PUSH=true; fi`,
    ],
    login: [
      "registry_login() {",
      `  if [ -n "\${${password}:-}" ]; then`,
      `    printf '%s\\n' "$${password}" | retry "$DOCKER" login -u "\${${user}:-}" --password-stdin ${shellWord(registry)}`,
      "  fi",
      "}",
    ],
  };
}

/** Refuses an image id that is no step key, or is this file's own step's. */
function checkSteps(graph: BuildGraph): void {
  const own = new Set([RESOLVE_STEP, SHARED_TAGS_STEP, UPLOAD_STEP, BUILDKITE_LOCK_STEP]);
  const clashing = graph.images.filter((image) => !STEP_KEY.test(image.id) || UUID.test(image.id) || own.has(image.id));
  if (clashing.length > 0) {
    throw new CalibanError(
      clashing.map((image) => ({ code: "EMITTER", message: `emit buildkite: image ${image.id}'s step key would be "${image.id}", which is ${own.has(image.id) ? "this pipeline's own step" : "not a Buildkite step key (at most 100 letters, digits and _-:.,, not a UUID)"}`, hint: "give the image another tag" })),
    );
  }
}
