// GitHub Actions and shared tags (`shared_tags`: core/graph.ts, sharedTags). One job,
// `shared-tags`, after the jobs that push the shared tags' images (a stage job, or the
// merge job of an image built a job per platform), pushes each shared tag as one manifest
// list over its images (docker buildx imagetools create), each as this run pushed it. It
// runs where the other publishing jobs run, with their permissions and login; a pull
// request has no twin of it (its jobs push nothing). Only written when the graph has
// shared tags. A failed image leaves the shared tag as it was: without content tags the
// job runs only when every job it needs succeeded; with them (a failed image stops only
// the images built FROM it) it runs once they are done, and each shared tag first checks
// that the registry has each of its images' content references, which only a successful
// job pushes (or found there).

import { sharedTagAnnotationSpecs } from "./build-settings.ts";
import { imageRegistries, sharedTags, type BuildGraph, type ImageNode } from "../core/graph.ts";
import { LOOPBACK } from "../core/names.ts";
import type { GithubOptions, StageJob } from "./github-types.ts";
import type { TextWriter } from "./text.ts";
import { yamlScalar } from "./quoting.ts";
import { jobPermissions, writeLogin } from "./github-login.ts";
import { writeNeeds } from "./github-job.ts";
import { PUBLISHING, RESOLVE_JOB } from "./github-resolve.ts";
import { ACTIONS, RETRY } from "./github-actions.ts";
import { cosignSetupStep, signingPermissions, signingStep } from "./github-signing.ts";

export const SHARED_TAGS_JOB = "shared-tags";

/** The job, when the graph has shared tags (nothing otherwise). `jobs`: the stage jobs, in the workflow's order. */
export function writeSharedTagsJob(out: TextWriter, graph: BuildGraph, jobs: readonly StageJob[], registry: string, options: GithubOptions, lockJob: boolean): void {
  const shared = sharedTags(graph);
  if (shared.length === 0) return;
  const contentTags = options["content-tags"];
  // An image built a job per platform is pushed by its stage's merge job; any other by its stage job.
  const merged = new Set(jobs.filter((job) => job.kind === "merge").flatMap((job) => job.images.map((image) => image.id)));
  const wanted = new Set(shared.flatMap((tag) => tag.images.map((image) => image.id)));
  const pushes = (job: StageJob) => job.images.some((image) => wanted.has(image.id) && (job.kind === "merge" || (job.kind === "build" && !merged.has(image.id))));
  out.line(`${SHARED_TAGS_JOB}:`);
  out.indented(() => {
    out.line("name: Push the shared tags");
    writeNeeds(out, { needs: jobs.filter(pushes).map((job) => job.name) }, options, lockJob);
    // It only joins manifests: the option's time, as a merge job has.
    out.lines([`runs-on: ${yamlScalar(options["runs-on"])}`, `timeout-minutes: ${options["timeout-minutes"]}`, ...jobPermissions(registry, options, "write", signingPermissions(graph)), "steps:", `  - uses: ${ACTIONS.setupBuildx}`]);
    writeLogin(out, registry, options, PUBLISHING);
    out.lines(cosignSetupStep(graph, options, PUBLISHING));
    const source = (image: ImageNode) =>
      contentTags ? `\${{ format('${image.repository}:inputs-{0}', fromJSON(needs.${RESOLVE_JOB}.outputs.inputs)['${image.id}']) }}` : yamlScalar(image.reference);
    const check = contentTags ? sourceCheck(graph) : [];
    for (const tag of shared) {
      const words = tag.images.map((_, index) => `"$SOURCE_${index + 1}"`).join(" ");
      const name = `Push ${tag.reference}`;
      // Each shared tag for itself: one that cannot be pushed leaves the others to be.
      const when = "${{ !cancelled() }}";
      // The annotations its images have alike go on the list, one a line (build-settings.ts): data in the environment, never script text.
      const annotations = sharedTagAnnotationSpecs(tag.images);
      const env = [`      TAG: ${yamlScalar(tag.reference)}`, ...tag.images.map((image, index) => `      SOURCE_${index + 1}: ${source(image)}`), ...(annotations.length > 0 ? [`      ANNOTATIONS: ${yamlScalar(annotations.join("\n"))}`] : [])];
      const script = [
        // The sources as the arguments: one or many, each a word (shellcheck: a loop over one quoted word is a mistake).
        `set -- ${words}`,
        ...(check.length > 0 ? ['for source in "$@"; do', ...check.map((line) => `  ${line}`), "done"] : []),
        ...(annotations.length > 0
          ? ["flags=()", 'while IFS= read -r annotation; do flags+=(--annotation "$annotation"); done <<< "$ANNOTATIONS"', 'retry docker buildx imagetools create "${flags[@]}" --tag "$TAG" "$@"']
          : ['retry docker buildx imagetools create --tag "$TAG" "$@"']),
        // With [sign], the new list is signed too (it is no one image's: no inputs digest).
        ...(graph.sign === undefined ? [] : ['sign_reference "$TAG"']),
      ];
      if (graph.sign !== undefined) out.lines(signingStep(graph, name, when, env, script));
      else out.lines([`  - name: ${yamlScalar(name)}`, `    if: ${when}`, "    env:", ...env, "    run: |", ...[RETRY, ...script].map((line) => `      ${line}`)]);
    }
  });
}

/**
 * The lines that check one source ($source) is in the registry, with its three answers:
 * there, not there ("no such manifest": its job failed, exit 1: the tag is not moved), or
 * no answer (asked again, 4 tries, then exit 4). As the base check asks (github-resolve.ts).
 */
function sourceCheck(graph: BuildGraph): string[] {
  const insecure = imageRegistries(graph).some((host) => LOOPBACK.test(host)) ? " --insecure" : "";
  return [
    "for try in 1 2 3 4; do",
    `  if out=$(docker manifest inspect${insecure} "$source" 2>&1 >/dev/null); then continue 2; fi`,
    '  case "$out" in "no such manifest"*) echo "::error::$source was not pushed (its job failed): $TAG is left as it was"; exit 1 ;; esac',
    '  echo "::warning::cannot ask the registry for $source (try $try): $out"',
    '  if [ "$try" -lt 4 ]; then sleep $((try * try * 5)); fi',
    "done",
    'echo "::error::cannot ask the registry for $source: $out"',
    "exit 4",
  ];
}

/** With --format matrix, the user's workflow pushes the shared tags: said, with what each is over. */
export function sharedTagsMatrixWarning(graph: BuildGraph): string | undefined {
  const shared = sharedTags(graph);
  if (shared.length === 0) return undefined;
  return `emit github --format matrix: the matrices hold no shared tags (shared_tags); your workflow pushes each once its images are pushed, e.g. docker buildx imagetools create --tag ${shared[0]!.reference} ${shared[0]!.images.map((image) => image.reference).join(" ")} (caliban-images docs/image-settings.md, "Shared tags")`;
}
