// Build args: in order with names unique (the rule both the planner and the lock pinner apply), and which one gives the base image's reference.

import type { BuildArg, ImageNode } from "../graph.ts";

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

/** The arg that gives exactly the base's reference, if the one meant to still does (a later arg of its name may replace it). */
export function exactBaseArg(args: readonly BuildArg[], name: string | undefined, base: ImageNode): string | null {
  const arg = name === undefined ? undefined : args.find((a) => a.name === name);
  return arg !== undefined && arg.value === base.reference ? arg.name : null;
}
