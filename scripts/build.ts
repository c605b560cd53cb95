// Compiles the standalone binary: dist/caliban-images (or the path given), with the
// default matrix embedded. Minified, with bytecode laid out for a faster start (scripts/compile.ts).

import { join } from "node:path";
import { compileCli } from "./compile.ts";

const outfile = process.argv[2] ?? join(import.meta.dir, "..", "dist", "caliban-images");
process.exit(compileCli(outfile, ["--sourcemap=none"]));
