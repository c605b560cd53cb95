// explainImage reads an image's inputs back as the planner digested them: each image's
// parts hash to its digest (explainImage checks it, and throws otherwise), also for an
// image whose `when` rule gives it a runner of its own and for a Windows release's platform.

import { expect, test } from "bun:test";
import { planText } from "../../fixtures/test-helpers.ts";
import { NO_SOURCES } from "./inputs.ts";
import { matrixDigester } from "./matrix-digester.ts";
import { explainImage } from "./explain.ts";

test("every image explains to its digest: a when rule's runner, a Windows release's platform", async () => {
  const { loaded, graph } = await planText(`repository = "registry.example.com/x"
[axes.arch]
amd = { A = "1" }
arm = { A = "2" }
[images.app]
dockerfile = "Dockerfile"
matrix = ["arch"]
tag = "app-{arch}"
runner = ["ubuntu-latest"]
[[images.app.when]]
match = { arch = "arm" }
runner = ["ubuntu-24.04-arm"]
[images.win]
dockerfile = "Dockerfile"
tag = "win"
platforms = ["windows(10.0.26100)/amd64"]
runner = ["windows-2025"]
`);
  const digester = matrixDigester(loaded.matrix, NO_SOURCES);
  const explained = graph.images.map((image) => explainImage(graph, digester, image));
  expect(explained.map(({ id, inputs, runner, platforms }) => ({ id, inputs, runner, platforms }))).toEqual([
    { id: "app-amd", inputs: graph.images[0]!.inputs, runner: ["ubuntu-latest"], platforms: [] },
    { id: "app-arm", inputs: graph.images[1]!.inputs, runner: ["ubuntu-24.04-arm"], platforms: [] },
    { id: "win-2", inputs: graph.images[2]!.inputs, runner: ["windows-2025"], platforms: ["windows(10.0.26100)/amd64"] },
  ]);
});
