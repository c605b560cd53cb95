// Reads each emitter's output back, as its real consumer sees it, into one shape:
// the images, their build args, dockerfile and context, and what each waits for.
// Tests compare these views with the plan, so that all four outputs provably build
// the same images in the same order.

import { chmodSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, posix } from "node:path";
import { parse as parseCsv } from "csv-parse/sync";
import { imagesById, movedRepository, withBaseContent, type BuildGraph, type ImageNode } from "../../core/graph.ts";
import { attestSpecs, cacheSpecs, platformCacheSpecs, type CacheKind } from "../../emitters/build-settings.ts";
import { evaluate, evaluateTemplate, truthy, type Context } from "./github-expressions.ts";
import { digestLines, githubOutputs } from "../../cli/resolve.ts";

export interface ImageView {
  readonly reference: string;
  /** The content reference it is also tagged with (with content tags on). */
  readonly content?: string;
  readonly dockerfile: string;
  readonly context: string;
  readonly args: Readonly<Record<string, string>>;
  /** Aliases, labels, platforms, target, cache and attestations, when the image has any (issue 20). */
  readonly settings?: ImageSettings;
}

/** What an image's build is asked for beyond its args, as every output must say it. */
export interface ImageSettings {
  /** Every reference it is pushed under beside its tag and content tag, sorted. */
  readonly aliases: readonly string[];
  /** The commit label holds REVISION, the value the test gives the CI's variable. */
  readonly labels: Readonly<Record<string, string>>;
  readonly platforms: readonly string[];
  readonly target: string | null;
  readonly cacheFrom: readonly string[];
  readonly cacheTo: readonly string[];
  readonly attest: readonly string[];
}

/** The commit a readback test says the CI builds: the value the revision label must get. */
export const REVISION = "0123456789abcdef0123456789abcdef01234567";

export interface OutputView {
  readonly images: readonly ImageView[];
  /** reference → the references it directly builds after (its base), as the output links them. */
  readonly bases: Readonly<Record<string, readonly string[]>>;
}

/**
 * What the plan says each output builds. With content tags (every emitter's default)
 * an image is also tagged with its content reference, and an arg that names its base
 * names the base's content reference.
 */
export function planView(graph: BuildGraph, contentTags = true, naturalCache: CacheKind = "registry", perPlatform: ReadonlySet<string> = new Set()): OutputView {
  const byId = imagesById(graph);
  return normalise(
    graph.images.map((image) => {
      const base = image.from === null ? undefined : byId.get(image.from)!;
      const value = (text: string) => (contentTags && base ? withBaseContent(text, base) : text);
      const settings = planSettings(graph, image, naturalCache, perPlatform.has(image.id));
      return {
        reference: image.reference,
        ...(contentTags ? { content: image.contentReference } : {}),
        dockerfile: image.dockerfile,
        context: image.context,
        args: Object.fromEntries(image.args.map((a) => [a.name, value(a.value)])),
        ...(settings ? { settings } : {}),
      };
    }),
    Object.fromEntries(graph.images.map((i) => [i.reference, i.from === null ? [] : [byId.get(i.from)!.reference]])),
  );
}

/** The plan's settings of an image, when it has any; the revision label holds REVISION. */
function planSettings(graph: BuildGraph, image: ImageNode, naturalCache: CacheKind, perPlatform: boolean): ImageSettings | undefined {
  // Built a job per platform (GitHub's native runners), each platform keeps a cache of its own.
  const specs = perPlatform ? image.platforms.map((platform) => platformCacheSpecs(graph, image, naturalCache, platform)) : [cacheSpecs(graph, image, naturalCache)];
  const cache = { from: specs.flatMap((spec) => spec.from), to: specs.flatMap((spec) => spec.to) };
  const attest = attestSpecs(graph);
  if (image.aliases.length === 0 && image.labels.length === 0 && image.platforms.length === 0 && image.target === null && cache.from.length === 0 && attest.length === 0) return undefined;
  return settingsView({
    aliases: image.aliases.map((alias) => `${image.repository}:${alias}`),
    labels: Object.fromEntries(image.labels.map((label) => [label.name, label.revision ? REVISION : label.value])),
    platforms: image.platforms,
    target: image.target,
    cacheFrom: cache.from,
    cacheTo: cache.to,
    attest,
  });
}

/** Settings in a comparable order: aliases sorted, labels by name. */
export function settingsView(settings: ImageSettings): ImageSettings {
  return {
    ...settings,
    aliases: [...settings.aliases].sort(),
    labels: Object.fromEntries(Object.entries(settings.labels).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))),
  };
}

/**
 * Cloud Build, one config or several submitted in order, `$$` read back as Cloud Build
 * reads it. A plain step's args are docker's; a content-tags step is a bash script,
 * which is run here by bash with a recording docker whose `manifest inspect` finds
 * only the references in `existing`: what it ran is what the step builds and pushes.
 * Within a config an image waits for its base's step; across configs it builds FROM an
 * image an earlier config pushed (docker pulls it), named by one of its build args.
 */
export function cloudbuildView(texts: readonly string[], existing: readonly string[] = [], substitutions: Readonly<Record<string, string>> = {}, graph?: BuildGraph): OutputView & { readonly calls: readonly string[][] } {
  const images: ImageView[] = [];
  // The resolve step's file, as `caliban-images resolve --format lines` writes it for the graph, in the $HOME every step shares.
  const home = mkdtempSync(join(tmpdir(), "builder-home-"));
  if (graph !== undefined) {
    mkdirSync(join(home, ".caliban-images"));
    writeFileSync(join(home, ".caliban-images", "resolved"), digestLines(graph, undefined));
  }
  const bases: Record<string, string[]> = {};
  const pushedEarlier = new Map<string, string>();
  const allCalls: string[][] = [];
  for (const text of texts) {
    const config = JSON.parse(text) as { steps: { id: string; entrypoint?: string; args: string[]; waitFor: string[] }[]; substitutions?: Record<string, string> };
    // COMMIT_SHA is Cloud Build's own, the commit a trigger builds.
    const values: Record<string, string> = { COMMIT_SHA: REVISION, ...config.substitutions, ...substitutions };
    const pushing = values._PUSH === undefined || values._PUSH === "true";
    if (config.steps.length > 300) throw new Error(`cloudbuild: a config with ${config.steps.length} steps; Cloud Build runs at most 300`);
    const pushedHere: string[] = [];
    const scripts = config.steps.map((step) => {
      const args = step.args.map((a) => substitute(a, values));
      if (step.entrypoint === undefined) return undefined;
      // The resolve step installs caliban-images and runs it: its file is written above (the e2e tests run it for real).
      if (step.id === "resolve") {
        if (graph === undefined) throw new Error("cloudbuild: the configs read their digests from the resolve step: give the graph");
        if (!args[1]!.includes("caliban-images resolve")) throw new Error("cloudbuild: the resolve step runs no caliban-images resolve");
        return "true";
      }
      if (step.entrypoint === "bash" && args[0] === "-c" && args.length === 2) return args[1]!;
      throw new Error(`cloudbuild: a step runs ${step.entrypoint} ${JSON.stringify(args)}`);
    });
    const ran = runScripts(scripts.filter((script) => script !== undefined), existing, { HOME: home });
    let next = 0;
    config.steps.forEach((step, index) => {
      const calls = scripts[index] === undefined ? [step.args.map((a) => substitute(a, values))] : ran[next++]!;
      allCalls.push(...calls);
      // A step that carries an image an earlier config builds, for the images built FROM it here: it pushes nothing.
      if (step.id.endsWith("-carried")) {
        if (calls.some((c) => c[0] === "push" || (c[0] === "buildx" && c.includes("--push")))) throw new Error(`cloudbuild: ${step.id} pushes`);
        return;
      }
      pushedHere.push(...calls.filter((c) => c[0] === "push").map((c) => c[1]!));
      // buildx builds and pushes in one call, every -t pushed (a plain `docker build` before it is for the test).
      const buildx = calls.find((c) => c[0] === "buildx" && c[1] === "build" && c.includes("--push"));
      if (buildx) for (let i = 2; i < buildx.length; i++) if (buildx[i] === "-t") pushedHere.push(buildx[i + 1]!);
      const build = buildx ? buildx.slice(1) : calls.find((c) => c[0] === "build");
      if (!build) return;
      const image = dockerBuildView(build.slice(1));
      images.push(image);
      // What it waits for among the images (a login step is no image).
      // A plain step may wait for its base's test step (`REF-test`), which follows the base's build.
      const imageStep = (id: string) => config.steps.some((other) => other.id === id && other.args[0] === "build") || config.steps.some((other) => other.id === id && other.entrypoint === "bash" && other.id !== "login" && other.id !== "buildx" && other.id !== "resolve" && !other.id.endsWith("-carried"));
      const waited = step.waitFor
        .filter((w) => w !== "-")
        .map((w) => (imageStep(w) ? w : w.endsWith("-test") && imageStep(w.slice(0, -"-test".length)) ? w.slice(0, -"-test".length) : w.endsWith("-carried") ? w.slice(0, -"-carried".length) : undefined))
        .filter((w): w is string => w !== undefined);
      const pulled = Object.values(image.args).filter((value) => pushedEarlier.has(value)).map((value) => pushedEarlier.get(value)!);
      bases[image.reference] = [...new Set([...waited, ...pulled])];
    });
    for (const step of config.steps) {
      const build = images.find((i) => i.reference === step.id);
      if (!build) continue;
      for (const reference of [build.reference, build.content, ...(build.settings?.aliases ?? [])]) {
        if (reference === undefined) continue;
        if (pushing && !pushedHere.includes(reference)) throw new Error(`cloudbuild: ${reference} is built but never pushed`);
        if (!pushing && pushedHere.includes(reference)) throw new Error(`cloudbuild: ${reference} is pushed though _PUSH is false`);
        pushedEarlier.set(reference, build.reference);
      }
    }
  }
  return { ...normalise(images, bases), calls: allCalls };
}

/**
 * Pipeline shell scripts, each run by `bash -c` as its step would run it, in order, with
 * a recording docker (see recordingDocker): the calls each one made. One driving shell
 * runs them all (a process per script is slow for 300 steps); a marker call between
 * scripts tells their calls apart.
 */
export function runScripts(scripts: readonly string[], existing: readonly string[] = [], env: Record<string, string> = {}): string[][][] {
  if (scripts.length === 0) return [];
  const docker = recordingDocker(existing);
  const files = scripts.map((script, i) => {
    const file = join(docker.directory, `step-${i}.sh`);
    writeFileSync(file, script);
    return file;
  });
  // The recording docker as an exported bash function, which each `bash -c` inherits: the
  // same log and answers as the script on PATH, without a process per call.
  const log = JSON.stringify(join(docker.directory, "docker.log"));
  const recorder =
    `docker() { local line; printf -v line '%s\\037' "$@"; printf '%s\\036' "$line" >> ${log}; ` +
    // The reference is the last word (after --insecure, for a loopback registry).
    `if [ "$1 $2" = "manifest inspect" ]; then [[ "$REGISTRY_HAS" == *$'\\n'"\${@: -1}"$'\\n'* ]] && return; echo "no such manifest: \${@: -1}" >&2; return 1; fi; }\nexport -f docker\n`;
  const driver = recorder + files.map((file) => `bash -c "$(cat ${JSON.stringify(file)})" || exit $?\ndocker --end-of-step\n`).join("");
  const registryHas = `\n${existing.map((reference) => `${reference}\n`).join("")}`;
  const run = Bun.spawnSync(["bash", "-c", driver], { cwd: docker.directory, env: { ...process.env, ...env, REGISTRY_HAS: registryHas, PATH: `${docker.directory}:${process.env.PATH}` } });
  if (run.exitCode !== 0) throw new Error(`a script failed (${run.exitCode}): ${run.stderr.toString()}`);
  const perScript: string[][][] = [[]];
  for (const call of docker.calls()) {
    if (call[0] === "--end-of-step") perScript.push([]);
    else perScript.at(-1)!.push(call);
  }
  perScript.pop();
  return perScript;
}

/** A step arg as Cloud Build reads it: `$$` is '$', `$_NAME` and `${_NAME}` the substitution's value. */
export function substitute(text: string, values: Readonly<Record<string, string>>): string {
  return text.replace(/\$\$|\$\{(\w+)\}|\$(\w+)/g, (whole, braced: string | undefined, bare: string | undefined) => {
    if (whole === "$$") return "$";
    const name = braced ?? bare!;
    if (!(name in values)) throw new Error(`cloudbuild: $${name} has no value: Cloud Build would refuse the build`);
    return values[name]!;
  });
}

/** `docker build` arguments (after "build") → the image they build. */
export function dockerBuildView(args: readonly string[]): ImageView {
  const tags: string[] = [];
  let dockerfile = "Dockerfile";
  const buildArgs: Record<string, string> = {};
  const labels: Record<string, string> = {};
  let target: string | null = null;
  let platforms: string[] = [];
  const cacheFrom: string[] = [];
  const cacheTo: string[] = [];
  const attest: string[] = [];
  const rest: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (arg === "-t") tags.push(args[++i]!);
    else if (arg === "-f") dockerfile = args[++i]!;
    else if (arg === "--target") target = args[++i]!;
    // buildx's own (BuildKit): where the output goes is the caller's business.
    else if (arg === "--platform") platforms = args[++i]!.split(",");
    else if (arg === "--cache-from") cacheFrom.push(args[++i]!);
    else if (arg === "--cache-to") cacheTo.push(args[++i]!);
    else if (arg === "--attest") attest.push(args[++i]!);
    else if (arg === "--push" || arg === "--load") continue;
    else if (arg === "--builder") i++;
    else if (arg === "--output") i++;
    else if (arg === "--build-arg" || arg === "--label") {
      const pair = args[++i]!;
      const equals = pair.indexOf("=");
      (arg === "--label" ? labels : buildArgs)[pair.slice(0, equals)] = pair.slice(equals + 1);
    } else rest.push(arg);
  }
  if (rest.length !== 1) throw new Error(`docker build: expected one context, found ${JSON.stringify(rest)}`);
  if (tags.length < 1) throw new Error("docker build: no tag");
  // The tag, the content tag (inputs-<digest>) when there is one, then aliases.
  const content = tags.slice(1).find((tag) => /:inputs-[0-9a-f]{64}$/.test(tag));
  const aliases = tags.slice(1).filter((tag) => tag !== content);
  const hasSettings = aliases.length > 0 || Object.keys(labels).length > 0 || target !== null || platforms.length > 0 || cacheFrom.length > 0 || attest.length > 0;
  const settings = hasSettings ? { settings: settingsView({ aliases, labels, platforms, target, cacheFrom, cacheTo, attest }) } : {};
  return { reference: tags[0]!, ...(content === undefined ? {} : { content }), dockerfile, context: rest[0]!, args: buildArgs, ...settings };
}

/**
 * A string of a workflow file as GitHub gives it to a step: every `${{ expression }}`
 * evaluated. Our workflows hold one kind of expression, a string literal ('...', a
 * quote inside written ''); any other is an error here, as it would be evaluated there.
 */
export function evaluateWorkflowString(text: string): string {
  let out = "";
  let at = 0;
  for (;;) {
    const start = text.indexOf("${{", at);
    if (start < 0) return out + text.slice(at);
    out += text.slice(at, start);
    const literal = /^\s*'((?:[^']|'')*)'\s*\}\}/.exec(text.slice(start + 3));
    if (!literal) throw new Error(`GitHub would evaluate the expression at ${JSON.stringify(text.slice(start, start + 40))}`);
    out += literal[1]!.replaceAll("''", "'");
    at = start + 3 + literal[0].length;
  }
}

/**
 * GitHub Actions: each job's matrix entries as build-push-action receives them;
 * what an image waits for is every image in the jobs its job (transitively) needs.
 * Entries read from the workflow file are evaluated as GitHub evaluates them; entries
 * read with fromJSON (`--format matrix`) are data, which GitHub does not evaluate.
 */
export function githubView(
  workflow: { jobs: Record<string, { needs?: string[]; if?: string; env?: Record<string, string>; strategy?: { matrix: { include: Record<string, string>[] } }; steps?: WorkflowStep[] }> },
  from: "workflow" | "data" = "workflow",
  resolved?: ResolveOutputs,
  event: "push" | "pull_request" = "push",
): OutputView & { readonly after: Readonly<Record<string, ReadonlySet<string>>> } {
  const literal = from === "workflow" ? evaluateWorkflowString : (text: string) => text;
  if (workflow.jobs.resolve !== undefined && resolved === undefined) throw new Error("github: the workflow reads its digests from the resolve job: give its outputs (resolveOutputs)");
  const images: ImageView[] = [];
  const jobImages = new Map<string, string[]>();
  const natives = new Map<string, ImageView[]>();
  const merges = new Map<string, Record<string, string>>();
  for (const [name, job] of Object.entries(workflow.jobs)) {
    // A job with no matrix builds no image (the schedule's update-lock job).
    if (job.strategy === undefined) continue;
    // A job whose condition is false for the event does not run (a pull request's twins on a push, and the other way round).
    if (from === "workflow" && job.if !== undefined && !truthy(evaluate(job.if, { github: { event_name: event }, needs: needsResolve(resolved, event) }))) continue;
    const references: string[] = [];
    const entries = job.strategy.matrix.include.map(
      // The entry as its steps see it: written in the file, GitHub evaluated it first.
      (raw) => Object.fromEntries(Object.entries(raw).map(([key, value]) => [key, typeof value === "string" ? literal(value) : value])) as Record<string, string>,
    );
    const kind = job.steps?.some((step) => String(step.with?.outputs ?? "").includes("push-by-digest=true")) ? "native" : job.steps?.some((step) => step.name === "Join the platforms under every tag") ? "merge" : "build";
    for (const entry of entries) {
      const env = jobEnv(job.env, entry, resolved, event);
      if (kind === "merge") {
        merges.set(entry.id!, { ...entry, ...(env.CONTENT === undefined ? {} : { content: env.CONTENT }) });
        references.push(entry.image!);
        continue;
      }
      if (kind === "native") {
        const built = pushedImage(job.steps!, entry, [entry.image!], false, env, resolved, event)!;
        natives.set(entry.id!, [...(natives.get(entry.id!) ?? []), built]);
        references.push(entry.image!);
        continue;
      }
      // A native image's stage-job entry builds only for a pull request: on a push, no step runs.
      const image = job.steps ? pushedImage(job.steps, entry, undefined, (entry as Record<string, unknown>).native === true && event === "push", env, resolved, event) : entryImage(entry);
      if (image === undefined) continue;
      images.push(image);
      references.push(image.reference);
    }
    jobImages.set(name, references);
  }
  // A native image: its platforms' builds (by digest), joined under the merge job's tags.
  for (const [id, builds] of natives) {
    const merge = merges.get(id);
    if (!merge) throw new Error(`github: native image ${id} has no merge entry`);
    if (Number(merge.platforms) !== builds.length) throw new Error(`github: ${id} joins ${merge.platforms} platforms, ${builds.length} are built`);
    const first = builds[0]!;
    const aliases = buildPushActionList(merge.aliases ?? "", false);
    const all = builds.map((build) => build.settings!);
    images.push({
      ...first,
      ...(merge.content === undefined ? {} : { content: merge.content }),
      settings: settingsView({
        ...first.settings!,
        aliases,
        platforms: all.flatMap((settings) => settings.platforms),
        cacheFrom: all.flatMap((settings) => settings.cacheFrom),
        cacheTo: all.flatMap((settings) => settings.cacheTo),
      }),
    });
  }
  const needed = (job: string, seen = new Set<string>()): Set<string> => {
    for (const need of workflow.jobs[job]?.needs ?? []) {
      if (!seen.has(need)) {
        seen.add(need);
        needed(need, seen);
      }
    }
    return seen;
  };
  const after: Record<string, Set<string>> = {};
  for (const [job, references] of jobImages) {
    const earlier = new Set([...needed(job)].flatMap((j) => jobImages.get(j) ?? []));
    for (const reference of references) after[reference] = earlier;
  }
  return { ...normalise(images, {}), after };
}

/**
 * How docker/build-push-action reads its `build-args` input (actions-toolkit's
 * Util.getInputList with ignoreComma): @actions/core trims the input, csv-parse
 * (relaxQuotes) splits it into records, a record's fields are joined again with ',',
 * and every item is trimmed. Whatever this loses, the action loses.
 */
export interface WorkflowStep {
  readonly name?: string;
  readonly uses?: string;
  readonly if?: string;
  readonly with?: Record<string, unknown>;
}

/**
 * What a job's steps build for a matrix entry on a push to a publishing branch, when the
 * registry lacks the image: the build-push-action step that runs and pushes (else the one
 * that runs), its inputs evaluated as the runner evaluates them (scripts/validators/
 * github-expressions.ts) and read as build-push-action reads them.
 */
function pushedImage(steps: readonly WorkflowStep[], entry: Record<string, string>, tagsGiven: readonly string[] | undefined, mayBeNone: boolean, env: Record<string, string>, resolved: ResolveOutputs | undefined, event: string): ImageView | undefined {
  const context: Context = { github: { event_name: event, sha: REVISION }, matrix: entry, env, needs: needsResolve(resolved, event), steps: { registry: { outputs: { has: "false" } }, base: { outcome: "skipped" } } };
  const runs = steps.filter((step) => step.uses?.startsWith("docker/build-push-action") && (step.if === undefined || truthy(evaluate(step.if.replace(/^\$\{\{(.*)\}\}$/s, "$1"), context))));
  const input = (step: WorkflowStep, name: string) => {
    const value = step.with?.[name];
    return value === undefined ? "" : String(evaluateTemplate(String(value), context) ?? "");
  };
  // The build that pushes: by `push`, or by its outputs (a native job's push by digest); a loaded build before it is for a test.
  // build-push-action reads `push` as a boolean: the text "false" is false.
  const pushes = (candidate: WorkflowStep) => [true, "true"].includes(evaluateTemplate(String(candidate.with?.push ?? "false"), context) as boolean | string);
  const step = runs.find((candidate) => pushes(candidate) || String(candidate.with?.outputs ?? "").includes("push=true")) ?? runs[0];
  if (!step && mayBeNone) return undefined;
  if (!step) throw new Error(`github: no build-push-action step builds ${entry.id}`);
  const args: Record<string, string> = {};
  for (const line of buildPushActionList(input(step, "build-args"))) args[line.slice(0, line.indexOf("="))] = line.slice(line.indexOf("=") + 1);
  const tags = tagsGiven ? [...tagsGiven] : buildPushActionList(input(step, "tags"), false);
  const content = tags.slice(1).find((tag) => /:inputs-[0-9a-f]{64}$/.test(tag));
  const aliases = tags.slice(1).filter((tag) => tag !== content);
  const labels: Record<string, string> = {};
  for (const line of buildPushActionList(input(step, "labels"))) labels[line.slice(0, line.indexOf("="))] = line.slice(line.indexOf("=") + 1);
  const target = input(step, "target") || null;
  const platforms = buildPushActionList(input(step, "platforms"), false);
  const cacheFrom = buildPushActionList(input(step, "cache-from"));
  const cacheTo = buildPushActionList(input(step, "cache-to"));
  const provenance = input(step, "provenance");
  const attest = [...(provenance !== "" && provenance !== "false" ? [`type=provenance,${provenance}`] : []), ...(input(step, "sbom") === "true" ? ["type=sbom"] : [])];
  const hasSettings = aliases.length > 0 || Object.keys(labels).length > 0 || target !== null || platforms.length > 0 || cacheFrom.length > 0 || attest.length > 0;
  return {
    reference: tags[0]!,
    ...(content === undefined ? {} : { content }),
    dockerfile: input(step, "file"),
    context: input(step, "context"),
    args,
    ...(hasSettings ? { settings: settingsView({ aliases, labels, platforms, target, cacheFrom, cacheTo, attest }) } : {}),
  };
}

/** What the resolve job hands every build job (`caliban-images resolve --format github`): the digests by id, the ids the registry has; JSON text, as job outputs are. */
export interface ResolveOutputs {
  readonly inputs: string;
  readonly present: string;
  /** "true" or "false": whether the run publishes, as [publish] says for its event and branch. */
  readonly publish: string;
}

/** The resolve job's outputs for a graph, as resolve prints them for $GITHUB_OUTPUT (its own function), the registry holding `present`. */
export function resolveOutputs(graph: BuildGraph, present: readonly string[] = [], publishes = true): ResolveOutputs {
  const lines = githubOutputs(graph, new Set(present), publishes).trim().split("\n");
  const value = (name: string) => lines.find((line) => line.startsWith(`${name}=`))!.slice(name.length + 1);
  return { inputs: value("inputs"), present: value("present"), publish: value("publish") };
}

/** The resolve jobs as the build jobs' `needs` see them: the one of runs that may publish, and a pull request's (which never publishes). */
export function needsResolve(resolved: ResolveOutputs | undefined, event = "push"): Context {
  if (resolved === undefined) return {};
  const outputs = { inputs: resolved.inputs, present: resolved.present };
  // Each runs on its own events only: the other is skipped, with no outputs.
  const skipped = { result: "skipped", outputs: {} };
  const pullRequest = event === "pull_request";
  return { resolve: pullRequest ? skipped : { result: "success", outputs: { ...outputs, publish: resolved.publish } }, pr_resolve: pullRequest ? { result: "success", outputs: { ...outputs, publish: "false" } } : skipped };
}

/** A job's `env:` as the runner gives it to the job's steps: each value evaluated with the entry and the needed jobs' outputs. */
export function jobEnv(env: Record<string, string> | undefined, entry: Record<string, string>, resolved: ResolveOutputs | undefined, event = "push"): Record<string, string> {
  const context: Context = { github: { event_name: event, sha: REVISION }, matrix: entry, needs: needsResolve(resolved, event) };
  return Object.fromEntries(Object.entries(env ?? {}).map(([name, value]) => [name, String(evaluateTemplate(value, context) ?? "")]));
}

/** A matrix entry read alone (`--format matrix` with no steps): its image, args and content reference. */
function entryImage(entry: Record<string, string>): ImageView {
  const args: Record<string, string> = {};
  for (const line of buildPushActionList(entry["build-args"] ?? "")) args[line.slice(0, line.indexOf("="))] = line.slice(line.indexOf("=") + 1);
  return { reference: entry.image!, ...(entry.content === undefined ? {} : { content: entry.content }), dockerfile: entry.dockerfile!, context: entry.context!, args };
}

/**
 * A list input as build-push-action reads it (@docker/actions-toolkit's Util.getInputList):
 * CSV lines, quotes relaxed, each item trimmed, empty ones dropped; `ignoreComma` (build-args,
 * labels, cache-from, cache-to) keeps a line whole, else (tags, platforms) a comma splits it.
 */
export function buildPushActionList(input: string, ignoreComma = true): string[] {
  const trimmed = input.trim();
  if (trimmed === "") return [];
  const records = parseCsv(trimmed, { columns: false, relaxQuotes: true, relaxColumnCount: true, skipEmptyLines: true }) as string[][];
  return records.flatMap((record) => (ignoreComma ? [record.join(",")] : record)).filter((item) => item).map((item) => item.trim());
}

/**
 * A fake `docker` that records every call: `path` to put first on PATH or pass as
 * DOCKER, `calls()` the argument lists, in order. One write per call (unit separator
 * between arguments, record separator after), so parallel callers do not interleave.
 * `docker manifest inspect REF` succeeds exactly when REF is one of `existing`, as a
 * registry holding those images would answer.
 */
export function recordingDocker(existing: readonly string[] = [], failingTests: readonly string[] = []): { path: string; directory: string; calls(): string[][] } {
  const directory = mkdtempSync(join(tmpdir(), "docker-"));
  const log = join(directory, "docker.log");
  const path = join(directory, "docker");
  const registry = join(directory, "registry.txt");
  writeFileSync(registry, existing.map((reference) => `${reference}\n`).join(""));
  const failing = join(directory, "failing.txt");
  writeFileSync(failing, failingTests.map((reference) => `${reference}\n`).join(""));
  writeFileSync(
    path,
    `#!/usr/bin/env bash\nline=$(printf '%s\\037' "$@")\nprintf '%s\\036' "$line" >> ${JSON.stringify(log)}\n` +
      `if [ "$1 $2" = "manifest inspect" ]; then grep -qxF -- "\${@: -1}" ${JSON.stringify(registry)} && exit 0; echo "no such manifest: \${@: -1}" >&2; exit 1; fi\n` +
      // `docker run --rm REF ...` (a smoke test) fails for the references in failingTests.
      `if [ "$1 $2" = "run --rm" ]; then ! grep -qxF -- "$3" ${JSON.stringify(failing)}; exit; fi\n`,
  );
  chmodSync(path, 0o755);
  writeFileSync(log, "");
  return {
    path,
    directory,
    calls: () => readFileSync(log, "utf8").split("\x1e").filter(Boolean).map((line) => line.split("\x1f").slice(0, -1)),
  };
}

/**
 * A stand-in for `caliban-images resolve --format make` beside a recording docker, for the
 * Makefile's readbacks in folders that hold no matrix: it prints the plan's own digests, and
 * `present/ID=1` for each image whose content tag `existing` names, only when asked with
 * --registry (as the real one asks the registry only then). It refuses a call without a
 * shape. The real command is run by cli/resolve.test.ts and by the e2e tests, with the
 * Makefile and a real registry.
 */
export function fakeResolve(directory: string, graph: BuildGraph, existing: readonly string[] = []): string {
  const path = join(directory, "caliban-images");
  const tags = new Set(existing.map((reference) => reference.slice(reference.lastIndexOf(":") + 1)));
  const hex = (image: ImageNode) => image.inputs.slice("sha256:".length);
  const words = (present: boolean) => graph.images.map((image) => `inputs/${image.id}=${hex(image)}${present && tags.has(`inputs-${hex(image)}`) ? ` present/${image.id}=1` : ""}`).join(" ");
  writeFileSync(
    path,
    `#!/usr/bin/env bash
[ "$1" = resolve ] || exit 9
shape=; registry=
while [ $# -gt 0 ]; do case "$1" in --shape) shape=$2;; --registry) registry=$2;; esac; shift; done
` +
      `[[ "$shape" =~ ^[0-9a-f]{64}$ ]] || { echo "fake resolve: no shape" >&2; exit 9; }
` +
      `if [ -n "$registry" ]; then echo ${JSON.stringify(words(true))}; else echo ${JSON.stringify(words(false))}; fi
`,
  );
  chmodSync(path, 0o755);
  return path;
}

/**
 * make: runs `make -j2 push` with a recording fake docker first, so every argument is
 * what the shell handed to docker after make's and the shell's own expansions; the
 * direct prerequisites of each build target come from make's own database (-p).
 */
export function makeView(makefile: string, graph: BuildGraph, makeArgs: readonly string[] = [], existing: readonly string[] = [], failingTests: readonly string[] = []): OutputView & { readonly order: readonly string[]; readonly pushes: readonly string[]; readonly retags: readonly string[][]; readonly tests: readonly string[]; readonly stderr: string } {
  const docker = recordingDocker(existing, failingTests);
  const directory = docker.directory;
  writeFileSync(join(directory, "Makefile"), makefile);
  // With a failing test, -k: make goes on with every target that does not depend on the failed one.
  // REVISION as a CI would set it (the Makefile's default asks git, which has no repository here).
  const resolve = `CALIBAN_IMAGES=${fakeResolve(directory, graph, existing)}`;
  const run = Bun.spawnSync(["make", "-j2", ...(failingTests.length > 0 ? ["-k"] : []), "push", `DOCKER=${docker.path}`, `REVISION=${REVISION}`, resolve, ...makeArgs], { cwd: directory });
  const stderr = run.stderr.toString();
  if (run.exitCode !== 0 && failingTests.length === 0) throw new Error(`make failed (${run.exitCode}): ${stderr}`);
  const calls = docker.calls();

  const images: ImageView[] = [];
  const order: string[] = [];
  const pushes: string[] = [];
  const retags: string[][] = [];
  const tests: string[] = [];
  for (const call of calls) {
    if (call[0] === "build") {
      const image = dockerBuildView(call.slice(1));
      images.push(image);
      order.push(image.reference);
    } else if (call[0] === "buildx" && call[1] === "build") {
      // A buildx image is built and pushed by one `--push` build (a `--load` one before it is for its test).
      if (!call.includes("--push")) continue;
      const image = dockerBuildView(call.slice(2));
      images.push(image);
      order.push(image.reference);
      for (let i = 2; i < call.length; i++) if (call[i] === "-t") pushes.push(call[i + 1]!);
    } else if (call[0] === "push") pushes.push(call[1]!);
    else if (call[0] === "run" && call[1] === "--rm") tests.push(call[2]!);
    else if (call.slice(0, 4).join(" ") === "buildx imagetools create --tag") retags.push(call.slice(4));
    else throw new Error(`make ran docker ${call.join(" ")}`);
  }

  // Targets are named by image id, by design; the plan says which reference each id is (REPOSITORY=... moving it, unless its repository is absolute).
  const moved = makeArgs.find((arg) => arg.startsWith("REPOSITORY="))?.slice("REPOSITORY=".length);
  const expected = (image: ImageNode) => (moved === undefined ? image.reference : `${movedRepository(image, moved)}:${image.tag}`);
  const referenceOfId = new Map(graph.images.map((i) => [i.id, images.find((v) => v.reference === expected(i))?.reference ?? `?${i.id}`]));
  const database = Bun.spawnSync(["make", "-pnq", "all", resolve], { cwd: directory }).stdout.toString();
  const bases: Record<string, string[]> = {};
  for (const line of database.split("\n")) {
    const match = /^build\/([A-Za-z0-9_-]+):(.*)$/.exec(line);
    if (!match || !referenceOfId.has(match[1]!)) continue;
    const prerequisites = match[2]!.trim().split(/\s+/).filter((p) => p.startsWith("build/"));
    bases[referenceOfId.get(match[1]!)!] = prerequisites.map((p) => referenceOfId.get(p.slice("build/".length)) ?? p);
  }
  return { ...normalise(images, bases), order, pushes, retags, tests, stderr };
}

/** bake: the JSON `docker buildx bake --print` resolves; a base is linked by `contexts = { ref = "target:id" }`. */
export function bakeView(
  printed: {
    target: Record<
      string,
      {
        context: string;
        dockerfile: string;
        args?: Record<string, string>;
        tags: string[];
        contexts?: Record<string, string>;
        labels?: Record<string, string>;
        platforms?: string[];
        target?: string;
        "cache-from"?: string[];
        "cache-to"?: string[];
        attest?: string[];
      }
    >;
  },
  contentTags = true,
): OutputView {
  const images: ImageView[] = [];
  const bases: Record<string, string[]> = {};
  const tagsOf = (id: string) => printed.target[id]?.tags ?? [];
  for (const target of Object.values(printed.target)) {
    const own = contentTags ? 2 : 1;
    if (target.tags.length < own) throw new Error(`bake: a target with ${target.tags.length} tags`);
    const reference = target.tags[0]!;
    const content = contentTags ? { content: target.tags[1]! } : {};
    const aliases = target.tags.slice(own);
    const hasSettings = aliases.length > 0 || target.labels || target.platforms || target.target || target["cache-from"] || target.attest;
    const settings = hasSettings
      ? {
          settings: settingsView({
            aliases,
            labels: target.labels ?? {},
            platforms: target.platforms ?? [],
            target: target.target ?? null,
            cacheFrom: target["cache-from"] ?? [],
            cacheTo: target["cache-to"] ?? [],
            attest: target.attest ?? [],
          }),
        }
      : {};
    // bake's dockerfile is relative to the context; the plan's, to where the build runs.
    images.push({ reference, ...content, dockerfile: posix.normalize(posix.join(target.context, target.dockerfile)), context: target.context, args: target.args ?? {}, ...settings });
    // A base is linked by the name its child builds FROM: its reference, or its content reference.
    bases[reference] = Object.entries(target.contexts ?? {}).map(([name, link]) => {
      if (!link.startsWith("target:")) throw new Error(`bake: context ${name} is not a target link`);
      const linked = tagsOf(link.slice("target:".length));
      if (!linked.includes(name)) throw new Error(`bake: context ${name} links ${link}, which builds ${linked.join(", ")}`);
      return linked[0]!;
    });
  }
  return normalise(images, bases);
}

/** Images in reference order with args in name order, so that views compare with toEqual. */
export function normaliseImages(images: readonly ImageView[]): ImageView[] {
  const sortedArgs = (args: Readonly<Record<string, string>>) => Object.fromEntries(Object.entries(args).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  return images.map((i) => ({ ...i, args: sortedArgs(i.args) })).sort((a, b) => (a.reference < b.reference ? -1 : 1));
}

function normalise(images: ImageView[], bases: Record<string, readonly string[]>): OutputView {
  return {
    images: normaliseImages(images),
    bases: Object.fromEntries(Object.entries(bases).sort(([a], [b]) => (a < b ? -1 : 1))),
  };
}

/**
 * A $GITHUB_OUTPUT file as the Actions runner reads it: `name=value` lines and
 * `name<<DELIMITER` blocks; a key may not be empty (actions/runner,
 * src/Runner.Worker/FileCommandManager.cs).
 */
export function runnerOutputs(text: string): Record<string, string> {
  const outputs: Record<string, string> = {};
  const lines = text.split("\n");
  if (lines.at(-1) === "") lines.pop();
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (line === "") continue;
    const equals = line.indexOf("=");
    const heredoc = line.indexOf("<<");
    if (equals > 0 && (heredoc < 0 || equals < heredoc)) {
      outputs[line.slice(0, equals)] = line.slice(equals + 1);
      continue;
    }
    if (heredoc <= 0) throw new Error(`the runner refuses the line ${JSON.stringify(line.slice(0, 80))}`);
    const delimiter = line.slice(heredoc + 2);
    const end = lines.indexOf(delimiter, i + 1);
    if (end < 0) throw new Error(`no end to the ${delimiter} block`);
    outputs[line.slice(0, heredoc)] = lines.slice(i + 1, end).join("\n");
    i = end;
  }
  return outputs;
}
