// bake and shared tags (`shared_tags`: core/graph.ts, sharedTags). A shared tag is one
// manifest list over several images, each a target of its own, and bake cannot push one
// over several targets (a target's tags are that target's alone). So no target holds a
// shared tag: the emitter says, as a warning and as a comment in the file, the command
// that pushes each one after `docker buildx bake --push`. Its sources are the images'
// tags, which bake --push pushed in this run, every target with all its tags at once
// (bake builds every target, so no tag was pointed elsewhere; the content tags' digests
// are in CALIBAN_INPUTS, JSON no shell reads without a tool of its own).

import { movedRepository, sharedTags, type BuildGraph } from "../core/graph.ts";

/** Each shared tag and the command that pushes it, its repository moved by the bake variable as its images are. */
export function sharedTagCommands(graph: BuildGraph, variable: string): { reference: string; targets: number; command: string }[] {
  // The shell's value of the variable, else the file's default: what bake read, when it was exported.
  const repository = `\${${variable}:-${graph.repository}}`;
  return sharedTags(graph).map((shared) => {
    const moved = movedRepository(shared.images[0]!, repository);
    const sources = shared.images.map((image) => `"${movedRepository(image, repository)}:${image.tag}"`);
    return { reference: shared.reference, targets: shared.images.length, command: `docker buildx imagetools create --tag "${moved}:${shared.tag}" ${sources.join(" ")}` };
  });
}

/** The file's comment: what to run after `docker buildx bake --push` (none without shared tags). */
export function sharedTagComment(graph: BuildGraph, variable: string): string[] {
  const commands = sharedTagCommands(graph, variable);
  if (commands.length === 0) return [];
  return [
    "#",
    "# Shared tags (shared_tags): bake cannot push one manifest list over several targets. Once",
    `# \`docker buildx bake --push\` has succeeded, push each over its images (${variable} as bake read it):`,
    ...commands.map(({ command }) => `#   ${command}`),
  ];
}

/** The warnings: each shared tag, and the command that pushes it. */
export function sharedTagWarnings(graph: BuildGraph, variable: string): string[] {
  return sharedTagCommands(graph, variable).map(
    ({ reference, targets, command }) => `bake cannot push the shared tag ${reference}, one manifest list over ${targets} targets: once \`docker buildx bake --push\` has succeeded, run ${command} (also in the file's comments)`,
  );
}
