// With a lock file beside the matrix: each image's external bases (what its Dockerfile
// builds FROM that the graph does not build), pinned to their locked digests (core/changes/lock.ts).

import type { BuildArg, ImageNode } from "../graph.ts";
import { resolveFroms } from "./dockerfile-from.ts";
import type { InputsDigester } from "../changes/inputs.ts";
import { isLockable, type Lock } from "../changes/lock.ts";
import { setArg } from "./build-args.ts";

const NO_UPSTREAM: readonly string[] = [];

export class UpstreamPinner {
  /** External base images the Dockerfiles name that the lock has no digest for. */
  readonly unlocked = new Set<string>();
  /** Pinned args by name and value, shared by the images that have them. */
  private readonly pinnedArgs = new Map<string, BuildArg>();

  constructor(
    readonly lock: Lock,
    private readonly digester: InputsDigester,
    /** The graph's repositories (its images' so far): an image of them is no external one. */
    private readonly repositories: ReadonlySet<string>,
  ) {}

  /**
   * The external images the image's Dockerfile builds FROM (not the graph's own), each
   * as `REF@sha256:...` from the lock. Where a FROM is one build arg (`FROM $BASE`), that
   * arg is set to the pinned reference, so the build pulls exactly the locked image.
   */
  pin(dockerfile: string, context: string, args: BuildArg[], base: ImageNode | undefined): readonly string[] {
    const parsed = this.digester.dockerfile(dockerfile, context);
    if (parsed === undefined) return NO_UPSTREAM;
    const upstream: string[] = [];
    for (const from of resolveFroms(parsed, args, dockerfile)) {
      const { reference } = from;
      if (!isLockable(reference, base?.reference, this.repositories)) continue;
      const digest = this.lock.digests.get(reference);
      if (digest === undefined) {
        this.unlocked.add(reference);
        continue;
      }
      const pinned = `${reference}@${digest}`;
      if (!upstream.includes(pinned)) upstream.push(pinned);
      if (from.pinArg !== undefined) setArg(args, this.pinnedArg(from.pinArg, pinned));
    }
    return upstream.length === 0 ? NO_UPSTREAM : upstream;
  }

  private pinnedArg(name: string, value: string): BuildArg {
    const key = `${name}\u0000${value}`;
    let arg = this.pinnedArgs.get(key);
    if (!arg) this.pinnedArgs.set(key, (arg = { name, value }));
    return arg;
  }
}
