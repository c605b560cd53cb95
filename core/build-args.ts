// Build args in order, names unique: the one rule both the planner and the lock pinner apply.

import type { BuildArg } from "./graph.ts";

/** Sets an arg: a later arg of the same name replaces the earlier one, in its place. Args are few: a scan beats a map. */
export function setArg(args: BuildArg[], arg: BuildArg): void {
  for (let i = 0; i < args.length; i++) {
    if (args[i]!.name === arg.name) {
      args[i] = arg;
      return;
    }
  }
  args.push(arg);
}
