// `emit --all` says what it did to each file (issue 33): `wrote` for one it made or
// replaced, `unchanged` for one that held its contents already, each path as typed from
// where it ran. And what it writes is the same from any folder of the repository: a
// file's header names the matrix from the repository's root, not from where it ran.

import { expect, test } from "bun:test";
import { appendFileSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { runCliAsync as run } from "../fixtures/test-helpers.ts";
import { scratchFolder } from "../scripts/validators/scratch.ts";

const OUTPUTS = [".github/workflows/build-images.yml", ".gitlab-ci.yml", "Makefile", "docker-bake.hcl"];

/** The lines `emit --all` said of the files, less the line naming the matrix. */
const listing = (stderr: string) => stderr.split("\n").filter((line) => line !== "" && !line.startsWith("using matrix"));

test("emit --all lists each file wrote or unchanged, and writes the same bytes from a subfolder", async () => {
  const root = scratchFolder("emit-all-listing-");
  expect(Bun.spawnSync(["git", "init", "-q"], { cwd: root }).exitCode).toBe(0);
  const init = await run(root, "init", "--ci", "github,gitlab,make,bake");
  expect({ code: init.code, stderr: init.code === 0 ? "" : init.stderr }).toEqual({ code: 0, stderr: "" });
  const written = Object.fromEntries(OUTPUTS.map((path) => [path, readFileSync(join(root, path), "utf8")]));

  const again = await run(root, "emit", "--all");
  expect({ code: again.code, lines: listing(again.stderr) }).toEqual({ code: 0, lines: OUTPUTS.map((path) => `unchanged ${path}`) });

  appendFileSync(join(root, "Makefile"), "# edited by hand\n");
  const rewrote = await run(root, "emit", "--all");
  expect(listing(rewrote.stderr)).toEqual(OUTPUTS.map((path) => (path === "Makefile" ? `wrote     ${path}` : `unchanged ${path}`)));
  expect(readFileSync(join(root, "Makefile"), "utf8")).toBe(written.Makefile!);

  // From a folder below: the matrix is found above, and every file is as it was, byte for byte.
  const below = await run(join(root, "docker"), "emit", "--all");
  expect({ code: below.code, lines: listing(below.stderr) }).toEqual({ code: 0, lines: OUTPUTS.map((path) => `unchanged ../${path}`) });
  for (const path of OUTPUTS) expect({ path, same: readFileSync(join(root, path), "utf8") === written[path] }).toEqual({ path, same: true });
});
