// Build secrets in a GitHub workflow: an image's matrix entry names them (`secret-envs`,
// ID=NAME lines; `secret-files`, ID=PATH lines, the path as the checkout has it), and
// every build-push-action step of a publishing job hands them to BuildKit, the values
// from the repository's secrets of the same names in the step's environment. A pull
// request's jobs (github-pr-job.ts) pass none and read no secret.

import type { Diagnostic } from "../core/errors.ts";
import type { BuildGraph, ImageNode } from "../core/graph.ts";
import { secretEnvNames } from "./secrets.ts";
import { yamlScalar } from "./quoting.ts";

/** An entry's secret fields, when some image has secrets: ID=NAME and ID=PATH lines, "" for an image with none of a kind. */
export function secretFields(image: ImageNode, literal: (text: string) => string): { "secret-envs": string; "secret-files": string } {
  const secrets = image.secrets ?? [];
  return {
    "secret-envs": secrets.flatMap((secret) => (secret.env === undefined ? [] : [`${secret.id}=${secret.env}`])).join("\n"),
    "secret-files": literal(secrets.flatMap((secret) => (secret.file === undefined ? [] : [`${secret.id}=${secret.file}`])).join("\n")),
  };
}

/**
 * A build-push-action step's secret inputs and its `env:` (none when the job's images have
 * no secret; a name YAML would read as a boolean or null, such as ON, quoted): each variable from the repository secret of its name, and empty on a pull
 * request's run, which these jobs never are (they run only on publishing runs): kept so
 * that no later change of a condition can hand a pull request a secret.
 */
export function secretStepLines(images: readonly ImageNode[]): string[] {
  if (!images.some((image) => image.secrets !== undefined)) return [];
  const names = secretEnvNames(images);
  return [
    "      secret-envs: ${{ matrix.secret-envs }}",
    "      secret-files: ${{ matrix.secret-files }}",
    ...(names.length === 0 ? [] : ["    env:", ...names.map((name) => `      ${yamlScalar(name)}: \${{ github.event_name != 'pull_request' && secrets.${name} || '' }}`)]),
  ];
}

/**
 * build-push-action reads `secret-files` as lines and trims each one: a path that starts
 * or ends in white space would name another file. Refuse it, naming the image and the id.
 */
export function checkSecretFilesSurvive(graph: BuildGraph): Diagnostic[] {
  const diagnostics: Diagnostic[] = [];
  const seen = new Set<string>();
  for (const image of graph.images) {
    for (const secret of image.secrets ?? []) {
      if (secret.file === undefined || !/^\s|\s$/.test(secret.file) || seen.has(`${image.family}\u0000${secret.id}`)) continue;
      seen.add(`${image.family}\u0000${secret.id}`);
      diagnostics.push({
        code: "INVALID_VALUE",
        message: `emit github: family ${image.family}, secret ${secret.id}: the file ${JSON.stringify(secret.file)} starts or ends in white space, which build-push-action trims`,
        hint: "rename the file, or use another emitter for this matrix",
      });
    }
  }
  return diagnostics;
}
