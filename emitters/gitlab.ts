// GitLab CI: `.gitlab-ci.yml`, a job per image. With content tags (the default) a first
// job, `resolve`, runs `caliban-images resolve` in the checkout: it stops the pipeline
// when the matrix no longer gives the graph this file was emitted for, reads every
// image's inputs digest from the tree (an edited Dockerfile needs no new file) and asks
// the registry which content references it has, leaving `ID HEX [present]` lines as an
// artifact (ci-job.ts reads them). Each image's job `needs` resolve and its base's
// job only, so a failed image stops its descendants alone; stages follow the graph's
// levels. `workflow:rules` say when a pipeline runs and whether it publishes
// ($CALIBAN_PUSH): a push (or a schedule, or a manual run) on a [publish] branch
// publishes, a merge request's pipeline builds and tests without pushing, anything else
// runs no pipeline. A final job pushes the shared tags. Past `max-jobs` the image jobs go
// to child pipelines, run one after another (gitlab-parts.ts).

import { CalibanError } from "../core/errors.ts";
import { branchFilter } from "../core/branch-patterns.ts";
import { imageRunner, imagesById, imageTimeout, sharedTags, type BuildGraph, type FamilyNode, type ImageNode } from "../core/graph.ts";
import type { EmitContext, Emitter, OptionSpec } from "./contract.ts";
import { INSTALL_OPTIONS, type InstallOptions } from "./github-install.ts";
import { childWorkflowRules, pipelineParts, triggerJob, triggerJobName, type PipelinePart } from "./gitlab-parts.ts";
import { writtenInto } from "./image-runs.ts";
import { imageScript, installCommands, preludeItem, resolveCommands, sharedTagsScript, type CiVariables, type JobPrelude } from "./ci-job.ts";
import { GITLAB_LOCK_JOB, GITLAB_LOCK_OPTIONS, gitlabLockJob } from "./gitlab-lock-job.ts";
import { yamlLines, type YamlMap, type YamlValue } from "./gitlab-yaml.ts";
import { checkInternalImages } from "./image-policy.ts";
import { loginRegistry } from "./login-registry.ts";
import { CONTENT_TAGS_OPTION, hasLockJob, outputPathProblem, variableNameProblem } from "./options.ts";
import { commentText, shellWord } from "./quoting.ts";
import { writtenText, type TextWriter } from "./text.ts";
import { secretsHeader } from "./secrets.ts";
import { refuseSigning, signShellFunctions } from "./signing.ts";
import { cosignInstallCommands } from "./cosign-install.ts";
import { matrixNamed } from "./context.ts";

/**
 * Jobs in one pipeline, by default (the `max-jobs` option): past it the images go to child
 * pipelines (gitlab-parts.ts). GitLab.com's Free tier runs at most 500 jobs in a project's
 * active pipelines, and a pipeline this large is slow to show and to plan.
 */
export const MAX_GITLAB_JOBS = 500;
/** GitLab's limit on `needs` per job. */
export const MAX_NEEDS = 50;

export const RESOLVE_JOB = "resolve";
export const SHARED_TAGS_JOB = "shared-tags";

/** GitLab's predefined variables the job scripts read. */
const GITLAB_VARIABLES: CiVariables = { commit: "CI_COMMIT_SHA", branch: "CI_COMMIT_BRANCH", branchSetBy: "a pipeline for a branch sets it", created: "CI_PIPELINE_CREATED_AT" };

/** Names a job cannot have: GitLab's global keywords, and this file's own jobs. */
const RESERVED = new Set(["default", "include", "stages", "variables", "workflow", "image", "services", "cache", "before_script", "after_script", "types", "pages", RESOLVE_JOB, SHARED_TAGS_JOB, GITLAB_LOCK_JOB]);


export interface GitlabOptions extends InstallOptions, Record<string, string | number | boolean> {
  output: string;
  "content-tags": boolean;
  image: string;
  "docker-service": string;
  "registry-user-variable": string;
  "registry-password-variable": string;
  "runner-tags": boolean;
  "lock-token-variable": string;
  "max-jobs": number;
  directory: string;
}

/** Labels of GitHub's hosted runners (ubuntu-24.04, windows-2022, macos-14, ...-arm), which no GitLab runner has unless given them. */
const GITHUB_HOSTED = /^(?:ubuntu|windows|macos)-/;

export const gitlab: Emitter<GitlabOptions> = {
  name: "gitlab",
  description: "GitLab CI pipeline: a resolve job, then a job per image needing its base's, [publish] as workflow:rules",
  options: {
    output: { type: "string", default: ".gitlab-ci.yml", description: "file name, when -o names a directory", check: outputPathProblem },
    "content-tags": CONTENT_TAGS_OPTION,
    ...INSTALL_OPTIONS,
    image: { type: "string", default: "", description: "the image every job runs in (docker executor; it needs docker, and buildx for platforms, cache or attestations); empty: the runner's (shell executor)" },
    "docker-service": { type: "string", default: "", description: "a service every job gets, e.g. docker:27-dind with image=docker:27; empty: none" },
    "registry-user-variable": { type: "string", default: "REGISTRY_USER", description: "the CI/CD variable holding the registry user, for a registry that is not $CI_REGISTRY (GitLab's own logs in with CI_REGISTRY_USER)", check: variableNameProblem },
    "registry-password-variable": { type: "string", default: "REGISTRY_PASSWORD", description: "the CI/CD variable holding its password or token (masked); no login when it is empty", check: variableNameProblem },
    ...GITLAB_LOCK_OPTIONS,
    "max-jobs": {
      type: "number",
      default: MAX_GITLAB_JOBS,
      description: "most jobs in one pipeline; more images go to child pipelines, one after another (-o then names a folder)",
      check: (value) => (Number.isInteger(value) && Number(value) >= 3 ? undefined : "must be a whole number, at least 3 (a resolve job, an image, the shared tags)"),
    },
    directory: {
      type: "string",
      default: "",
      description: "the folder -o writes into, from the repository's root: where the parent's include: local finds the child pipelines; empty: the root",
      check: (value) => (value === "" ? undefined : outputPathProblem(value)),
    },
    "runner-tags": { type: "boolean", default: true, description: "a family's runner labels become its jobs' tags (a runner must have them all, as GitHub's runs-on reads them); false: no tags, any runner" },
  } satisfies Record<string, OptionSpec>,
  emit(graph, options, context) {
    if (!options["content-tags"]) refuseSigning(graph, "gitlab", "with content-tags=false no inputs digest is pushed to bind a signature to", "leave content-tags on (the default) to sign");
    checkInternalImages(graph, "gitlab", options["content-tags"]);
    checkJobNames(graph);
    const registry = loginRegistry(graph, "gitlab", "push the other registry's images with another pipeline");
    if (options["runner-tags"]) for (const warning of hostedRunnerWarnings(graph)) context.warn(warning);
    const parts = pipelineParts(graph, options.output, options["max-jobs"], { resolve: options["content-tags"], sharedTags: sharedTags(graph).length > 0 });
    if (parts === undefined) return [{ path: options.output, contents: writtenText((out) => writePipeline(out, graph, options, context, registry, undefined)) }];
    if (parts.length + (hasLockJob(graph) ? 1 : 0) > options["max-jobs"]) {
      throw new CalibanError({
        code: "LIMIT",
        message: `emit gitlab: ${graph.images.length} images would need ${parts.length} child pipelines, more than the parent's ${options["max-jobs"]} jobs (max-jobs)`,
        hint: "raise [emit.gitlab] max-jobs to what your instance allows, or split the matrix into several",
      });
    }
    return [
      { path: options.output, contents: writtenText((out) => writeParent(out, graph, options, context, registry, parts)) },
      ...parts.map((part) => ({ path: part.path, contents: writtenText((out) => writePipeline(out, graph, options, context, registry, part)) })),
    ];
  },
};

/** The header of each file: what made it, its shape, and when it publishes. */
function headerLines(graph: BuildGraph, options: GitlabOptions, context: EmitContext, child = false): string[] {
  const publish = graph.publish;
  return [
    `# Generated by caliban-images from ${commentText(matrixNamed(context))}; regenerate with \`caliban-images emit gitlab\`.`,
    `# caliban-images shape: ${context.shape}`,
    "#",
    `# Pushes to ${publish.branches.join(", ")} publish${publish.pullRequests ? "; a merge request's pipeline builds and tests, pushing nothing" : ""}; other pipelines do not run.`,
    ...(publish.schedule ? [`# [publish] schedule "${commentText(publish.schedule)}" (UTC): create a pipeline schedule with it for a publishing branch (CI/CD > Schedules).`] : []),
    ...(hasLockJob(graph) && !child ? [`# A schedule's pipeline also runs ${GITLAB_LOCK_JOB}: a moved upstream digest goes to a merge request, pushed with the token in the CI/CD variable ${options["lock-token-variable"]}.`] : []),
    options["content-tags"] ? "# An image whose inputs digest the registry has is not rebuilt; its tags are pointed at it." : "# Every image is built and pushed under its tags.",
    "# $DOCKER (a CI/CD variable) names the engine: docker by default, or podman.",
    ...secretsHeader(graph, "the project's CI/CD variables (masked, and protected: only the protected publishing branches get them)", "A merge request's pipeline"),
  ];
}

/** The engine, and whether the pipeline publishes (workflow:rules set it). */
const PIPELINE_VARIABLES = { DOCKER: "docker", CALIBAN_PUSH: "false" };

/** The parent of a split pipeline: its rules, the lock job, and a job per child pipeline, one after another. */
function* writeParent(out: TextWriter, graph: BuildGraph, options: GitlabOptions, context: EmitContext, registry: string, parts: readonly PipelinePart[]): Generator<string> {
  out.lines([
    ...headerLines(graph, options, context),
    `# The ${graph.images.length} images are built by ${parts.length} child pipelines of at most ${options["max-jobs"]} jobs (max-jobs), in ${parts[0]!.path.slice(0, parts[0]!.path.lastIndexOf("/") + 1)}, one after another: a failed one stops the later ones.`,
    "",
  ]);
  const lock = hasLockJob(graph);
  out.lines(
    yamlLines({
      workflow: { rules: workflowRules(graph) },
      variables: PIPELINE_VARIABLES,
      stages: parts.map(triggerJobName),
      // The lock job's script starts with the same functions as every job's (registry_login).
      ...(lock ? { default: defaultSettings(options, preludeItem(loginPrelude(graph, registry, options), options["content-tags"])) } : {}),
    }),
  );
  out.line("");
  if (lock) {
    out.lines(yamlLines({ [GITLAB_LOCK_JOB]: gitlabLockJob(graph, options.output, options["lock-token-variable"], context, installCommands(options)) }));
    out.line("");
  }
  for (const part of parts) {
    out.lines(yamlLines({ [triggerJobName(part)]: triggerJob(part, options.directory) }));
    out.line("");
  }
  yield out.take();
}

/** `default:`: the image and service every job runs with, and the functions every job's script starts with (ci-job.ts). */
function defaultSettings(options: GitlabOptions, prelude: YamlValue): YamlMap {
  return {
    ...(options.image === "" ? {} : { image: options.image }),
    ...(options["docker-service"] === "" ? {} : { services: [options["docker-service"]] }),
    before_script: [prelude],
  };
}

/** The whole pipeline, or (`part`) one child pipeline of a split one. */
function* writePipeline(out: TextWriter, graph: BuildGraph, options: GitlabOptions, context: EmitContext, registry: string, part: PipelinePart | undefined): Generator<string> {
  const contentTags = options["content-tags"];
  const images = part === undefined ? graph.images : part.images;
  const last = part === undefined || part.index === part.count - 1;
  out.lines([
    ...headerLines(graph, options, context, part !== undefined),
    ...(part === undefined ? [] : [`# Child pipeline ${part.index + 1} of ${part.count}, triggered by ${commentText(options.output)}: ${images.length} images.`]),
    "",
  ]);
  const levels = [...new Set(images.map((image) => image.level))].sort((a, b) => a - b);
  const shared = last ? sharedTags(graph) : [];
  const lock = part === undefined && hasLockJob(graph);
  const top: YamlMap = {
    workflow: { rules: part === undefined ? workflowRules(graph) : childWorkflowRules() },
    variables: PIPELINE_VARIABLES,
    stages: [...(contentTags ? [RESOLVE_JOB] : []), ...levels.map((level) => `level-${level}`), ...(shared.length > 0 ? [SHARED_TAGS_JOB] : [])],
    // Every job's script starts with the same functions (ci-job.ts), run in its shell before it.
    default: defaultSettings(options, preludeItem(loginPrelude(graph, registry, options), contentTags)),
  };
  out.lines(yamlLines(top));
  out.line("");
  if (lock) {
    out.lines(yamlLines({ [GITLAB_LOCK_JOB]: gitlabLockJob(graph, options.output, options["lock-token-variable"], context, installCommands(options)) }));
    out.line("");
  }
  if (contentTags) {
    out.lines(yamlLines({ [RESOLVE_JOB]: resolveJob(graph, options, context, part !== undefined) }));
    out.line("");
  }
  const byId = imagesById(graph);
  // A base built by an earlier child is in the registry (or this runner's engine) by then: it is no job of this file.
  const here = part === undefined ? undefined : new Set(images.map((image) => image.id));
  const families = new Map(graph.families.map((family) => [family.name, family]));
  for (const image of images) {
    const base = image.from === null ? undefined : byId.get(image.from)!;
    const needsBase = base !== undefined && (here === undefined || here.has(base.id));
    out.lines(yamlLines({ [image.id]: imageJob(graph, image, base, needsBase, families.get(image.family)!, contentTags, options["runner-tags"]) }));
    out.line("");
    if (out.hasChunk()) yield out.take();
  }
  if (shared.length > 0) out.lines(yamlLines({ [SHARED_TAGS_JOB]: sharedTagsJob(graph, contentTags, here) }));
}

/**
 * workflow:rules: a merge request's pipeline (with [publish] pull_requests) runs and pushes
 * nothing; a pipeline on a publishing branch (a push, a schedule, a manual run) publishes;
 * no other pipeline is created. The branches as one RE2 expression (GitLab's `=~`), as
 * Cloud Build's triggers take them.
 */
function workflowRules(graph: BuildGraph): YamlValue[] {
  const filter = branchFilter(graph.publish.branches);
  // GitLab's pattern is written /.../: a '/' in it is escaped.
  const regex = filter.regex.replace(/\\.|\//g, (match) => (match === "/" ? "\\/" : match));
  return [
    ...(graph.publish.pullRequests ? [{ if: '$CI_PIPELINE_SOURCE == "merge_request_event"', variables: { CALIBAN_PUSH: "false" } }] : []),
    { if: `$CI_PIPELINE_SOURCE != "merge_request_event" && $CI_COMMIT_BRANCH ${filter.invertRegex ? "!~" : "=~"} /${regex}/`, variables: { CALIBAN_PUSH: "true" } },
  ];
}

/** The login every job runs first: $CI_REGISTRY's own credentials for GitLab's registry, else the variables the options name; none without a password. */
function loginPrelude(graph: BuildGraph, registry: string, options: GitlabOptions): JobPrelude {
  const user = options["registry-user-variable"];
  const password = options["registry-password-variable"];
  return {
    signing: signShellFunctions(graph, cosignInstallCommands(options), `"\${${GITLAB_VARIABLES.commit}:-}"`),
    login: [
      "registry_login() {",
      `  if [ ${shellWord(registry)} = "\${CI_REGISTRY:-}" ] && [ -n "\${CI_REGISTRY_PASSWORD:-}" ]; then`,
      `    printf '%s\\n' "$CI_REGISTRY_PASSWORD" | retry "$DOCKER" login -u "$CI_REGISTRY_USER" --password-stdin ${shellWord(registry)}`,
      `  elif [ -n "\${${password}:-}" ]; then`,
      `    printf '%s\\n' "$${password}" | retry "$DOCKER" login -u "\${${user}:-}" --password-stdin ${shellWord(registry)}`,
      "  fi",
      "}",
    ],
  };
}

/** The resolve job; in a child pipeline, a stale file is named by the folder -o wrote the pipeline into (`emit gitlab -o FOLDER/` writes it again). */
function resolveJob(graph: BuildGraph, options: GitlabOptions, context: EmitContext, split: boolean): YamlMap {
  return {
    stage: RESOLVE_JOB,
    script: resolveCommands(graph, split ? { ...options, output: writtenInto(options.directory) } : options, context),
    artifacts: { paths: [".caliban-images/"], expire_in: "1 week" },
  };
}

function imageJob(graph: BuildGraph, image: ImageNode, base: ImageNode | undefined, needsBase: boolean, family: FamilyNode, contentTags: boolean, runnerTags: boolean): YamlMap {
  const timeout = imageTimeout(family, image);
  const runner = runnerTags ? imageRunner(family, image) : null;
  return {
    stage: `level-${image.level}`,
    needs: [...(contentTags ? [RESOLVE_JOB] : []), ...(needsBase ? [base!.id] : [])],
    // A job runs on a runner that has every one of its tags, as a GitHub job on one with every runs-on label.
    ...(runner === null ? {} : { tags: [...runner] }),
    ...(timeout === null ? {} : { timeout: `${timeout} minutes` }),
    ...keylessToken(graph),
    script: imageScript(graph, image, base, contentTags, GITLAB_VARIABLES),
  };
}

/**
 * The shared tags: each one manifest list over its images, as this pipeline pushed them (or
 * found them), once every job it needs succeeded (a failed image leaves the tag as it was).
 * Past GitLab's 50 needs it waits for the earlier stages instead. In the last child of a
 * split pipeline it needs the images of that file (`here`); the earlier children are done.
 */
function sharedTagsJob(graph: BuildGraph, contentTags: boolean, here: ReadonlySet<string> | undefined): YamlMap {
  const shared = sharedTags(graph);
  const images = [...new Set(shared.flatMap((tag) => tag.images.map((image) => image.id)))].filter((id) => here === undefined || here.has(id));
  const needs = [...(contentTags ? [RESOLVE_JOB] : []), ...images];
  return {
    stage: SHARED_TAGS_JOB,
    ...(needs.length <= MAX_NEEDS ? { needs } : contentTags ? { dependencies: [RESOLVE_JOB] } : {}),
    ...keylessToken(graph),
    script: sharedTagsScript(graph, contentTags),
  };
}

/** With keyless [sign], a job that signs gets GitLab's OIDC token for Sigstore, which cosign reads from SIGSTORE_ID_TOKEN. */
function keylessToken(graph: BuildGraph): YamlMap {
  return graph.sign === undefined || "key" in graph.sign ? {} : { id_tokens: { SIGSTORE_ID_TOKEN: { aud: "sigstore" } } };
}

/** Refuses an image whose job would be named as GitLab's keywords or this file's own jobs. */
function checkJobNames(graph: BuildGraph): void {
  const clashing = graph.images.filter((image) => RESERVED.has(image.id) || /^images-\d+$/.test(image.id));
  if (clashing.length > 0) {
    throw new CalibanError(
      clashing.map((image) => ({ code: "EMITTER", message: `emit gitlab: image ${image.id}'s job would be named "${image.id}", which GitLab reads as a keyword or this pipeline's own job`, hint: "give the image another tag" })),
    );
  }
}

/** One warning per family whose runner names GitHub's hosted runners: its GitLab jobs would wait for a runner with those tags. */
function hostedRunnerWarnings(graph: BuildGraph): string[] {
  const families = new Map(graph.families.map((family) => [family.name, family]));
  const hosted = new Map<string, Set<string>>();
  for (const image of graph.images) {
    for (const label of imageRunner(families.get(image.family)!, image) ?? []) {
      if (GITHUB_HOSTED.test(label)) hosted.set(image.family, (hosted.get(image.family) ?? new Set()).add(label));
    }
  }
  return [...hosted].map(([family, labels]) => `family "${family}": runner ${[...labels].join(", ")} names GitHub's hosted runners; its GitLab jobs get ${labels.size === 1 ? "that tag" : "those tags"} and wait for a runner that has ${labels.size === 1 ? "it" : "them"} (give your runners these tags, or set [emit.gitlab] runner-tags = false)`);
}
