// A family's `when` rules, applied: the family as one combination sees it. Each rule that
// matches the combination lays its settings over the family's own, in the order written
// (aliases, shared tags, args and labels add up, a later arg or label of a name replacing the earlier;
// the others replace). The views are made once per set of matching rules and shared, so
// a family of 10,000 images with a few rules compiles a few views, not 10,000.

import type { Indices } from "./combinations.ts";
import { compileArgs, compileTemplate, fixedText, type CompiledFamily } from "./compile-family.ts";
import type { WhenRule } from "../matrix/matrix-types.ts";

interface Rules {
  readonly rules: readonly WhenRule[];
  /** Views by the indices of the rules that match, joined by ','. */
  readonly views: Map<string, CompiledFamily>;
}

const rulesOf = new WeakMap<CompiledFamily, Rules>();

/** The family as the combination `indices` sees it: itself when no rule matches. */
export function viewFor(compiled: CompiledFamily, indices: Indices): CompiledFamily {
  const when = compiled.family.when;
  if (when.length === 0) return compiled;
  let rules = rulesOf.get(compiled);
  if (!rules) rulesOf.set(compiled, (rules = { rules: when, views: new Map() }));
  const matched: number[] = [];
  for (let r = 0; r < when.length; r++) if (matches(when[r]!, indices)) matched.push(r);
  if (matched.length === 0) return compiled;
  const key = matched.join(",");
  let view = rules.views.get(key);
  if (!view) rules.views.set(key, (view = matched.reduce((current, r) => overlay(current, when[r]!), compiled)));
  return view;
}

function matches(rule: WhenRule, indices: Indices): boolean {
  return rule.match.some((pattern) => {
    for (let axis = 0; axis < pattern.length; axis++) {
      const wanted = pattern[axis];
      if (wanted !== undefined && !wanted.has(indices[axis]!)) return false;
    }
    return true;
  });
}

/** `view` with `rule`'s settings laid over it. */
function overlay(view: CompiledFamily, rule: WhenRule): CompiledFamily {
  const { family } = view;
  const compile = (template: NonNullable<WhenRule["dockerfile"]>) => compileTemplate(family, template);
  const dockerfile = rule.dockerfile === undefined ? undefined : compile(rule.dockerfile);
  const context = rule.context === undefined ? undefined : compile(rule.context);
  const replaced = new Set(rule.labels.map((label) => label.name));
  return {
    ...view,
    ...(dockerfile === undefined ? {} : { dockerfile, fixedDockerfile: fixedText(dockerfile), dockerfilePath: [...rule.keyPath, "dockerfile"] }),
    ...(context === undefined ? {} : { context, fixedContext: fixedText(context), contextPath: [...rule.keyPath, "context"] }),
    ...(rule.test === undefined ? {} : { test: compile(rule.test), testPath: [...rule.keyPath, "test"] }),
    ...(rule.target === undefined ? {} : { target: compile(rule.target), targetPath: [...rule.keyPath, "target"] }),
    ...(rule.platforms === undefined ? {} : { platforms: rule.platforms, platformParts: rule.platformTemplates?.map(compile), platformsPath: [...rule.keyPath, "platforms"] }),
    ...(rule.runner === undefined ? {} : { runner: rule.runner, runnerParts: rule.runnerTemplates?.map(compile), runnerPath: [...rule.keyPath, "runner"] }),
    ...(rule.timeout === undefined ? {} : { timeout: rule.timeout }),
    ...(rule.published === undefined ? {} : { published: rule.published, publishedPath: [...rule.keyPath, "published"] }),
    ...(rule.rebuild === undefined ? {} : { rebuild: rule.rebuild }),
    ...(rule.freeDisk === undefined ? {} : { freeDisk: rule.freeDisk }),
    aliases: [...view.aliases, ...rule.aliases.map(compile)],
    aliasPaths: [...view.aliasPaths, ...rule.aliases.map((_, index) => [...rule.keyPath, "aliases", index])],
    sharedTags: [...view.sharedTags, ...rule.sharedTags.map(compile)],
    sharedTagPaths: [...view.sharedTagPaths, ...rule.sharedTags.map((_, index) => [...rule.keyPath, "shared_tags", index])],
    labels: [...view.labels.filter((label) => !replaced.has(label.name)), ...rule.labels.map((label) => ({ name: label.name, parts: compile(label.template), revision: label.revision, keyPath: label.keyPath }))],
    // The planner sets args in order, a later one of a name replacing the earlier in its place.
    args: [...view.args, ...compileArgs(family, view.axes, rule.args)],
  };
}
