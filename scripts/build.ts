// Compiles the standalone binary: dist/caliban-images (or the path given), with the
// default matrix embedded. Minified, with bytecode for a faster start.

import { join } from "node:path";
import { COMPILE_FLAGS } from "./compile-flags.ts";

const outfile = process.argv[2] ?? join(import.meta.dir, "..", "dist", "caliban-images");
const result = Bun.spawnSync(
  [process.execPath, "build", ...COMPILE_FLAGS, "--sourcemap=none", join(import.meta.dir, "..", "cli", "main.ts"), "--outfile", outfile],
  { stdout: "inherit", stderr: "inherit" },
);
process.exit(result.exitCode ?? 1);
