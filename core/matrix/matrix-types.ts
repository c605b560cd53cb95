// The matrix as read: plain data, the planner's input. Types only, so that readMatrix
// and each reader of a section (matrix-axes.ts, matrix-family.ts, ...) share them
// without importing one another.

import type { KeyPath } from "../errors.ts";
import type { BuildAnnotation, Publish, SignPolicy } from "../graph.ts";
import type { Template } from "./template.ts";

export type CacheType = "registry" | "gha" | "inline";

/** `rebuild`: "changed" (the default), built when the registry lacks the image's content reference; "always", on every run. */
export type RebuildPolicy = "changed" | "always";

export interface CacheSettings {
  /** undefined: each emitter's natural default (GitHub: gha; the others: registry). */
  readonly type: CacheType | undefined;
  /** Where registry caches are pushed, `REPOSITORY:cache-TAG` by default. */
  readonly repository: string | undefined;
}

export interface AttestSettings {
  /** SLSA provenance, in buildx's min or max mode; undefined for none. */
  readonly provenance: "min" | "max" | undefined;
  readonly sbom: boolean;
}

export interface AxisValue {
  readonly name: string;
  /** Attribute name → value, in declaration order; all are read by templates, and those not in the axis's `nameOnly` become build args. */
  readonly attributes: ReadonlyMap<string, string>;
}

export interface Axis {
  readonly name: string;
  readonly values: readonly AxisValue[];
  /** Value name → its index in `values` (combinations are read and planned as indices). */
  readonly indexByName: ReadonlyMap<string, number>;
  /** `name_only`: attributes that only name (templates read them) and are never build args. */
  readonly nameOnly: ReadonlySet<string>;
}

/** Where a family's build args come from, in order; a later arg of the same name overrides an earlier one. */
export type ArgSource =
  | { readonly kind: "axis"; readonly axis: string; readonly keyPath: KeyPath }
  | { readonly kind: "attribute"; readonly axis: string; readonly attribute: string; readonly keyPath: KeyPath }
  | { readonly kind: "template"; readonly name: string; readonly template: Template; readonly keyPath: KeyPath };

/**
 * A list of combinations (`combinations`, `include`, `exclude`), read: for each, the
 * index of its value on each axis of `matrix`, in order (ANY_VALUE where an exclude
 * pattern names none); combination i is at [i * axes, (i + 1) * axes). One typed array
 * rather than names per combination: a list of 100,000 would otherwise stay in memory
 * as 400,000 objects, which every garbage collection visits.
 */
export interface ValueIndices {
  readonly count: number;
  readonly indices: Int32Array;
}

/** A label: its value a template, or (revision) the commit the CI builds, set at build time. */
export interface LabelSource {
  readonly name: string;
  readonly template: Template;
  readonly revision: boolean;
  readonly keyPath: KeyPath;
}

/**
 * A `when` rule of a family: settings for the combinations its `match` names, applied
 * over the family's own in the order the rules are written. Aliases, args and labels add
 * up (an arg or label of the same name replaces the earlier one); the others replace.
 */
export interface WhenRule {
  readonly keyPath: KeyPath;
  /**
   * The patterns it matches, any of them (one, or a named set's): per axis of the family,
   * in its order, the value indices matched, or undefined for any value.
   */
  readonly match: readonly (readonly (ReadonlySet<number> | undefined)[])[];
  readonly dockerfile: Template | undefined;
  readonly context: Template | undefined;
  readonly test: Template | undefined;
  readonly target: Template | undefined;
  readonly platforms: readonly string[] | undefined;
  readonly aliases: readonly Template[];
  readonly sharedTags: readonly Template[];
  readonly labels: readonly LabelSource[];
  readonly args: readonly ArgSource[];
  readonly runner: readonly string[] | undefined;
  readonly timeout: number | undefined;
  /** `published` and `rebuild` for the images it matches (core/matrix/matrix-policy.ts), or undefined: the family's. */
  readonly published: boolean | undefined;
  readonly rebuild: RebuildPolicy | undefined;
  /** `free_disk` for the images it matches, or undefined: the family's. */
  readonly freeDisk: boolean | undefined;
  /** The rule's platforms and runner labels as templates, when one names an axis ({arch.PLATFORM}); else undefined. */
  readonly platformTemplates: readonly Template[] | undefined;
  readonly runnerTemplates: readonly Template[] | undefined;
}

/**
 * A build secret of a family (`secrets`, matrix-secrets.ts): where the build takes it from,
 * an environment variable (`env`) or a file (`file`, relative to the matrix file's folder
 * or absolute); exactly one of them. Its value is never read.
 */
export interface SecretSource {
  readonly id: string;
  readonly env?: string;
  readonly file?: string;
  /** Where it is written: images.NAME.secrets.ID. */
  readonly keyPath: KeyPath;
}

/** A family's own `repository` (matrix-repository.ts): the template after `{repository}` when `relative`, else the whole of it. */
export interface FamilyRepository {
  readonly relative: boolean;
  readonly template: Template;
  readonly keyPath: KeyPath;
}

export interface Family {
  readonly name: string;
  readonly keyPath: KeyPath;
  /** Where its images are pushed instead of the top-level repository, or undefined for that one. */
  readonly repository?: FamilyRepository;
  readonly description: string | undefined;
  readonly dockerfile: Template;
  readonly context: Template;
  readonly tag: Template;
  /** A smoke test (a shell command) run in each built image before it is pushed, or undefined. */
  readonly test: Template | undefined;
  /** The CI runner's labels (GitHub's `runs-on`), or undefined for the emitter's default. */
  readonly runner: readonly string[] | undefined;
  /** How many minutes an image's build may run before the CI stops it, or undefined for the emitter's default. */
  readonly timeout: number | undefined;
  /** `published = false`: internal images, pushed under their content reference only; undefined: published. */
  readonly published: boolean | undefined;
  /** `free_disk = true`: the CI frees its runner's disk first (GitHub); undefined: false. */
  readonly freeDisk: boolean | undefined;
  /** `rebuild = "always"`: built on every run, whatever the registry has; undefined: "changed". */
  readonly rebuild: RebuildPolicy | undefined;
  /** Build secrets (`secrets`), in the order written; empty for none. */
  readonly secrets: readonly SecretSource[];
  /** `annotations`: the top-level ones, then the family's (core/matrix/matrix-annotations.ts). */
  readonly annotations: readonly BuildAnnotation[];
  /** More tag templates. */
  readonly aliases: readonly Template[];
  /** Tag templates several images may share (`shared_tags`): one manifest list over them each. */
  readonly sharedTags: readonly Template[];
  readonly labels: readonly LabelSource[];
  /** os/arch[/variant]; empty for the builder's own. */
  readonly platforms: readonly string[];
  /** `platforms` and `runner` as templates, when one of them names an axis (`{arch.PLATFORM}`, `{arch.RUNNER}`); else undefined. */
  readonly platformTemplates: readonly Template[] | undefined;
  readonly runnerTemplates: readonly Template[] | undefined;
  /** A stage of the Dockerfile to build (template), or undefined for the last. */
  readonly target: Template | undefined;
  /** Settings per value or combination, in the order written. */
  readonly when: readonly WhenRule[];
  readonly axes: readonly string[];
  /** Explicit combinations replacing the cross product, or undefined for the product. */
  readonly combinations: ValueIndices | undefined;
  readonly include: ValueIndices;
  readonly exclude: ValueIndices;
  readonly args: readonly ArgSource[];
  readonly from: string | undefined;
  readonly fromArg: string;
  /** Build only the combinations whose base image exists (`skip_without_base`), instead of reporting the others. */
  readonly skipWithoutBase: boolean;
  /** True when an arg template names {from}, so no automatic `fromArg` is added. */
  readonly argsNameFrom: boolean;
  /** The arg whose value is exactly the base image's reference: `fromArg`, or an arg written "{from}". */
  readonly baseReferenceArg: string | undefined;
}

export interface Matrix {
  readonly file: string;
  readonly repository: string;
  readonly axes: ReadonlyMap<string, Axis>;
  readonly families: readonly Family[];
  /** Per-emitter settings from `[emit.NAME]`, checked against each emitter's options later. */
  readonly emit: Readonly<Record<string, Readonly<Record<string, unknown>>>>;
  readonly plugins: readonly string[];
  /**
   * `[outputs]`: emitter name → where `emit --all` writes its files, relative to the
   * matrix file's directory, a directory when it ends in '/'. `check` compares them.
   */
  readonly outputs: Readonly<Record<string, string>>;
  /** `[publish]`: when pipelines publish (core/matrix-publish.ts). */
  readonly publish: Publish;
  /** `[cache]`, undefined for none (core/matrix/matrix-build-settings.ts). */
  readonly cache: CacheSettings | undefined;
  readonly attest: AttestSettings;
  /** `[sign]`, undefined for none (core/matrix/matrix-sign.ts). */
  readonly sign: SignPolicy | undefined;
  /** `[vars]`, in the order written, with the values this matrix was read with (core/matrix/matrix-vars.ts). */
  readonly variables: readonly Variable[];
}

/** A variable of [vars]: its value as templates were filled in, its default or (`set`) the one given with --var. */
export interface Variable {
  readonly name: string;
  readonly value: string;
  readonly set: boolean;
  readonly keyPath: KeyPath;
}
