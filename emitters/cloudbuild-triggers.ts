// Cloud Build trigger configs, written beside the build configs when the matrix has a
// [publish] table, in the form `gcloud builds triggers import --source=FILE` reads.

import { branchPatternSource } from "../core/branch-patterns.ts";
import { CalibanError } from "../core/errors.ts";
import type { BuildGraph } from "../core/graph.ts";
import type { CloudBuildOptions } from "./cloudbuild.ts";
import type { EmittedFile } from "./contract.ts";
import { inputPaths } from "./input-paths.ts";

/**
 * With [publish]: trigger configs for `gcloud builds triggers import --source=FILE`. A
 * push trigger on the branches, a pull-request trigger that builds and pushes nothing
 * (`_PUSH=false`), and for a schedule a manual trigger that Cloud Scheduler runs (Cloud
 * Build has no cron of its own; README, "Publishing"). Each watches the build's inputs.
 * A graph split into several configs is run by a build that runs submit.sh.
 */
export function triggerFiles(graph: BuildGraph, configs: readonly string[], options: CloudBuildOptions, matrixPath: string | undefined): EmittedFile[] {
  const repository = options["github-repository"];
  if (repository === "") {
    throw new CalibanError({
      code: "EMITTER",
      message: "emit cloudbuild: [publish] writes build triggers, which need the GitHub repository they watch, and git remote origin names none",
      hint: "pass --option github-repository=OWNER/NAME, or --option triggers=false for the configs only",
    });
  }
  const [owner, name] = repository.split("/") as [string, string];
  const negated = graph.publish.branches.find((branch) => branch.startsWith("!"));
  if (negated) {
    throw new CalibanError({ code: "EMITTER", message: `emit cloudbuild: a trigger's branch filter is one regular expression, which cannot leave out "${negated}"`, hint: "list the branches that publish" });
  }
  const inDirectory = (file: string) => (options.directory === "" ? file : `${options.directory.replace(/\/+$/, "")}/${file}`);
  // One config: the trigger runs it. Several: a build runs submit.sh, which submits them in order.
  const build =
    configs.length === 1
      ? { filename: inDirectory(configs[0]!) }
      : {
          build: {
            steps: [{ name: "gcr.io/google.com/cloudsdktool/cloud-sdk", entrypoint: "bash", args: [inDirectory("submit.sh"), "--substitutions=_PUSH=$_PUSH"] }],
            timeout: options.timeout,
          },
        };
  // Paths from the repository's root; without the matrix's place in it, its folder is taken to be the root.
  const includedFiles = inputPaths(graph, { matrixFile: "matrix.toml", ...(matrixPath === undefined ? {} : { matrixPath }) }).map(({ path, folder }) => (folder ? `${globWord(path)}/**` : globWord(path)));
  const branch = `^(${graph.publish.branches.map(branchPatternSource).join("|")})$`;
  const trigger = (suffix: string, description: string, source: Record<string, unknown>, push: boolean, run: Record<string, unknown> = build): EmittedFile => ({
    path: `trigger-${suffix}.json`,
    companion: true,
    contents: `${JSON.stringify({ name: `${options["trigger-name"]}-${suffix}`, description, ...source, ...run, substitutions: { _PUSH: String(push) } }, null, "  ")}\n`,
  });
  const files = [
    trigger("push", "Build the images a push to the publishing branches changed, and push them (caliban-images)", { github: { owner, name, push: { branch } }, includedFiles }, true),
  ];
  if (graph.publish.pullRequests) {
    files.push(
      trigger(
        "pull-request",
        "Build the images a pull request changes; push nothing (caliban-images)",
        { github: { owner, name, pullRequest: { branch, commentControl: "COMMENTS_ENABLED_FOR_EXTERNAL_CONTRIBUTORS_ONLY" } }, includedFiles },
        false,
      ),
    );
  }
  if (graph.publish.schedule) {
    const ref = `refs/heads/${graph.publish.branches[0]!.replace(/[*?[].*$/, "") || "main"}`;
    const uri = `https://github.com/${owner}/${name}`;
    const source = { sourceToBuild: { uri, ref, repoType: "GITHUB" } };
    // A manual trigger names its config as a file of the repository at that ref.
    const run = configs.length === 1 ? { gitFileSource: { path: inDirectory(configs[0]!), uri, revision: ref, repoType: "GITHUB" } } : build;
    files.push(trigger("schedule", `Run by Cloud Scheduler on "${graph.publish.schedule}" (UTC): build what the registry lacks; updates of base images come in through the lock file (caliban-images)`, source, true, run));
  }
  return files;
}

/** A path as Cloud Build's includedFiles glob reads it literally: its glob characters escaped. */
function globWord(path: string): string {
  return path.replace(/[\\*?[\]{}]/g, "\\$&");
}
