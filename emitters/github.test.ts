import { describe, expect, test } from "bun:test";
import { CalibanError } from "../core/errors.ts";
import { planText } from "../fixtures/test-helpers.ts";
import { buildPushActionList } from "../scripts/validators/readback.ts";
import { github } from "./github.ts";
import { emitLoaded } from "../cli/emit.ts";
import { emittedText } from "./contract.ts";
import { generateMatrix } from "../scripts/bench/generate.ts";

async function emitGithub(value: string) {
  const { loaded, graph } = await planText(`repository = "r.io/x"\n[axes.a]\nv = { ARG = ${JSON.stringify(value)} }\n[images.x]\ntag = "x-{a}"\nmatrix = ["a"]\n`);
  return emitLoaded(github, loaded, graph);
}

test("build-push-action would change a value that ends in white space or holds ',\"'", () => {
  expect(buildPushActionList('A=padded  \nB=x,"quoted"\nC=fine, "spaced"')).toEqual(["A=padded", "B=x,quoted", 'C=fine, "spaced"']);
});

test("so emit github refuses such values, naming the image and the arg", async () => {
  for (const value of ["trailing ", 'comma,"quote"']) {
    const error = await emitGithub(value).catch((e) => e);
    expect(error).toBeInstanceOf(CalibanError);
    expect((error as CalibanError).diagnostics[0]!.message).toStartWith("emit github: image x-v, build arg ARG: the value");
  }
  expect(await emitGithub('leading and "inner" quotes, commas')).toHaveLength(1);
});

describe("GitHub's limits", () => {
  const load = planText;

  test("a workflow over 500 KB is refused, naming the limit; --format matrix still works", async () => {
    const { loaded, graph } = await load(generateMatrix("cross", 3000));
    const error = (() => {
      try {
        emitLoaded(github, loaded, graph);
      } catch (e) {
        return e as CalibanError;
      }
    })();
    expect(error?.diagnostics[0]?.code).toBe("LIMIT");
    expect(error?.diagnostics[0]?.message).toContain("GitHub does not start a workflow from a file larger than 500 KB");
    const lines = emittedText(emitLoaded(github, loaded, graph, ["format=matrix"])[0]!).trimEnd().split("\n");
    expect(lines.length).toBeGreaterThan(1);
  });

  test("a stage whose matrix would pass 1 MB (as UTF-16) is split, though it has fewer than 256 images", async () => {
    const big = "x".repeat(5000);
    const values = Array.from({ length: 200 }, (_, i) => `v${i} = { BIG = "${big}" }`).join("\n");
    const { loaded, graph } = await load(`repository = "r.io/x"\n[axes.a]\n${values}\n[images.x]\ntag = "x-{a}"\nmatrix = ["a"]\n`);
    const lines = emittedText(emitLoaded(github, loaded, graph, ["format=matrix"])[0]!).trimEnd().split("\n");
    expect(lines.map((line) => line.slice(0, line.indexOf("=")))).toEqual(["stage1_part1", "stage1_part2", "stage1_part3"]);
    for (const line of lines) expect(2 * line.length).toBeLessThanOrEqual(1_000_000);
    expect(lines.flatMap((line) => JSON.parse(line.slice(line.indexOf("=") + 1)).include).length).toBe(200);
    // One job's line alone, for a plan job per stage part.
    const one = emittedText(emitLoaded(github, loaded, graph, ["format=matrix", "job=stage1_part2"])[0]!);
    expect(one).toStartWith("stage1_part2={");
    expect(() => emitLoaded(github, loaded, graph, ["format=matrix", "job=stage9"])).toThrow('no job named "stage9"');
  });
});
