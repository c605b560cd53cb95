// A GitLab pipeline too large for one file (more jobs than the `max-jobs` option, 500 by
// default) is split, as Cloud Build's configs are past 300 steps: the images in level
// order, a run of them in each child pipeline (`trigger: include: local`, `strategy:
// depend`), the children one after another, each in a stage of the parent's, so every
// base is built (and, when the pipeline publishes, pushed) before a later child builds
// FROM it. Each child has its own resolve job (GitLab hands a child no artifact of its
// parent's without `needs: pipeline`, which gitlab-ci-local does not run either) and
// the last child the shared tags. The parent passes whether it publishes on as
// CALIBAN_PUBLISH: a child's own workflow:rules see only that it was triggered.

import type { BuildGraph, ImageNode } from "../core/graph.ts";
import { imageRuns, partNumber } from "./image-runs.ts";
import { inDirectory } from "./input-paths.ts";
import type { YamlMap, YamlValue } from "./gitlab-yaml.ts";

/** The variable a trigger job hands its child: "true" when the parent pipeline publishes. */
export const PUBLISH_VARIABLE = "CALIBAN_PUBLISH";

/** One child pipeline: its file (from the -o folder), the images it builds, and where it stands. */
export interface PipelinePart {
  readonly path: string;
  readonly images: readonly ImageNode[];
  readonly index: number;
  readonly count: number;
}

/**
 * The graph's images as child pipelines of at most `maxJobs` jobs each (its resolve job
 * and, in the last, the shared tags' job counted), in level order; none when one
 * pipeline holds them all.
 */
export function pipelineParts(graph: BuildGraph, output: string, maxJobs: number, ownJobs: { readonly resolve: boolean; readonly sharedTags: boolean }): PipelinePart[] | undefined {
  const fixed = (ownJobs.resolve ? 1 : 0) + (ownJobs.sharedTags ? 1 : 0);
  if (graph.images.length + fixed <= maxJobs) return undefined;
  const runs = imageRuns(graph, maxJobs - fixed);
  return runs.map((images, index) => ({ path: childPath(output, partNumber(index + 1, runs.length)), images, index, count: runs.length }));
}

/** `.gitlab-ci.yml` -> `.gitlab-ci/images-01.yml`: a folder beside the parent, named as it is. */
function childPath(output: string, number: string): string {
  const stem = output.replace(/\.ya?ml$/, "");
  return `${stem === output ? `${output}.d` : stem}/images-${number}.yml`;
}

/** The trigger job's name (and its stage's) for a part. */
export function triggerJobName(part: PipelinePart): string {
  return part.path.slice(part.path.lastIndexOf("/") + 1).replace(/\.yml$/, "");
}

/** The parent's job for a part: the child pipeline, waited for (its result is the job's). */
export function triggerJob(part: PipelinePart, directory: string): YamlMap {
  return {
    stage: triggerJobName(part),
    variables: { [PUBLISH_VARIABLE]: "$CALIBAN_PUSH" },
    trigger: { include: [{ local: inDirectory(directory, part.path) }], strategy: "depend" },
  };
}

/** A child's workflow:rules: it runs when its parent triggers it, and publishes when its parent does. */
export function childWorkflowRules(): YamlValue[] {
  return [
    { if: `$CI_PIPELINE_SOURCE == "parent_pipeline" && $${PUBLISH_VARIABLE} == "true"`, variables: { CALIBAN_PUSH: "true" } },
    { if: '$CI_PIPELINE_SOURCE == "parent_pipeline"' },
  ];
}
