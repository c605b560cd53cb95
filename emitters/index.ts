// Every built-in emitter, in one typed list. Plugins join the same list at run time.

import { cloudbuild } from "./cloudbuild.ts";
import type { Emitter } from "./contract.ts";

export const builtinEmitters = [cloudbuild] as const satisfies readonly Emitter<any>[];
