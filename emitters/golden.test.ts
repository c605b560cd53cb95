// Every fixture matrix through the planner and every built-in emitter, compared with
// the golden files; then every emitted Cloud Build config through Google's own loader.

import { describe, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { graphJsonChunks } from "./plan-json.ts";
import { renderPlan } from "./plan-text.ts";
import { acceptsFixture, fixtureCases, goldenDifferences, loadFixture, restrictedFixtureCases } from "../fixtures/golden.ts";
import { CalibanError } from "../core/errors.ts";
import { loadWithCloudBuild, waitForProblems } from "../scripts/validators/cloudbuild.ts";
import { hasCloudBuildLoader } from "../scripts/validators/tools.ts";
import { builtinEmitters } from "./index.ts";
import { emitLoaded } from "../cli/emit.ts";
import { emittedText } from "./contract.ts";
import type { BuildGraph } from "../core/graph.ts";
import { scratchFolder } from "../scripts/validators/scratch.ts";

const emittedCloudBuild: { fixture: string; contents: string }[] = [];

/** Each emitter's default (content tags), and its plain form, which Caliban's generator wrote: the golden files' prefix and the options. */
const FORMS = [["", []], ["plain__", ["content-tags=false"]]] as const;

/** What `plan` prints for the graph, the first of a fixture's goldens. */
function planOutputs(graph: BuildGraph, matrix: string): Record<string, string> {
  return { "plan.txt": renderPlan(graph, matrix), "plan.json": [...graphJsonChunks(graph)].join("") };
}

describe("golden outputs", () => {
  for (const fixture of fixtureCases()) {
    test(fixture.name, async () => {
      const { loaded, graph } = await loadFixture(fixture);
      const outputs = planOutputs(graph, fixture.matrix);
      for (const [prefix, options] of FORMS) {
        for (const emitter of builtinEmitters) {
          for (const file of emitLoaded(emitter, loaded, graph, options)) {
            expect(emittedText(file)).toBe(emittedText(file)); // chunked contents can be read twice
            outputs[`${prefix}${emitter.name}__${file.path.replaceAll("/", "__")}`] = emittedText(file);
            // Trigger files keep their name's start: the loader script reads trigger-*.json as build triggers.
            if (emitter.name === "cloudbuild" && file.path.endsWith(".json")) {
              const name = file.path.startsWith("trigger-") ? `${file.path.replace(/\.json$/, "")}-${fixture.name}-${prefix}` : `${fixture.name}-${prefix}${file.path}`;
              emittedCloudBuild.push({ fixture: name, contents: emittedText(file) });
            }
          }
        }
      }
      expect(goldenDifferences(fixture.expected, outputs)).toEqual([]);
    });
  }
  // A fixture only some emitters accept (signing: make): their outputs are goldens;
  // each other emitter refuses it with an EMITTER error, whose message is a golden too.
  for (const fixture of restrictedFixtureCases()) {
    test(`${fixture.name} (only ${fixture.emitters.join(", ")}; the others refuse it)`, async () => {
      // The emitters that accept it in some form: those goldens stand for what users get.
      expect(builtinEmitters.some((emitter) => acceptsFixture(fixture.emitters, emitter.name, true))).toBe(true);
      const { loaded, graph } = await loadFixture(fixture);
      const outputs = planOutputs(graph, fixture.matrix);
      for (const [prefix, options] of FORMS) {
        for (const emitter of builtinEmitters) {
          if (acceptsFixture(fixture.emitters, emitter.name, prefix === "")) {
            for (const file of emitLoaded(emitter, loaded, graph, options)) outputs[`${prefix}${emitter.name}__${file.path.replaceAll("/", "__")}`] = emittedText(file);
            continue;
          }
          let refused: unknown;
          try {
            emitLoaded(emitter, loaded, graph, options);
          } catch (error) {
            refused = error;
          }
          expect(refused).toBeInstanceOf(CalibanError);
          expect((refused as CalibanError).code).toBe("EMITTER");
          outputs[`${prefix}${emitter.name}__REFUSED.txt`] = `${(refused as CalibanError).message}\n`;
        }
      }
      expect(goldenDifferences(fixture.expected, outputs)).toEqual([]);
    });
  }
});

test("plan --json is exactly JSON.stringify of the graph", async () => {
  for (const fixture of fixtureCases()) {
    const { graph } = await loadFixture(fixture);
    expect([...graphJsonChunks(graph)].join("")).toBe(`${JSON.stringify(graph, null, 2)}\n`);
  }
});

test.skipIf(!hasCloudBuildLoader)("Google's Cloud Build loader accepts every emitted config, and every waitFor names an earlier step", () => {
  expect(emittedCloudBuild.length).toBeGreaterThan(fixtureCases().length); // one fixture is split into several configs
  const directory = scratchFolder("cloudbuild-");
  const paths = emittedCloudBuild.map(({ fixture, contents }) => {
    const path = join(directory, `${fixture}.json`);
    writeFileSync(path, contents);
    return path;
  });
  for (const verdict of loadWithCloudBuild(paths)) expect(verdict).toEqual({ path: verdict.path, ok: true });
  for (const { fixture, contents } of emittedCloudBuild) if (!fixture.startsWith("trigger-")) expect(waitForProblems(JSON.parse(contents))).toEqual([]);
}, 30_000); // one loader run over every fixture's configs: seconds, more with each fixture and under load
