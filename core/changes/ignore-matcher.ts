// Which files of a build context docker sends: its .dockerignore read as docker reads it.

export interface IgnoreMatcher {
  ignores(path: string): boolean;
  /** A directory whose every file is ignored, whatever is below it: nothing to walk. */
  skipsDirectory(path: string): boolean;
}

/**
 * docker's matcher (moby/patternmatcher), through @balena/dockerignore: case-sensitive,
 * as on Linux (the library folds case by default). With no `!` exception a directory
 * that matches sends nothing below it, so it is not walked.
 */
export function ignoreMatcher(bytes: Uint8Array): IgnoreMatcher {
  const text = new TextDecoder().decode(bytes);
  // Loaded when a matrix has an ignore file, not at every start (it loads node:path: a millisecond).
  const dockerignore: typeof import("@balena/dockerignore").default = require("@balena/dockerignore");
  const matcher = dockerignore({ ignorecase: false }).add(text);
  const hasExceptions = text.split(/\r?\n/).some((line) => line.trim().startsWith("!"));
  return {
    ignores: (path) => matcher.ignores(path),
    skipsDirectory: (path) => !hasExceptions && matcher.ignores(path),
  };
}
