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
// runs no pipeline. A final job pushes the shared tags.

import { CalibanError } from "../core/errors.ts";
import { branchFilter } from "../core/branch-patterns.ts";
import { imageRunner, imagesById, imageTimeout, sharedTags, stages, type BuildGraph, type FamilyNode, type ImageNode } from "../core/graph.ts";
import type { EmitContext, Emitter, OptionSpec } from "./contract.ts";
import { INSTALL_OPTIONS, type InstallOptions } from "./github-install.ts";
import { imageScript, installCommands, preludeItem, resolveCommands, sharedTagsScript, type CiVariables, type JobPrelude } from "./ci-job.ts";
import { GITLAB_LOCK_JOB, GITLAB_LOCK_OPTIONS, gitlabLockJob } from "./gitlab-lock-job.ts";
import { yamlLines, type YamlMap, type YamlValue } from "./gitlab-yaml.ts";
import { checkInternalImages } from "./image-policy.ts";
import { loginRegistry } from "./login-registry.ts";
import { CONTENT_TAGS_OPTION, hasLockJob, outputPathProblem, variableNameProblem } from "./options.ts";
import { commentText, shellWord } from "./quoting.ts";
import { writtenText, type TextWriter } from "./text.ts";

/** Jobs in one pipeline this emitter writes at most (GitLab.com's default `ci_pipeline_size` is far above; a pipeline this large is slow to show and to plan). */
export const MAX_GITLAB_JOBS = 500;
/** GitLab's limit on `needs` per job. */
export const MAX_NEEDS = 50;

export const RESOLVE_JOB = "resolve";
export const SHARED_TAGS_JOB = "shared-tags";

/** GitLab's predefined variables the job scripts read. */
const GITLAB_VARIABLES: CiVariables = { commit: "CI_COMMIT_SHA", branch: "CI_COMMIT_BRANCH", branchSetBy: "a pipeline for a branch sets it", created: "CI_PIPELINE_CREATED_AT" };

/** Names a job cannot have: GitLab's global keywords, and this file's own jobs. */
const RESERVED = new Set(["default", "include", "stages", "variables", "workflow", "image", "services", "cache", "before_script", "after_script", "types", "pages", RESOLVE_JOB, SHARED_TAGS_JOB, GITLAB_LOCK_JOB]);


export interface GitlabOptions extends InstallOptions, Record<string, string | boolean> {
  output: string;
  "content-tags": boolean;
  image: string;
  "docker-service": string;
  "registry-user-variable": string;
  "registry-password-variable": string;
  "runner-tags": boolean;
  "lock-token-variable": string;
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
    "runner-tags": { type: "boolean", default: true, description: "a family's runner labels become its jobs' tags (a runner must have them all, as GitHub's runs-on reads them); false: no tags, any runner" },
  } satisfies Record<string, OptionSpec>,
  emit(graph, options, context) {
    checkInternalImages(graph, "gitlab", options["content-tags"]);
    checkJobs(graph, options["content-tags"]);
    const registry = loginRegistry(graph, "gitlab", "push the other registry's images with another pipeline");
    if (options["runner-tags"]) for (const warning of hostedRunnerWarnings(graph)) context.warn(warning);
    return [{ path: options.output, contents: writtenText((out) => writePipeline(out, graph, options, context, registry)) }];
  },
};

function* writePipeline(out: TextWriter, graph: BuildGraph, options: GitlabOptions, context: EmitContext, registry: string): Generator<string> {
  const contentTags = options["content-tags"];
  const publish = graph.publish;
  out.lines([
    `# Generated by caliban-images from ${commentText(context.matrixFile)}; regenerate with \`caliban-images emit gitlab\`.`,
    `# caliban-images shape: ${context.shape}`,
    "#",
    `# Pushes to ${publish.branches.join(", ")} publish${publish.pullRequests ? "; a merge request's pipeline builds and tests, pushing nothing" : ""}; other pipelines do not run.`,
    ...(publish.schedule ? [`# [publish] schedule "${commentText(publish.schedule)}" (UTC): create a pipeline schedule with it for a publishing branch (CI/CD > Schedules).`] : []),
    ...(hasLockJob(graph) ? [`# A schedule's pipeline also runs ${GITLAB_LOCK_JOB}: a moved upstream digest goes to a merge request, pushed with the token in the CI/CD variable ${options["lock-token-variable"]}.`] : []),
    contentTags ? "# An image whose inputs digest the registry has is not rebuilt; its tags are pointed at it." : "# Every image is built and pushed under its tags.",
    "# $DOCKER (a CI/CD variable) names the engine: docker by default, or podman.",
    "",
  ]);
  const rules = workflowRules(graph);
  const levels = stages(graph);
  const shared = sharedTags(graph);
  const top: YamlMap = {
    workflow: { rules },
    variables: { DOCKER: "docker", CALIBAN_PUSH: "false" },
    stages: [...(contentTags ? [RESOLVE_JOB] : []), ...levels.map((_, level) => `level-${level}`), ...(shared.length > 0 ? [SHARED_TAGS_JOB] : [])],
    // Every job's script starts with the same functions (ci-job.ts), run in its shell before it.
    default: {
      ...(options.image === "" ? {} : { image: options.image }),
      ...(options["docker-service"] === "" ? {} : { services: [options["docker-service"]] }),
      before_script: [preludeItem(loginPrelude(registry, options), contentTags)],
    },
  };
  out.lines(yamlLines(top));
  out.line("");
  if (hasLockJob(graph)) {
    out.lines(yamlLines({ [GITLAB_LOCK_JOB]: gitlabLockJob(graph, options.output, options["lock-token-variable"], context, installCommands(options)) }));
    out.line("");
  }
  if (contentTags) {
    out.lines(yamlLines({ [RESOLVE_JOB]: resolveJob(graph, options, context) }));
    out.line("");
  }
  const byId = imagesById(graph);
  const families = new Map(graph.families.map((family) => [family.name, family]));
  for (const image of graph.images) {
    const base = image.from === null ? undefined : byId.get(image.from)!;
    out.lines(yamlLines({ [image.id]: imageJob(graph, image, base, families.get(image.family)!, contentTags, options["runner-tags"]) }));
    out.line("");
    if (out.hasChunk()) yield out.take();
  }
  if (shared.length > 0) out.lines(yamlLines({ [SHARED_TAGS_JOB]: sharedTagsJob(graph, contentTags) }));
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
function loginPrelude(registry: string, options: GitlabOptions): JobPrelude {
  const user = options["registry-user-variable"];
  const password = options["registry-password-variable"];
  return {
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

function resolveJob(graph: BuildGraph, options: GitlabOptions, context: EmitContext): YamlMap {
  return {
    stage: RESOLVE_JOB,
    script: resolveCommands(graph, options, context),
    artifacts: { paths: [".caliban-images/"], expire_in: "1 week" },
  };
}

function imageJob(graph: BuildGraph, image: ImageNode, base: ImageNode | undefined, family: FamilyNode, contentTags: boolean, runnerTags: boolean): YamlMap {
  const timeout = imageTimeout(family, image);
  const runner = runnerTags ? imageRunner(family, image) : null;
  return {
    stage: `level-${image.level}`,
    needs: [...(contentTags ? [RESOLVE_JOB] : []), ...(base === undefined ? [] : [base.id])],
    // A job runs on a runner that has every one of its tags, as a GitHub job on one with every runs-on label.
    ...(runner === null ? {} : { tags: [...runner] }),
    ...(timeout === null ? {} : { timeout: `${timeout} minutes` }),
    script: imageScript(graph, image, base, contentTags, GITLAB_VARIABLES),
  };
}

/**
 * The shared tags: each one manifest list over its images, as this pipeline pushed them (or
 * found them), once every job it needs succeeded (a failed image leaves the tag as it was).
 * Past GitLab's 50 needs it waits for the earlier stages instead.
 */
function sharedTagsJob(graph: BuildGraph, contentTags: boolean): YamlMap {
  const shared = sharedTags(graph);
  const images = [...new Set(shared.flatMap((tag) => tag.images.map((image) => image.id)))];
  const needs = [...(contentTags ? [RESOLVE_JOB] : []), ...images];
  return {
    stage: SHARED_TAGS_JOB,
    ...(needs.length <= MAX_NEEDS ? { needs } : contentTags ? { dependencies: [RESOLVE_JOB] } : {}),
    script: sharedTagsScript(graph, contentTags),
  };
}

/** Refuses a graph this pipeline cannot hold: a job named as GitLab's keywords or this file's own jobs, or more jobs than MAX_GITLAB_JOBS. */
function checkJobs(graph: BuildGraph, contentTags: boolean): void {
  const clashing = graph.images.filter((image) => RESERVED.has(image.id));
  if (clashing.length > 0) {
    throw new CalibanError(
      clashing.map((image) => ({ code: "EMITTER", message: `emit gitlab: image ${image.id}'s job would be named "${image.id}", which GitLab reads as a keyword or this pipeline's own job`, hint: "give the image another tag" })),
    );
  }
  const jobs = graph.images.length + (contentTags ? 1 : 0) + (sharedTags(graph).length > 0 ? 1 : 0);
  if (jobs > MAX_GITLAB_JOBS) {
    throw new CalibanError({
      code: "LIMIT",
      message: `emit gitlab: the pipeline would have ${jobs} jobs; this emitter writes at most ${MAX_GITLAB_JOBS} in one pipeline (GitLab plans and shows larger ones slowly, and instances limit a pipeline's size)`,
      hint: "split the matrix into several (one per family group), each with its own pipeline, or build with emit make or emit bake inside fewer jobs",
    });
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
