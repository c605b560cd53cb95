import { expect, test } from "bun:test";
import { CalibanError } from "../core/errors.ts";
import { loadMatrix, planLoaded } from "../core/load.ts";
import { buildPushActionList } from "../scripts/validators/readback.ts";
import { github } from "./github.ts";
import { runEmitter } from "./run.ts";

async function emitGithub(value: string) {
  const loaded = await loadMatrix(`repository = "r.io/x"\n[axes.a]\nv = { ARG = ${JSON.stringify(value)} }\n[images.x]\ntag = "x-{a}"\nmatrix = ["a"]\n`, "m.toml");
  return runEmitter(github, loaded, planLoaded(loaded));
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
