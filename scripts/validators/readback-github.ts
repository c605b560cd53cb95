// GitHub Actions read back (readback.ts): the workflow accepted by GitHub's own workflow
// parser, each job's matrix entries as build-push-action receives them, every expression
// evaluated by GitHub's own evaluator, the resolve job's outputs as `caliban-images resolve`
// and its own steps make them.

import { convertWorkflowTemplate, NoOperationTraceWriter, parseWorkflow } from "@actions/workflow-parser";
import { parse as parseCsv } from "csv-parse/sync";
import { parse as parseYaml } from "yaml";
import type { BuildGraph } from "../../core/graph.ts";
import { evaluate, evaluateTemplate, truthy, type Context } from "./github-expressions.ts";
import { githubOutputs } from "../../cli/resolve.ts";
import { githubBuildTimeOutputs, REVISION } from "./build-time-readback.ts";
import { normalise, settingsView, type ImageView, type OutputView } from "./readback-view.ts";

/**
 * What GitHub's own workflow parser (@actions/workflow-parser, its language services'
 * parser) finds wrong in a workflow file, [] when it accepts it: parseWorkflow reads the
 * YAML and checks it against the workflow schema (an unknown or misplaced key, a wrong
 * type, every `${{ }}` parsed with the contexts and functions its place allows),
 * convertWorkflowTemplate checks what the schema cannot (job ids, needs and their cycles,
 * if conditions, cron). Both report into the parse's context. The conversion is async only
 * to fetch reusable workflows: with none fetched (depth 0) it awaits nothing, so every
 * error is in when the call returns.
 */
export function githubWorkflowErrors(text: string, name = "build-images.yml"): string[] {
  const parsed = parseWorkflow({ name, content: text }, new NoOperationTraceWriter());
  if (parsed.value !== undefined) void convertWorkflowTemplate(parsed.context, parsed.value, undefined, { fetchReusableWorkflowDepth: 0 });
  return parsed.context.errors.getErrors().map((error) => error.message);
}

/** The workflows (as data) read by readGithubWorkflow: GitHub's parser accepted their text. */
const accepted = new WeakSet<object>();

/**
 * A workflow file as data, once GitHub's parser has accepted its text as written (else an
 * error with what the parser found). githubView reads only workflows read this way.
 */
// biome-ignore lint: the workflow's data is as untyped as YAML's.
export function readGithubWorkflow(text: string, name = "build-images.yml"): any {
  const errors = githubWorkflowErrors(text, name);
  if (errors.length > 0) throw new Error(`github: GitHub's workflow parser rejects ${name}:\n${errors.join("\n")}`);
  const workflow = parseYaml(text);
  accepted.add(workflow);
  return workflow;
}

type GithubWorkflow = { jobs: Record<string, { needs?: string[]; if?: string; env?: Record<string, string>; strategy?: { matrix: { include: Record<string, string>[] } }; steps?: WorkflowStep[] }> };

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
 * GitHub Actions: the workflow accepted by GitHub's parser (githubWorkflowErrors), and
 * each job's matrix entries as build-push-action receives them;
 * what an image waits for is every image in the jobs its job (transitively) needs.
 * Entries read from the workflow file are evaluated as GitHub evaluates them; entries
 * read with fromJSON (`--format matrix`) are data, which GitHub does not evaluate.
 */
export function githubView(
  workflow: GithubWorkflow,
  from: "workflow" | "data" = "workflow",
  resolved?: ResolveOutputs,
  event: "push" | "pull_request" = "push",
): OutputView & { readonly after: Readonly<Record<string, ReadonlySet<string>>> } {
  // A workflow file is first read by GitHub's own parser; matrices given as data are no workflow.
  if (from === "workflow" && !accepted.has(workflow)) throw new Error("githubView: read the workflow file with readGithubWorkflow(text), so that GitHub's parser reads it as written");
  const literal = from === "workflow" ? evaluateWorkflowString : (text: string) => text;
  if (workflow.jobs.resolve !== undefined && resolved === undefined) throw new Error("github: the workflow reads its digests from the resolve job: give its outputs (resolveOutputs)");
  // The build-time values of aliases, as the resolve job's own step makes them for this event.
  if (resolved !== undefined) resolved = { ...resolved, buildTime: githubBuildTimeOutputs(workflow.jobs[event === "pull_request" ? "pr_resolve" : "resolve"] as never, event) };
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
        // The tags the join step is given: its ALIASES as the runner evaluates them (build-time values filled in).
        const joined = (job.steps as { name?: string; env?: Record<string, string> }[]).find((step) => step.name === "Join the platforms under every tag");
        const aliases = String(evaluateTemplate(joined?.env?.ALIASES ?? "", { github: { event_name: event, sha: REVISION }, matrix: entry, needs: needsResolve(resolved, event) }) ?? "");
        merges.set(entry.id!, { ...entry, aliases, ...(env.CONTENT === undefined ? {} : { content: env.CONTENT }) });
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
  readonly env?: Record<string, string>;
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
  const secrets = stepSecrets(step, input, context, entry.id!);
  return {
    reference: tags[0]!,
    ...(content === undefined ? {} : { content }),
    dockerfile: input(step, "file"),
    context: input(step, "context"),
    args,
    ...(hasSettings ? { settings: settingsView({ aliases, labels, platforms, target, cacheFrom, cacheTo, attest }) } : {}),
    ...(secrets.length === 0 ? {} : { secrets }),
  };
}

/**
 * A build-push-action step's build secrets as BuildKit gets them (secretSpecsRead). Each
 * variable must be one the step's `env:` sets from the repository secret of its name, as
 * the runner evaluates it for the event: else the build would read an empty value.
 */
function stepSecrets(step: WorkflowStep, input: (step: WorkflowStep, name: string) => string, context: Context, id: string): string[] {
  // The repository's secrets that the step names, each value naming its secret: the env then shows which one it read.
  const named = Object.values(step.env ?? {}).flatMap((value) => [...value.matchAll(/\bsecrets\.([A-Za-z_][A-Za-z0-9_]*)/g)].map((match) => match[1]!));
  const secrets = Object.fromEntries(named.map((name) => [name, `value of the repository secret ${name}`]));
  const env = Object.fromEntries(Object.entries(step.env ?? {}).map(([name, value]) => [name, String(evaluateTemplate(value, { ...context, secrets }) ?? "")]));
  const specs = secretSpecsRead(input(step, "secret-envs"), input(step, "secret-files"));
  for (const spec of specs) {
    const name = /^id=([^,]*),env=(.*)$/.exec(spec)?.[2];
    if (name !== undefined && env[name] !== `value of the repository secret ${name}`) throw new Error(`github: ${id}: ${spec}: the step's env does not take ${name} from the repository secret ${name} (it holds ${JSON.stringify(env[name] ?? null)})`);
  }
  return specs;
}

/** `secret-envs` and `secret-files` as build-push-action reads them (actions-toolkit's getInputList: env pairs split at commas, file lines whole), as BuildKit's specs, sorted. */
function secretSpecsRead(envs: string, files: string): string[] {
  const pair = (line: string) => [line.slice(0, line.indexOf("=")), line.slice(line.indexOf("=") + 1)] as const;
  return [
    ...buildPushActionList(envs, false).map((line) => `id=${pair(line)[0]},env=${pair(line)[1]}`),
    ...buildPushActionList(files).map((line) => `id=${pair(line)[0]},src=${pair(line)[1]}`),
  ].sort();
}

/** What the resolve job hands every build job (`caliban-images resolve --format github`): the digests by id, the ids the registry has; JSON text, as job outputs are. */
export interface ResolveOutputs {
  readonly inputs: string;
  readonly present: string;
  /** "true" or "false": whether the run publishes, as [publish] says for its event and branch. */
  readonly publish: string;
  /** The resolve job's outputs of build-time values, as its step makes them (build-time-readback.ts). */
  readonly buildTime?: Readonly<Record<string, string>>;
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
  const outputs = { inputs: resolved.inputs, present: resolved.present, ...resolved.buildTime };
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
  const secrets = secretSpecsRead(entry["secret-envs"] ?? "", entry["secret-files"] ?? "");
  return { reference: entry.image!, ...(entry.content === undefined ? {} : { content: entry.content }), dockerfile: entry.dockerfile!, context: entry.context!, args, ...(secrets.length === 0 ? {} : { secrets }) };
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
