// Every built-in emitter, in one typed list. Plugins join the same list at run time.

import { bake } from "./bake.ts";
import { buildkite } from "./buildkite.ts";
import { cloudbuild } from "./cloudbuild.ts";
import type { Emitter } from "./contract.ts";
import { github } from "./github.ts";
import { gitlab } from "./gitlab.ts";
import { make } from "./make.ts";

export const builtinEmitters = [cloudbuild, github, gitlab, buildkite, make, bake] as const satisfies readonly Emitter<any>[];
