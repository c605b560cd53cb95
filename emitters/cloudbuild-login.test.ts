// Cloud Build's login step (login-secret, a registry outside Google): its script, after
// Cloud Build's substitutions, run by bash with a docker whose login the registry fails a
// given number of times and a `sleep` that does not wait: asked again, as every push is.

import { expect, test } from "bun:test";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { emitLoaded } from "../cli/emit.ts";
import { builtin, planText } from "../fixtures/test-helpers.ts";
import { substitute } from "../scripts/validators/readback.ts";
import { emittedText } from "./contract.ts";
import { scratchFolder } from "../scripts/validators/scratch.ts";

async function loginScript(): Promise<string> {
  const { loaded, graph } = await planText('repository = "registry.example.com/team/images"\n[images.base]\ntag = "base"\n');
  const config = JSON.parse(emittedText(emitLoaded(builtin("cloudbuild"), loaded, graph, ["login-secret=projects/p/secrets/registry/versions/latest", "login-user=robot"])[0]!));
  const step = config.steps.find((s: { id: string }) => s.id === "login");
  expect(step).toMatchObject({ entrypoint: "bash", secretEnv: ["REGISTRY_PASSWORD"], timeout: "900s" });
  return substitute(step.args[1], {});
}

function run(script: string, failures: number) {
  const bin = scratchFolder("cb-login-");
  const log = join(bin, "log");
  writeFileSync(join(bin, "left"), String(failures));
  writeFileSync(join(bin, "docker"), `#!/bin/sh\nread -r password\necho "docker $* <$password>" >> ${log}\nleft=$(cat ${bin}/left)\nif [ "$left" -gt 0 ]; then echo $((left - 1)) > ${bin}/left; echo "Error response from daemon: 503 Service Unavailable" >&2; exit 1; fi\n`, { mode: 0o755 });
  writeFileSync(join(bin, "sleep"), `#!/bin/sh\necho "sleep $1" >> ${log}\n`, { mode: 0o755 });
  const result = Bun.spawnSync(["bash", "-c", script], { env: { ...process.env, PATH: `${bin}:${process.env.PATH}`, REGISTRY_PASSWORD: "s3cret pass" } });
  return { exit: result.exitCode, stderr: result.stderr.toString(), calls: readFileSync(log, "utf8").trim().split("\n") };
}

test("a login the registry fails is asked again, with the secret each time; four failures fail the step with the registry's words", async () => {
  const script = await loginScript();
  const login = "docker login --username robot --password-stdin registry.example.com <s3cret pass>";
  expect(run(script, 0)).toEqual({ exit: 0, stderr: "", calls: [login] });
  const twice = run(script, 2);
  expect(twice.exit).toBe(0);
  expect(twice.calls).toEqual([login, "sleep 5", login, "sleep 20", login]);
  const always = run(script, 4);
  expect(always.exit).not.toBe(0);
  expect(always.stderr).toContain("503 Service Unavailable");
  expect(always.calls).toEqual([login, "sleep 5", login, "sleep 20", login, "sleep 45", login]);
});
