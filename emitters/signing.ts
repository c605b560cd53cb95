// `[sign]` (core/graph.ts, SignPolicy) as the emitters see it. make signs each pushed
// image with its key (emitters/make-sign.ts) and `resolve` verifies what a pipeline would
// reuse; an emitter that does not sign yet refuses a graph with [sign], rather than push
// unsigned images that every later run would then refuse to reuse.

import type { BuildGraph } from "../core/graph.ts";
import { CalibanError } from "../core/errors.ts";

/** Refuses a graph with [sign], for an emitter that cannot sign (or not in the way [sign] asks): never push unsigned images silently. */
export function refuseSigning(graph: BuildGraph, emitter: string, why = `the ${emitter} emitter does not sign images yet`, hint = "emit make, which signs each pushed image with cosign; or remove [sign] to push unsigned images"): void {
  if (graph.sign === undefined) return;
  throw new CalibanError({
    code: "EMITTER",
    message: `emit ${emitter}: the matrix's [sign] asks for every pushed image to be signed, and ${why}`,
    hint,
  });
}
