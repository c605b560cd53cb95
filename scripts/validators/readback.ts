// Reads each emitter's output back, as its real consumer sees it, into one shape:
// the images, their build args, dockerfile and context, and what each waits for.
// Tests compare these views with the plan, so that all four outputs provably build
// the same images in the same order. The plan's side and bake's are here; each other
// consumer has a file of its own (readback-cloudbuild.ts, readback-github.ts,
// readback-make.ts), over the shape they share (readback-view.ts).

import { posix } from "node:path";
import { imagesById, type BuildArg, type BuildGraph, type ImageNode } from "../../core/graph.ts";
import { withBaseContentArg } from "../../core/base-parts.ts";
import { attestSpecs, cacheSpecs, platformCacheSpecs, type CacheKind } from "../../emitters/build-settings.ts";
import { expandBuildTime } from "../../core/build-time.ts";
import { secretSpecs } from "../../emitters/secrets.ts";
import { BUILD_TIME, REVISION } from "./build-time-readback.ts";
import { normalise, settingsView, type ImageSettings, type ImageView, type OutputView } from "./readback-view.ts";

export * from "./readback-view.ts";
export * from "./readback-cloudbuild.ts";
export * from "./readback-github.ts";
export * from "./readback-make.ts";
/** The commit a readback test says the CI builds: the value the revision label must get. */
export { REVISION };

/**
 * What the plan says each output builds. With content tags (every emitter's default)
 * an image is also tagged with its content reference, and an arg that names its base
 * names the base's content reference (an arg holding its tag, that reference's tag).
 */
export function planView(graph: BuildGraph, contentTags = true, naturalCache: CacheKind = "registry", perPlatform: ReadonlySet<string> = new Set()): OutputView {
  const byId = imagesById(graph);
  return normalise(
    graph.images.map((image) => {
      const base = image.from === null ? undefined : byId.get(image.from)!;
      const value = (arg: BuildArg) => (contentTags && base ? withBaseContentArg(image, arg, base) : arg.value);
      const settings = planSettings(graph, image, naturalCache, perPlatform.has(image.id));
      return {
        reference: image.reference,
        ...(contentTags ? { content: image.contentReference } : {}),
        dockerfile: image.dockerfile,
        context: image.context,
        args: Object.fromEntries(image.args.map((a) => [a.name, value(a)])),
        ...(settings ? { settings } : {}),
        ...(image.secrets === undefined ? {} : { secrets: secretSpecs(image).sort() }),
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
    // An alias naming build-time values is the tag core's rule makes of the test's (BUILD_TIME).
    aliases: image.aliases.map((alias) => `${image.repository}:${expandBuildTime(alias, BUILD_TIME)}`),
    labels: Object.fromEntries(image.labels.map((label) => [label.name, label.revision ? REVISION : label.value])),
    platforms: image.platforms,
    target: image.target,
    cacheFrom: cache.from,
    cacheTo: cache.to,
    attest,
  });
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
        /** `id=ID,env=NAME` as written, or (newer buildx) { id, env } / { id, src } objects. */
        secret?: (string | { id: string; env?: string; src?: string })[];
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
    const secrets = (target.secret ?? []).map((secret) => (typeof secret === "string" ? secret : `id=${secret.id},${secret.env !== undefined ? `env=${secret.env}` : `src=${secret.src}`}`)).sort();
    images.push({ reference, ...content, dockerfile: posix.normalize(posix.join(target.context, target.dockerfile)), context: target.context, args: target.args ?? {}, ...settings, ...(secrets.length === 0 ? {} : { secrets }) });
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
