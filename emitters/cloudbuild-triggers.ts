// Cloud Build trigger configs, written beside the build configs when the matrix has a
// [publish] table, in the form `gcloud builds triggers import --source=FILE` reads.

import { branchFilter, firstPlainBranch } from "../core/branch-patterns.ts";
import { CalibanError } from "../core/errors.ts";
import type { BuildGraph } from "../core/graph.ts";
import type { EmitContext, EmittedFile, OptionSpec } from "./contract.ts";
import { inDirectory, inputPaths } from "./input-paths.ts";

export interface TriggerOptions {
  triggers: boolean;
  "trigger-name": string;
  "pull-request-service-account": string;
}

/** What the triggers read of the emitter's options: their own, and the build's where they name it. */
type TriggerInputs = TriggerOptions & { readonly timeout: string; readonly logging: string; readonly directory: string; readonly "github-repository": string };

/** Trigger names: letters, digits and '-'; room left for "-pull-request". */
const TRIGGER_NAME = /^[A-Za-z][A-Za-z0-9-]{0,49}$/;
/** A trigger's serviceAccount: projects/PROJECT_ID/serviceAccounts/EMAIL (Cloud Build's BuildTrigger resource). */
const SERVICE_ACCOUNT = /^projects\/[a-z][a-z0-9-]{4,28}[a-z0-9]\/serviceAccounts\/[a-z0-9][a-z0-9-]{0,62}@[a-z0-9][a-z0-9.-]*\.gserviceaccount\.com$/;
/** The accounts Cloud Build runs as when a trigger names none: the legacy Cloud Build one and Compute Engine's default, both able to push. */
const DEFAULT_SERVICE_ACCOUNT = /(?:@cloudbuild\.gserviceaccount\.com|-compute@developer\.gserviceaccount\.com)$/;

export const TRIGGER_OPTIONS = {
  triggers: { type: "boolean", default: true, description: "with [publish], also write build triggers into the -o folder (false: the configs only)" },
  "trigger-name": {
    type: "string",
    default: "build-images",
    description: "with [publish]: the triggers' names start with it (NAME-push, NAME-pull-request, NAME-schedule)",
    check: (value) => (TRIGGER_NAME.test(String(value)) ? undefined : `"${value}" is not a trigger name (letters, digits and '-', starting with a letter, at most 50)`),
  },
  "pull-request-service-account": {
    type: "string",
    default: "",
    description: "with [publish] pull_requests: the service account the pull-request trigger runs as, one that cannot push (projects/PROJECT/serviceAccounts/EMAIL); empty: no pull-request trigger",
    check: (value) => {
      if (value === "") return undefined;
      if (!SERVICE_ACCOUNT.test(String(value))) return `"${value}" is not projects/PROJECT/serviceAccounts/NAME@PROJECT.iam.gserviceaccount.com`;
      return DEFAULT_SERVICE_ACCOUNT.test(String(value)) ? "is one of Cloud Build's default service accounts, which can push: name one made for pull requests (caliban-images docs/ci-cloudbuild.md)" : undefined;
    },
  },
} satisfies Record<string, OptionSpec>;

/** Why the pull-request trigger is left out, when it is (a warning). */
export const PULL_REQUEST_TRIGGER_NEEDS_ACCOUNT =
  "[publish] pull_requests: the pull-request trigger is not written, since it would run the pull request's own config as Cloud Build's default service account, which can push; give it an account that cannot: --option pull-request-service-account=projects/PROJECT/serviceAccounts/NAME@PROJECT.iam.gserviceaccount.com (caliban-images docs/ci-cloudbuild.md says how to make one)";
export const PULL_REQUEST_TRIGGER_SPLIT =
  "[publish] pull_requests: the pull-request trigger is not written for a graph split over several configs: its build would run submit.sh, which submits builds, and an account that may submit builds may run them as Cloud Build's default service account, which can push; build pull requests on GitHub Actions, or with make test";
/** Where a build run as a service account of one's own may keep its logs (not Cloud Build's default bucket). */
const USER_ACCOUNT_LOGGING = ["CLOUD_LOGGING_ONLY", "NONE"];

/**
 * With [publish]: trigger configs for `gcloud builds triggers import --source=FILE`. A
 * push trigger on the branches; a pull-request trigger that builds and pushes nothing
 * (`_PUSH=false`, which the pull request's own config could change: so it runs as an
 * account that cannot push, and is written only when one is given); and for a schedule
 * a manual trigger that Cloud Scheduler runs (Cloud Build has no cron of its own;
 * docs/ci-cloudbuild.md). Each watches the build's inputs. A graph split into several
 * configs is run by a build that runs submit.sh.
 */
export function triggerFiles(graph: BuildGraph, configs: readonly string[], options: TriggerInputs, context: Pick<EmitContext, "matrixPath" | "warn">, pullRequestConfig?: string): EmittedFile[] {
  const repository = options["github-repository"];
  if (repository === "") {
    throw new CalibanError({
      code: "EMITTER",
      message: "emit cloudbuild: [publish] writes build triggers, which need the GitHub repository they watch, and git remote origin names none",
      hint: "pass --option github-repository=OWNER/NAME, or --option triggers=false for the configs only",
    });
  }
  const [owner, name] = repository.split("/") as [string, string];
  const pullRequestAccount = options["pull-request-service-account"];
  const pullRequests = writesPullRequestTrigger(graph, configs, options);
  if (graph.publish.pullRequests && !pullRequests) context.warn(pullRequestAccount === "" ? PULL_REQUEST_TRIGGER_NEEDS_ACCOUNT : PULL_REQUEST_TRIGGER_SPLIT);
  if (pullRequests && !USER_ACCOUNT_LOGGING.includes(options.logging)) {
    throw new CalibanError({
      code: "EMITTER",
      message: `emit cloudbuild: a build run as pull-request-service-account keeps its logs in Cloud Logging or a bucket of yours, never Cloud Build's default bucket, and logging is ${options.logging === "" ? "Cloud Build's default" : options.logging}`,
      hint: "add --option logging=CLOUD_LOGGING_ONLY (the account needs roles/logging.logWriter)",
    });
  }
  // One config: the trigger runs it. Several: a build runs submit.sh, which submits them in order.
  const build =
    configs.length === 1
      ? { filename: inDirectory(options.directory, configs[0]!) }
      : {
          build: {
            steps: [{ name: "gcr.io/google.com/cloudsdktool/cloud-sdk", entrypoint: "bash", args: [inDirectory(options.directory, "submit.sh"), "--substitutions=_PUSH=$_PUSH"] }],
            timeout: options.timeout,
          },
        };
  // Paths from the repository's root; without the matrix's place in it, its folder is taken to be the root.
  const includedFiles = inputPaths(graph, { matrixFile: "matrix.toml", ...(context.matrixPath === undefined ? {} : { matrixPath: context.matrixPath }) }).map(({ path, folder }) => (folder ? `${globWord(path)}/**` : globWord(path)));
  // GitHub's patterns as one anchored RE2 expression; "**" and then ! patterns as the ! ones, inverted.
  const filter = branchFilter(graph.publish.branches);
  const branch = { branch: filter.regex, ...(filter.invertRegex ? { invertRegex: true } : {}) };
  const trigger = (suffix: string, description: string, source: Record<string, unknown>, push: boolean, run: Record<string, unknown> = build): EmittedFile => ({
    path: `trigger-${suffix}.json`,
    companion: true,
    contents: `${JSON.stringify({ name: `${options["trigger-name"]}-${suffix}`, description, ...source, ...run, substitutions: { _PUSH: String(push) } }, null, "  ")}\n`,
  });
  const files = [
    trigger("push", "Build the images a push to the publishing branches changed, and push them (caliban-images)", { github: { owner, name, push: branch }, includedFiles }, true),
  ];
  if (pullRequests) {
    // Run as an account that cannot push (a trigger's account is the build's; a config cannot change it), and only
    // after a repository writer's /gcbrun: COMMENTS_ENABLED asks it of every pull request, a collaborator's too.
    files.push(
      trigger(
        "pull-request",
        "Build the images a pull request changes, as an account that cannot push, once a writer comments /gcbrun; push nothing (caliban-images)",
        { github: { owner, name, pullRequest: { ...branch, commentControl: "COMMENTS_ENABLED" } }, includedFiles, serviceAccount: pullRequestAccount },
        false,
        // A graph with build secrets: a config of its own without them (cloudbuild-secrets.ts).
        pullRequestConfig === undefined ? build : { filename: inDirectory(options.directory, pullRequestConfig) },
      ),
    );
  }
  if (graph.publish.schedule) {
    const plain = firstPlainBranch(graph.publish.branches);
    if (plain === undefined) {
      throw new CalibanError({ code: "EMITTER", message: "emit cloudbuild: the schedule's trigger builds one branch, and [publish] branches names none plainly (every one is a pattern)", hint: 'list the branch a schedule builds first, e.g. branches = ["main", "release/**"]' });
    }
    const ref = `refs/heads/${plain}`;
    const uri = `https://github.com/${owner}/${name}`;
    const source = { sourceToBuild: { uri, ref, repoType: "GITHUB" } };
    // A manual trigger names its config as a file of the repository at that ref.
    const run = configs.length === 1 ? { gitFileSource: { path: inDirectory(options.directory, configs[0]!), uri, revision: ref, repoType: "GITHUB" } } : build;
    files.push(trigger("schedule", `Run by Cloud Scheduler on "${graph.publish.schedule}" (UTC): build what the registry lacks; updates of base images come in through the lock file (caliban-images)`, source, true, run));
  }
  return files;
}

/** Whether a pull-request trigger is written: with [publish] pull_requests, an account that cannot push, and one config (a split graph's would run submit.sh). */
export function writesPullRequestTrigger(graph: BuildGraph, configs: readonly string[], options: Pick<TriggerOptions, "pull-request-service-account">): boolean {
  return graph.publish.pullRequests && options["pull-request-service-account"] !== "" && configs.length === 1;
}

/** A path as Cloud Build's includedFiles glob reads it literally: its glob characters escaped. */
function globWord(path: string): string {
  return path.replace(/[\\*?[\]{}]/g, "\\$&");
}
