// Shared tags read back (readback.ts): what each output pushes as a shared tag, taken from
// the docker calls its consumer made (make's recipes, Cloud Build's steps, a workflow's run
// blocks, each run by a shell with a recording docker), to compare with the plan: each
// shared tag one `docker buildx imagetools create --tag TAG SOURCE...`, over exactly its
// images as they were pushed, after their pushes.

import { movedRepository, sharedTags, type BuildGraph, type ImageNode } from "../../core/graph.ts";
import { evaluate, evaluateTemplate, truthy } from "./github-expressions.ts";
import { needsResolve, type ResolveOutputs } from "./readback-github.ts";
import { runScripts } from "./readback-cloudbuild.ts";
import { REVISION } from "./build-time-readback.ts";

export interface SharedTagView {
  readonly reference: string;
  /** The images it is over, as the output pushed them, in graph order. */
  readonly sources: readonly string[];
}

/** The plan's shared tags: sources by content reference with content tags, else by reference; `repository` moves them as --base-url (make's REPOSITORY) would. */
export function planSharedTags(graph: BuildGraph, contentTags = true, repository?: string): SharedTagView[] {
  const moved = (image: ImageNode) => (repository === undefined ? image.repository : movedRepository(image, repository));
  const tag = (image: ImageNode) => (contentTags ? image.contentReference.slice(image.contentReference.lastIndexOf(":") + 1) : image.tag);
  return sharedTags(graph).map((shared) => ({ reference: `${moved(shared.images[0]!)}:${shared.tag}`, sources: shared.images.map((image) => `${moved(image)}:${tag(image)}`) }));
}

/** The manifest lists the calls create under one of `references` (`buildx imagetools create --tag REF SOURCE...`), each with its call's index. */
export function createdSharedTags(calls: readonly (readonly string[])[], references: readonly string[]): (SharedTagView & { readonly index: number })[] {
  return calls.flatMap((call, index) => (call.slice(0, 4).join(" ") === "buildx imagetools create --tag" && references.includes(call[4]!) ? [{ reference: call[4]!, sources: call.slice(5), index }] : []));
}

/** The index of the last call that pushed `reference`: a push, a buildx build --push tagging it, or a tag pointed at it (-1 for none). */
export function lastPush(calls: readonly (readonly string[])[], reference: string): number {
  const tags = (call: readonly string[]) => call.flatMap((arg, i) => ((arg === "-t" || arg === "--tag") && call[i + 1] !== undefined ? [call[i + 1]!] : []));
  let last = -1;
  calls.forEach((call, index) => {
    const pushes = (call[0] === "push" && call[1] === reference) || (call[0] === "buildx" && call[1] === "build" && call.includes("--push") && tags(call).includes(reference)) || (call.slice(0, 3).join(" ") === "buildx imagetools create" && tags(call).includes(reference));
    if (pushes) last = index;
  });
  return last;
}

interface WorkflowJob {
  readonly needs?: readonly string[];
  readonly if?: string;
  readonly strategy?: { matrix: { include: Record<string, unknown>[] } };
  readonly steps?: { name?: string; if?: string; env?: Record<string, string>; run?: string }[];
}

/**
 * A workflow's shared-tags job for an event: whether it runs, the jobs it (transitively)
 * needs, and what each of its steps creates, its run block run by bash with a recording
 * docker (a registry that has every source) and its env as the runner evaluates it.
 */
export function githubSharedTags(workflow: { jobs: Record<string, WorkflowJob> }, job: string, resolved: ResolveOutputs, event: "push" | "pull_request" = "push"): { runs: boolean; after: Set<string>; created: SharedTagView[] } | undefined {
  const shared = workflow.jobs[job];
  if (shared === undefined) return undefined;
  const needs = needsResolve(resolved, event);
  const runs = shared.if === undefined || truthy(evaluate(shared.if.replace(/^\$\{\{(.*)\}\}$/s, "$1"), { github: { event_name: event }, needs }));
  const after = new Set<string>();
  const visit = (name: string) => {
    for (const need of workflow.jobs[name]?.needs ?? []) {
      if (after.has(need)) continue;
      after.add(need);
      visit(need);
    }
  };
  visit(job);
  const created: SharedTagView[] = [];
  // A job that does not run creates nothing (and a run that does not publish has no digests to evaluate).
  for (const step of runs ? (shared.steps ?? []) : []) {
    if (step.run === undefined || !step.run.includes("imagetools create")) continue;
    const env = Object.fromEntries(Object.entries(step.env ?? {}).map(([name, value]) => [name, String(evaluateTemplate(value, { github: { event_name: event, sha: REVISION }, needs }) ?? "")]));
    const sources = Object.entries(env).filter(([name]) => name.startsWith("SOURCE_")).map(([, value]) => value);
    // bash -e, as the runner runs a run block; the registry has every source (each image was pushed).
    const [calls] = runScripts([`set -e\n${step.run}`], sources, env);
    created.push(...createdSharedTags(calls!, [env.TAG!]));
  }
  return { runs, after, created };
}

/** The jobs that push an image on a push: each with a matrix entry for it, but a stage job's entry of an image built a job per platform (its merge job pushes it). */
export function githubPushingJobs(workflow: { jobs: Record<string, WorkflowJob> }, resolved: ResolveOutputs, id: string): string[] {
  return Object.entries(workflow.jobs)
    .filter(([, job]) => job.if === undefined || truthy(evaluate(job.if.replace(/^\$\{\{(.*)\}\}$/s, "$1"), { github: { event_name: "push" }, needs: needsResolve(resolved, "push") })))
    .filter(([, job]) => (job.strategy?.matrix.include ?? []).some((entry) => entry.id === id && entry.native !== true))
    .map(([name]) => name);
}
