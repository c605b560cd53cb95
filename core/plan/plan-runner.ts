// Where and for what an image is built: its platforms and its runner's labels, the
// family's or a `when` rule's, fixed or templated (`platforms = ["{arch.PLATFORM}"]`,
// `runner = "{arch.RUNNER}"`), each image's own once expanded. Each expanded value is
// checked as the fixed ones are when the matrix is read, and a Windows image needs a
// Windows runner (plan-checks.ts, runnerProblems): each once per place and value, so a
// family of 10,000 images is checked a few times, not 10,000.

import type { ErrorCode, KeyPath } from "../errors.ts";
import { platformProblems } from "../matrix/matrix-settings.ts";
import { builderPlatforms, type CompiledFamily, type CompiledPart } from "./compile-family.ts";
import { runnerProblems } from "./plan-checks.ts";
import { CONTROL_CHARACTER } from "../names.ts";

export interface ImagePlacement {
  /** As buildx takes them (a Windows release left out), and the release one names. */
  readonly platforms: readonly string[];
  readonly osVersion: string | undefined;
  /** As the matrix writes them: what the inputs digest has always read. */
  readonly written: readonly string[];
  readonly runner: readonly string[] | undefined;
}

type Expand = (parts: readonly CompiledPart[], keyPath: KeyPath) => string;
type Report = (code: ErrorCode, keyPath: KeyPath, message: string, hint?: string) => void;

export class Placements {
  private readonly checked = new Set<string>();
  /** Expanded lists by their text: images with the same values share one array. */
  private readonly lists = new Map<string, readonly string[]>();

  constructor(private readonly report: Report) {}

  /** Fixed platforms and runner: one placement per family view (a family's images mostly share one), checked once. */
  private readonly fixed = new WeakMap<CompiledFamily, ImagePlacement>();

  /** The image's platforms and runner; a templated one that gives no valid value is reported. */
  place(compiled: CompiledFamily, expand: Expand): ImagePlacement {
    const templated = compiled.platformParts !== undefined || compiled.runnerParts !== undefined;
    const known = templated ? undefined : this.fixed.get(compiled);
    if (known !== undefined) return known;
    const placement = this.placeOnce(compiled, expand);
    if (!templated) this.fixed.set(compiled, placement);
    return placement;
  }

  private placeOnce(compiled: CompiledFamily, expand: Expand): ImagePlacement {
    const written = compiled.platformParts === undefined ? compiled.platforms : this.expanded(compiled.platformParts, compiled.platformsPath, expand);
    const runner = compiled.runnerParts === undefined ? compiled.runner : this.expanded(compiled.runnerParts, compiled.runnerPath, expand);
    const key = `${compiled.platformsPath.join(".")}\u0000${compiled.runnerPath.join(".")}\u0000${written.join(",")}\u0000${runner?.join(",") ?? ""}`;
    if (!this.checked.has(key)) {
      this.checked.add(key);
      const problems = [
        ...(compiled.platformParts === undefined ? [] : platformProblems(written, (index) => (written.length > 1 ? [...compiled.platformsPath, index] : compiled.platformsPath))),
        ...(compiled.runnerParts === undefined ? [] : labelProblems(runner!, compiled.runnerPath)),
      ];
      if (problems.length === 0) problems.push(...runnerProblems({ family: compiled.family.name, platforms: written, platformsPath: compiled.platformsPath, runner, runnerPath: compiled.runnerPath }));
      for (const p of problems) this.report(p.code, p.keyPath, p.message, p.hint);
    }
    const { platforms, osVersion } = builderPlatforms(written);
    return { platforms, osVersion, written, runner };
  }

  private expanded(parts: readonly (readonly CompiledPart[])[], keyPath: KeyPath, expand: Expand): readonly string[] {
    const values = parts.map((template, index) => expand(template, parts.length > 1 ? [...keyPath, index] : keyPath));
    const text = values.join("\u0000");
    let list = this.lists.get(text);
    if (!list) this.lists.set(text, (list = values));
    return list;
  }
}

interface Problem {
  readonly code: ErrorCode;
  readonly keyPath: KeyPath;
  readonly message: string;
  readonly hint?: string;
}

/** Expanded runner labels: none empty, none with white space at an end or a control character. */
function labelProblems(labels: readonly string[], keyPath: KeyPath): Problem[] {
  const bad = labels.findIndex((label) => label.trim() === "" || label !== label.trim() || CONTROL_CHARACTER.test(label) || label.includes("${{"));
  if (bad < 0) return [];
  return [{ code: "INVALID_VALUE", keyPath: labels.length > 1 ? [...keyPath, bad] : keyPath, message: `the runner label ${JSON.stringify(labels[bad])} is empty, has white space at an end, or holds an expression or a control character` }];
}
