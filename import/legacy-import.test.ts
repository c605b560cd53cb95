import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { builtin } from "../fixtures/test-helpers.ts";
import { emitLoaded } from "../cli/emit.ts";
import { REPO_ROOT } from "../fixtures/golden.ts";
import { cloudBuildGraph } from "../scripts/validators/cloudbuild.ts";
import { CalibanError } from "../core/errors.ts";
import { coverWithPatterns } from "./exclude-cover.ts";
import { importLegacyConfig } from "./legacy-import.ts";
import { pythonFloatRepr } from "./python-scalars.ts";
import { generateLegacyConfig } from "../scripts/bench/generate.ts";
import { loadMatrix, planLoaded } from "../core/load.ts";
import { emittedText } from "../emitters/contract.ts";
import { sharedFolder } from "../fixtures/shared-data.ts";

// Caliban's own configs and the files its generator wrote, read where CI has them.
// Caliban's own files, kept beside the clone (fixtures/shared-data.ts): the parity tests read them there.
const REFS = sharedFolder("refs/caliban", "the parity tests with Caliban's own files") ?? "";
const cloudbuild = builtin("cloudbuild");
/** Caliban's form: a build and a push step per image, no content tags (docs/incremental-builds.md). */
const PLAIN = ["content-tags=false"];

async function importThenEmit(configText: string, repository?: string) {
  const { toml, warnings } = importLegacyConfig(configText, "cloudbuild_config.json", repository);
  const loaded = await loadMatrix(toml, "imported.toml");
  const [file] = emitLoaded(cloudbuild, loaded, planLoaded(loaded), PLAIN);
  return { config: JSON.parse(emittedText(file!)), toml, warnings };
}

describe("parity with Caliban's committed cloudbuild.json", () => {
  const cases = [
    { era: "2020-06", repository: "gcr.io/blueshift-playground/cloudbuild_test" },
    { era: "2020-08", repository: undefined },
  ];
  for (const { era, repository } of cases) {
    test.skipIf(!REFS)(`(needs ../shared/refs/caliban) ${era}: import, then emit cloudbuild, gives the same graph`, async () => {
      const legacy = readFileSync(join(REFS, era, "cloudbuild_config.json"), "utf8");
      const expected = JSON.parse(readFileSync(join(REFS, era, "cloudbuild.json"), "utf8"));
      const { config } = await importThenEmit(legacy, repository);
      expect(cloudBuildGraph(config)).toEqual(cloudBuildGraph(expected));
    });
  }

  test.skipIf(!REFS)("(needs ../shared/refs/caliban) 2020-08: the hand-written fixture matrix gives the same graph too", async () => {
    const path = "fixtures/caliban-2020-08/matrix.toml";
    const loaded = await loadMatrix(readFileSync(join(REPO_ROOT, path), "utf8"), path);
    const [file] = emitLoaded(cloudbuild, loaded, planLoaded(loaded), PLAIN);
    const expected = JSON.parse(readFileSync(join(REFS, "2020-08", "cloudbuild.json"), "utf8"));
    expect(cloudBuildGraph(JSON.parse(emittedText(file!)))).toEqual(cloudBuildGraph(expected));
  });

  test.skipIf(!REFS)("(needs ../shared/refs/caliban) 2020-06: the embedded default matrix with --base-url is the committed file, byte for byte", async () => {
    const loaded = await loadMatrix(readFileSync(join(REPO_ROOT, "matrix.toml"), "utf8"), "matrix.toml");
    // As Caliban's generator wrote it: tags only, and no step timeouts but the build's.
    const [file] = emitLoaded(cloudbuild, loaded, planLoaded(loaded, { repository: "gcr.io/blueshift-playground/cloudbuild_test" }), [...PLAIN, "step-timeout="]);
    const expected = readFileSync(join(REFS, "2020-06", "cloudbuild.json"), "utf8");
    expect(emittedText(file!).trimEnd()).toBe(expected.trimEnd());
  });
});

describe("the old generators' semantics", () => {
  test("2020-06: a GPU base for every gpu_versions entry, used or not; BASE_IMAGE first", async () => {
    const { config } = await importThenEmit(
      JSON.stringify({
        gpu_versions: { cuda100: ["CUDA=10.0"], cuda110: ["CUDA=11.0"] },
        python_versions: { py38: ["PYTHON_VERSION=3.8"] },
        images: [{ python: "py38", gpu: "cuda100" }],
      }),
    );
    const ids = config.steps.map((s: { id: string }) => s.id);
    expect(ids).toContain("gcr.io/blueshift-playground/blueshift:gpu-base-cuda110");
    const gpu = config.steps.find((s: { id: string }) => s.id.endsWith(":gpu-cuda100-py38"));
    expect(gpu.args.slice(5, 9)).toEqual(["--build-arg", "BASE_IMAGE=gcr.io/blueshift-playground/blueshift:gpu-base-cuda100", "--build-arg", "PYTHON_VERSION=3.8"]);
    expect(gpu.waitFor).toEqual(["gcr.io/blueshift-playground/blueshift:gpu-base-cuda100"]);
  });

  test("2020-08: only used GPU bases; a python map's BASE_IMAGE is overridden in place", async () => {
    const { config, warnings } = await importThenEmit(
      JSON.stringify({
        gpu_versions: { cuda101: { CUDA: "10.1", UBUNTU_VERSION: "ignored" }, cuda110: { CUDA: "11.0" } },
        python_versions: { py38: { BASE_IMAGE: "overridden", PYTHON_VERSION: 3.8, CONDA: 4 } },
        base_images: { u18: { BASE_IMAGE: "ubuntu:18.04", UBUNTU_VERSION: "18.04" }, u20: { BASE_IMAGE: "ubuntu:20.04" } },
        images: [{ base_image: "u18", python: "py38" }, { base_image: "u18", python: "py38", gpu: "cuda101" }, { base_image: "u20", python: "py38" }],
      }),
    );
    const step = (tag: string) => config.steps.find((s: { id: string }) => s.id === `gcr.io/blueshift-playground/blueshift:${tag}`);
    expect(step("gpu-base-u18-cuda110")).toBeUndefined();
    expect(warnings.join("\n")).toContain("cuda110");
    expect(step("gpu-base-u18-cuda101").args).toContain("UBUNTU_VERSION=18.04");
    // Python's str(3.8) and str(4); the map's own BASE_IMAGE keeps its place and takes the base's value.
    expect(step("cpu-u20-py38").args.slice(5, 11)).toEqual(["--build-arg", "BASE_IMAGE=ubuntu:20.04", "--build-arg", "PYTHON_VERSION=3.8", "--build-arg", "CONDA=4"]);
    expect(step("gpu-u18-py38-cuda101").args).toContain("BASE_IMAGE=gcr.io/blueshift-playground/blueshift:gpu-base-u18-cuda101");
  });

  test("JSON numbers are written as Python's str() writes them", () => {
    // Raw JSON text: a JS literal would already have lost 10.0's ".0" and G's digits.
    const json = '{"base_images": {"u": {"BASE_IMAGE": "b"}}, "python_versions": {"p": {"A": 10.0, "B": 1e16, "C": 0.0001, "D": 1e-5, "E": true, "F": null, "G": 12345678901234567890}}, "images": [{"base_image": "u", "python": "p"}]}';
    const { toml } = importLegacyConfig(json, "c.json");
    expect(toml).toContain('A = "10.0", B = "1e+16", C = "0.0001", D = "1e-05", E = "True", F = "None", G = "12345678901234567890"');
    expect([1.5, 123456789012345680000, 0.1, -2.5e-7].map(pythonFloatRepr)).toEqual(["1.5", "1.2345678901234568e+20", "0.1", "-2.5e-07"]);
  });

  test("configs the old generators refuse are refused, each problem named", () => {
    const refused = (config: unknown) => {
      try {
        importLegacyConfig(JSON.stringify(config), "c.json");
      } catch (error) {
        return (error as CalibanError).diagnostics.map((d) => d.message);
      }
      throw new Error("accepted");
    };
    expect(refused({ python_versions: {}, images: [] })).toEqual(['"gpu_versions" is missing']);
    expect(refused({ gpu_versions: {}, python_versions: { py37: ["X=1"] }, images: [{ python: "py39" }, { gpu: "cuda100", python: "py37" }] })).toEqual([
      '"py39" is not in python_versions',
      '"cuda100" is not in gpu_versions',
    ]);
    expect(refused({ base_images: { u: { BASE_IMAGE: "x" } }, python_versions: { p: {} }, gpu_versions: { g: {} }, images: [{ base_image: "u", python: "p", gpu: "g" }] })).toEqual([
      '"u" has no UBUNTU_VERSION, which its GPU base images need',
      'the GPU image u/p/g has no CPU image with base_image "u" and python "p"; the legacy generator requires one',
    ]);
    expect(refused({ gpu_versions: {}, python_versions: { p: ["NOEQUALS"] }, images: [] })).toEqual(['expected "NAME=value", found "NOEQUALS"']);
  });

  test("a duplicated image is built once, with a warning", async () => {
    const { config, warnings } = await importThenEmit(JSON.stringify({ gpu_versions: {}, python_versions: { p: ["A=1"] }, images: [{ python: "p" }, { python: "p" }] }));
    expect(config.steps).toHaveLength(2);
    expect(warnings).toEqual(["cpu image p is listed twice; it is built once"]);
  });

  test("import writes the shortest form: a product, a product with excludes, or a list", () => {
    const gpus = { a: ["G=a"], b: ["G=b"], c: ["G=c"] };
    const pythons = { x: ["P=x"], y: ["P=y"] };
    const all = Object.keys(gpus).flatMap((gpu) => Object.keys(pythons).map((python) => ({ python, gpu })));
    const cpu = [{ python: "x" }, { python: "y" }];
    const full = importLegacyConfig(JSON.stringify({ gpu_versions: gpus, python_versions: pythons, images: [...cpu, ...all] }), "c.json").toml;
    expect(full).not.toContain("exclude");
    expect(full).not.toContain("combinations");
    const minusOne = importLegacyConfig(JSON.stringify({ gpu_versions: gpus, python_versions: pythons, images: [...cpu, ...all.slice(1)] }), "c.json").toml;
    expect(minusOne).toContain('exclude = [\n  { python = "x", gpu = "a" },\n]');
    const two = importLegacyConfig(JSON.stringify({ gpu_versions: gpus, python_versions: pythons, images: [...cpu, all[0], all[5]] }), "c.json").toml;
    // Only a list fits: written as rows, one value per axis in `matrix` order, the columns named.
    expect(two).toContain('matrix = ["python", "gpu"]');
    expect(two).toContain('combinations = [ # python, gpu\n  ["x", "a"],\n  ["y", "c"],\n]');
    // A whole value missing is one partial exclude, not a list of combinations.
    const noC = importLegacyConfig(JSON.stringify({ gpu_versions: gpus, python_versions: pythons, images: [...cpu, ...all.filter((i) => i.gpu !== "c")] }), "c.json").toml;
    expect(noC).toContain('exclude = [\n  { gpu = "c" },\n]');
  });

  test.skipIf(!REFS)("(needs ../shared/refs/caliban) 2020-08: GPU images only on one OS base are the product less one partial exclude", () => {
    const { toml } = importLegacyConfig(readFileSync(join(REFS, "2020-08", "cloudbuild_config.json"), "utf8"), "cloudbuild_config.json");
    expect(toml).toContain('tag = "gpu-base-{base_image}-{gpu}"\nmatrix = ["base_image", "gpu"]\nargs = ["gpu", "base_image.UBUNTU_VERSION"]\nexclude = [\n  { base_image = "ubuntu2004" },\n]');
    expect(toml).toContain('from = "gpu-base"\nargs = ["python"]\nexclude = [\n  { base_image = "ubuntu2004" },\n]');
    expect(toml).not.toContain("combinations");
  });
});

// An independent statement of the old generators' rules (fixtures/caliban-legacy/README.md),
// as the oracle for random configs: reference → effective build args (docker: the last
// of a name wins) and the reference it waits for.
type Oracle = Map<string, { args: Record<string, string>; base: string | null }>;
const URL = "gcr.io/blueshift-playground/blueshift";
const lastWins = (pairs: string[]) => Object.fromEntries(pairs.map((p) => [p.slice(0, p.indexOf("=")), p.slice(p.indexOf("=") + 1)]));

function oracle06(config: { gpu_versions: Record<string, string[]>; python_versions: Record<string, string[]>; images: { python: string; gpu?: string }[] }): Oracle {
  const out: Oracle = new Map();
  for (const [gpu, args] of Object.entries(config.gpu_versions)) out.set(`${URL}:gpu-base-${gpu}`, { args: lastWins(args), base: null });
  for (const image of config.images) {
    const python = config.python_versions[image.python]!;
    if (image.gpu === undefined) out.set(`${URL}:cpu-${image.python}`, { args: lastWins(["BASE_IMAGE=ubuntu:18.04", ...python]), base: null });
    else {
      const base = `${URL}:gpu-base-${image.gpu}`;
      out.set(`${URL}:gpu-${image.gpu}-${image.python}`, { args: lastWins([`BASE_IMAGE=${base}`, ...python]), base });
    }
  }
  return out;
}

function oracle08(config: { gpu_versions: Record<string, Record<string, string>>; python_versions: Record<string, Record<string, string>>; base_images: Record<string, Record<string, string>>; images: { base_image: string; python: string; gpu?: string }[] }): Oracle {
  const out: Oracle = new Map();
  for (const image of config.images) {
    const cpuArgs = { ...config.python_versions[image.python], BASE_IMAGE: config.base_images[image.base_image]!.BASE_IMAGE! };
    if (image.gpu === undefined) {
      out.set(`${URL}:cpu-${image.base_image}-${image.python}`, { args: cpuArgs, base: null });
      continue;
    }
    const base = `${URL}:gpu-base-${image.base_image}-${image.gpu}`;
    out.set(base, { args: { ...config.gpu_versions[image.gpu], UBUNTU_VERSION: config.base_images[image.base_image]!.UBUNTU_VERSION! }, base: null });
    out.set(`${URL}:gpu-${image.base_image}-${image.python}-${image.gpu}`, { args: { ...cpuArgs, BASE_IMAGE: base }, base });
  }
  return out;
}

/** The imported config's images; a config with none is refused (Cloud Build refuses a build with no steps). */
async function imported(config: unknown): Promise<Oracle> {
  let toml: string;
  try {
    toml = importLegacyConfig(JSON.stringify(config), "c.json").toml;
  } catch (error) {
    expect((error as CalibanError).diagnostics[0]!.message).toStartWith("the config builds no images");
    return new Map();
  }
  const graph = planLoaded(await loadMatrix(toml, "imported.toml"));
  const byId = new Map(graph.images.map((i) => [i.id, i]));
  return new Map(graph.images.map((i) => [i.reference, { args: Object.fromEntries(i.args.map((a) => [a.name, a.value])), base: i.from === null ? null : byId.get(i.from)!.reference }]));
}

const names = (prefix: string) => fc.uniqueArray(fc.integer({ min: 0, max: 9 }), { minLength: 1, maxLength: 3 }).map((ns) => ns.map((n) => `${prefix}${n}`));
const argValue = fc.stringMatching(/^[a-z0-9.:_-]{0,6}$/);
const argNames = fc.constantFrom("CUDA", "PYTHON_VERSION", "X", "BASE_IMAGE", "UBUNTU_VERSION");
const sorted = (o: Oracle) => [...o].sort(([a], [b]) => (a < b ? -1 : 1));

test("any 2020-06 config the old generator accepts imports to the images it built", async () => {
  const config06 = fc.tuple(names("py"), names("cuda")).chain(([pythons, gpus]) =>
    fc.record({
      python_versions: fc.record(Object.fromEntries(pythons.map((p) => [p, fc.array(fc.tuple(argNames, argValue).map(([k, v]) => `${k}=${v}`), { maxLength: 3 })]))),
      gpu_versions: fc.record(Object.fromEntries(gpus.map((g) => [g, fc.array(fc.tuple(argNames, argValue).map(([k, v]) => `${k}=${v}`), { maxLength: 2 })]))),
      images: fc.array(fc.record({ python: fc.constantFrom(...pythons), gpu: fc.option(fc.constantFrom(...gpus), { nil: undefined }) }, { requiredKeys: ["python"] }), { maxLength: 8 }),
    }),
  );
  await fc.assert(fc.asyncProperty(config06, async (config) => expect(sorted(await imported(config))).toEqual(sorted(oracle06(config as never)))), { numRuns: 200 });
});

test("any 2020-08 config the old generator accepts imports to the images it built", async () => {
  const config08 = fc.tuple(names("py"), names("cuda"), names("u")).chain(([pythons, gpus, bases]) =>
    fc
      .record({
        python_versions: fc.record(Object.fromEntries(pythons.map((p) => [p, fc.dictionary(argNames, argValue, { maxKeys: 3 })]))),
        gpu_versions: fc.record(Object.fromEntries(gpus.map((g) => [g, fc.dictionary(argNames, argValue, { maxKeys: 2 })]))),
        base_images: fc.record(Object.fromEntries(bases.map((b) => [b, fc.record({ BASE_IMAGE: argValue, UBUNTU_VERSION: argValue })]))),
        images: fc.array(fc.record({ base_image: fc.constantFrom(...bases), python: fc.constantFrom(...pythons), gpu: fc.option(fc.constantFrom(...gpus), { nil: undefined }) }, { requiredKeys: ["base_image", "python"] }), { maxLength: 10 }),
      })
      // The old generator requires a GPU image's CPU twin: add the twins, as a config it accepts would have them.
      .map((config) => ({ ...config, images: [...config.images, ...config.images.filter((i) => i.gpu !== undefined).map((i) => ({ base_image: i.base_image, python: i.python }))] })),
  );
  await fc.assert(fc.asyncProperty(config08, async (config) => expect(sorted(await imported(config))).toEqual(sorted(oracle08(config as never)))), { numRuns: 200 });
});

test("a legacy config of a thousand scattered images imports to the images it built, as exclude patterns", async () => {
  const config = JSON.parse(generateLegacyConfig(1000));
  expect(config.images.length).toBeGreaterThan(1000);
  expect(sorted(await imported(config))).toEqual(sorted(oracle08(config)));
  expect(importLegacyConfig(JSON.stringify(config), "c.json").toml).toContain("exclude = [");
});

// The cover as first written: each pick rescans every candidate against every excluded
// combination (cubic: 30 s for a 1,000-image config). Kept here as the statement of which
// patterns the greedy cover picks, for the heap-driven one to match.
function plainGreedyCover(axes: readonly string[], domains: Record<string, string[]>, excluded: readonly Record<string, string>[]): Record<string, string>[] {
  const keyOf = (combination: Record<string, string>, subset: readonly string[]) => subset.map((axis) => `${axis}=${combination[axis]}`).join("\u0000");
  const subsets: string[][] = [];
  for (let mask = 1; mask < 1 << axes.length; mask++) subsets.push(axes.filter((_, i) => mask & (1 << i)));
  subsets.sort((a, b) => a.length - b.length);
  const matches = (pattern: Record<string, string>, combination: Record<string, string>) => Object.entries(pattern).every(([axis, value]) => combination[axis] === value);
  const product = axes.reduce<Record<string, string>[]>((partials, axis) => partials.flatMap((partial) => domains[axis]!.map((value) => ({ ...partial, [axis]: value }))), [{}]);
  const isExcluded = new Set(excluded.map((c) => keyOf(c, axes)));
  const candidates: { subset: string[]; pattern: Record<string, string> }[] = [];
  const seen = new Set<string>();
  for (const subset of subsets) {
    for (const combination of excluded) {
      const pattern = Object.fromEntries(subset.map((axis) => [axis, combination[axis]!]));
      const key = keyOf(combination, subset);
      if (seen.has(key)) continue;
      seen.add(key);
      // Valid: everything in the product it matches is excluded.
      if (product.every((c) => !matches(pattern, c) || isExcluded.has(keyOf(c, axes)))) candidates.push({ subset, pattern });
    }
  }
  const remaining = new Set(isExcluded);
  const chosen: Record<string, string>[] = [];
  while (remaining.size > 0) {
    let best: (typeof candidates)[number] | undefined;
    let bestGain = 0;
    for (const candidate of candidates) {
      const gain = excluded.filter((c) => remaining.has(keyOf(c, axes)) && matches(candidate.pattern, c)).length;
      if (gain > bestGain || (gain === bestGain && gain > 0 && candidate.subset.length < best!.subset.length)) [best, bestGain] = [candidate, gain];
    }
    chosen.push(best!.pattern);
    for (const c of excluded) if (matches(best!.pattern, c)) remaining.delete(keyOf(c, axes));
  }
  return chosen;
}

test("exclude patterns: the greedy cover's own choice, and exactly the excluded combinations removed", () => {
  const products = fc
    .tuple(fc.integer({ min: 1, max: 3 }), fc.array(fc.integer({ min: 1, max: 4 }), { minLength: 3, maxLength: 3 }), fc.array(fc.boolean(), { minLength: 64, maxLength: 64 }))
    .map(([axisCount, sizes, kept]) => {
      const axes = ["a", "b", "c"].slice(0, axisCount);
      const domains = Object.fromEntries(axes.map((axis, i) => [axis, Array.from({ length: sizes[i]! }, (_, v) => `${axis}${v}`)]));
      const product = axes.reduce<Record<string, string>[]>((partials, axis) => partials.flatMap((partial) => domains[axis]!.map((value) => ({ ...partial, [axis]: value }))), [{}]);
      return { axes, domains, product, excluded: product.filter((_, i) => !kept[i]) };
    })
    .filter(({ excluded }) => excluded.length > 0);
  fc.assert(
    fc.property(products, ({ axes, domains, product, excluded }) => {
      const patterns = coverWithPatterns(axes, domains, excluded);
      expect(patterns).toEqual(plainGreedyCover(axes, domains, excluded));
      const removed = product.filter((c) => patterns.some((pattern) => Object.entries(pattern).every(([axis, value]) => c[axis] === value)));
      expect(removed).toEqual(excluded);
    }),
    { numRuns: 1000 },
  );
});
