// matrix → build graph. Expands every family's combinations (combinations.ts), in an
// order where each family comes after its base (family-order.ts), matches each image
// to the image it builds FROM, and computes tags, references and build args. Runs
// once; everything after it (every emitter) reads only the graph.
//
// It runs over every image of matrices of 100,000 images, so the per-image work is
// kept to lookups: a combination is an array of value indices, templates are compiled
// once per family (compile-family.ts), bases are found by combination number.

import { comboNumber, comboNumberAt, comboStrides, forEachCombination, type Indices } from "./combinations.ts";
import { compileFamily, type CompiledFamily, type CompiledPart } from "./compile-family.ts";
import { CalibanError, didYouMean, type Diagnostic, type ErrorCode, type KeyPath } from "../errors.ts";
import { familyOrder } from "./family-order.ts";
import { GRAPH_FORMAT_VERSION, ownRepositoryCacheTag, type BuildArg, type BuildGraph, type BuildLabel, type FamilyNode, type ImageNode } from "../graph.ts";
import type { Axis, AxisValue, Family, Matrix } from "../matrix/matrix.ts";
import { contentTag, InputsDigester, NO_SOURCES, type SourceTree } from "../changes/inputs.ts";
import { readLock, type Lock } from "../changes/lock.ts";
import { matrixDigester } from "../changes/matrix-digester.ts";
import { baseReferenceArg, exactBaseArg, fromPartsOf, setArg } from "./build-args.ts";
import { ImageIds } from "./image-ids.ts";
import { describe, familyLevelText, valuesAt } from "./combination-text.ts";
import { UpstreamPinner } from "./plan-upstream.ts";
import { ImageRepositories } from "./image-repository.ts";
import { viewFor } from "./plan-when.ts";
import { TAG_PATTERN, TAG_RULE } from "../names.ts";
import { TagBook, type TaggedImage } from "./image-tags.ts";
import { setImagePolicy } from "./image-policy.ts";
import { PathChecker, type DirectoryEntries } from "./plan-paths.ts";
import { DockerfileChecks } from "./plan-checks.ts";
import { Placements } from "./plan-runner.ts";
import { collectionRequester, IMAGES_PER_COLLECTION } from "../memory.ts";
import { secretsInContext } from "./plan-secrets.ts";

export interface PlanOptions {
  /** Replaces the matrix's `repository` (the CLI's --base-url). */
  readonly repository?: string;
  /** Where Dockerfiles and contexts are read for `inputs` (default: none, every one missing). */
  readonly sources?: SourceTree;
  /** false: plan as if there were no lock file beside the matrix (what `lock` itself does). */
  readonly lock?: false;
  /** The matrix's file name in its folder of `sources`, when `matrix.file` is no path (`REV:matrix.toml`). */
  readonly matrixName?: string;
  /**
   * Check that each image's dockerfile and context are there, in this tree (the working
   * tree's folder of the matrix). Not for the embedded matrix, which names no files of
   * the folder it runs in, nor for a revision `affected` compares with.
   */
  readonly checkPaths?: DirectoryEntries;
  /**
   * What reads the Dockerfiles and contexts (default: a new one over `sources`). Given, it
   * keeps what it read for later questions of the same files (`affected` asks why an image
   * changed, `explain` what it was made of), so no context is listed or hashed twice.
   */
  readonly digester?: InputsDigester;
}

export function planMatrix(matrix: Matrix, options: PlanOptions = {}): BuildGraph {
  const sources = options.sources ?? NO_SOURCES;
  const name = options.matrixName ?? matrix.file;
  const lock = options.lock === false ? undefined : readLock(sources, name, matrix.file);
  const paths = options.checkPaths === undefined ? undefined : new PathChecker(options.checkPaths, matrix.file);
  return new Planner(matrix, options.repository ?? matrix.repository, options.digester ?? matrixDigester(matrix, sources, name), lock, paths).plan();
}

/** An ImageNode as the planner fills it in, field by field. */
type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/** An image with no locked upstream image (no aliases, no labels): one array for all of them. */
const NO_UPSTREAM: readonly string[] = [];
const NO_LABELS: readonly BuildLabel[] = [];
/** A Dockerfile stage name (`FROM ... AS name`), as `--target` takes it. */
const STAGE_PATTERN = /^[A-Za-z][A-Za-z0-9_.-]*$/;

/** A planned family's images, found by combination number (combinations.ts): for the families built FROM it, and for repeats. */
interface PlannedFamily {
  readonly axes: readonly string[];
  readonly strides: readonly number[];
  readonly images: Map<number | string, ImageNode>;
}

class Planner {
  private readonly diagnostics: Diagnostic[] = [];
  private readonly images: ImageNode[] = [];
  private readonly planned = new Map<string, PlannedFamily>();
  private readonly ids: ImageIds;
  private readonly tags = new TagBook();
  private readonly placements = new Placements((code, keyPath, message, hint) => this.report(code, keyPath, message, hint));
  private readonly missingAttributes = new Set<string>();
  /** The families another builds FROM. */
  private readonly bases: ReadonlySet<string>;
  /** With a lock file: pins each image's external bases (core/plan/plan-upstream.ts). */
  private readonly pinner: UpstreamPinner | undefined;
  private readonly repositories: ImageRepositories;
  /** Tag and alias templates already reported as giving an invalid tag: each once, not once per image. */
  private readonly badTemplates = new Set<string>();
  private readonly checks = new DockerfileChecks();
  /** Each image leaves text behind (its digest's, its references' parts): core/memory.ts. */
  private readonly requestCollection = collectionRequester(IMAGES_PER_COLLECTION);

  constructor(
    private readonly matrix: Matrix,
    private readonly repository: string,
    private readonly digester: InputsDigester,
    lock: Lock | undefined,
    private readonly paths: PathChecker | undefined,
  ) {
    this.repositories = new ImageRepositories(repository, (keyPath, message, hint) => this.report("INVALID_VALUE", keyPath, message, hint));
    this.pinner = lock === undefined ? undefined : new UpstreamPinner(lock, digester, this.repositories.known);
    this.ids = new ImageIds(matrix.families.map((f) => f.name));
    this.bases = new Set(matrix.families.flatMap((f) => (f.from === undefined ? [] : [f.from])));
  }

  plan(): BuildGraph {
    const nodes = new Map<string, FamilyNode>();
    for (const family of familyOrder(this.matrix.families)) nodes.set(family.name, this.planFamily(family));
    for (const p of this.tags.sharedTagProblems()) this.report(p.code, p.keyPath, p.message, p.hint);
    if (this.diagnostics.length > 0) throw new CalibanError(this.diagnostics);
    return {
      version: GRAPH_FORMAT_VERSION,
      repository: this.repository,
      publish: this.matrix.publish,
      axes: [...this.matrix.axes.values()].map((axis) => ({ name: axis.name, values: axis.values.map((v) => v.name) })),
      families: this.matrix.families.map((f) => nodes.get(f.name)!),
      lock: this.pinner ? { file: this.pinner.lock.file, unlocked: [...this.pinner.unlocked].sort() } : null,
      cache: this.matrix.cache ? { type: this.matrix.cache.type ?? null, repository: this.matrix.cache.repository ?? null } : null,
      attest: { provenance: this.matrix.attest.provenance ?? null, sbom: this.matrix.attest.sbom },
      ...(this.matrix.sign === undefined ? {} : { sign: this.matrix.sign }),
      images: this.images,
    };
  }

  /** Whether a template's mistake is met for the first time: the family's other images would repeat it. */
  private firstReport(template: string): boolean {
    if (this.badTemplates.has(template)) return false;
    this.badTemplates.add(template);
    return true;
  }

  private report(code: ErrorCode, keyPath: KeyPath, message: string, hint?: string): void {
    this.diagnostics.push({ code, file: this.matrix.file, keyPath, message, ...(hint ? { hint } : {}) });
  }

  private planFamily(family: Family): FamilyNode {
    const axes = family.axes.map((name) => this.matrix.axes.get(name)!);
    const compiled = compileFamily(family, axes);
    const planned: PlannedFamily = { axes: family.axes, strides: comboStrides(axes), images: new Map() };
    this.planned.set(family.name, planned);
    const base = family.from === undefined ? undefined : this.planned.get(family.from);
    const basePositions = base ? base.axes.map((name) => family.axes.indexOf(name)) : [];
    const missingBases = new Set<number | string>();
    const ids: string[] = [];
    // Images are found by combination number only where something looks for them: the
    // families built FROM this one, and a repeat, which only an explicit list or an
    // include can give (the product cannot).
    const mayRepeat = family.combinations !== undefined || family.include.count > 0;
    const indexed = mayRepeat || this.bases.has(family.name);
    let combinations = 0;
    forEachCombination(family, axes, (indices) => {
      combinations++;
      const key = indexed ? comboNumber(indices, planned.strides) : 0;
      if (mayRepeat && planned.images.has(key)) {
        this.report("DUPLICATE", [...family.keyPath, "combinations"], `the combination ${describe(family.axes, valuesAt(axes, indices))} is listed twice`);
        return;
      }
      let baseImage: ImageNode | undefined;
      if (base) {
        // Value indices are per axis, so the base family's number for these values is found directly.
        const baseKey = comboNumberAt(indices, basePositions, base.strides);
        baseImage = base.images.get(baseKey);
        if (!baseImage) {
          if (family.skipWithoutBase) {
            combinations--;
            return;
          }
          if (!missingBases.has(baseKey)) {
            missingBases.add(baseKey);
            this.reportMissingBase(family, base, valuesAt(axes, indices), basePositions);
          }
          return;
        }
      }
      const image = this.image(compiled, indices, baseImage);
      if (!image) return;
      if (indexed) planned.images.set(key, image);
      this.images.push(image);
      this.requestCollection();
      ids.push(image.id);
    });
    if (combinations === 0) {
      const why = family.skipWithoutBase ? `none of its combinations has a base image in "${family.from}" (skip_without_base)` : "its `exclude` removes every combination, or an axis it spans has no values";
      this.report("EMPTY", family.keyPath, `family "${family.name}" produces no images`, why);
    }
    return {
      name: family.name,
      axes: family.axes,
      dockerfile: familyLevelText(family.dockerfile, family.name),
      context: familyLevelText(family.context, family.name),
      from: family.from ?? null,
      images: ids,
      // What the CI runs its images on, and for how long at most.
      runner: family.runnerTemplates === undefined ? (family.runner ?? null) : null,
      timeout: family.timeout ?? null,
    };
  }

  private reportMissingBase(family: Family, base: PlannedFamily, values: readonly AxisValue[], basePositions: readonly number[]): void {
    const baseValues = describe(base.axes, basePositions.map((position) => values[position]!));
    const hint = `add ${baseValues} to the combinations of "${family.from}", exclude it from "${family.name}", or set skip_without_base = true in [images.${family.name}]`;
    this.report("NO_BASE_IMAGE", [...family.keyPath, "from"], `"${family.from}" has no image with ${baseValues}, which ${describe(family.axes, values)} of "${family.name}" builds FROM`, hint);
  }

  private image(familyCompiled: CompiledFamily, indices: Indices, base: ImageNode | undefined): ImageNode | undefined {
    // The family as this combination sees it: its `when` rules that match, laid over it.
    const compiled = viewFor(familyCompiled, indices);
    const { family } = compiled;
    const { tagPath } = compiled;
    const tag = this.expand(compiled.tag, compiled, indices, base, tagPath);
    if (!TAG_PATTERN.test(tag)) {
      if (this.firstReport(`${family.name}\u0000tag`)) this.report("INVALID_VALUE", tagPath, `the tag "${tag}" (for ${describe(family.axes, valuesAt(compiled.axes, indices))}) is not a valid Docker tag`, TAG_RULE);
      return undefined;
    }
    // A registry cache in the image's own repository is tagged cache-TAG: that too must be a tag.
    const cache = this.matrix.cache;
    if (cache && cache.type !== "gha" && cache.type !== "inline" && cache.repository === undefined && !TAG_PATTERN.test(ownRepositoryCacheTag(tag))) {
      this.report("INVALID_VALUE", tagPath, `the tag "${tag}" is too long for its registry cache's tag, ${ownRepositoryCacheTag(tag)} (at most 128 characters)`, "shorten the tag, or give [cache] a repository of its own (its cache images are tagged like the images)");
      return undefined;
    }
    const place = family.repository === undefined ? this.repositories.top : this.repositories.place(family, (parts, keyPath) => this.expand(parts, compiled, indices, base, keyPath));
    const values: Record<string, string> = {};
    for (let i = 0; i < indices.length; i++) values[family.axes[i]!] = compiled.axes[i]!.values[indices[i]!]!.name;
    const tagged: TaggedImage = {
      family: family.name,
      values,
      repository: place.repository,
      tag,
      reference: `${place.repository}:${tag}`,
      expand: (parts, keyPath) => this.expand(parts, compiled, indices, base, keyPath),
      report: (code, keyPath, message, hint) => this.report(code, keyPath, message, hint),
      firstReport: (key) => this.firstReport(key),
    };
    if (!this.tags.tagIsFree(tagged, tagPath)) return undefined;
    const aliases = this.tags.aliases(tagged, compiled.aliases, compiled.aliasPaths);
    if (aliases === undefined) return undefined;
    const shared = this.tags.sharedTags(tagged, compiled.sharedTags, compiled.sharedTagPaths, aliases);
    if (shared === undefined) return undefined;
    const placement = this.placements.place(compiled, (parts, keyPath) => this.expand(parts, compiled, indices, base, keyPath));
    // Args before the dockerfile and context: a missing attribute is reported where it is first met.
    const args = this.args(compiled, indices, base);
    const fromParts = base && fromPartsOf(compiled, indices, args);
    const dockerfile = compiled.fixedDockerfile ?? this.expand(compiled.dockerfile, compiled, indices, base, compiled.dockerfilePath);
    const context = compiled.fixedContext ?? this.expand(compiled.context, compiled, indices, base, compiled.contextPath);
    if (this.paths) for (const problem of this.paths.check(dockerfile, context, family.keyPath)) this.report("FILE_NOT_FOUND", problem.keyPath, problem.message, problem.hint);
    for (const p of secretsInContext(this.digester, family, dockerfile, context)) if (this.firstReport(p.key)) this.report(p.code, p.keyPath, p.message, p.hint);
    const upstream = this.pinner ? this.pinner.pin(dockerfile, context, args, base) : NO_UPSTREAM;
    const labels = compiled.labels.length === 0 ? NO_LABELS : compiled.labels.map(({ name, parts, revision, keyPath }) => ({ name, value: revision ? "" : this.expand(parts, compiled, indices, base, keyPath), revision }));
    const target = compiled.target === undefined ? null : this.expand(compiled.target, compiled, indices, base, compiled.targetPath);
    if (target !== null && !STAGE_PATTERN.test(target)) {
      this.report("INVALID_VALUE", compiled.targetPath, `the target "${target}" (for ${describe(family.axes, valuesAt(compiled.axes, indices))}) is not a Dockerfile stage name`, "letters, digits, '.', '-' and '_', starting with a letter");
      return undefined;
    }
    if (this.paths) for (const p of this.checks.image(this.digester, { family, dockerfile, context, args, base, fromParts, target, targetPath: compiled.targetPath })) this.report(p.code, p.keyPath, p.message, p.hint);
    const { written, runner } = placement;
    const annotations = compiled.annotations;
    const settings = labels.length > 0 || written.length > 0 || target !== null || runner !== undefined || annotations !== undefined ? { labels, platforms: written, target, runner: runner ?? null, ...(annotations === undefined ? {} : { annotations }) } : undefined;
    const inputs = this.digester.image(dockerfile, context, args, base, upstream, settings, fromParts);
    // The node's fields in the graph's order (core/graph.ts), an optional one set only where it
    // applies: spreading an object (`...(x ? { x } : {})`) for each took about a tenth of planning.
    const image: Mutable<ImageNode> = { id: this.ids.unique(place.idPrefix + tag), family: family.name, values, repository: place.repository } as Mutable<ImageNode>;
    if (place.node.repositorySuffix !== undefined) image.repositorySuffix = place.node.repositorySuffix;
    image.tag = tag;
    image.reference = tagged.reference;
    image.dockerfile = dockerfile;
    image.context = context;
    image.args = args;
    image.from = base ? base.id : null;
    image.fromArg = base ? exactBaseArg(args, family.baseReferenceArg, base) : null;
    if (fromParts) image.fromParts = fromParts;
    image.level = base ? base.level + 1 : 0;
    image.inputs = inputs;
    image.contentReference = `${place.repository}:${contentTag(inputs)}`;
    image.test = compiled.test === undefined ? null : this.expand(compiled.test, compiled, indices, base, compiled.testPath);
    image.upstream = upstream;
    image.aliases = aliases;
    if (shared.length > 0) image.sharedTags = shared;
    image.labels = labels;
    if (annotations !== undefined) image.annotations = annotations;
    image.platforms = placement.platforms;
    if (placement.osVersion !== undefined) image.osVersion = placement.osVersion;
    image.target = target;
    // A `when` rule's runner or timeout, or a templated runner's labels, where they differ from the family's.
    if (runner !== family.runner || family.runnerTemplates !== undefined) image.runner = runner ?? null;
    if (compiled.timeout !== family.timeout) image.timeout = compiled.timeout ?? null;
    // Where it is pushed and when it is built: no input of it (image-policy.ts).
    setImagePolicy(image, compiled, tagged, aliases, shared);
    this.tags.add(image);
    return image;
  }

  /** Build args in order; a later arg of the same name replaces an earlier one's value, in its place. */
  private args(compiled: CompiledFamily, indices: Indices, base: ImageNode | undefined): BuildArg[] {
    const args: BuildArg[] = [];
    for (let s = 0; s < compiled.args.length; s++) {
      const source = compiled.args[s]!;
      if (source.kind === "template") {
        setArg(args, { name: source.name, value: this.expand(source.parts, compiled, indices, base, source.keyPath) });
      } else if (source.kind === "attribute") {
        const value = indices[source.axis]!;
        const axis = compiled.axes[source.axis]!;
        setArg(args, source.byValue[value] ?? { name: source.attribute, value: this.attribute(axis, axis.values[value]!, source.attribute, source.keyPath) });
      } else {
        const byValue = source.byValue[indices[source.axis]!]!;
        for (let i = 0; i < byValue.length; i++) setArg(args, byValue[i]!);
      }
    }
    if (base && !compiled.family.argsNameFrom) setArg(args, baseReferenceArg(compiled.family.fromArg, base));
    return args;
  }

  private expand(parts: readonly CompiledPart[], compiled: CompiledFamily, indices: Indices, base: ImageNode | undefined, keyPath: KeyPath): string {
    let out = "";
    for (let p = 0; p < parts.length; p++) {
      const part = parts[p]!;
      if (typeof part === "string") out += part;
      else if ("from" in part) out += part.from === "reference" ? base!.reference : part.from === "tag" ? base!.tag : base!.repository;
      else {
        const axis = compiled.axes[part.axis]!;
        const value = axis.values[indices[part.axis]!]!;
        out += part.attribute === undefined ? value.name : this.attribute(axis, value, part.attribute, keyPath);
      }
    }
    return out;
  }

  /** An attribute of an axis value; a value that lacks it is reported once. */
  private attribute(axis: Axis, value: AxisValue, attribute: string, keyPath: KeyPath): string {
    const text = value.attributes.get(attribute);
    if (text !== undefined) return text;
    const key = `${axis.name}\u0000${value.name}\u0000${attribute}`;
    if (!this.missingAttributes.has(key)) {
      this.missingAttributes.add(key);
      const hint = didYouMean(attribute, [...value.attributes.keys()]) ?? `add ${attribute} to [axes.${axis.name}] ${value.name}`;
      this.report("UNKNOWN_REFERENCE", keyPath, `axis "${axis.name}" value "${value.name}" has no attribute ${attribute}`, hint);
    }
    return "";
  }
}
