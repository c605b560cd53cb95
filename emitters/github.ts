// GitHub Actions: a workflow with one job per stage of the graph, each a matrix of
// that stage's images built and pushed with the standard docker actions, each stage
// `needs` the one before. GitHub caps a matrix at 256 jobs: a larger stage is split
// into parts, and the next stage needs every part.
//
// `--format matrix` writes only the matrices, one `NAME=JSON` line per job, for teams
// that keep their own workflow: append them to $GITHUB_OUTPUT and use fromJSON().

import { CalibanError, type Diagnostic } from "../core/errors.ts";
import { stages, type BuildGraph, type ImageNode } from "../core/graph.ts";
import type { EmitContext, Emitter } from "./contract.ts";

/** GitHub's limit on the jobs one matrix may generate. */
export const MAX_MATRIX_JOBS = 256;

export interface GithubOptions extends Record<string, string | boolean> {
  format: string;
  output: string;
  name: string;
  "runs-on": string;
  login: boolean;
  registry: string;
  username: string;
  "password-secret": string;
}

export const github: Emitter<GithubOptions> = {
  name: "github",
  description: "GitHub Actions workflow: a job per stage, a matrix of its images (or, --format matrix, the matrices only)",
  options: {
    format: { type: "string", choices: ["workflow", "matrix"], default: "workflow", description: "the whole workflow, or only each job's matrix as NAME=JSON lines" },
    output: { type: "string", default: ".github/workflows/build-images.yml", description: "path of the workflow file" },
    name: { type: "string", default: "Build images", description: "the workflow's name" },
    "runs-on": { type: "string", default: "ubuntu-latest", description: "the runner every job runs on" },
    login: { type: "boolean", default: true, description: "log in to the registry before pushing (docker/login-action)" },
    registry: { type: "string", default: "", description: "registry to log in to (default: the repository's host; Docker Hub when it has none)" },
    username: { type: "string", default: "${{ github.actor }}", description: "login user name (may be an expression, e.g. _json_key for gcr.io)" },
    "password-secret": {
      type: "string",
      default: "REGISTRY_PASSWORD",
      description: "name of the repository secret holding the registry password or token",
      check: (value) => (/^[A-Za-z_][A-Za-z0-9_]*$/.test(String(value)) ? undefined : `"${value}" is not a valid secret name`),
    },
  },
  emit(graph, options, context) {
    checkBuildArgsSurvive(graph);
    const jobs = stageJobs(graph);
    if (options.format === "matrix") {
      const lines = jobs.map((job) => `${job.name}=${JSON.stringify({ include: job.images.map(matrixEntry) })}`);
      return [{ path: "matrix.txt", contents: `${lines.join("\n")}\n` }];
    }
    return [{ path: options.output, contents: renderWorkflow(graph, jobs, options, context) }];
  },
};

/**
 * build-push-action reads `build-args` as CSV lines and trims each one: a value that
 * ends in white space, or holds a comma followed by a quote, would arrive changed.
 * Refuse it, naming the image and the arg, rather than build something else.
 */
function checkBuildArgsSurvive(graph: BuildGraph): void {
  const diagnostics: Diagnostic[] = [];
  for (const image of graph.images) {
    for (const arg of image.args) {
      const problem = /\s$/.test(arg.value) ? "ends in white space, which build-push-action trims" : arg.value.includes(',"') ? "holds ',\"', which build-push-action reads as a CSV quote" : undefined;
      if (problem) {
        diagnostics.push({
          code: "INVALID_VALUE",
          message: `emit github: image ${image.id}, build arg ${arg.name}: the value ${JSON.stringify(arg.value)} ${problem}`,
          hint: "change the value, or use another emitter for this matrix",
        });
      }
    }
  }
  if (diagnostics.length > 0) throw new CalibanError(diagnostics);
}

export interface StageJob {
  readonly name: string;
  readonly stage: number;
  readonly images: readonly ImageNode[];
  readonly needs: readonly string[];
}

/** One job per stage, or per part of a stage with more images than a matrix may hold. */
export function stageJobs(graph: BuildGraph): StageJob[] {
  const jobs: StageJob[] = [];
  let previous: string[] = [];
  stages(graph).forEach((images, index) => {
    const parts = Math.ceil(images.length / MAX_MATRIX_JOBS);
    const names: string[] = [];
    for (let part = 0; part < parts; part++) {
      const name = parts === 1 ? `stage${index + 1}` : `stage${index + 1}_part${part + 1}`;
      names.push(name);
      jobs.push({ name, stage: index + 1, images: images.slice(part * MAX_MATRIX_JOBS, (part + 1) * MAX_MATRIX_JOBS), needs: previous });
    }
    previous = names;
  });
  return jobs;
}

function matrixEntry(image: ImageNode) {
  return {
    id: image.id,
    image: image.reference,
    dockerfile: image.dockerfile,
    context: image.context,
    "build-args": image.args.map((arg) => `${arg.name}=${arg.value}`).join("\n"),
  };
}

function renderWorkflow(graph: BuildGraph, jobs: readonly StageJob[], options: GithubOptions, context: EmitContext): string {
  const registry = options.registry || registryHost(graph.repository);
  const steps: unknown[] = [{ uses: "actions/checkout@v4" }, { uses: "docker/setup-buildx-action@v3" }];
  if (options.login) {
    steps.push({
      uses: "docker/login-action@v3",
      with: {
        ...(registry === "docker.io" ? {} : { registry }),
        username: options.username,
        password: `\${{ secrets.${options["password-secret"]} }}`,
      },
    });
  }
  steps.push({
    uses: "docker/build-push-action@v6",
    with: {
      context: "${{ matrix.context }}",
      file: "${{ matrix.dockerfile }}",
      "build-args": "${{ matrix.build-args }}",
      tags: "${{ matrix.image }}",
      push: true,
    },
  });

  const workflow = {
    name: options.name,
    on: {
      push: { paths: triggerPaths(graph, context.matrixFile, options.output) },
      workflow_dispatch: {},
    },
    permissions: { contents: "read", ...(registry === "ghcr.io" ? { packages: "write" } : {}) },
    jobs: Object.fromEntries(
      jobs.map((job) => [
        job.name,
        {
          name: "${{ matrix.id }}",
          ...(job.needs.length > 0 ? { needs: [...job.needs] } : {}),
          "runs-on": options["runs-on"],
          strategy: { "fail-fast": false, matrix: { include: job.images.map((image) => literalEntry(matrixEntry(image))) } },
          steps,
        },
      ]),
    ),
  };
  const header = `# Generated by caliban-images from ${context.matrixFile}; regenerate with \`caliban-images emit github\`.\n`;
  return header + context.yaml(workflow);
}

/**
 * GitHub evaluates `${{ ... }}` anywhere in a workflow's strings, matrix values
 * included; `${{ '${{' }}` is the expression whose value is the literal text.
 */
function literalEntry(entry: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(entry).map(([key, value]) => [key, value.replace(/\$\{\{/g, () => "${{ '${{' }}")]));
}

/** The files whose change should rebuild the images: dockerfiles, non-root contexts, the matrix, this workflow. */
function triggerPaths(graph: BuildGraph, matrixFile: string, workflowPath: string): string[] {
  const paths = new Set<string>();
  for (const image of graph.images) {
    paths.add(globLiteral(repoPath(image.dockerfile)));
    if (image.context !== ".") paths.add(`${globLiteral(repoPath(image.context))}/**`);
  }
  const matrix = matrixFile.startsWith("<") ? "matrix.toml" : repoPath(matrixFile);
  if (!matrix.startsWith("../") && !matrix.startsWith("/")) paths.add(globLiteral(matrix));
  paths.add(globLiteral(workflowPath));
  return [...paths];
}

function repoPath(path: string): string {
  return path.replace(/^(\.\/)+/, "");
}

/** A path as a filter pattern matching only itself: GitHub's pattern characters escaped. */
function globLiteral(path: string): string {
  return path.replace(/[*?+[\]!]/g, "\\$&");
}

/** The registry a repository lives in: its first component when that is a host, else Docker Hub. */
export function registryHost(repository: string): string {
  const first = repository.split("/")[0]!;
  return repository.includes("/") && (first.includes(".") || first.includes(":") || first === "localhost") ? first : "docker.io";
}
