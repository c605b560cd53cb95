// A GitHub workflow's matrix entries: what each job of a stage reads of its image, as
// JSON, every entry with the same keys. github-native.ts writes its entries of the same parts.

import { imageAnnotationSpecs } from "./build-settings.ts";
import { hasOwnRepositories, imageRunner, imageTimeout, type BuildArg, type BuildGraph, type ImageNode } from "../core/graph.ts";
import { withBaseContentArg } from "../core/base-parts.ts";
import type { CacheSpecs } from "./build-settings.ts";
import { buildTimeRooms, githubAlias } from "./github-build-time.ts";
import { secretFields } from "./github-secrets.ts";
import { hasSecrets } from "./secrets.ts";

/**
 * Where a workflow's content references come from: none (content-tags=false); written in
 * each entry (`--format matrix`, which a plan job of the user's emits from the checkout at
 * run time); or read at run time by the resolve job (the workflow: github-resolve.ts),
 * the entries naming no digest.
 */
export type Digests = "none" | "static" | "runtime";

/**
 * An image's matrix entry as JSON: {"id","image",("content"),"dockerfile","context","build-args"}.
 * `literal` makes a value what GitHub reads literally where the entry is written (ids
 * and references hold no `${{`: core/graph.ts). With content tags, a child's args name
 * its base by the base's content reference.
 */
export function matrixEntry(
  image: ImageNode,
  base: ImageNode | undefined,
  isBase: boolean,
  literal: (text: string) => string,
  digests: Digests,
  tested: boolean,
  runner: readonly string[] | undefined,
  settings: EntrySettings,
  cache: CacheSpecs | undefined,
  timeout: number | undefined,
): string {
  return JSON.stringify({
    id: image.id,
    image: image.reference,
    // In several repositories: the image's and its base's, which its content references are in.
    ...(settings.repositories ? repositoryFields(image, base) : {}),
    ...(digests === "static" ? { content: image.contentReference } : {}),
    // For a pull request, which pushes nothing: the base ("" for none), and whether others build FROM this one.
    base: base ? base.id : "",
    "is-base": isBase,
    // What a child looks for before it builds: its base, as this run built (or found) it.
    ...(digests === "static" ? { "base-content": base ? base.contentReference : "" } : {}),
    dockerfile: literal(image.dockerfile),
    context: literal(image.context),
    "build-args": buildArgLines(image, base, literal, digests),
    // The family's smoke test ("" for none), when a family has one: every entry has the same keys.
    ...(tested ? { test: literal(image.test ?? "") } : {}),
    // The runner's labels, when a family names its own: the job's runs-on reads them.
    ...(runner ? { "runs-on": runner.map(literal) } : {}),
    // Aliases, labels and target, when the graph sets any: every entry has the same keys.
    // An alias naming build-time values is a format() string the job fills in (github-build-time.ts).
    // Whether the job pushes its tag, when some image is internal (published = false: its content reference alone).
    ...(settings.internal ? { published: image.published !== false } : {}),
    // Whether the job first frees the runner's disk, when some image asks (free_disk = true).
    ...(settings.freeDisk ? { "free-disk": image.freeDisk === true } : {}),
    ...(settings.aliases ? { aliases: image.aliases.map((alias) => `${image.repository}:${settings.buildTime === null ? alias : githubAlias(alias, settings.buildTime)}`).join("\n") } : {}),
    ...(settings.labels ? labelFields(image, literal) : {}),
    ...(settings.target ? { target: literal(image.target ?? "") } : {}),
    // Its annotations, one LEVEL:NAME=VALUE a line, as build-push-action reads `annotations` (build-settings.ts).
    ...(settings.annotations ? { annotations: literal(imageAnnotationSpecs(image, settings.provenance !== null || settings.sbom).join("\n")) } : {}),
    // What buildx is asked for beyond that (CSV and newline lists, as build-push-action reads them).
    ...(settings.platforms ? { platforms: image.platforms.join(",") } : {}),
    ...(settings.cache ? { "cache-from": cache!.from.join("\n"), "cache-to": cache!.to.join("\n") } : {}),
    // The family's timeout, when a family sets one: the job's timeout-minutes reads it.
    ...(timeout === undefined ? {} : { "timeout-minutes": timeout }),
    // Build secrets by name, when some image has any (github-secrets.ts).
    ...(settings.secrets ? secretFields(image, literal) : {}),
  });
}

/** Which of aliases, labels and target some image of the graph has: each is then a key of every entry, and an input of build-push-action. */
export interface EntrySettings {
  /** Whether a family names a repository of its own: every entry then names its image's repository and its base's. */
  readonly repositories: boolean;
  /** Whether an image is internal (published = false): every entry then says whether its image is published. */
  readonly internal: boolean;
  /** Whether an image asks for its runner's disk to be freed (free_disk = true): every entry then says whether its image does. */
  readonly freeDisk: boolean;
  readonly aliases: boolean;
  /** The lengths the branch is cut to when an alias names build-time values and a resolve job fills them in (github-build-time.ts), else null. */
  readonly buildTime: readonly number[] | null;
  readonly labels: boolean;
  readonly target: boolean;
  readonly platforms: boolean;
  readonly cache: boolean;
  readonly provenance: "min" | "max" | null;
  readonly sbom: boolean;
  /** Whether some image has build secrets: every entry then names its own (github-secrets.ts). */
  readonly secrets: boolean;
  /** Whether some image has annotations: every entry then names its own. */
  readonly annotations: boolean;
}

export function entrySettings(graph: BuildGraph): EntrySettings {
  return {
    repositories: hasOwnRepositories(graph),
    internal: graph.images.some((image) => image.published === false),
    freeDisk: graph.images.some((image) => image.freeDisk === true),
    aliases: graph.images.some((image) => image.aliases.length > 0),
    buildTime: buildTimeRooms(graph),
    labels: graph.images.some((image) => image.labels.length > 0),
    target: graph.images.some((image) => image.target !== null),
    platforms: graph.images.some((image) => image.platforms.length > 0),
    cache: graph.cache !== null,
    provenance: graph.attest.provenance,
    sbom: graph.attest.sbom,
    secrets: hasSecrets(graph),
    annotations: graph.images.some((image) => image.annotations !== undefined),
  };
}

/** The repository an entry's image and its base are in ("" for none), for its content references (github-resolve.ts, digestEnv). */
export function repositoryFields(image: ImageNode, base: ImageNode | undefined): { repository: string; "base-repository": string } {
  return { repository: image.repository, "base-repository": base ? base.repository : "" };
}

/** Whether any image has a timeout of its own (its family's `timeout`, or a `when` rule's). */
function anyTimeout(graph: BuildGraph): boolean {
  return graph.families.some((family) => family.timeout !== null) || graph.images.some((image) => image.timeout !== undefined);
}

/** Each image's minutes before GitHub stops its job, when any image has its own (else undefined: every job has the option's). */
export function imageTimeouts(graph: BuildGraph, defaultMinutes: number): ((image: ImageNode) => number) | undefined {
  if (!anyTimeout(graph)) return undefined;
  const families = new Map(graph.families.map((family) => [family.name, family]));
  return (image) => imageTimeout(families.get(image.family)!, image) ?? defaultMinutes;
}

/** The step that frees a hosted runner's disk: every job's with the `free-disk` option, else the entries' that ask (free_disk = true). */
export function freeDiskStep(everyJob: boolean, someEntries: boolean): string[] {
  if (!everyJob && !someEntries) return [];
  return [
    "  - name: Free disk space",
    ...(everyJob ? [] : ["    if: ${{ matrix.free-disk }}"]),
    "    run: |",
    "      sudo rm -rf /usr/share/dotnet /usr/local/lib/android /opt/ghc /opt/hostedtoolcache/CodeQL",
    "      df -h /",
  ];
}

/** A build job's `timeout-minutes`: its entries' when any image has its own, else the option's. */
export function jobTimeout(graph: BuildGraph, defaultMinutes: number): string {
  return anyTimeout(graph) ? "${{ matrix.timeout-minutes }}" : String(defaultMinutes);
}

/** Each image's runner labels (its family's, or a `when` rule's), when any names one (else undefined: every job runs on the default). */
export function imageRunners(graph: BuildGraph, defaultRunner: string): ((image: ImageNode) => readonly string[]) | undefined {
  if (!graph.families.some((family) => family.runner !== null) && !graph.images.some((image) => image.runner !== undefined)) return undefined;
  const families = new Map(graph.families.map((family) => [family.name, family]));
  return (image) => imageRunner(families.get(image.family)!, image) ?? [defaultRunner];
}

/**
 * NAME=VALUE lines, as build-push-action reads `build-args`; with content tags, the base
 * named by its content reference (an arg holding its tag, {from.tag}, by that reference's
 * tag). At run time that reference is the resolve job's: the lines are a format() string
 * (braces doubled) with {0} where it goes, and {1} where its tag goes (runtimeBuildArgs).
 */
export function buildArgLines(image: ImageNode, base: ImageNode | undefined, literal: (text: string) => string, digests: Digests): string {
  if (digests === "runtime") {
    const formatText = (text: string) => text.replace(/[{}]/g, (brace) => brace + brace);
    const value = (arg: BuildArg) => (base === undefined ? formatText(arg.value) : image.fromParts?.[arg.name] === "tag" ? "{1}" : arg.value.split(base.reference).map(formatText).join("{0}"));
    return literal(image.args.map((arg) => `${formatText(arg.name)}=${value(arg)}`).join("\n"));
  }
  return literal(image.args.map((arg) => `${arg.name}=${digests === "static" && base !== undefined ? withBaseContentArg(image, arg, base) : arg.value}`).join("\n"));
}

/** build-push-action's labels as lines, and the name of the label the step sets to the commit ("" for none). */
export function labelFields(image: ImageNode, literal: (text: string) => string): { labels: string; "revision-label": string } {
  return {
    labels: literal(image.labels.filter((label) => !label.revision).map((label) => `${label.name}=${label.value}`).join("\n")),
    "revision-label": image.labels.find((label) => label.revision)?.name ?? "",
  };
}

/** build-push-action's `labels` (the commit's from github.sha) and `target` inputs, when some image has them. */
export function labelAndTargetInputs(settings: EntrySettings): string[] {
  return [
    ...(settings.labels ? ["      labels: |", "        ${{ matrix.labels }}", "        ${{ matrix.revision-label && format('{0}={1}', matrix.revision-label, github.sha) || '' }}"] : []),
    ...(settings.target ? ["      target: ${{ matrix.target }}"] : []),
  ];
}

/** The image's own tag as build-push-action's `tags` line or a step's IMAGE: empty for an internal image (an empty line is no tag), when the graph has one. */
export function imageTag(settings: EntrySettings): string {
  return settings.internal ? "${{ matrix.published && matrix.image || '' }}" : "${{ matrix.image }}";
}
