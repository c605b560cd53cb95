// The commands, declared once: the list gives both the parser (cli/main.ts) and --help;
// cli/commands.ts runs them.

import { SUMMARY_ABOVE } from "../emitters/plan-summary.ts";

export interface CommandSpec {
  readonly name: string;
  readonly usage: string;
  readonly description: string;
  readonly options: readonly (readonly [string, string, { default?: unknown; type?: unknown[] }?])[];
  readonly examples: readonly string[];
}

const MATRIX_OPTION = ["--matrix <file>", "matrix file (default: ./matrix.toml, else the embedded default)"] as const;
const BASE_URL_OPTION = ["--base-url <repository>", "push images to this repository instead of the matrix's `repository` (a family's own repository moves only when written as {repository}/PATH)"] as const;
const SINCE_OPTION = ["--since <revision>", "only the images whose inputs differ from those at this git revision (see `caliban-images affected`)"] as const;
const CHANGED_OPTION = ["--changed", "only the images the PATHs given after the command affect (changed files, relative to the repository's root)"] as const;
const PLUGIN_OPTION: readonly [string, string, { type: unknown[] }] = ["--plugin <file>", "load emitters from this .ts or .js module (repeatable)", { type: [String] }];
const VAR_OPTION: readonly [string, string, { type: unknown[] }] = ["--var <name=value>", "set a variable of the matrix's [vars] (repeatable); an emitted pipeline passes it on to the caliban-images it runs", { type: [String] }];

export const COMMANDS: readonly CommandSpec[] = [
  {
    name: "plan",
    usage: "plan",
    description: `Show the supported combinations and the build graph, stage by stage; past ${SUMMARY_ABOVE} images, a summary per family`,
    options: [
      MATRIX_OPTION, VAR_OPTION,
      BASE_URL_OPTION,
      ["--json", "print the build graph as JSON (its format: docs/build-graph.md); short for --format json"],
      ["--full", `list every image, however many (short for --format full); without it, past ${SUMMARY_ABOVE} images plan prints one entry per family`],
      ["--format <format>", `text (default: full up to ${SUMMARY_ABOVE} images, else summary), full, summary, json, mermaid (a diagram GitHub renders in Markdown) or dot (Graphviz)`],
      ["--family <names>", "show only these families' images (comma-separated or repeated); the diagrams draw their bases too; not with --json", { type: [String] }],
    ],
    examples: ["caliban-images plan", "caliban-images plan --full --family gpu,gpu-base", "caliban-images plan --matrix images.toml --json", "caliban-images plan --format mermaid --family gpu", "caliban-images plan --format dot | dot -Tsvg > images.svg"],
  },
  {
    name: "affected",
    usage: "affected [...paths]",
    description: "List the images whose inputs changed since a git revision (--since), or that changed files affect (--changed PATH...)",
    options: [MATRIX_OPTION, VAR_OPTION, BASE_URL_OPTION, SINCE_OPTION, CHANGED_OPTION, ["--json", "print the graph's entries of the affected images, each with why"]],
    examples: ["caliban-images affected --since origin/main", "caliban-images affected --since HEAD~1 --json", "caliban-images affected --changed docker/base.Dockerfile docker/app/main.py"],
  },
  {
    name: "emit",
    usage: "emit [emitter] [...paths]",
    description: "Write the build graph for a CI system or build tool (see `caliban-images emitters`)",
    options: [
      MATRIX_OPTION, VAR_OPTION,
      BASE_URL_OPTION,
      ["-o, --output <path>", "write to this file (or directory) instead of stdout; replaced whole or not at all"],
      ["--all", "write every output the matrix's [outputs] lists, where it says"],
      ["--option <key=value>", "set an emitter option (repeatable); see `caliban-images emit NAME --help`", { type: [String] }],
      ["--format <format>", "short for --option format=FORMAT (e.g. emit github --format matrix)"],
      SINCE_OPTION,
      CHANGED_OPTION,
      PLUGIN_OPTION,
    ],
    examples: [
      "caliban-images emit cloudbuild --base-url gcr.io/test -o cloudbuild.json",
      "caliban-images emit cloudbuild --option timeout=3600s",
      "caliban-images emit github -o .github/workflows/build-images.yml",
      "caliban-images emit github --format matrix >> \"$GITHUB_OUTPUT\"",
      "caliban-images emit make -o Makefile && make -j4 push",
      "caliban-images emit bake > docker-bake.hcl && docker buildx bake",
      "caliban-images emit bake --since origin/main -o docker-bake.hcl   (only what changed)",
      "caliban-images emit --all   (every file [outputs] lists)",
    ],
  },
  {
    name: "check",
    usage: "check",
    description: "Exit 0 when every file the matrix's [outputs] lists is what `emit --all` would write; else list the stale and missing ones, exit 3",
    options: [MATRIX_OPTION, VAR_OPTION, PLUGIN_OPTION],
    examples: ["caliban-images check", "caliban-images check || caliban-images emit --all"],
  },
  {
    name: "resolve",
    usage: "resolve",
    description: "What a pipeline runs first, in the tree it checked out: every image's inputs digest from that tree, a check that the matrix still gives the graph its file was emitted for (--shape; exit 3 when stale), and with --registry which images the registry has (exit 4 when it cannot say)",
    options: [
      MATRIX_OPTION, VAR_OPTION,
      BASE_URL_OPTION,
      ["--shape <hex>", "the shape the pipeline's file was emitted for (it names it): a matrix that gives another graph is stale, exit 3"],
      ["--for <file>", "the pipeline's file, named in the message when it is stale; without --shape, the shape it names, and the --var values (docker-bake.hcl does)"],
      ["--registry <repository>", "ask this repository for each image's content tag (REPOSITORY:inputs-HEX): present, absent, or exit 4; it takes the top-level repository's place, as --base-url does, for families with their own"],
      ["--event <name>", "the run's event (push, pull_request, schedule, workflow_dispatch, ...): with --ref, say whether it publishes, as [publish] says"],
      ["--ref <ref>", "the git ref the run is on (refs/heads/BRANCH): only a [publish] branch publishes, never a pull request or a tag"],
      ["--retries <n>", "ask a registry that did not answer (5xx, rate limit, network) again this many times, after 1, 2, 4, ... s (default 4)"],
      ["--insecure-registry <host>", "ask this registry over plain http (loopback hosts always are; repeatable)", { type: [String] }],
      ["--cosign <path>", "with [sign] and --registry: the cosign that verifies each image the registry has before it is reused (default: cosign on the PATH)"],
      ["--format <format>", "json (default), make (one line of make assignments: inputs/ID=HEX, present/ID=1) github (inputs=, present= and publish= lines for $GITHUB_OUTPUT) lines (ID HEX per line, for a shell) or bake (JSON, id to hex, for docker-bake.hcl's CALIBAN_INPUTS)"],
    ],
    examples: ["caliban-images resolve", "caliban-images resolve --registry ghcr.io/acme/images --format json"],
  },
  {
    name: "lock",
    usage: "lock",
    description: "Ask the registries for the digest of every external base image the Dockerfiles build FROM, write them to the lock file beside the matrix (matrix.lock), and the files [outputs] lists again",
    options: [
      MATRIX_OPTION, VAR_OPTION,
      ["--check", "write nothing; exit 3 when an upstream image moved (or is not locked yet)"],
      ["--insecure-registry <host>", "ask this registry over plain http (loopback hosts always are; repeatable)", { type: [String] }],
      PLUGIN_OPTION,
    ],
    examples: ["caliban-images lock", "caliban-images lock --check || echo 'an upstream base image moved'"],
  },
  {
    name: "prune",
    usage: "prune",
    description: "List what the matrix's repositories hold that no kept plan needs (a dry run; --delete deletes it): content tags no [publish] branch head, kept lock generation or the working tree reaches, build caches of images none has, cosign signatures of what goes, and the platform and attestation manifests of the indexes that go; never a tag of no scheme of ours, nor anything a kept tag refers to",
    options: [
      MATRIX_OPTION, VAR_OPTION,
      BASE_URL_OPTION,
      ["--keep-locks <n>", "also keep the plans of the last N commits that changed the lock file on each [publish] branch (default 3; 0: only the heads)"],
      ["--delete", "delete what the dry run lists (refused while a kept plan cannot be planned)"],
      ["--json", "print the listing (or what was deleted) as JSON"],
      ["--insecure-registry <host>", "ask this registry over plain http (loopback hosts always are; repeatable)", { type: [String] }],
    ],
    examples: ["caliban-images prune", "caliban-images prune --keep-locks 5 --json", "git fetch origin && caliban-images prune --delete"],
  },
  {
    name: "explain",
    usage: "explain <reference>",
    description: "Print the inputs that built an image the registry has (its Dockerfile, the context's files, build args, build settings, upstream images and base): with [sign], its signature, verified by cosign, names its inputs digest and commit, and the matrix planned at that commit has the image whose inputs hash to it; without, a content tag (REPOSITORY:inputs-HEX) names the digest, unverified",
    options: [
      MATRIX_OPTION, VAR_OPTION,
      ["--revision <rev>", "plan the matrix at this commit, rather than at the one the signature names (without either: the working tree)"],
      ["--cosign <path>", "with [sign]: the cosign that verifies the image's signature (default: cosign on the PATH)"],
      ["--insecure-registry <host>", "ask this registry over plain http (loopback hosts always are; repeatable)", { type: [String] }],
      ["--json", "print the inputs as JSON"],
    ],
    examples: ["caliban-images explain ghcr.io/acme/images:py311-cuda121", "caliban-images explain ghcr.io/acme/images:inputs-<hex> --revision v1.4.0 --json"],
  },
  {
    name: "import",
    usage: "import <legacy-config>",
    description: "Convert Caliban's legacy cloudbuild_config.json into a matrix.toml",
    options: [
      ["-o, --output <file>", "write the matrix to this file instead of stdout"],
      ["--base-url <repository>", "the repository the legacy generator's --base_url named (default: gcr.io/blueshift-playground/blueshift)"],
    ],
    examples: ["caliban-images import scripts/cloudbuild_config.json -o matrix.toml"],
  },
  {
    name: "init",
    usage: "init [dir]",
    description: "Write a starting point into DIR (default: here): a commented matrix.toml for python × CUDA, its Dockerfiles and .dockerignore, the schema for editors, and the CI files --ci asks for; never overwrites a file",
    options: [
      ["--ci <names>", "also write these CI files, from the matrix: github, gitlab, buildkite, cloudbuild, make, bake (comma-separated or repeated)", { type: [String] }],
      ["--repository <repository>", `where the images go (default: ${"ghcr.io/your-org/images"})`],
    ],
    examples: ["caliban-images init", "caliban-images init images --ci github", "caliban-images init --ci github,make --repository ghcr.io/acme/ml-images"],
  },
  {
    name: "schema",
    usage: "schema",
    description: "Print the JSON Schema of matrix.toml, for editors: taplo and Even Better TOML read it from a `#:schema FILE` first line",
    options: [["-o, --output <file>", "write the schema to this file instead of stdout"]],
    examples: ["caliban-images schema -o matrix.schema.json"],
  },
  {
    name: "emitters",
    usage: "emitters",
    description: "List the available emitters: built in, and from plugins",
    options: [MATRIX_OPTION, VAR_OPTION, PLUGIN_OPTION],
    examples: ["caliban-images emitters", "caliban-images emitters --plugin ci/gitlab.ts"],
  },
];
