// Folders tests make under the system's temporary folder, removed once the tests are done
// (a recording docker, a CLI run's folder): a run of npm test made hundreds of each, and
// left them all behind. bun test runs no "exit" handler: fixtures/test-cleanup.ts, which
// bunfig.toml preloads, removes them after the last test.

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const made: string[] = [];

/** A new empty folder named PREFIX..., removed by removeScratchFolders. */
export function scratchFolder(prefix: string): string {
  const directory = mkdtempSync(join(tmpdir(), prefix));
  made.push(directory);
  return directory;
}

/** Removes every folder scratchFolder made so far. */
export function removeScratchFolders(): void {
  for (const folder of made.splice(0)) rmSync(folder, { recursive: true, force: true });
}
