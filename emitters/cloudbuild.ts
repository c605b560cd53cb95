// Google Cloud Build: the config Caliban's own generator wrote. Per image a build
// step (id = the image reference) and a push step (id = reference + "-push"). A build
// step waits for its base's *build* step, not its push: all steps share one Docker
// daemon, so the base is already there.
//
// Cloud Build runs at most 300 steps in one build. A larger graph is written as
// several configs, numbered in dependency order, each within the limit: an image
// whose base is built by an earlier config pulls it from the registry (that config
// pushed it), so the configs must be submitted in order; submit.sh does that.

import { distinctArgs, imagesById, sharedTags, type BuildGraph, type ImageNode, type SharedTag } from "../core/graph.ts";
import { CalibanError, type Diagnostic } from "../core/errors.ts";
import { imageReferenceProblem } from "../core/names.ts";
import { loginRegistry } from "./login-registry.ts";
import type { EmitContext, EmittedFile, Emitter } from "./contract.ts";
import { RESOLVE_STEP, resolveStep, RETRY_FUNCTION, stepText } from "./cloudbuild-resolve.ts";
import { carriedStep, contiguousParts, partsCarrying, submitScript, type ConfigPart } from "./cloudbuild-split.ts";
import { INSTALL_OPTIONS, type InstallOptions } from "./github-install.ts";
import { CONTENT_TAGS_OPTION, outputPathProblem, SCHEDULE_WITHOUT_LOCK } from "./options.ts";
import { TRIGGER_OPTIONS, triggerFiles, writesPullRequestTrigger, type TriggerOptions } from "./cloudbuild-triggers.ts";
import { hasSecrets } from "./secrets.ts";
import { needsBuildx } from "./build-settings.ts";
import { BUILDX_STEP, buildxScript, buildxSetupStep } from "./cloudbuild-buildx.ts";
import { hasSharedTags, sharedTagsSteps } from "./cloudbuild-shared-tags.ts";
import { aliasPushStep, argWords, buildSettingArgs, carryScript, IF_PUSHING, plainSecretScript, PUSH_SETTING, scriptWord, settingWords, stepArg, stepScript } from "./cloudbuild-steps.ts";
import { checkSecretNames, REGISTRY_PASSWORD_ENV, secretEnvField, secretManagerEntries } from "./cloudbuild-secrets.ts";
import { buildTimeEnv } from "./cloudbuild-build-time.ts";
import { shellWord } from "./quoting.ts";
import { durationProblem, imageStepTimeout, SETUP_STEP_TIMEOUT, STEP_TIMEOUT_OPTION, timeoutsBeyondTheBuild } from "./cloudbuild-timeouts.ts";
import { writtenText } from "./text.ts";
import { checkInternalImages } from "./image-policy.ts";
import { checkCloudBuildSigning, signingSecretNames } from "./cloudbuild-signing.ts";

export interface CloudBuildOptions extends Record<string, string | number | boolean>, InstallOptions, TriggerOptions {
  timeout: string;
  "step-timeout": string;
  "content-tags": boolean;
  builder: string;
  output: string;
  "max-steps": number;
  "max-arg-length": number;
  "github-repository": string;
  directory: string;
  "machine-type": string;
  "disk-size-gb": number;
  pool: string;
  logging: string;
  "login-secret": string;
  "login-user": string;
}

const GITHUB_REPOSITORY = /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})\/[A-Za-z0-9._-]{1,100}$/;

/** Cloud Build's limit on the steps of one build. */
export const MAX_STEPS = 300;

export const cloudbuild: Emitter<CloudBuildOptions> = {
  name: "cloudbuild",
  description: "Google Cloud Build config (cloudbuild.json), as Caliban's generator wrote it; split past 300 steps",
  options: {
    timeout: { type: "string", default: "86400s", description: "timeout of each build, in seconds with an 's' (at most 86400s)", check: durationProblem },
    "step-timeout": STEP_TIMEOUT_OPTION,
    builder: { type: "string", default: "gcr.io/cloud-builders/docker", description: "the builder image each step runs", check: (value) => imageReferenceProblem(String(value)) },
    output: {
      type: "string",
      default: "cloudbuild.json",
      description: "file name of the config (cloudbuild-01.json, ... when split)",
      check: (value) => outputPathProblem(value) ?? (value === "submit.sh" ? 'is the name of the script that submits the configs ("submit.sh")' : undefined),
    },
    "max-steps": {
      type: "number",
      default: MAX_STEPS,
      description: "most steps in one config; more images are split across configs",
      check: (value) => (Number.isInteger(value) && Number(value) >= 2 && Number(value) <= MAX_STEPS ? undefined : `must be a whole number from 2 to ${MAX_STEPS}, Cloud Build's limit`),
    },
    "max-arg-length": {
      type: "number",
      default: 10_000,
      description: "longest single step arg, in characters; a longer one is an error",
      check: (value) => (Number.isInteger(value) && Number(value) > 0 ? undefined : "must be a positive whole number"),
    },
    "content-tags": CONTENT_TAGS_OPTION,
    "github-repository": {
      type: "string",
      default: "",
      description: "with [publish]: the GitHub repository (OWNER/NAME) the triggers watch; empty: git remote origin's",
      check: (value) => (value === "" || GITHUB_REPOSITORY.test(String(value)) ? undefined : `"${value}" is not OWNER/NAME`),
    },
    directory: {
      type: "string",
      default: "",
      description: "with [publish]: the folder the configs are committed in, from the repository's root, as triggers name them; empty: where -o writes them",
      check: (value) => (value === "" ? undefined : outputPathProblem(value)),
    },
    "machine-type": {
      type: "string",
      default: "",
      choices: ["", "E2_MEDIUM", "E2_HIGHCPU_8", "E2_HIGHCPU_32", "N1_HIGHCPU_8", "N1_HIGHCPU_32"],
      description: "the build's machine (options.machineType); empty: Cloud Build's default",
    },
    "disk-size-gb": {
      type: "number",
      default: 0,
      description: "the build's disk, in GB (options.diskSizeGb; a CUDA chain needs more than the default 100); 0: Cloud Build's default",
      check: (value) => (Number.isInteger(value) && Number(value) >= 0 && Number(value) <= 4000 ? undefined : "must be a whole number of GB, at most 4000"),
    },
    pool: {
      type: "string",
      default: "",
      description: "a private worker pool, projects/PROJECT/locations/REGION/workerPools/NAME (options.pool)",
      check: (value) => (value === "" || /^projects\/[a-z][a-z0-9-]{4,28}[a-z0-9]\/locations\/[a-z0-9-]+\/workerPools\/[A-Za-z0-9_-]+$/.test(String(value)) ? undefined : `"${value}" is not projects/PROJECT/locations/REGION/workerPools/NAME`),
    },
    logging: {
      type: "string",
      default: "",
      choices: ["", "LEGACY", "GCS_ONLY", "CLOUD_LOGGING_ONLY", "NONE"],
      description: "where the build's logs go (options.logging; a private pool needs CLOUD_LOGGING_ONLY or NONE without a logs bucket)",
    },
    "login-secret": {
      type: "string",
      default: "",
      description: "a registry outside Google: log in first with the password in this Secret Manager version, projects/PROJECT/secrets/NAME/versions/VERSION",
      check: (value) => (value === "" || /^projects\/[a-z0-9-]+\/secrets\/[A-Za-z0-9_-]+\/versions\/(?:latest|[0-9]+)$/.test(String(value)) ? undefined : `"${value}" is not projects/PROJECT/secrets/NAME/versions/VERSION`),
    },
    "login-user": {
      type: "string",
      default: "",
      description: "with login-secret: the registry user",
      check: (value) => (/^[A-Za-z0-9._@+-]*$/.test(String(value)) ? undefined : `"${value}" is not a registry user name (letters, digits and . _ @ + -)`),
    },
    ...INSTALL_OPTIONS,
    ...TRIGGER_OPTIONS,
  },
  emit(graph, options, context) {
    checkCloudBuildSigning(graph, options["content-tags"]);
    if ((options["login-secret"] === "") !== (options["login-user"] === "")) {
      throw new CalibanError({ code: "EMITTER", message: "emit cloudbuild: a registry login needs both login-secret and login-user", hint: "give both, or neither (Google's registries need no login)" });
    }
    if (graph.cache?.type === "gha") {
      throw new CalibanError({ code: "EMITTER", message: "emit cloudbuild: [cache] type = \"gha\" is GitHub Actions' own cache, which a Cloud Build step cannot reach", hint: 'use type = "registry" (the default for Cloud Build when [cache] names no type)' });
    }
    checkInternalImages(graph, "cloudbuild", options["content-tags"]);
    checkSecretNames(graph, options["login-secret"]);
    checkArgLengths(graph, options["max-arg-length"], options["content-tags"]);
    const { images } = graph;
    // With content tags an image is one step (look up, then build and push, or retag); else a build step and a push step.
    // Each config's setup steps count too: the login, the resolve step (content tags), buildx's builder, and the shared tags' push.
    const setupSteps = (options["login-secret"] ? 1 : 0) + (options["content-tags"] ? 1 : 0) + (images.some((image) => needsBuildx(graph, image)) ? 1 : 0) + (hasSharedTags(graph) ? 1 : 0);
    const room = options["max-steps"] - setupSteps;
    if (room < 1) throw new CalibanError({ code: "EMITTER", message: `emit cloudbuild: max-steps ${options["max-steps"]} leaves no room for an image beside the ${setupSteps} setup steps of each config`, hint: `raise max-steps to at least ${setupSteps + 1}` });
    // Plain steps per image: build and push, and a test step between them when a family has a test.
    // An alias is pushed by a step of its own.
    const plainSteps = (graph.images.some((image) => image.test !== null) ? 3 : 2) + Math.max(0, ...graph.images.map((image) => image.aliases.length));
    const perConfig = options["content-tags"] ? room : Math.floor(room / plainSteps);
    if (perConfig < 1) throw new CalibanError({ code: "EMITTER", message: `emit cloudbuild: max-steps ${options["max-steps"]} leaves no room for an image's ${plainSteps} steps beside the ${setupSteps} setup steps of each config`, hint: `raise max-steps to at least ${setupSteps + plainSteps}` });
    const indexById = new Map(images.map((image, i) => [image.id, i]));
    const shared = sharedTags(graph);
    const parts = options["content-tags"] ? partsCarrying(graph, perConfig, indexById) : contiguousParts(images.length, perConfig);
    const names = parts.length === 1 ? [options.output] : numberedNames(options.output, parts.length);
    const files: EmittedFile[] = parts.map((part, i) => ({
      path: names[i]!,
      contents: writtenText((out) => out.line(JSON.stringify(config(graph, part, indexById, shared, options, context, names[i]!, signingSecretNames(graph)), null, "  "))),
    }));
    // With one config, submit.sh is written only into a directory: a pipeline that runs it never
    // submits configs left from a larger graph, and needs no change when its graph grows.
    files.push({ path: "submit.sh", contents: submitScript(names, images.length), ...(names.length === 1 ? { companion: true } : {}) });
    // The pull-request trigger runs a config without build secrets: its account is never granted one (cloudbuild-secrets.ts).
    const pullRequestConfig = graph.publish.declared && options.triggers && (hasSecrets(graph) || signingSecretNames(graph).length > 0) && writesPullRequestTrigger(graph, names, options) ? names[0]!.replace(/\.json$/, "-pull-request.json") : undefined;
    if (pullRequestConfig !== undefined) {
      const unsecret = { ...graph, images: graph.images.map(({ secrets: _, ...image }) => image) };
      files.push({ path: pullRequestConfig, companion: true, contents: writtenText((out) => out.line(JSON.stringify(config(unsecret, parts[0]!, indexById, shared, options, context, pullRequestConfig, []), null, "  "))) });
    }
    if (graph.publish.declared && options.triggers) files.push(...triggerFiles(graph, names, options, context, pullRequestConfig));
    if (graph.publish.declared && options.triggers && graph.publish.schedule !== undefined && graph.lock === null) context.warn(SCHEDULE_WITHOUT_LOCK);
    for (const warning of timeoutsBeyondTheBuild(graph, options.timeout)) context.warn(warning);
    return files;
  },
};

/** cloudbuild-01.json, cloudbuild-02.json, ...: numbered from 1, at least two digits wide. */
function numberedNames(output: string, count: number): string[] {
  const width = Math.max(2, String(count).length);
  const stem = output.replace(/\.json$/, "");
  return Array.from({ length: count }, (_, i) => `${stem}-${String(i + 1).padStart(width, "0")}.json`);
}

/**
 * The config for a part of the graph (whose images come after their bases). With content
 * tags a base an earlier config builds is carried (a step of this config); in Caliban's
 * form that config pushed it, and docker build pulls it: there is nothing to wait for.
 */
function config(graph: BuildGraph, part: ConfigPart, indexById: ReadonlyMap<string, number>, shared: readonly SharedTag[], options: CloudBuildOptions, context: EmitContext, name: string, signing: readonly string[]) {
  // With [sign] and a key in Secret Manager: its variables in the environment of each step that pushes (none in the pull-request trigger's config).
  const signingEnv = (field: { secretEnv?: string[] }) => (signing.length === 0 ? field : { secretEnv: [...(field.secretEnv ?? []), ...signing] });
  const steps: Record<string, unknown>[] = [];
  // One setup step makes buildx's builder, when an image of this config needs it.
  const buildx = part.images.some((i) => needsBuildx(graph, graph.images[i]!));
  const contentTags = options["content-tags"];
  // What an image with no base in this config waits for: every setup step.
  const setup = [...(options["login-secret"] ? [LOGIN_STEP] : []), ...(contentTags ? [RESOLVE_STEP] : []), ...(buildx ? [BUILDX_STEP] : [])];
  const own = new Set(part.images);
  const carried = new Set(part.carried);
  const baseIndex = (i: number) => (graph.images[i]!.from === null ? undefined : indexById.get(graph.images[i]!.from!)!);
  // Each image's steps end within its timeout (emitters/cloudbuild-timeouts.ts).
  const timed = (image: ImageNode, from: number) => {
    const timeout = imageStepTimeout(graph, image, options["step-timeout"]);
    if (timeout !== undefined) for (let s = from; s < steps.length; s++) steps[s]!.timeout = timeout;
  };
  for (const i of part.carried) {
    const image = graph.images[i]!;
    timed(image, steps.length);
    const base = baseIndex(i);
    const baseImage = base === undefined ? undefined : graph.images[base]!;
    steps.push({ id: carriedStep(image), name: options.builder, entrypoint: "bash", args: ["-c", carryScript(image, baseImage, graph.sign !== undefined)], waitFor: baseImage === undefined ? (setup.length > 0 ? setup : ["-"]) : [carriedStep(baseImage)] });
  }
  for (const i of part.images) {
    const image = graph.images[i]!;
    const first = steps.length;
    const base = baseIndex(i);
    const baseImage = base === undefined ? undefined : graph.images[base]!;
    // A plain step waits for its base's test, when the base has one: nothing builds on an image that failed it.
    const baseStep = baseImage === undefined ? undefined : carried.has(base!) ? carriedStep(baseImage) : !options["content-tags"] && baseImage.test !== null ? `${baseImage.reference}-test` : baseImage.reference;
    const waitFor = base !== undefined && (own.has(base) || carried.has(base)) ? [baseStep!] : setup.length > 0 ? setup : ["-"];
    if (needsBuildx(graph, image)) {
      const script = buildxScript(graph, image, options["content-tags"], graph.publish.declared, scriptWord, settingWords(image), argWords(image, baseImage, options["content-tags"]), baseImage);
      steps.push({ id: image.reference, name: options.builder, entrypoint: "bash", args: ["-c", script], ...buildTimeEnv(image), ...signingEnv(secretEnvField(image)), waitFor });
      timed(image, first);
      continue;
    }
    if (options["content-tags"]) {
      const script = stepScript(image, base === undefined ? undefined : graph.images[base]!, graph.publish.declared);
      steps.push({ id: image.reference, name: options.builder, entrypoint: "bash", args: ["-c", script], ...buildTimeEnv(image), ...secretEnvField(image), waitFor });
      timed(image, first);
      continue;
    }
    // A reference holds no '$' (core/graph.ts): it is written as it is.
    const args = ["build", "-t", image.reference, ...buildSettingArgs(image), "-f", stepArg(image.dockerfile)];
    for (let a = 0; a < image.args.length; a++) args.push("--build-arg", stepArg(`${image.args[a]!.name}=${image.args[a]!.value}`));
    args.push(stepArg(image.context));
    // With [publish], a trigger says whether this build pushes ($_PUSH): a pull request's does not.
    const push = graph.publish.declared
      ? { entrypoint: "bash", args: ["-c", `${PUSH_SETTING}; ${IF_PUSHING} docker push ${image.reference}; fi`] }
      : { args: ["push", image.reference] };
    // An image with secrets is built by a script, which hands them over only when the build pushes.
    const build = image.secrets === undefined ? { args } : { entrypoint: "bash", args: ["-c", plainSecretScript(image, args, graph.publish.declared)], ...secretEnvField(image) };
    steps.push({ id: image.reference, name: options.builder, ...build, waitFor });
    // The family's smoke test, in the built image: a failure stops the build before this image is pushed.
    if (image.test !== null) steps.push({ id: `${image.reference}-test`, name: options.builder, args: ["run", "--rm", image.reference, "sh", "-c", stepArg(image.test)], waitFor: [image.reference] });
    steps.push({ id: `${image.reference}-push`, name: options.builder, ...push, waitFor: [image.test === null ? image.reference : `${image.reference}-test`] });
    for (const alias of image.aliases) steps.push({ id: `${image.repository}:${alias}-push`, name: options.builder, ...aliasPushStep(image, alias, graph.publish.declared), waitFor: [`${image.reference}-push`] });
    timed(image, first);
  }
  steps.push(...sharedTagsSteps(graph, shared, part.images, indexById, options.builder, contentTags, graph.publish.declared).map((step) => ({ ...step, ...signingEnv({}) })));
  if (buildx) steps.unshift(buildxSetupStep(graph, options.builder, options["login-secret"] ? LOGIN_STEP : "-"));
  if (contentTags) steps.unshift(resolveStep(options, context, name, "-", graph));
  if (options["login-secret"]) steps.unshift(loginStep(loginRegistry(graph, "cloudbuild", "leave login-secret out where Cloud Build's own account may push to each (Google's registries)"), options));
  if (options["step-timeout"] !== "") for (const step of steps) if (!("timeout" in step)) Object.assign(step, { timeout: SETUP_STEP_TIMEOUT });
  const entries = [...secretManagerEntries(part.images.map((i) => graph.images[i]!), options["login-secret"]), ...signing.map((env) => ({ versionName: `projects/$PROJECT_ID/secrets/${env}/versions/latest`, env }))];
  // A variable a build secret and the signing key both read is one entry.
  const secretManager = entries.filter((entry, i) => entries.findIndex((other) => other.env === entry.env) === i);
  return {
    steps,
    timeout: options.timeout,
    ...(graph.publish.declared ? { substitutions: { _PUSH: "true" } } : {}),
    ...buildOptions(options),
    ...(secretManager.length > 0 ? { availableSecrets: { secretManager } } : {}),
  };
}

const LOGIN_STEP = "login";


/**
 * The first step when a registry outside Google needs a login: the password comes from
 * Secret Manager as an environment variable of this step only (`$$` keeps Cloud Build
 * from reading it as a substitution); the steps share the docker config it writes.
 */
function loginStep(registry: string, options: CloudBuildOptions) {
  return {
    id: LOGIN_STEP,
    name: options.builder,
    entrypoint: "bash",
    // Asked again when the registry fails it, as every push is.
    args: ["-c", stepText([RETRY_FUNCTION, `login() { printf '%s' "$REGISTRY_PASSWORD" | docker login --username ${shellWord(options["login-user"])} --password-stdin ${registry}; }`, "retry login"])],
    secretEnv: [REGISTRY_PASSWORD_ENV],
    waitFor: ["-"],
  };
}

/** The config's `options`, from the options set (none when none is: Caliban's config had none). */
function buildOptions(options: CloudBuildOptions): { options?: Record<string, unknown> } {
  const set = {
    ...(options["machine-type"] ? { machineType: options["machine-type"] } : {}),
    // An int64, which Cloud Build's JSON writes as a string.
    ...(options["disk-size-gb"] > 0 ? { diskSizeGb: String(options["disk-size-gb"]) } : {}),
    ...(options.pool ? { pool: { name: options.pool } } : {}),
    ...(options.logging ? { logging: options.logging } : {}),
  };
  return Object.keys(set).length === 0 ? {} : { options: set };
}


function checkArgLengths(graph: BuildGraph, limit: number, contentTags: boolean): void {
  const diagnostics: Diagnostic[] = [];
  if (contentTags) {
    // The whole script is one step arg. A bound from lengths first (a character is at most
    // 4 in a shell word, and '$' doubles): nearly every graph is far below the limit.
    let most = 0;
    for (const image of graph.images) {
      // 2048: the prelude that reads the digests and asks the registry (cloudbuild-resolve.ts).
      let bound = 2048 + 8 * image.reference.length + 4 * image.contentReference.length + 8 * (image.dockerfile.length + image.context.length);
      // Each alias is tagged and pushed twice (the retag and the push); one naming build-time values adds the function that finds them.
      for (const alias of image.aliases) bound += 2048 + 8 * (image.repository.length + alias.length);
      for (let a = 0; a < image.args.length; a++) bound += 16 + 8 * (image.args[a]!.name.length + image.args[a]!.value.length + image.contentReference.length);
      // Each secret is one --secret word, in the array the builds name (cloudbuild-steps.ts, secretScriptParts).
      for (const secret of image.secrets ?? []) bound += 64 + 8 * (secret.id.length + (secret.env ?? secret.file ?? "").length);
      if (bound > most) most = bound;
    }
    if (most <= limit) return;
    const byId = imagesById(graph);
    for (const image of graph.images) {
      const length = stepScript(image, image.from === null ? undefined : byId.get(image.from), graph.publish.declared).length;
      if (length > limit) {
        diagnostics.push({
          code: "LIMIT",
          message: `emit cloudbuild: image ${image.id}: its step's script is ${length} characters, more than the ${limit} a Cloud Build step arg may hold`,
          hint: "shorten its build args, raise --option max-arg-length if your Cloud Build accepts more, or write plain steps with --option content-tags=false",
        });
      }
    }
    if (diagnostics.length > 0) throw new CalibanError(diagnostics);
    return;
  }
  for (const { image, arg } of distinctArgs(graph)) {
    const length = stepArg(`${arg.name}=${arg.value}`).length;
    if (length > limit) {
      diagnostics.push({
        code: "LIMIT",
        message: `emit cloudbuild: image ${image.id}, build arg ${arg.name}: the step arg is ${length} characters, more than the ${limit} a Cloud Build step arg may hold`,
        hint: "shorten the value (or raise --option max-arg-length if your Cloud Build accepts more)",
      });
    }
  }
  if (diagnostics.length > 0) throw new CalibanError(diagnostics);
}
