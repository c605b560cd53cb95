// Build secrets (issue 32): `secrets` of [images.NAME] read and checked at their line,
// carried by the graph as ids and sources (never a value: nothing reads one), and no
// input of the digest.

import { describe, expect, test } from "bun:test";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { formatDiagnostic, CalibanError } from "../errors.ts";
import { loadMatrix, planLoaded } from "../load.ts";
import { planText, problemsOf } from "../../fixtures/test-helpers.ts";
import { graphShape } from "../changes/graph-shape.ts";
import { WorkingTree } from "../../cli/working-tree.ts";
import { scratchFolder } from "../../scripts/validators/scratch.ts";

const BASE = `repository = "r.io/p/img"
[axes.python]
py311 = { PYTHON_VERSION = "3.11" }
py312 = { PYTHON_VERSION = "3.12" }
[images.torch]
tag = "torch-{python}"
matrix = ["python"]
`;

describe("mistakes are reported at their line", () => {
  const errors = async (secrets: string) => (await problemsOf(`${BASE}${secrets}\n`)).map((d) => formatDiagnostic(d).split("\n")[0]!);

  test("a secret needs exactly one of env or file, an env a variable's name, a file a plain path", async () => {
    expect(
      await errors(`secrets = { "bad id!" = { env = "X" }, none = {}, both = { env = "A", file = "f" }, lower = { env = "1ABC" }, comma = { file = "a,b" }, typo = { evn = "X" }, text = "PIP_INDEX_URL", empty = { file = "" } }`),
    ).toEqual([
      'error: m.toml:8:13: images.torch.secrets."bad id!": "bad id!" is not a valid secret id',
      "error: m.toml:8:40: images.torch.secrets.none: secret \"none\" names no source",
      'error: m.toml:8:51: images.torch.secrets.both: secret "both" has both `env` and `file`; it takes its value from one',
      'error: m.toml:8:95: images.torch.secrets.lower.env: "1ABC" is not an environment variable name',
      "error: m.toml:8:121: images.torch.secrets.comma.file: secret \"comma\"'s file holds a control character, ',' or '\"', which docker's --secret id=ID,src=PATH cannot carry",
      "error: m.toml:8:137: images.torch.secrets.typo: secret \"typo\" names no source",
      'error: m.toml:8:146: images.torch.secrets.typo.evn: unknown key "evn" here',
      'error: m.toml:8:159: images.torch.secrets.text: expected a table with `env` or `file`, found the string "PIP_INDEX_URL"',
      "error: m.toml:8:193: images.torch.secrets.empty.file: secret \"empty\"'s file is empty",
    ]);
  });

  test("the hint of a secret written as a string shows the table it means", async () => {
    const [problem] = await problemsOf(`${BASE}secrets = { pip = "PIP_INDEX_URL" }\n`);
    expect(problem!.hint).toBe('write pip = { env = "PIP_INDEX_URL" } (an environment variable) or pip = { file = "PIP_INDEX_URL" } (a file)');
  });

  test("secrets must be a table", async () => {
    expect(await errors('secrets = ["PIP_INDEX_URL"]')).toEqual(["error: m.toml:8:1: images.torch.secrets: expected a table, found an array"]);
  });
});

describe("the graph carries ids and sources, only where a family has secrets, and no digest sees them", () => {
  const SECRETS = 'secrets = { pip_index = { env = "PIP_INDEX_URL" }, "ngc.key" = { file = "../secrets/ngc.key" } }\n';

  test("plan --json shows each image's secrets, ids and sources in the order written; a family without secrets has no field", async () => {
    const { graph } = await planText(`${BASE}${SECRETS}[images.plain]\ntag = "plain"\n`);
    const torch = graph.images.filter((image) => image.family === "torch");
    for (const image of torch) expect(image.secrets).toEqual([{ id: "pip_index", env: "PIP_INDEX_URL" }, { id: "ngc.key", file: "../secrets/ngc.key" }]);
    expect("secrets" in graph.images.find((image) => image.family === "plain")!).toBe(false);
    const json = JSON.stringify(graph);
    expect(json).toContain('"secrets":[{"id":"pip_index","env":"PIP_INDEX_URL"},{"id":"ngc.key","file":"../secrets/ngc.key"}]');
  });

  test("adding, changing or removing secrets leaves every inputs digest as it was (values are never read; an id or source alone changes no build's output that the Dockerfile does not say); the graph's shape changes", async () => {
    // Planned over a real tree, so that the digests cover files.
    const directory = scratchFolder("secrets-");
    writeFileSync(join(directory, "Dockerfile"), "FROM scratch\nRUN --mount=type=secret,id=pip_index true\n");
    const plan = async (toml: string) => planLoaded(await loadMatrix(toml, join(directory, "matrix.toml")), { sources: new WorkingTree(directory) });
    const without = await plan(BASE);
    const withSecrets = await plan(`${BASE}${SECRETS}`);
    const other = await plan(`${BASE}secrets = { pip_index = { file = "/run/ci/pip-index" } }\n`);
    expect(withSecrets.images.map((image) => image.inputs)).toEqual(without.images.map((image) => image.inputs));
    expect(other.images.map((image) => image.inputs)).toEqual(without.images.map((image) => image.inputs));
    expect(graphShape(withSecrets)).not.toBe(graphShape(without));
    expect(graphShape(other)).not.toBe(graphShape(withSecrets));
  });
});

describe("a file secret inside the build context", () => {
  const tree = (files: Record<string, string>) => {
    const directory = scratchFolder("secrets-context-");
    for (const [path, text] of Object.entries(files)) {
      mkdirSync(join(directory, path, ".."), { recursive: true });
      writeFileSync(join(directory, path), text);
    }
    return directory;
  };
  const plan = async (directory: string, secrets: string, context = ".") => {
    const toml = `${BASE}context = "${context}"\n${secrets}\n`;
    return planLoaded(await loadMatrix(toml, join(directory, "matrix.toml")), { sources: new WorkingTree(directory) });
  };

  test("is refused at its line, with a hint: docker would send it as an ordinary file, and its bytes would be digested", async () => {
    const directory = tree({ Dockerfile: "FROM scratch\n" });
    let error: unknown;
    try {
      await plan(directory, 'secrets = { key = { file = "./keys/../ngc.key" } }');
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(CalibanError);
    const diagnostics = (error as CalibanError).diagnostics;
    expect(diagnostics).toHaveLength(1); // once, not once per image
    expect(formatDiagnostic(diagnostics[0]!)).toEndWith(
      'images.torch.secrets.key.file: secret "key"\'s file ./keys/../ngc.key is inside the build context . of family "torch": docker would send it as an ordinary file, and its bytes would be in the inputs digest\n  hint: move it out of the context, or leave it out in .dockerignore (a line: ngc.key)',
    );
    expect(diagnostics[0]!.line).toBe(9);
  });

  test("is accepted when the context's .dockerignore leaves it out, or when it is outside the context", async () => {
    const directory = tree({ Dockerfile: "FROM scratch\n", ".dockerignore": "secrets/\n", "docker/Dockerfile": "FROM scratch\n" });
    expect((await plan(directory, 'secrets = { key = { file = "secrets/ngc.key" } }')).images[0]!.secrets).toEqual([{ id: "key", file: "secrets/ngc.key" }]);
    expect((await plan(directory, 'dockerfile = "docker/Dockerfile"\nsecrets = { key = { file = "secrets/ngc.key" } }', "docker")).images).toHaveLength(2);
    expect((await plan(directory, 'secrets = { key = { file = "../ngc.key" } }')).images).toHaveLength(2);
  });
});
