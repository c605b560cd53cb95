// Matrices of a given size and shape for the benchmark (and the scale tests):
//   cross:    base images per distro, then distro × python × variant built FROM them;
//   sparse:   the same product less about a tenth of it, by explicit excludes;
//   explicit: the images as an explicit list of combinations, as rows (what import writes);
//   explicit-tables: the same list as inline tables, which Bun's TOML parser reads 3x slower;
//   chain:    three levels: cuda base → python → framework.

export type Shape = "cross" | "sparse" | "explicit" | "explicit-tables" | "chain";
export const SHAPES: readonly Shape[] = ["cross", "sparse", "explicit", "explicit-tables", "chain"];

/**
 * A matrix of about `images` images (within a few percent). Every family builds from
 * `context` (default "docker"): not the folder the matrix and the outputs are written
 * to, whose files would be digested into every image's inputs. The CLI wants the context
 * and `CONTEXT/Dockerfile` to be there: writeGeneratedContext makes them.
 */
export function generateMatrix(shape: Shape, images: number, context = "docker"): string {
  const files = `context = ${JSON.stringify(context)}\ndockerfile = ${JSON.stringify(`${context}/Dockerfile`)}\n`;
  const lines = ['repository = "registry.example.com/bench/images"', ""];
  const axis = (name: string, count: number, attribute: string) => {
    lines.push(`[axes.${name}]`);
    for (let i = 0; i < count; i++) lines.push(`${name}${i} = { ${attribute} = "${attribute.toLowerCase()}-${i}", SHARED = "same" }`);
    lines.push("");
  };
  if (shape === "chain") {
    // cuda (c) → python (c×p) → framework (c×p×f): about c·p·f images at the last level.
    const c = Math.max(1, Math.round(Math.cbrt(images / 4)));
    const p = c;
    const f = Math.max(1, Math.round(images / (c * p)) - 1);
    axis("cuda", c, "CUDA");
    axis("python", p, "PYTHON_VERSION");
    axis("framework", f, "FRAMEWORK");
    lines.push(`[images.cuda]\n${files}tag = "cuda-{cuda}"\nmatrix = ["cuda"]\n`);
    lines.push(`[images.python]\n${files}tag = "py-{cuda}-{python}"\nmatrix = ["cuda", "python"]\nfrom = "cuda"\n`);
    lines.push(`[images.framework]\n${files}tag = "fw-{cuda}-{python}-{framework}"\nmatrix = ["cuda", "python", "framework"]\nfrom = "python"\nargs = ["framework", "python", { LABEL = "{framework} on {python.PYTHON_VERSION}" }]\n`);
    return lines.join("\n");
  }
  // distro (d) × python (p) × variant (v), with d·p·v ≈ images.
  const d = Math.max(1, Math.round(Math.cbrt(images / 2)));
  const p = d;
  const v = Math.max(1, Math.round(images / (d * p)) - (images >= 100 ? 1 : 0));
  axis("distro", d, "DISTRO");
  axis("python", p, "PYTHON_VERSION");
  axis("variant", v, "VARIANT");
  lines.push(`[images.base]\n${files}tag = "base-{distro}"\nmatrix = ["distro"]\nargs = ["distro"]\n`);
  lines.push(`[images.app]\n${files}tag = "app-{distro}-{python}-{variant}"\nmatrix = ["distro", "python", "variant"]\nfrom = "base"`);
  const combination = (i: number, j: number, k: number) => `{ distro = "distro${i}", python = "python${j}", variant = "variant${k}" }`;
  if (shape === "sparse") {
    const excludes: string[] = [];
    for (let i = 0; i < d; i++) for (let j = 0; j < p; j++) for (let k = 0; k < v; k++) if ((i + j + k) % 10 === 0) excludes.push(combination(i, j, k));
    lines.push(`exclude = [\n  ${excludes.join(",\n  ")},\n]`);
  } else if (shape === "explicit" || shape === "explicit-tables") {
    const row = (i: number, j: number, k: number) => `["distro${i}", "python${j}", "variant${k}"]`;
    const all: string[] = [];
    for (let i = 0; i < d; i++) for (let j = 0; j < p; j++) for (let k = 0; k < v; k++) all.push(shape === "explicit" ? row(i, j, k) : combination(i, j, k));
    lines.push(`combinations = [\n  ${all.join(",\n  ")},\n]`);
  }
  return `${lines.join("\n")}\n`;
}

/**
 * A legacy cloudbuild_config.json (Caliban's 2020-08 form) of about `images` images, for
 * `import`: a CPU image per OS base × python, and GPU images for about half of base ×
 * python × CUDA, scattered, so that import must search for its exclude patterns.
 */
export function generateLegacyConfig(images: number): string {
  // n bases, n pythons, n CUDAs: n² CPU images and about n³/2 GPU images.
  const n = Math.max(1, Math.round(Math.cbrt(images * 2)));
  const table = (prefix: string, entry: (i: number) => Record<string, string>) => Object.fromEntries(Array.from({ length: n }, (_, i) => [`${prefix}${i}`, entry(i)]));
  const config = {
    gpu_versions: table("cuda", (i) => ({ CUDA: `${i}.0` })),
    python_versions: table("py", (i) => ({ PYTHON_VERSION: `3.${i}`, MINICONDA_VERSION: `py3${i}_4.8.2` })),
    base_images: table("ubuntu", (i) => ({ BASE_IMAGE: `ubuntu:${i}.04`, UBUNTU_VERSION: `${i}.04` })),
    images: [] as Record<string, string>[],
  };
  for (let b = 0; b < n; b++) {
    for (let p = 0; p < n; p++) {
      config.images.push({ base_image: `ubuntu${b}`, python: `py${p}` });
      for (let g = 0; g < n; g++) if ((b * 7 + p * 13 + g * 5 + ((b * p * g) % 3)) % 2 === 0) config.images.push({ base_image: `ubuntu${b}`, python: `py${p}`, gpu: `cuda${g}` });
    }
  }
  return `${JSON.stringify(config, null, 1)}\n`;
}

/**
 * A matrix of about `images` combinations, two in three of them mistakes, for how long
 * reporting them takes: a value the axis does not have (with a "did you mean"), or a
 * number where a value's name belongs (with "quote it as written").
 */
export function generateMistakes(images: number): string {
  // distro (d) × variant (v), d·v ≈ images, as an explicit list of rows.
  const d = Math.max(1, Math.round(Math.sqrt(images / 4)));
  const v = Math.max(1, Math.round(images / d));
  const lines = ['repository = "registry.example.com/bench/images"', ""];
  for (const [axis, count, attribute] of [["distro", d, "DISTRO"], ["variant", v, "VARIANT"]] as const) {
    lines.push(`[axes.${axis}]`);
    for (let i = 0; i < count; i++) lines.push(`${axis}${i} = { ${attribute} = "${attribute.toLowerCase()}-${i}" }`);
    lines.push("");
  }
  const rows: string[] = [];
  for (let i = 0; i < d; i++) {
    for (let k = 0; k < v; k++) {
      const kind = (i + k) % 3;
      rows.push(kind === 0 ? `["distro${i}", "variant${k}"]` : kind === 1 ? `["distro${i}", "varaint${k}"]` : `["distro${i}", ${k}]`);
    }
  }
  lines.push("[images.app]", 'tag = "app-{distro}-{variant}"', 'matrix = ["distro", "variant"]', 'args = ["distro", "variant"]', `combinations = [\n  ${rows.join(",\n  ")},\n]`);
  return `${lines.join("\n")}\n`;
}

/**
 * Caliban's matrix as a project of its own: the matrix and the two Dockerfiles it names,
 * in `directory`, which is its build context ("."). Not the bench's work folder, whose
 * binaries and outputs would otherwise be digested as that context's files.
 */
export function writeCalibanProject(directory: string, matrix: string): string {
  const { mkdirSync, writeFileSync } = require("node:fs") as typeof import("node:fs");
  mkdirSync(`${directory}/dockerfiles`, { recursive: true });
  writeFileSync(`${directory}/matrix.toml`, matrix);
  writeFileSync(`${directory}/dockerfiles/Dockerfile`, "ARG BASE_IMAGE=ubuntu:18.04\nFROM $BASE_IMAGE\nARG PYTHON_VERSION\nARG MINICONDA_VERSION\nRUN echo python $PYTHON_VERSION miniconda $MINICONDA_VERSION\n");
  writeFileSync(`${directory}/dockerfiles/Dockerfile.gpu`, "ARG CUDA\nFROM nvidia/cuda:${CUDA}-cudnn7-devel-ubuntu18.04\n");
  return `${directory}/matrix.toml`;
}

/** The folder and Dockerfile generateMatrix's families build from, beside the matrix in `directory`. */
export function writeGeneratedContext(directory: string, context = "docker"): void {
  const { mkdirSync, writeFileSync } = require("node:fs") as typeof import("node:fs");
  mkdirSync(`${directory}/${context}`, { recursive: true });
  writeFileSync(`${directory}/${context}/Dockerfile`, "ARG BASE_IMAGE=scratch\nFROM $BASE_IMAGE\n");
}
