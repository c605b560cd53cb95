// This program runs for tens of milliseconds, and JavaScriptCore does not know it.
// Its top tier (FTL) compiles a hot function on a compiler thread in 2 to 30 ms:
// for the functions that run once per image, the compile finishes about when the
// loop does, so nothing runs the result, and on a 2-core CI runner it takes a core
// from the loop. (The planner's image() alone took 17 to 32 ms of FTL compile during
// a 15 ms plan of 10,000 images.) Kept from that tier, they stop at the one below
// (DFG), which compiles in about a millisecond. Measured (interleaved runs of the
// compiled binary): 10,000 images, each emitter 7 to 20% faster; 1,000, 11%;
// 100,000, the same or faster.
//
// Modules register their per-image functions; the command line keeps them from the
// top tier for a large matrix only: bun:jsc costs 0.1 ms to load, and a small
// matrix's functions never get hot enough for the top tier anyway.

type AnyFunction = (...args: never[]) => unknown;

const perImage: AnyFunction[] = [];
let keeping = false;

/** Registers functions (made once, at load) that run once per image. */
export function runsPerImage(...functions: readonly AnyFunction[]): void {
  perImage.push(...functions);
  if (keeping) keepFromTopTier(functions);
}

/** The same for a function made during a run (a closure); kept from the top tier if the run is large. */
export function closureRunsPerImage(closure: AnyFunction): void {
  if (keeping) keepFromTopTier([closure]);
}

/** From now on, the per-image functions stop below the top tier. */
export function keepPerImageFromTopTier(): void {
  if (keeping) return;
  keeping = true;
  keepFromTopTier(perImage);
}

function keepFromTopTier(functions: readonly AnyFunction[]): void {
  const { noFTL }: typeof import("bun:jsc") = require("bun:jsc");
  for (const f of functions) noFTL(f as (...args: unknown[]) => unknown);
}
