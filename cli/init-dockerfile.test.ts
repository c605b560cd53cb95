// init's python Dockerfile installs the Miniconda of the platform it is built for (issue
// 33: it fetched x86_64's whatever the platform, so an arm64 build could not work). Its
// RUN instruction is run by sh as a build runs it, with `uname -m` answering as each
// platform's (QEMU's) does and a curl that records what it was asked for.

import { expect, test } from "bun:test";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { REPO_ROOT } from "../fixtures/golden.ts";
import { scratchFolder } from "../scripts/validators/scratch.ts";

/** The Dockerfile's RUN instruction that fetches Miniconda, its continuation lines joined as docker joins them. */
function minicondaRun(): string {
  const text = readFileSync(join(REPO_ROOT, "cli/init/python.Dockerfile.txt"), "utf8");
  const instructions = text.replace(/\\\n/g, "").split("\n");
  return instructions.find((line) => line.startsWith("RUN ") && line.includes("miniconda.sh"))!.slice("RUN ".length);
}

test("the Miniconda installer is the built platform's: x86_64 for amd64, aarch64 for arm64; another is refused", () => {
  const run = minicondaRun();
  for (const [machine, expected] of [["x86_64", "Linux-x86_64.sh"], ["aarch64", "Linux-aarch64.sh"], ["ppc64le", undefined]] as const) {
    const bin = scratchFolder("init-dockerfile-");
    mkdirSync(join(bin, "stubs"));
    writeFileSync(join(bin, "stubs/uname"), `#!/bin/sh\necho ${machine}\n`, { mode: 0o755 });
    // curl records the address and stops the RUN, as a failed download would.
    writeFileSync(join(bin, "stubs/curl"), `#!/bin/sh\nfor a in "$@"; do last="$a"; done\necho "$last" > ${JSON.stringify(join(bin, "asked"))}\nexit 22\n`, { mode: 0o755 });
    const ran = Bun.spawnSync(["sh", "-c", run], { env: { PATH: `${join(bin, "stubs")}:/usr/bin:/bin`, MINICONDA_VERSION: "py312_24.7.1-0" }, stdout: "pipe", stderr: "pipe" });
    expect(ran.exitCode).not.toBe(0);
    if (expected === undefined) {
      expect(ran.stderr.toString()).toContain(`no Miniconda installer for ${machine}`);
      continue;
    }
    expect(readFileSync(join(bin, "asked"), "utf8").trim()).toBe(`https://repo.anaconda.com/miniconda/Miniconda3-py312_24.7.1-0-${expected}`);
  }
});
