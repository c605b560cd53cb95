// Caliban's legacy `cloudbuild_config.json` → an equivalent matrix.toml. It
// reproduces the semantics of the two historic generators (see
// fixtures/caliban-legacy/README.md): what images they build, with which args, FROM
// what, and which configs they refuse; not the order of their output.

import { CalibanError, type Diagnostic, type KeyPath } from "../core/errors.ts";
import { commentText } from "../core/printable.ts";
import { coverWithPatterns } from "./exclude-cover.ts";
import { writeMatrix, type ArgDraft, type FamilyDraft, type MatrixDraft } from "./matrix-write.ts";
import { isJsonNumber, pythonString, type JsonNumber } from "./python-scalars.ts";
import { ARG_NAME_PATTERN, CONTROL_CHARACTER, describeControlCharacter, VALUE_PATTERN } from "../core/names.ts";

export const LEGACY_DEFAULT_REPOSITORY = "gcr.io/blueshift-playground/blueshift";
const CPU_DOCKERFILE = "dockerfiles/Dockerfile";
const GPU_DOCKERFILE = "dockerfiles/Dockerfile.gpu";
/** The base of every CPU image in the 2020-06 form. */
const CPU_BASE_IMAGE = "ubuntu:18.04";

export type LegacyForm = "2020-06" | "2020-08";

export interface ImportResult {
  readonly toml: string;
  readonly form: LegacyForm;
  /** Things the user should know (dropped duplicates, unused entries). */
  readonly warnings: readonly string[];
}

type Entries = [string, string][];

export function importLegacyConfig(text: string, file: string, repository = LEGACY_DEFAULT_REPOSITORY): ImportResult {
  let config: unknown;
  try {
    config = JSON.parse(text, (_key, value, context?: { source?: string }) =>
      typeof value === "number" ? ({ number: value, source: context?.source ?? String(value) } satisfies JsonNumber) : value,
    );
  } catch (error) {
    throw new CalibanError({ code: "JSON_SYNTAX", file, message: `invalid JSON: ${(error as Error).message}` });
  }
  const importer = new LegacyImporter(file);
  const result = importer.run(config, repository);
  if (importer.diagnostics.length > 0) throw new CalibanError(importer.diagnostics);
  return result;
}

class LegacyImporter {
  readonly diagnostics: Diagnostic[] = [];
  private readonly warnings: string[] = [];

  constructor(private readonly file: string) {}

  private report(keyPath: KeyPath, message: string, hint?: string): void {
    this.diagnostics.push({ code: "LEGACY_CONFIG", file: this.file, keyPath, message, ...(hint ? { hint } : {}) });
  }

  run(config: unknown, repository: string): ImportResult {
    if (!isObject(config)) {
      this.report([], "a legacy config is a JSON object with gpu_versions, python_versions and images");
      return { toml: "", form: "2020-06", warnings: [] };
    }
    if ("cpu_versions" in config && !("python_versions" in config)) {
      this.report(["cpu_versions"], "this is the pre-2020-06 form, which `import` does not read", 'rename "cpu_versions" to "python_versions" and each image\'s "cpu" to "python"');
      return { toml: "", form: "2020-06", warnings: [] };
    }
    const images = this.imageList(config.images);
    const form: LegacyForm = "base_images" in config || images.some((image) => "base_image" in image) ? "2020-08" : "2020-06";
    const draft = form === "2020-06" ? this.june(config, images, repository) : this.august(config, images, repository);
    if (this.diagnostics.length === 0 && draft.images.length === 0) {
      this.report(["images"], "the config builds no images: the old generator would write a build with no steps, which Cloud Build refuses", "list at least one image");
    }
    return { toml: this.diagnostics.length ? "" : writeMatrix(draft), form, warnings: this.warnings };
  }

  private imageList(value: unknown): Record<string, unknown>[] {
    if (value === undefined) return [];
    if (!Array.isArray(value)) {
      this.report(["images"], "`images` must be a list of objects");
      return [];
    }
    return value.filter((image, index) => {
      if (isObject(image)) return true;
      this.report(["images", index], "each image is an object such as {\"python\": \"py37\", \"gpu\": \"cuda100\"}");
      return false;
    });
  }

  /** The first generator: args as "K=V" lists; a GPU base for every gpu_versions entry. */
  private june(config: Record<string, unknown>, images: Record<string, unknown>[], repository: string): MatrixDraft {
    // The old generator indexes both keys directly, so both must be present.
    for (const key of ["python_versions", "gpu_versions"]) if (!(key in config)) this.report([key], `"${key}" is missing`);
    const pythons = this.versionTable(config.python_versions, "python_versions", (v, p) => this.argList(v, p));
    const gpus = this.versionTable(config.gpu_versions, "gpu_versions", (v, p) => this.argList(v, p));

    const cpuImages: Record<string, string>[] = [];
    const gpuImages: Record<string, string>[] = [];
    images.forEach((image, index) => {
      const python = this.reference(image.python, pythons, ["images", index, "python"], "python_versions");
      const gpu = image.gpu == null ? undefined : this.reference(image.gpu, gpus, ["images", index, "gpu"], "gpu_versions");
      if (python === undefined || (image.gpu != null && gpu === undefined)) return;
      if (gpu === undefined) cpuImages.push({ python });
      else gpuImages.push({ python, gpu });
    });

    const usedPythons = new Set([...cpuImages, ...gpuImages].map((image) => image.python!));
    const families: [string, FamilyDraft][] = [];
    if (gpus.size > 0) {
      families.push(["gpu-base", { dockerfile: GPU_DOCKERFILE, tag: "gpu-base-{gpu}", matrix: ["gpu"], args: ["gpu"] }]);
    }
    const cpuArgs: ArgDraft[] = [[["BASE_IMAGE", CPU_BASE_IMAGE]], "python"];
    this.addFamily(families, "cpu", { dockerfile: CPU_DOCKERFILE, tag: "cpu-{python}", args: cpuArgs }, ["python"], cpuImages, { python: [...usedPythons] });
    const gpuArgs: ArgDraft[] = [[["BASE_IMAGE", "{from}"]], "python"];
    this.addFamily(families, "gpu", { dockerfile: CPU_DOCKERFILE, tag: "gpu-{gpu}-{python}", from: "gpu-base", args: gpuArgs }, ["python", "gpu"], gpuImages, {
      python: [...usedPythons],
      gpu: [...gpus.keys()],
    });

    return this.draft("2020-06", repository, [
      ["python", this.usedValues(pythons, usedPythons, "python_versions")],
      ["gpu", [...gpus]],
    ], families);
  }

  /** The current generator: args as maps, OS bases, GPU bases only where used. */
  private august(config: Record<string, unknown>, images: Record<string, unknown>[], repository: string): MatrixDraft {
    const pythons = this.versionTable(config.python_versions ?? {}, "python_versions", (v, p) => this.argMap(v, p));
    const gpus = this.versionTable(config.gpu_versions ?? {}, "gpu_versions", (v, p) => this.argMap(v, p));
    const bases = this.versionTable(config.base_images ?? {}, "base_images", (v, p) => this.argMap(v, p));

    const cpuImages: Record<string, string>[] = [];
    const gpuImages: Record<string, string>[] = [];
    const gpuBases: Record<string, string>[] = [];
    images.forEach((image, index) => {
      const path = ["images", index];
      const base = this.reference(image.base_image, bases, [...path, "base_image"], "base_images");
      const python = this.reference(image.python, pythons, [...path, "python"], "python_versions");
      const gpu = image.gpu == null ? undefined : this.reference(image.gpu, gpus, [...path, "gpu"], "gpu_versions");
      if (base === undefined || python === undefined || (image.gpu != null && gpu === undefined)) return;
      const attributes = new Map(bases.get(base));
      if (gpu === undefined) {
        if (!attributes.has("BASE_IMAGE")) this.report(["base_images", base], `"${base}" has no BASE_IMAGE, which its CPU images need`);
        cpuImages.push({ base_image: base, python });
      } else {
        if (!attributes.has("UBUNTU_VERSION")) this.report(["base_images", base], `"${base}" has no UBUNTU_VERSION, which its GPU base images need`);
        gpuImages.push({ base_image: base, python, gpu });
        gpuBases.push({ base_image: base, gpu });
      }
    });
    // A GPU image starts from its CPU twin's args, so the old generator refused a GPU image without one.
    const cpuKeys = new Set(cpuImages.map((image) => `${image.base_image}\u0000${image.python}`));
    gpuImages.forEach((image) => {
      if (!cpuKeys.has(`${image.base_image}\u0000${image.python}`)) {
        const index = images.findIndex((i) => i.base_image === image.base_image && i.python === image.python && i.gpu === image.gpu);
        this.report(
          ["images", index],
          `the GPU image ${image.base_image}/${image.python}/${image.gpu} has no CPU image with base_image "${image.base_image}" and python "${image.python}"; the legacy generator requires one`,
          `add {"base_image": "${image.base_image}", "python": "${image.python}"} to images`,
        );
      }
    });

    const all = [...cpuImages, ...gpuImages];
    const usedBases = new Set(all.map((image) => image.base_image!));
    const usedPythons = new Set(all.map((image) => image.python!));
    const usedGpus = new Set(gpuImages.map((image) => image.gpu!));
    const domains = { base_image: [...usedBases], python: [...usedPythons], gpu: [...usedGpus] };
    const families: [string, FamilyDraft][] = [];
    this.addFamily(families, "gpu-base", { dockerfile: GPU_DOCKERFILE, tag: "gpu-base-{base_image}-{gpu}", args: ["gpu", "base_image.UBUNTU_VERSION"] }, ["base_image", "gpu"], gpuBases, domains);
    this.addFamily(families, "cpu", { dockerfile: CPU_DOCKERFILE, tag: "cpu-{base_image}-{python}", args: ["python", "base_image.BASE_IMAGE"] }, ["base_image", "python"], cpuImages, domains);
    this.addFamily(families, "gpu", { dockerfile: CPU_DOCKERFILE, tag: "gpu-{base_image}-{python}-{gpu}", from: "gpu-base", args: ["python"] }, ["base_image", "python", "gpu"], gpuImages, domains);

    return this.draft("2020-08", repository, [
      ["base_image", this.usedValues(bases, usedBases, "base_images")],
      ["python", this.usedValues(pythons, usedPythons, "python_versions")],
      ["gpu", this.usedValues(gpus, usedGpus, "gpu_versions")],
    ], families);
  }

  /**
   * Adds a family for a list of images: the cross product of its axes where the list
   * is one (in either axis order), a product with excludes where that is shorter,
   * explicit combinations otherwise. Duplicates are dropped with a warning.
   */
  private addFamily(
    families: [string, FamilyDraft][],
    name: string,
    family: Omit<FamilyDraft, "matrix">,
    axes: string[],
    images: Record<string, string>[],
    domains: Record<string, string[]>,
  ): void {
    const unique = new Map<string, Record<string, string>>();
    for (const image of images) {
      const key = axes.map((axis) => image[axis]).join("\u0000");
      if (unique.has(key) && name !== "gpu-base") this.warnings.push(`${name} image ${axes.map((a) => image[a]).join("/")} is listed twice; it is built once`);
      if (!unique.has(key)) unique.set(key, Object.fromEntries(axes.map((axis) => [axis, image[axis]!])));
    }
    if (unique.size === 0) return;
    const product = crossProduct(axes, domains);
    const excluded = product.filter((c) => !unique.has(axes.map((axis) => c[axis]).join("\u0000")));
    const patterns = excluded.length === 0 ? [] : coverWithPatterns(axes, domains, excluded);
    const entry: FamilyDraft =
      excluded.length === 0
        ? { ...family, matrix: axes }
        : patterns.length < unique.size
          ? { ...family, matrix: axes, exclude: patterns }
          : { ...family, matrix: axes, combinations: [...unique.values()] };
    families.push([name, entry]);
  }

  private draft(form: LegacyForm, repository: string, axes: [string, [string, Entries][]][], families: [string, FamilyDraft][]): MatrixDraft {
    return {
      header: [`Imported from ${commentText(this.file)} (Caliban's ${form} cloudbuild_config.json form) by \`caliban-images import\`.`],
      repository,
      axes: axes.filter(([, values]) => values.length > 0),
      images: families,
      emit: { cloudbuild: { timeout: "86400s" } },
    };
  }

  private usedValues(table: Map<string, Entries>, used: Set<string>, key: string): [string, Entries][] {
    const unused = [...table.keys()].filter((name) => !used.has(name));
    if (unused.length > 0) this.warnings.push(`${key}: ${unused.join(", ")} not used by any image; left out`);
    return [...table].filter(([name]) => used.has(name));
  }

  private versionTable(value: unknown, key: string, read: (value: unknown, path: KeyPath) => Entries | undefined): Map<string, Entries> {
    const table = new Map<string, Entries>();
    if (value === undefined) return table;
    if (!isObject(value)) {
      this.report([key], `"${key}" must be an object`);
      return table;
    }
    for (const [name, entry] of Object.entries(value)) {
      if (!VALUE_PATTERN.test(name)) {
        this.report([key, name], `"${name}" cannot be part of a Docker tag`, "use letters, digits, '.', '-' and '_'");
        continue;
      }
      const entries = read(entry, [key, name]);
      if (entries) table.set(name, entries);
    }
    return table;
  }

  /** 2020-06: ["K=V", ...], passed to docker as is; a repeated K means the last one wins. */
  private argList(value: unknown, path: KeyPath): Entries | undefined {
    if (!Array.isArray(value)) {
      this.report(path, 'expected a list of "NAME=value" strings');
      return undefined;
    }
    const args = new Map<string, string>();
    value.forEach((item, index) => {
      const equals = typeof item === "string" ? item.indexOf("=") : -1;
      if (typeof item !== "string" || equals <= 0) {
        this.report([...path, index], `expected "NAME=value", found ${JSON.stringify(typeof item === "object" && item && "source" in item ? (item as JsonNumber).source : item)}`);
        return;
      }
      this.setArg(args, item.slice(0, equals), item.slice(equals + 1), [...path, index]);
    });
    return [...args];
  }

  /** 2020-08: {"K": value}, each written as Python's f"{k}={v}" would write it. */
  private argMap(value: unknown, path: KeyPath): Entries | undefined {
    if (!isObject(value)) {
      this.report(path, 'expected an object of build args, such as {"CUDA": "10.0"}');
      return undefined;
    }
    const args = new Map<string, string>();
    for (const [name, item] of Object.entries(value)) {
      const text = pythonString(item);
      if (text === undefined) this.report([...path, name], "a build-arg value must be a string, number, boolean or null");
      else this.setArg(args, name, text, [...path, name]);
    }
    return [...args];
  }

  private setArg(args: Map<string, string>, name: string, value: string, path: KeyPath): void {
    if (!ARG_NAME_PATTERN.test(name)) this.report(path, `"${name}" is not a valid build-arg name`);
    else if (CONTROL_CHARACTER.test(value)) this.report(path, `the value contains ${describeControlCharacter(value)}, which no build tool can carry`);
    else args.set(name, value);
  }

  private reference(value: unknown, table: Map<string, Entries>, path: KeyPath, tableKey: string): string | undefined {
    if (typeof value !== "string") {
      this.report(path, value === undefined ? `"${path.at(-1)}" is missing` : "expected a string");
      return undefined;
    }
    if (!table.has(value)) {
      this.report(path, `"${value}" is not in ${tableKey}`);
      return undefined;
    }
    return value;
  }
}

function crossProduct(axes: readonly string[], domains: Record<string, string[]>): Record<string, string>[] {
  let product: Record<string, string>[] = [{}];
  for (const axis of axes) product = product.flatMap((partial) => (domains[axis] ?? []).map((value) => ({ ...partial, [axis]: value })));
  return product;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value) && !isJsonNumber(value);
}
