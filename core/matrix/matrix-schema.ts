// What the matrix file's keys are, each with its type and one line saying what it is:
// the reader takes each table's known keys from here (matrix.ts and its sections), and
// `caliban-images schema` prints the JSON Schema made from it, for editors. One source,
// so the two cannot drift; cli/schema.test.ts checks that every key's type here
// is one the reader refuses the wrong type of.

import { ARG_NAME_PATTERN, IDENTIFIER_PATTERN, NAME_PATTERN, SECRET_ID_PATTERN, VALUE_PATTERN } from "../names.ts";

/** A JSON Schema (draft-07), as plain data. */
export type JsonSchema = { readonly [key: string]: unknown };

export interface KeySpec {
  readonly description: string;
  readonly schema: JsonSchema;
}

export type Section = Readonly<Record<string, KeySpec>>;

const string = (description: string, extra: JsonSchema = {}): KeySpec => ({ description, schema: { type: "string", ...extra } });
const boolean = (description: string): KeySpec => ({ description, schema: { type: "boolean" } });
const stringList = (description: string): KeySpec => ({ description, schema: { type: "array", items: { type: "string" } } });
const stringTable = (description: string): KeySpec => ({ description, schema: { type: "object", additionalProperties: { type: "string" } } });
const pattern = (regex: RegExp): string => regex.source;

/** `[[...], ...]` or `[{ axis = "value" }, ...]`: combinations named by rows or by tables. */
const combinationList: JsonSchema = {
  type: "array",
  items: { anyOf: [{ type: "object", additionalProperties: { type: "string" } }, { type: "array", items: { type: "string" } }] },
};

const tableOf = (section: Section, required: readonly string[] = []): JsonSchema => ({
  type: "object",
  properties: Object.fromEntries(Object.entries(section).map(([key, spec]) => [key, { description: spec.description, ...spec.schema }])),
  additionalProperties: false,
  ...(required.length > 0 ? { required } : {}),
});

/** `rebuild`'s values (matrix-types.ts, RebuildPolicy). */
export const REBUILD_POLICIES = ["changed", "always"] as const;

/** A family's own keys; FAMILY_SECTION adds its `when` rules. */
const FAMILY_KEYS: Section = {
  description: string("one line, shown in help texts"),
  dockerfile: string('the Dockerfile (template), relative to the matrix file\'s folder; default "Dockerfile"'),
  context: string('the build context (template), relative to the matrix file\'s folder, or a git or https URL; default "."'),
  tag: string('the tag (template), e.g. "gpu-{cuda}-{python}": the image is repository:tag; known when the plan is made (build-time values go in aliases)'),
  repository: string('where the images are pushed (template), e.g. "{repository}/base-notebook" (below the top-level repository, moved with it by --base-url) or a whole repository of its own; default the top-level one', { minLength: 1 }),
  matrix: stringList("the axes the family spans, first axis varied slowest; none: one image"),
  combinations: { description: "the explicit list of combinations, instead of the product of `matrix` (not with include or exclude)", schema: combinationList },
  include: { description: "whole combinations added to the product", schema: combinationList },
  exclude: {
    description: 'partial combinations removed from the product: [{ cuda = "cuda100", python = "py38" }]; a value may be a list or a range (">=cu125"), and a string names a [sets] set',
    schema: { type: "array", items: { anyOf: [{ type: "string" }, { type: "object", additionalProperties: { anyOf: [{ type: "string" }, { type: "array", items: { type: "string" } }] } }] } },
  },
  args: {
    description: 'the build args, in order: an axis ("python", all its attributes but its name_only ones), "axis.ATTRIBUTE", or { NAME = "template" }; default: every axis in `matrix`',
    schema: { type: "array", items: { anyOf: [{ type: "string" }, { type: "object", propertyNames: { pattern: pattern(ARG_NAME_PATTERN) }, additionalProperties: { type: "string" } }] } },
  },
  from: string("another family: each image builds FROM that family's image with the same values on its axes"),
  from_arg: string('the build arg given the base image\'s reference; default "BASE_IMAGE"', { pattern: pattern(ARG_NAME_PATTERN) }),
  skip_without_base: boolean("true: build only the combinations whose base exists, instead of reporting the others"),
  test: string("a smoke test (template): sh -c TEST in each built image before it is pushed"),
  runner: {
    description: 'the CI machine the images build and are tested on, as GitHub\'s runs-on: a label, or labels a runner must all have',
    schema: { anyOf: [{ type: "string" }, { type: "array", items: { type: "string" } }] },
  },
  timeout: {
    description: "minutes an image's build may run before the CI stops it (a GitHub job's timeout-minutes, a Cloud Build step's timeout); default the emitter's",
    schema: { type: "integer", minimum: 1, maximum: 1440 },
  },
  aliases: stringList('more tags (templates), e.g. ["gpu-{python}"]; an alias may name values the CI fills in when it builds: {date} (UTC, YYYYMMDD), {commit}, {short_commit} (its first 7 characters) and {branch} (made a tag), e.g. "nightly.{date}.{short_commit}"'),
  shared_tags: stringList('tags (templates) several images share, each pushed as one manifest list over every image that names it, e.g. ["{python}"] on a Linux and a Windows image (Docker\'s official images\' SharedTags); their platforms must not overlap'),
  labels: stringTable('the image\'s labels (templates), after the top-level ones; "{revision}" is the commit'),
  annotations: stringTable("the images' OCI annotations (plain text), after the top-level ones: on each manifest, and on a multi-platform image's index (what GHCR and Docker Hub show), e.g. org.opencontainers.image.description"),
  platforms: stringList('what the image is built for, e.g. ["linux/amd64", "linux/arm64"]; a Windows image\'s may name its release, "windows(10.0.26100)/amd64"; none: the builder\'s own'),
  target: string("the Dockerfile stage to build (template)"),
  published: boolean("false: an internal image, only handed to the images built FROM it: pushed under its content reference alone (repository:inputs-<digest>), never its tag (so no aliases or shared_tags); default true"),
  free_disk: boolean("true: the CI first frees its runner's disk for the image's build (GitHub: removes the hosted runner's preinstalled toolchains, about 14 GB free becoming about 40, which a CUDA image needs); default false"),
  secrets: {
    description: 'build secrets, handed to the build only as BuildKit secrets (RUN --mount=type=secret,id=ID), never as build args, never read by caliban-images, never in the inputs digest: ID = { env = "NAME" } (an environment variable of the machine that builds) or ID = { file = "PATH" } (relative to the matrix file\'s folder, outside the build context); every emitter passes them, a pull or merge request\'s build none',
    schema: {
      type: "object",
      propertyNames: { pattern: pattern(SECRET_ID_PATTERN) },
      additionalProperties: {
        type: "object",
        properties: {
          env: { description: "an environment variable of the machine that builds, by its name (its value is never read)", type: "string", pattern: pattern(IDENTIFIER_PATTERN) },
          file: { description: "a file, relative to the matrix file's folder or absolute, outside the image's build context", type: "string", minLength: 1 },
        },
        additionalProperties: false,
        minProperties: 1,
        maxProperties: 1,
      },
    },
  },
  rebuild: string('"always": built and pushed on every run, even when the registry has its content reference (a nightly image); default "changed": built when the registry lacks it', { enum: REBUILD_POLICIES }),
};

/** The settings a `when` rule may give the combinations it matches: the family's own, per image. */
export const WHEN_SETTINGS = ["dockerfile", "context", "args", "aliases", "shared_tags", "labels", "platforms", "target", "test", "runner", "timeout", "published", "rebuild", "free_disk"] as const;

/** `[[images.NAME.when]]`: a `match` of axis values, and settings for the images it matches. */
export const WHEN_SECTION: Section = {
  match: {
    description: 'the combinations the rule applies to: axis = value, a list of values or a range, e.g. { python = "py313" } or { cuda = ">=cu125" }; or the name of a [sets] set',
    schema: { anyOf: [{ type: "string" }, { type: "object", propertyNames: { pattern: pattern(NAME_PATTERN) }, additionalProperties: { anyOf: [{ type: "string" }, { type: "array", items: { type: "string" } }] } }] },
  },
  ...Object.fromEntries(WHEN_SETTINGS.map((key) => [key, FAMILY_KEYS[key]!])),
};

export const FAMILY_SECTION: Section = {
  ...FAMILY_KEYS,
  when: {
    description: "settings per value or combination: [[images.NAME.when]] tables, each a `match` and the settings of the images it matches, in order (aliases, args and labels add up; the others: the last match wins)",
    schema: { type: "array", items: tableOf(WHEN_SECTION, ["match"]) },
  },
};

/** An axis's keys that are no value (matrix-axes.ts): a value is a table, these are not. */
export const AXIS_SECTION = {
  name_only: {
    description: 'attributes of the values that only name images: read by templates (tag, aliases, labels...), never build args, e.g. ["NAME"]',
    schema: { type: "array", items: { type: "string", pattern: pattern(ARG_NAME_PATTERN) } },
  },
} satisfies Section;

export const PUBLISH_SECTION: Section = {
  branches: stringList('branches whose pushes publish, names or patterns; default ["main"]'),
  pull_requests: boolean("whether pull requests build the images (pushing nothing); default true"),
  schedule: string('a cron expression of five fields, in UTC, e.g. "0 4 * * 1": scheduled runs'),
};

export const CACHE_TYPES = ["registry", "gha", "inline", "none"] as const;

export const CACHE_SECTION: Section = {
  type: string("the build cache: registry, gha, inline or none; default: gha on GitHub, registry elsewhere", { enum: CACHE_TYPES }),
  repository: string("where registry caches are pushed; default REPOSITORY:cache-TAG"),
};

export const ATTEST_SECTION: Section = {
  provenance: { description: 'SLSA provenance: "min", "max" (or true), or false', schema: { enum: ["min", "max", true, false] } },
  sbom: boolean("an SBOM attestation"),
};

export const SIGN_SECTION: Section = {
  key: string('cosign\'s signing key, as cosign reads one: "env://NAME" (the key\'s text in a variable; its password in COSIGN_PASSWORD), a KMS URI (gcpkms://, awskms://, azurekms://, hashivault://) or a file; with public_key'),
  public_key: string("the key that verifies the signatures, as cosign verify --key reads one: a file relative to the matrix file, or a KMS URI; with key"),
  identity: string('keyless, by the CI\'s OIDC identity: the certificate identity a signature must carry, e.g. "https://github.com/ORG/REPO/.github/workflows/images.yml@refs/heads/main"; with issuer'),
  issuer: string('keyless: the OIDC issuer of that identity, e.g. "https://token.actions.githubusercontent.com"; with identity'),
  transparency_log: boolean("whether signatures are uploaded to Sigstore's public transparency log (Rekor), and verified against it; default true"),
};

export const TOP_LEVEL_SECTION: Section = {
  repository: string('where every image is pushed, e.g. "gcr.io/my-project/images" (a registry host and a path)', { minLength: 1 }),
  axes: {
    description: 'the axes: [axes.NAME] tables of values, each a table of attributes (build args but the name_only ones), e.g. py312 = { PYTHON_VERSION = "3.12" }',
    schema: {
      type: "object",
      propertyNames: { pattern: pattern(NAME_PATTERN) },
      additionalProperties: {
        type: "object",
        properties: tableOf(AXIS_SECTION).properties,
        propertyNames: { pattern: pattern(VALUE_PATTERN) },
        additionalProperties: { type: "object", propertyNames: { pattern: pattern(ARG_NAME_PATTERN) }, additionalProperties: { type: "string" } },
      },
    },
  },
  images: {
    description: "the image families: [images.NAME], one image per combination of its matrix",
    schema: {
      type: "object",
      propertyNames: { pattern: pattern(NAME_PATTERN) },
      additionalProperties: tableOf(FAMILY_SECTION, ["tag"]),
    },
  },
  emit: { description: "[emit.NAME]: an emitter's options, e.g. [emit.cloudbuild] timeout = \"3600s\"", schema: { type: "object", additionalProperties: { type: "object" } } },
  plugins: stringList("plugin emitter modules, relative to the matrix file"),
  outputs: stringTable('emitter → the path emit --all writes and check compares, relative to the matrix file; a folder ends in "/"'),
  publish: { description: "when the pipelines publish", schema: tableOf(PUBLISH_SECTION) },
  labels: stringTable("every image's labels (templates); a family's label of the same name wins"),
  annotations: stringTable("every image's OCI annotations (plain text); a family's of the same name wins"),
  vars: {
    description: 'variables with their defaults, e.g. TAG_PREFIX = "": a template names one as {$TAG_PREFIX}; --var TAG_PREFIX=VALUE sets it when a command plans',
    schema: { type: "object", propertyNames: { pattern: pattern(ARG_NAME_PATTERN) }, additionalProperties: { type: "string" } },
  },
  sets: {
    description: 'named sets of combinations, used by several families: NAME = [{ cuda = "<cu124" }, ...]; a family names one in `exclude` or as a `when` rule\'s match',
    schema: {
      type: "object",
      propertyNames: { pattern: pattern(NAME_PATTERN) },
      additionalProperties: { type: "array", minItems: 1, items: { type: "object", additionalProperties: { anyOf: [{ type: "string" }, { type: "array", items: { type: "string" } }] } } },
    },
  },
  cache: { description: "the build cache", schema: tableOf(CACHE_SECTION) },
  attest: { description: "attestations", schema: tableOf(ATTEST_SECTION) },
  sign: { description: "cosign signatures of every pushed image, and verified reuse: an image the registry has is reused only when its signature verifies", schema: tableOf(SIGN_SECTION) },
};

/** A table's keys, in the order written here (the reader's "did you mean" lists them). */
export function keysOf(section: Section): string[] {
  return Object.keys(section);
}

/** The JSON Schema of matrix.toml. */
export function matrixSchema(): JsonSchema {
  return {
    $schema: "http://json-schema.org/draft-07/schema#",
    title: "caliban-images matrix.toml",
    description: "One matrix of Docker images: axes of values, families of images built from them (docs/matrix.md).",
    ...tableOf(TOP_LEVEL_SECTION, ["repository", "images"]),
  };
}
