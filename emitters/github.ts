// GitHub Actions: a workflow with one job per stage of the graph, each a matrix of
// that stage's images built and pushed with the standard docker actions, each stage
// `needs` the one before. GitHub caps a matrix at 256 jobs: a larger stage is split
// into parts, and the next stage needs every part.
//
// `--format matrix` writes only the matrices, one `NAME=JSON` line per job, for teams
// that keep their own workflow: append them to $GITHUB_OUTPUT and use fromJSON().

import { CalibanError, type Diagnostic } from "../core/errors.ts";
import { distinctArgs, imagesById, stages, type BuildGraph, type ImageNode } from "../core/graph.ts";
import { IDENTIFIER_PATTERN, REGISTRY_HOST_PATTERN, registryHost } from "../core/names.ts";
import { writeJob } from "./github-job.ts";
import { writePullRequestJobs } from "./github-pr-job.ts";
import { jobPermissions, writeLogin } from "./github-login.ts";
import { loginRegistry } from "./login-registry.ts";
import { cacheSpecs, platformCacheSpecs } from "./build-settings.ts";
import { entrySettings, imageRunners, imageTimeouts, matrixEntry, type Digests } from "./github-entry.ts";
import { checkResolveOutputs, RESOLVE_JOB, writeResolveJob } from "./github-resolve.ts";
import { LOCK_OPTIONS, writeLockJob } from "./github-lock-job.ts";
import type { GithubOptions, StageJob } from "./github-types.ts";
export type { GithubOptions, StageJob } from "./github-types.ts";
import { INSTALL_OPTIONS } from "./github-install.ts";
import { writeCheckJob } from "./github-check-job.ts";
import { sharedTagsMatrixWarning, writeSharedTagsJob } from "./github-shared-tags.ts";
import { checkPlatformRunners, mergeEntry, nativeEntry, nativeImages, platformRunners, platformRunnersProblem } from "./github-native.ts";
import type { EmitContext, Emitter, OptionValue } from "./contract.ts";
import { CONTENT_TAGS_OPTION, hasLockJob, noExpressionProblem, outputPathProblem, SCHEDULE_WITHOUT_LOCK } from "./options.ts";
import { TextWriter } from "./text.ts";
import { checkInternalImages } from "./image-policy.ts";
import { hasBuildTimeAliases } from "./build-time.ts";
import { inputPaths, matrixFromRoot } from "./input-paths.ts";
import { commentText, pathFilter, workflowLiteral, yamlScalar } from "./quoting.ts";
import { checkSecretFilesSurvive } from "./github-secrets.ts";
import { checkGithubSigning, signingMatrixWarning } from "./github-signing.ts";
import { matrixNamed } from "./context.ts";

/** GitHub's limit on the jobs one matrix may generate. */
export const MAX_MATRIX_JOBS = 256;
/** GitHub does not start a workflow from a file larger than 500 KB. */
export const MAX_WORKFLOW_BYTES = 500 * 1000;
/** A job's outputs may hold 1 MB, all of a run's 50 MB, "approximated based on UTF-16 encoding". */
export const MAX_JOB_OUTPUT_BYTES = 1000 * 1000;
export const MAX_RUN_OUTPUT_BYTES = 50 * 1000 * 1000;


export const github: Emitter<GithubOptions> = {
  name: "github",
  description: "GitHub Actions workflow: a job per stage, a matrix of its images (or, --format matrix, the matrices only)",
  options: {
    format: { type: "string", choices: ["workflow", "matrix"], default: "workflow", description: "the whole workflow, or only each job's matrix as NAME=JSON lines" },
    job: { type: "string", default: "", description: "with --format matrix: only this job's line (one plan job's outputs hold at most 1 MB)" },
    output: { type: "string", default: ".github/workflows/build-images.yml", description: "path of the workflow file", check: outputPathProblem },
    name: { type: "string", default: "Build images", description: "the workflow's name", check: noExpressionProblem },
    "runs-on": { type: "string", default: "ubuntu-latest", description: "the runner every job runs on (a family's `runner` replaces it for its images)", check: (value) => noExpressionProblem(value) ?? (String(value).trim() === "" ? "must name a runner" : undefined) },
    login: { type: "boolean", default: true, description: "log in to the registry before pushing (docker/login-action)" },
    registry: { type: "string", default: "", description: "registry to log in to (default: the repository's host; Docker Hub when it has none)", check: registryProblem },
    username: { type: "string", default: "${{ github.actor }}", description: "login user name (may be an expression, e.g. _json_key for gcr.io)" },
    "password-secret": {
      type: "string",
      default: "",
      description: "name of the repository secret holding the registry password or token (default: GITHUB_TOKEN for ghcr.io, else REGISTRY_PASSWORD)",
      check: (value) => (value === "" || IDENTIFIER_PATTERN.test(String(value)) ? undefined : `"${value}" is not a valid secret name`),
    },
    "content-tags": CONTENT_TAGS_OPTION,
    "workload-identity-provider": {
      type: "string",
      default: "",
      description: "Google's registries: log in through workload identity federation (google-github-actions/auth), projects/NUMBER/locations/global/workloadIdentityPools/POOL/providers/PROVIDER",
      check: (value) =>
        value === "" || /^projects\/[0-9]+\/locations\/global\/workloadIdentityPools\/[a-z0-9-]+\/providers\/[a-z0-9-]+$/.test(String(value))
          ? undefined
          : `"${value}" is not projects/NUMBER/locations/global/workloadIdentityPools/POOL/providers/PROVIDER`,
    },
    "service-account": {
      type: "string",
      default: "",
      description: "with workload-identity-provider: the service account to act as (NAME@PROJECT.iam.gserviceaccount.com)",
      check: (value) => (value === "" || /^[a-z][a-z0-9-]{4,28}[a-z0-9]@[a-z][a-z0-9-]{4,28}[a-z0-9]\.iam\.gserviceaccount\.com$/.test(String(value)) ? undefined : `"${value}" is not a service account e-mail`),
    },
    ...INSTALL_OPTIONS,
    ...LOCK_OPTIONS,
    "check-outputs": {
      type: "boolean",
      default: true,
      description: "with [outputs]: a job that runs `caliban-images check` (installed as above), on every push and pull request touching the images' inputs or a generated file: one whose committed outputs are stale fails",
    },
    "platform-runners": {
      type: "string",
      default: "",
      description: "runners per platform, PLATFORM=LABEL,... (e.g. linux/arm64=ubuntu-24.04-arm): an image whose every platform has one is built a job per platform, natively, and its digests joined; else under QEMU in one job",
      check: platformRunnersProblem,
    },
    "timeout-minutes": {
      type: "number",
      default: 180,
      description: "how long an image's job may run before GitHub stops it (its default is 6 hours: a hung build would hold a runner that long); the resolve and check jobs get 15",
      check: (value) => (Number.isInteger(value) && Number(value) >= 1 && Number(value) <= 360 ? undefined : "must be a whole number of minutes from 1 to 360 (GitHub's limit for hosted runners)"),
    },
    "free-disk": {
      type: "boolean",
      default: false,
      description: "first remove the toolchains GitHub's hosted runners preinstall (about 14 GB free becomes about 40): a CUDA image needs more than 14",
    },
  },
  emit(graph, options, context) {
    checkGithubSigning(graph, options["content-tags"]);
    checkBuildArgsSurvive(graph);
    checkInternalImages(graph, "github", options["content-tags"]);
    if ((options["workload-identity-provider"] === "") !== (options["service-account"] === "")) {
      throw new CalibanError({ code: "EMITTER", message: "emit github: workload identity needs both workload-identity-provider and service-account", hint: "give both, or neither (a user and a secret)" });
    }
    // Matrices read with fromJSON are data, which GitHub does not evaluate: values as they are.
    const contentTags = options["content-tags"];
    checkPlatformRunners(options);
    const runner = options["runs-on"];
    // A user's workflow has no resolve job to find the build-time values: the entries keep them as the graph writes them.
    if (options.format === "matrix" && hasBuildTimeAliases(graph)) context.warn("emit github --format matrix: some aliases name build-time values ({date}, {commit}, {short_commit}, {branch}), which the entries keep as written: your workflow fills them in (caliban-images docs/image-settings.md, \"Build-time values\")");
    if (options.format === "matrix" && sharedTagsMatrixWarning(graph)) context.warn(sharedTagsMatrixWarning(graph)!);
    if (options.format === "matrix" && signingMatrixWarning(graph)) context.warn(signingMatrixWarning(graph)!);
    if (options.format === "matrix") return [{ path: "matrix.txt", contents: matrixLines(stageJobs(graph, asData, contentTags ? "static" : "none", runner, new Map(), options["timeout-minutes"]), options.job) }];
    // The workflow's digests are read when it runs, from its checkout (the resolve job).
    if (contentTags) checkResolveOutputs(graph, MAX_JOB_OUTPUT_BYTES);
    const perPlatform = platformRunners(options["platform-runners"]);
    const jobs = stageJobs(graph, workflowLiteral, contentTags ? "runtime" : "none", runner, perPlatform, options["timeout-minutes"]);
    if (graph.publish.schedule !== undefined && graph.lock === null) context.warn(SCHEDULE_WITHOUT_LOCK);
    const workflow = renderWorkflow(graph, jobs, options, context);
    const bytes = Buffer.byteLength(workflow);
    if (bytes > MAX_WORKFLOW_BYTES) {
      throw new CalibanError({
        code: "LIMIT",
        message: `emit github: the workflow would be ${Math.ceil(bytes / 1000)} KB (${graph.images.length} images); GitHub does not start a workflow from a file larger than 500 KB`,
        hint: "keep your own workflow and feed it the matrices: caliban-images emit github --format matrix (see caliban-images docs/ci-github.md)",
      });
    }
    return [{ path: options.output, contents: workflow }];
  },
};

/**
 * build-push-action reads `build-args` as CSV lines and trims each one: a value that
 * ends in white space, or holds a comma followed by a quote, would arrive changed.
 * Refuse it, naming the image and the arg, rather than build something else.
 */
function checkBuildArgsSurvive(graph: BuildGraph): void {
  const diagnostics: Diagnostic[] = [];
  // Labels are read the same way (build-push-action's `labels`).
  const labels = graph.images.flatMap((image) => image.labels.filter((label) => !label.revision).map((label) => ({ image, arg: { name: `label ${label.name}`, value: label.value } })));
  for (const { image, arg } of [...distinctArgs(graph), ...labels]) {
    const problem = /\s$/.test(arg.value) ? "ends in white space, which build-push-action trims" : arg.value.includes(',"') ? "holds ',\"', which build-push-action reads as a CSV quote" : undefined;
    if (problem) {
      diagnostics.push({
        code: "INVALID_VALUE",
        message: `emit github: image ${image.id}, build arg ${arg.name}: the value ${JSON.stringify(arg.value)} ${problem}`,
        hint: "change the value, or use another emitter for this matrix",
      });
    }
  }
  // Secret files' paths are read the same way (build-push-action's `secret-files`).
  diagnostics.push(...checkSecretFilesSurvive(graph));
  if (diagnostics.length > 0) throw new CalibanError(diagnostics);
}

/**
 * One job per stage, or per part of a stage: a part holds at most 256 images
 * (GitHub's matrix cap) and a matrix of at most 1 MB, as GitHub counts job outputs.
 */
export function stageJobs(graph: BuildGraph, literal: (text: string) => string, digests: Digests = "runtime", defaultRunner = "ubuntu-latest", perPlatform: ReadonlyMap<string, string> = new Map(), defaultMinutes = 180): StageJob[] {
  const byId = imagesById(graph);
  const native = nativeImages(graph, perPlatform);
  const anyNative = native.size > 0;
  const tested = hasTests(graph);
  const runners = imageRunners(graph, defaultRunner);
  const timeouts = imageTimeouts(graph, defaultMinutes);
  // Entries read as data (--format matrix) keep build-time values as the graph writes them: no resolve job of ours fills them in.
  const settings = literal === asData ? { ...entrySettings(graph), buildTime: null } : entrySettings(graph);
  const bases = new Set(graph.images.flatMap((image) => (image.from === null ? [] : [image.from])));
  const jobs: StageJob[] = [];
  let previous: string[] = [];
  stages(graph).forEach((images, index) => {
    const parts: { images: ImageNode[]; entries: string[] }[] = [];
    let current = { images: [] as ImageNode[], entries: [] as string[] };
    let size = 0;
    for (const image of images) {
      const plain = matrixEntry(image, image.from === null ? undefined : byId.get(image.from), bases.has(image.id), literal, digests, tested, runners?.(image), settings, settings.cache ? cacheSpecs(graph, image, "gha") : undefined, timeouts?.(image));
      // With native images, every entry says whether it is one (its pushes are the native jobs').
      const entry = anyNative ? `${plain.slice(0, -1)},"native":${native.has(image.id)}}` : plain;
      // A line is `NAME={"include":[e1,e2,...]}`; 64 units cover the name and brackets. UTF-16: 2 bytes a unit.
      const added = 2 * (entry.length + 1);
      if (current.images.length > 0 && (current.images.length === MAX_MATRIX_JOBS || size + added + 128 > MAX_JOB_OUTPUT_BYTES)) {
        parts.push(current);
        current = { images: [], entries: [] };
        size = 0;
      }
      if (added + 128 > MAX_JOB_OUTPUT_BYTES) {
        throw new CalibanError({ code: "LIMIT", message: `emit github: the matrix entry of image ${image.id} alone is more than 1 MB, GitHub's limit on a job's outputs`, hint: "shorten its build args" });
      }
      current.images.push(image);
      current.entries.push(entry);
      size += added;
    }
    parts.push(current);
    const names = parts.map((_, part) => (parts.length === 1 ? `stage${index + 1}` : `stage${index + 1}_part${part + 1}`));
    parts.forEach((part, i) => jobs.push({ name: names[i]!, stage: index + 1, images: part.images, entries: part.entries, needs: previous, runners: runners !== undefined, kind: "build", anyNative }));
    const nativeHere = images.filter((image) => native.has(image.id));
    if (nativeHere.length > 0) {
      // One entry per platform of each native image, on that platform's runner; then one per image to join them.
      const entries = nativeHere.flatMap((image) => {
        const base = image.from === null ? undefined : byId.get(image.from);
        return image.platforms.map((platform) => nativeEntry(image, platform, perPlatform.get(platform)!, graph, literal, digests, base, timeouts?.(image)));
      });
      if (entries.length > MAX_MATRIX_JOBS) throw new CalibanError({ code: "LIMIT", message: `emit github: stage ${index + 1} has ${entries.length} platform builds on native runners; one matrix may generate at most ${MAX_MATRIX_JOBS} jobs`, hint: "leave platform-runners out for this matrix (QEMU in one job per image)" });
      for (const image of nativeHere) {
        for (const spec of image.platforms.flatMap((platform) => platformCacheSpecs(graph, image, "gha", platform).from)) {
          const tag = /^type=registry,ref=[^,]*:([^:,]+)$/.exec(spec)?.[1];
          if (tag !== undefined && tag.length > 128) throw new CalibanError({ code: "LIMIT", message: `emit github: image ${image.id}: its per-platform cache tag ${tag} is over 128 characters`, hint: "shorten the tag, or leave platform-runners out" });
        }
      }
      const nativeName = `stage${index + 1}_native`;
      const mergeName = `stage${index + 1}_merge`;
      jobs.push({ name: nativeName, stage: index + 1, images: nativeHere, entries, needs: previous, runners: true, kind: "native", anyNative });
      jobs.push({ name: mergeName, stage: index + 1, images: nativeHere, entries: nativeHere.map((image) => mergeEntry(image, settings.buildTime, settings.internal, settings.annotations)), needs: [nativeName], runners: false, kind: "merge", anyNative });
      previous = [...names, nativeName, mergeName];
    } else {
      previous = names;
    }
  });
  return jobs;
}

/** `--format matrix`: a `NAME={"include":[...]}` line per job, for $GITHUB_OUTPUT. */
function matrixLines(jobs: readonly StageJob[], only: string): string {
  const chosen = only ? jobs.filter((job) => job.name === only) : jobs;
  if (only && chosen.length === 0) {
    throw new CalibanError({ code: "EMITTER", message: `emit github: no job named "${only}"`, hint: `the jobs: ${jobs.map((j) => j.name).join(", ")}` });
  }
  const lines = chosen.map((job) => `${job.name}={"include":[${job.entries.join(",")}]}`);
  const total = 2 * lines.reduce((sum, line) => sum + line.length, 0);
  if (total > MAX_RUN_OUTPUT_BYTES) {
    throw new CalibanError({
      code: "LIMIT",
      message: `emit github: the matrices add up to ${Math.ceil(total / 1e6)} MB; a workflow run's job outputs may hold at most 50 MB`,
      hint: "split the matrix into several matrix files, each with its own workflow",
    });
  }
  return `${lines.join("\n")}\n`;
}

/** Whether any family has a smoke test: only then do the jobs build, test, then push. */
function hasTests(graph: BuildGraph): boolean {
  return graph.images.some((image) => image.test !== null);
}

/** Text as data: what fromJSON gives a step is not evaluated. */
function asData(text: string): string {
  return text;
}

/**
 * The workflow, written line by line. Its shape is fixed, so it needs no YAML library
 * (loading and first running one was most of a small matrix's run); every string that
 * comes from the user is a plain scalar only when it cannot be read as anything else,
 * and is otherwise double-quoted JSON, which YAML 1.2 reads as the same string. Each
 * image's matrix entry is a JSON object (JSON is YAML), one per line.
 */
function renderWorkflow(graph: BuildGraph, jobs: readonly StageJob[], options: GithubOptions, context: EmitContext): string {
  const registry = options.registry || (options.login ? loginRegistry(graph, "github", "name the one the jobs log in to with --option registry=HOST (the others' pushes then need the runner's own credentials)") : registryHost(graph.repository));
  const { publish } = graph;
  const tested = hasTests(graph);
  const paths = triggerPaths(graph, context, options.output).map((path) => `      - ${yamlScalar(path)}`);
  const out = new TextWriter();
  out.lines([
    `# Generated by caliban-images from ${commentText(matrixNamed(context))}; regenerate with \`caliban-images emit github\`.`,
    `name: ${yamlScalar(options.name)}`,
    "# Pushes to the [publish] branches publish (never a tag push); a pull request runs its own jobs (pr_*), which push nothing and hold no write permission.",
    "on:",
    "  push:",
    "    branches:",
    ...publish.branches.map((branch) => `      - ${yamlScalar(branch)}`),
    "    paths:",
    ...paths,
    ...(publish.pullRequests ? ["  pull_request:", "    paths:", ...paths] : []),
    ...(publish.schedule ? ["  schedule:", `    - cron: ${yamlScalar(publish.schedule)}`] : []),
    "  workflow_dispatch: {}",
    "# One run at a time per branch, so that two runs cannot interleave their pushes; a newer commit of a pull request cancels the older run.",
    "concurrency:",
    "  group: ${{ github.workflow }}-${{ github.ref }}",
    "  cancel-in-progress: ${{ github.event_name == 'pull_request' }}",
    "# Read only; a job that pushes or logs in gets what it uses, itself (never a pull request's job).",
    "permissions:",
    "  contents: read",
    "jobs:",
  ]);
  const lockJob = hasLockJob(graph);
  const settings = entrySettings(graph);
  // Jobs run at the repository's root: the matrix by its path from there.
  const matrixFile = matrixFromRoot(context);
  if (options["check-outputs"] && context.outputs.length > 0) out.indented(() => writeCheckJob(out, options, matrixFile, context.variables));
  if (lockJob) out.indented(() => writeLockJob(out, graph, options, matrixFile, context.variables));
  // The resolve job logs in only when the run publishes (a private registry can then be asked); else it asks anonymously.
  const login = new TextWriter();
  writeLogin(login, registry, options, `steps.${RESOLVE_JOB}-publish.outputs.publish == 'true'`);
  out.indented(() => writeResolveJob(out, graph, options, matrixFile, context.shape, login.take().split("\n").filter(Boolean), lockJob, jobPermissions(registry, options, "read"), publish.pullRequests ? "publish" : "every", context.variables));
  for (const job of jobs) {
    out.indented(() => {
      out.line(`${job.name}:`);
      out.indented(() => writeJob(out, job, registry, options, tested, lockJob, settings, graph));
    });
  }
  out.indented(() => writeSharedTagsJob(out, graph, jobs, registry, options, lockJob));
  if (publish.pullRequests) {
    // A pull request's own jobs, which hold no write permission and no secret.
    out.indented(() => writeResolveJob(out, graph, options, matrixFile, context.shape, [], false, [], "pull_request", context.variables));
    writePullRequestJobs(out, jobs, options, settings, graph);
  }
  return out.take();
}

/** The files whose change should rebuild the images: dockerfiles, non-root contexts, the matrix, this workflow. */
function triggerPaths(graph: BuildGraph, context: EmitContext, workflowPath: string): string[] {
  const paths = inputPaths(graph, context).map(({ path, folder }) => (folder ? `${pathFilter(path)}/**` : pathFilter(path)));
  // The generated files too: a commit that edits only one of them is checked (check-outputs).
  const outputs = context.outputs.map((path) => (path.endsWith("/") ? `${pathFilter(path.slice(0, -1))}/**` : pathFilter(path)));
  return [...new Set([...paths, pathFilter(workflowPath), ...outputs])];
}

/** A registry to log in to: empty (the repository's), or a host[:port] as an image reference starts with it. */
function registryProblem(value: OptionValue): string | undefined {
  const registry = String(value);
  return registry === "" || REGISTRY_HOST_PATTERN.test(registry) ? undefined : `"${registry}" is not a registry host (such as ghcr.io or registry.example.com:5000)`;
}
