// Every reference the plan pushes, and what it names. An image's tag and its aliases name
// that image alone; a shared tag (`shared_tags`, bashbrew's SharedTags) names every image
// that lists it, pushed as one manifest list over them: `3.14` over the Linux image and
// the two Windows ones. A manifest list holds one entry per platform, so the images of a
// shared tag must each say their platforms, and no two may overlap (checked once every
// image is planned: sharedTagProblems).

import type { ErrorCode, KeyPath } from "../errors.ts";
import type { ImageNode } from "../graph.ts";
import type { CompiledPart } from "./compile-family.ts";
import { describeCombination } from "./combination-text.ts";
import { aliasProblem } from "../build-time.ts";
import { TAG_PATTERN, TAG_RULE } from "../names.ts";
import type { PlanProblem } from "./plan-checks.ts";

/** What the tag book needs of the image being planned. */
export interface TaggedImage {
  readonly family: string;
  readonly values: Readonly<Record<string, string>>;
  readonly repository: string;
  readonly tag: string;
  /** `repository:tag`, made once: the tag book looks it up and keeps it. */
  readonly reference: string;
  expand(parts: readonly CompiledPart[], keyPath: KeyPath): string;
  report(code: ErrorCode, keyPath: KeyPath, message: string, hint?: string): void;
  /** Whether a template's mistake is met for the first time (its family's other images would repeat it). */
  firstReport(key: string): boolean;
}

interface SharedTag {
  readonly images: ImageNode[];
  /** Where each image was given the tag. */
  readonly keyPaths: KeyPath[];
}

const NONE: readonly string[] = [];

export class TagBook {
  /** `repository:tag` → the image whose tag or alias it is. */
  private readonly owners = new Map<string, ImageNode>();
  private readonly shared = new Map<string, SharedTag>();
  /** The shared tags of the image being planned, until `add`. */
  private pending: { reference: string; keyPath: KeyPath }[] = [];

  /** The image's own tag is free: no other image's tag or alias, no shared tag (reported otherwise). */
  tagIsFree(image: TaggedImage, keyPath: KeyPath): boolean {
    return this.free(image, image.tag, keyPath, false, "make the tag templates include every axis that tells the images apart");
  }

  /** The image's aliases: each a valid tag, none its own tag, another image's tag or alias, or a shared tag (reported, then undefined). */
  aliases(image: TaggedImage, templates: readonly (readonly CompiledPart[])[], keyPaths: readonly KeyPath[]): readonly string[] | undefined {
    if (templates.length === 0) return NONE;
    const aliases: string[] = [];
    for (let i = 0; i < templates.length; i++) {
      const keyPath = keyPaths[i]!;
      const alias = image.expand(templates[i]!, keyPath);
      // An alias may name build-time values, filled in by the CI: then it must be a tag for every value they take.
      const problem = aliasProblem(alias);
      if (problem) {
        if (image.firstReport(`${image.family}\u0000${keyPath.join(".")}`)) image.report("INVALID_VALUE", keyPath, `the alias "${alias}" (for ${describeCombination(image.values)}) ${problem.message}`, problem.hint);
        return undefined;
      }
      if (alias === image.tag || aliases.includes(alias)) {
        image.report("DUPLICATE", keyPath, `the alias "${alias}" of ${describeCombination(image.values)} of "${image.family}" is ${alias === image.tag ? "its own tag" : "given to it twice"}`, "leave it out");
        return undefined;
      }
      if (!this.free(image, alias, keyPath, true, "make the alias templates include every axis that tells the images apart")) return undefined;
      aliases.push(alias);
    }
    return aliases;
  }

  /** The image's shared tags: each a valid tag, none its own tag or alias, nor any image's; kept for `add`. */
  sharedTags(image: TaggedImage, templates: readonly (readonly CompiledPart[])[], keyPaths: readonly KeyPath[], aliases: readonly string[]): readonly string[] | undefined {
    this.pending = [];
    if (templates.length === 0) return NONE;
    const tags: string[] = [];
    for (let i = 0; i < templates.length; i++) {
      const keyPath = keyPaths[i]!;
      const tag = image.expand(templates[i]!, keyPath);
      if (!TAG_PATTERN.test(tag)) {
        if (image.firstReport(`${image.family}\u0000${keyPath.join(".")}`)) image.report("INVALID_VALUE", keyPath, `the shared tag "${tag}" (for ${describeCombination(image.values)}) is not a valid Docker tag`, TAG_RULE);
        return undefined;
      }
      if (tag === image.tag || aliases.includes(tag) || tags.includes(tag)) {
        const what = tag === image.tag ? "its own tag" : aliases.includes(tag) ? "one of its aliases" : "given to it twice";
        image.report("DUPLICATE", keyPath, `the shared tag "${tag}" of ${describeCombination(image.values)} of "${image.family}" is ${what}`, tags.includes(tag) ? "leave it out" : "a tag is an image's own (tag, aliases) or shared by several (shared_tags), not both");
        return undefined;
      }
      const reference = `${image.repository}:${tag}`;
      const owner = this.owners.get(reference);
      if (owner) {
        image.report("DUPLICATE", keyPath, `${reference} is ${describeCombination(owner.values)} of "${owner.family}"'s own${owner.tag === tag ? " tag" : " alias"}, and a shared tag of ${describeCombination(image.values)} of "${image.family}"`, "a tag is an image's own (tag, aliases) or shared by several (shared_tags), not both");
        return undefined;
      }
      tags.push(tag);
      this.pending.push({ reference, keyPath });
    }
    return tags;
  }

  /** The planned image: its tag and aliases are its own from now on, its shared tags hold it. */
  add(image: ImageNode): void {
    this.owners.set(image.reference, image);
    for (const alias of image.aliases) this.owners.set(`${image.repository}:${alias}`, image);
    for (const { reference, keyPath } of this.pending) {
      let shared = this.shared.get(reference);
      if (!shared) this.shared.set(reference, (shared = { images: [], keyPaths: [] }));
      shared.images.push(image);
      shared.keyPaths.push(keyPath);
    }
    this.pending = [];
  }

  /**
   * A manifest list has one entry per platform: each image of a shared tag of several
   * must say its platforms, and no two may overlap. Said once per place a tag is written.
   */
  sharedTagProblems(): PlanProblem[] {
    const problems: PlanProblem[] = [];
    const reported = new Set<string>();
    const once = (keyPath: KeyPath, problem: PlanProblem) => {
      const key = keyPath.join(".");
      if (reported.has(key)) return;
      reported.add(key);
      problems.push(problem);
    };
    for (const [reference, { images, keyPaths }] of this.shared) {
      if (images.length < 2) continue;
      const held = new Map<string, ImageNode>();
      images.forEach((image, index) => {
        const keyPath = keyPaths[index]!;
        const who = `${describeCombination(image.values)} of "${image.family}"`;
        if (image.platforms.length === 0) {
          const message = `${reference} is shared by ${images.length} images, but ${who} names no platforms: a manifest list tells its images apart by platform`;
          once(keyPath, { code: "INVALID_VALUE", keyPath, message, hint: 'give the family (or a `when` rule) its platforms, e.g. platforms = ["linux/amd64", "linux/arm64"]' });
          return;
        }
        for (const platform of image.platforms) {
          const key = platformKey(platform, image.osVersion);
          const overlaps = [...held].find(([other]) => overlap(other, key));
          if (overlaps) {
            const [other, first] = overlaps;
            const message = `${reference} would hold ${other} twice: ${describeCombination(first.values)} of "${first.family}" and ${who} both build it, and a manifest list has one image per platform`;
            const hint = platform.startsWith("windows/") ? "tell Windows releases apart in the platform, e.g. windows(10.0.26100)/amd64 and windows(10.0.20348)/amd64" : "give the shared tag only to images of different platforms";
            once(keyPath, { code: "DUPLICATE", keyPath, message, hint });
            return;
          }
          held.set(key, image);
        }
      });
    }
    return problems;
  }

  /** The tag (or alias) is free for this image: no other image's tag or alias, no shared tag. */
  private free(image: TaggedImage, tag: string, keyPath: KeyPath, alias: boolean, hint: string): boolean {
    const reference = alias ? `${image.repository}:${tag}` : image.reference;
    const clash = this.owners.get(reference);
    if (clash) {
      // Said once per place and reference: an alias naming no axis of a family of 27 is one mistake, not 26.
      if (!image.firstReport(`duplicate\u0000${reference}\u0000${keyPath.join(".")}`)) return false;
      const theirs = `${describeCombination(clash.values)} of "${clash.family}"${!alias && clash.tag !== tag ? " (as an alias)" : ""}`;
      const oneImage = alias && clash.family === image.family ? `, or give it to one image in a \`when\` rule: a table [[images.${image.family}.when]] with match = { ${Object.entries(clash.values).map(([axis, value]) => `${axis} = ${JSON.stringify(value)}`).join(", ")} } and aliases = [${JSON.stringify(tag)}]` : "";
      image.report("DUPLICATE", keyPath, `two images would both be ${reference}: ${theirs} and ${describeCombination(image.values)} of "${image.family}"${alias ? " (as an alias)" : ""}`, `${hint}${oneImage}`);
      return false;
    }
    const shared = this.shared.get(reference);
    if (shared) {
      const first = shared.images[0]!;
      image.report("DUPLICATE", keyPath, `${reference} is a shared tag of ${describeCombination(first.values)} of "${first.family}", and ${alias ? "an alias" : "the tag"} of ${describeCombination(image.values)} of "${image.family}"`, "a tag is an image's own (tag, aliases) or shared by several (shared_tags), not both");
      return false;
    }
    return true;
  }
}

/** A platform with the Windows release it names, if any: `os(version)/arch[/variant]`. */
function platformKey(platform: string, osVersion: string | undefined): string {
  return osVersion === undefined ? platform : platform.replace("/", `(${osVersion})/`);
}

/** Two platforms overlap when os, arch and variant are one, and their Windows releases are one or either names none. */
function overlap(a: string, b: string): boolean {
  const parse = (key: string) => {
    const match = /^([^(/]+)(?:\(([^)]*)\))?(\/.*)$/.exec(key)!;
    return { os: match[1]!, version: match[2], rest: match[3]! };
  };
  const x = parse(a);
  const y = parse(b);
  return x.os === y.os && x.rest === y.rest && (x.version === undefined || y.version === undefined || x.version === y.version);
}
