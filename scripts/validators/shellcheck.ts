// shellcheck (Debian's package) on the shell scripts our outputs hand a shell, each
// taken out the way its consumer takes it: a workflow's `run:` blocks as GitHub's
// runner writes them to a file for bash, a Cloud Build step's `bash -c` script after
// Cloud Build's substitutions, a Makefile's recipes as make hands them to its SHELL, a
// GitLab job's script and a Buildkite step's command.

import { chmodSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { availableParallelism, tmpdir } from "node:os";
import { join } from "node:path";
import { parse as parseYaml } from "yaml";
import type { BuildGraph } from "../../core/graph.ts";
import { fakeResolve, REVISION, substitute } from "./readback.ts";

/** A script as its shell is given it; `where` says which output and which step or recipe. */
export interface ShellScript {
  readonly where: string;
  readonly shell: "sh" | "bash";
  readonly text: string;
  /** What the shell's command line turns on before the script, as a line of shell (`bash -e FILE`: "set -e"). */
  readonly options?: string;
}

export interface ShellcheckFinding {
  readonly where: string;
  readonly code: number;
  readonly level: string;
  readonly message: string;
  /** The script's line the finding is on. */
  readonly line: string;
}

/**
 * Every finding of `shellcheck` (all severities, no rc file) in `scripts`, each script
 * checked once however many outputs hold it; the scripts of a dialect are shared among
 * as many shellcheck processes as the machine has cores (it takes ~25 ms a script).
 */
export async function shellcheck(path: string, scripts: readonly ShellScript[]): Promise<ShellcheckFinding[]> {
  const directory = mkdtempSync(join(tmpdir(), "shellcheck-"));
  const unique = new Map<string, { file: string; shell: string; text: string; options: string; where: string[] }>();
  for (const script of scripts) {
    const options = script.options === undefined ? "" : `${script.options}\n`;
    const key = `${script.shell}\0${options}${script.text}`;
    const seen = unique.get(key);
    if (seen) seen.where.push(script.where);
    else unique.set(key, { file: join(directory, `${unique.size}.sh`), shell: script.shell, text: script.text, options, where: [script.where] });
  }
  for (const { file, options, text } of unique.values()) writeFileSync(file, options + text);
  const byFile = new Map([...unique.values()].map((entry) => [entry.file, entry]));
  const runs = (["sh", "bash"] as const).flatMap((shell) => {
    const files = [...byFile.values()].filter((entry) => entry.shell === shell).map((entry) => entry.file);
    if (files.length === 0) return [];
    const share = Math.ceil(files.length / availableParallelism());
    return Array.from({ length: Math.ceil(files.length / share) }, (_, i) => check(path, shell, files.slice(i * share, (i + 1) * share), directory));
  });
  const comments = await Promise.all(runs).finally(() => rmSync(directory, { recursive: true, force: true }));
  const findings: ShellcheckFinding[] = [];
  for (const comment of comments.flat()) {
    const entry = byFile.get(comment.file)!;
    const number = comment.line - (entry.options === "" ? 0 : 1);
    const where = `${entry.where[0]}${entry.where.length > 1 ? ` (and ${entry.where.length - 1} more)` : ""}, line ${number}`;
    findings.push({ where, code: comment.code, level: comment.level, message: comment.message, line: (entry.text.split("\n")[number - 1] ?? "").trim() });
  }
  return findings;
}

async function check(path: string, shell: string, files: readonly string[], cwd: string) {
  const run = Bun.spawn([path, "--norc", "--format=json1", `--shell=${shell}`, ...files], { cwd, stdout: "pipe", stderr: "pipe" });
  const [out, err, code] = await Promise.all([new Response(run.stdout).text(), new Response(run.stderr).text(), run.exited]);
  // 0: nothing found, 1: findings; anything else is shellcheck failing.
  if (code !== 0 && code !== 1) throw new Error(`shellcheck failed (${code}): ${err}`);
  return (JSON.parse(out) as { comments: { file: string; line: number; code: number; level: string; message: string }[] }).comments;
}

/** The text a `${{ }}` expression leaves in a run script: GitHub evaluates it to a plain string before the shell reads the script. */
export const EXPRESSION_VALUE = "GITHUB_EXPRESSION_VALUE";

/**
 * A workflow's `run:` steps, with the options of the runner's command line: without
 * `shell:` (step, job or workflow `defaults.run`) the Ubuntu runner runs `bash -e {0}`,
 * with `shell: bash` `bash --noprofile --norc -eo pipefail {0}`, with `shell: sh`
 * `sh -e {0}`. `expressions` are the steps whose script holds a `${{ }}`, which GitHub
 * pastes into the script's text (an injection when a value can come from a pull
 * request); shellcheck is given it as a plain word there.
 */
export function githubRunScripts(workflow: string, name: string): { scripts: ShellScript[]; expressions: string[] } {
  interface Step { readonly name?: string; readonly id?: string; readonly run?: string; readonly shell?: string }
  interface Job { readonly steps?: Step[]; readonly defaults?: { run?: { shell?: string } } }
  const parsed = parseYaml(workflow) as { jobs: Record<string, Job>; defaults?: { run?: { shell?: string } } };
  const scripts: ShellScript[] = [];
  const expressions: string[] = [];
  for (const [jobName, job] of Object.entries(parsed.jobs)) {
    (job.steps ?? []).forEach((step, index) => {
      if (step.run === undefined) return;
      const where = `${name}: job ${jobName}, step ${JSON.stringify(step.name ?? step.id ?? String(index + 1))}`;
      const shell = step.shell ?? job.defaults?.run?.shell ?? parsed.defaults?.run?.shell;
      const runner = shell === undefined ? { shell: "bash" as const, options: "set -e" } : shell === "bash" ? { shell: "bash" as const, options: "set -eo pipefail" } : shell === "sh" ? { shell: "sh" as const, options: "set -e" } : undefined;
      if (runner === undefined) throw new Error(`${where}: runs with shell ${shell}, which this check does not read`);
      if (step.run.includes("${{")) expressions.push(where);
      scripts.push({ where, ...runner, text: step.run.replace(/\$\{\{[\s\S]*?\}\}/g, EXPRESSION_VALUE) });
    });
  }
  return { scripts, expressions };
}

/**
 * Values of the right form for Cloud Build's own substitutions, which it pastes into a
 * step's args before the step runs (a triggered build's; the last group only in a
 * pull request's). https://cloud.google.com/build/docs/configuring-builds/substitute-variable-values
 */
export const CLOUD_BUILD_DEFAULTS: Readonly<Record<string, string>> = {
  PROJECT_ID: "a-project",
  PROJECT_NUMBER: "123456789012",
  BUILD_ID: "0b9e3a1c-5e8f-4b8a-9d2e-1f2a3b4c5d6e",
  LOCATION: "global",
  COMMIT_SHA: REVISION,
  SHORT_SHA: REVISION.slice(0, 7),
  REVISION_ID: REVISION,
  TRIGGER_NAME: "build-images-push",
  TRIGGER_BUILD_CONFIG_PATH: "cloudbuild.json",
  SERVICE_ACCOUNT_EMAIL: "builder@a-project.iam.gserviceaccount.com",
  SERVICE_ACCOUNT: "projects/a-project/serviceAccounts/builder@a-project.iam.gserviceaccount.com",
  REPO_NAME: "images",
  REPO_FULL_NAME: "your-org/images",
  BRANCH_NAME: "main",
  TAG_NAME: "",
  REF_NAME: "main",
  _HEAD_BRANCH: "a-branch",
  _BASE_BRANCH: "main",
  _HEAD_REPO_URL: "https://github.com/a-fork/images",
  _PR_NUMBER: "1",
};

/** The substitutions whose value whoever pushes a branch or tag, or opens a pull request, chooses (`$(id)` is a valid branch name). */
const CHOSEN_BY_PUSHER = new Set(["BRANCH_NAME", "TAG_NAME", "REF_NAME", "_HEAD_BRANCH", "_BASE_BRANCH", "_HEAD_REPO_URL"]);

/**
 * A Cloud Build config's shell steps (entrypoint bash or sh, args `-c SCRIPT`), each
 * script as the shell gets it: `$$` made '$', `$NAME` and `${NAME}` the substitution's
 * value (the config's own, then `substitutions`, as a trigger's override them). `pasted`
 * names each script that pastes a value a pusher chooses into its text (an injection).
 */
export function cloudbuildScripts(config: string, name: string, substitutions: Readonly<Record<string, string>> = {}): { scripts: ShellScript[]; pasted: string[] } {
  const parsed = JSON.parse(config) as { steps: { id?: string; entrypoint?: string; args?: string[] }[]; substitutions?: Record<string, string> };
  const values = { ...CLOUD_BUILD_DEFAULTS, ...parsed.substitutions, ...substitutions };
  const scripts: ShellScript[] = [];
  const pasted: string[] = [];
  parsed.steps.forEach((step, index) => {
    if (step.entrypoint === undefined) return;
    const where = `${name}: step ${JSON.stringify(step.id ?? String(index + 1))}`;
    if (step.entrypoint !== "bash" && step.entrypoint !== "sh") throw new Error(`${where}: entrypoint ${step.entrypoint}, which this check does not read`);
    for (const [, braced, bare] of (step.args ?? []).join(" ").matchAll(/\$\$|\$\{(\w+)\}|\$(\w+)/g)) if (CHOSEN_BY_PUSHER.has(braced ?? bare ?? "")) pasted.push(`${where}: $${braced ?? bare}`);
    const args = (step.args ?? []).map((arg) => substitute(arg, values));
    if (args.length !== 2 || args[0] !== "-c") throw new Error(`${where}: runs ${step.entrypoint} ${JSON.stringify(args)}, not ${step.entrypoint} -c SCRIPT`);
    scripts.push({ where, shell: step.entrypoint, text: args[1]! });
  });
  return { scripts, pasted };
}

/**
 * Every recipe of a Makefile, and its `$(shell ...)` calls, exactly as GNU make hands
 * them to its SHELL: make runs every target that has a recipe (found in its own
 * database) with SHELL set to a script that records its argument and then runs it by
 * /bin/sh, beside a docker that does nothing, a stand-in for `caliban-images resolve` and a
 * git repository with one commit (REVISION asks git), as a checkout is. The
 * Makefile sets no SHELL, so its shell is /bin/sh: shellcheck reads them as sh.
 */
export function makeScripts(makefile: string, graph: BuildGraph, name: string, pick: (targets: string[]) => string[] = (targets) => targets): ShellScript[] {
  if (/^(?:SHELL|\.SHELLFLAGS|\.ONESHELL|\.POSIX)\b/m.test(makefile)) throw new Error(`${name}: sets SHELL, its flags, .ONESHELL or .POSIX, which this check does not read`);
  const directory = mkdtempSync(join(tmpdir(), "make-shell-"));
  writeFileSync(join(directory, "Makefile"), makefile);
  // docker does nothing (each recipe is run only for make to go on to the next), but for
  // the digest buildx's --metadata-file names, which a signed push reads; cosign does nothing.
  writeFileSync(join(directory, "docker"), `#!/bin/sh\nwhile [ "$#" -gt 0 ]; do [ "$1" = --metadata-file ] && printf '{\\n  "containerimage.digest": "sha256:${"0".repeat(64)}"\\n}\\n' > "$2"; shift; done\nexit 0\n`);
  writeFileSync(join(directory, "cosign"), "#!/bin/sh\nexit 0\n");
  for (const tool of ["docker", "cosign"]) chmodSync(join(directory, tool), 0o755);
  const resolve = `CALIBAN_IMAGES=${fakeResolve(directory, graph)}`;
  // REVISION's default asks git for the commit: the folder is a repository with one, as a checkout is.
  const git = Bun.spawnSync(["sh", "-c", "git init -q && git -c user.name=test -c user.email=test@example.invalid commit -q --allow-empty -m test"], { cwd: directory });
  if (git.exitCode !== 0) throw new Error(`git: ${git.stderr.toString()}`);
  const database = Bun.spawnSync(["make", "-pnq", "all", resolve], { cwd: directory }).stdout.toString();
  // A target's entry in make's database: its name line, comments, then "#  recipe to execute".
  const targets: string[] = [];
  let target: string | undefined;
  for (const line of database.slice(database.indexOf("\n# Files\n")).split("\n")) {
    if (line === "") target = undefined;
    else if (target === undefined && !line.startsWith("#") && /^[^\s:][^:]*:/.test(line)) target = line.slice(0, line.indexOf(":"));
    else if (target !== undefined && line.startsWith("#  recipe to execute") && !target.startsWith(".")) targets.push(target);
  }
  if (targets.length === 0) throw new Error(`${name}: make's database lists no target with a recipe`);
  const picked = pick(targets);
  // make runs `$(SHELL) -c TEXT`. The recorder writes TEXT between \x1e and \x1f to make's
  // stdout (fd 3, which $(shell) does not capture), after the line of make's --trace that
  // names the target, and runs it by /bin/sh.
  const recorder = join(directory, "record-shell");
  writeFileSync(recorder, `#!/bin/sh\n[ "$#" = 2 ] && [ "$1" = -c ] || { echo "record-shell: called with $*" >&2; exit 99; }\nprintf '\\036%s\\037' "$2" >&3\nexec /bin/sh -c "$2"\n`);
  chmodSync(recorder, 0o755);
  const run = Bun.spawnSync(["sh", "-c", 'exec 3>&1; exec make "$@"', "sh", "--trace", "-k", `SHELL=${recorder}`, resolve, ...picked], { cwd: directory, env: { ...process.env, PATH: `${directory}:${process.env.PATH}` } });
  if (run.exitCode !== 0) throw new Error(`${name}: make ${picked.join(" ")} failed (${run.exitCode}): ${run.stderr.toString()}`);
  rmSync(directory, { recursive: true, force: true });
  const scripts: ShellScript[] = [];
  const ran = new Set<string>();
  let current: string | undefined;
  for (const [, text, traced] of run.stdout.toString().matchAll(/\x1e([^\x1f]*)\x1f|Makefile:\d+: (?:update )?target '([^'\n]+)'/g)) {
    if (traced !== undefined) current = traced;
    else {
      if (current !== undefined) ran.add(current);
      scripts.push({ where: `${name}: ${current === undefined ? "reading it" : `target ${current}`}, script ${JSON.stringify(text!.split("\n")[0]!.slice(0, 50))}`, shell: "sh", text: text! });
    }
  }
  const missed = picked.filter((t) => !ran.has(t));
  if (missed.length > 0) throw new Error(`${name}: make handed the shell no recipe of ${missed.join(" ")}`);
  return scripts;
}

/**
 * A GitLab pipeline's scripts, each job's as the runner runs it: `default:`'s before_script,
 * then the job's script, in one shell. GitLab's shell executor runs bash, its docker executor
 * sh when the image has no bash: they are read as sh, the stricter. The runner exports the
 * CI variables (CI_COMMIT_SHA, CALIBAN_PUSH, DOCKER): shellcheck is told they are set.
 */
export function gitlabScripts(pipeline: string, name: string): ShellScript[] {
  interface Job { readonly before_script?: readonly string[]; readonly script?: readonly string[] }
  const parsed = parseYaml(pipeline) as Record<string, Job> & { default?: Job };
  const prelude = parsed.default?.before_script ?? [];
  const keywords = new Set(["default", "workflow", "variables", "stages", "include"]);
  // The shared prelude is checked once, whole; each job after it with its functions' bodies
  // stubbed, which halves what shellcheck reads (the calls are still checked as calls).
  const stubbed = prelude.map((part) => part.replace(/^(\w+)\(\) \{\n[\s\S]*?\n\}$/gm, "$1() { :; }"));
  const jobs = Object.entries(parsed)
    .filter(([job, value]) => !keywords.has(job) && value?.script !== undefined)
    .map(([job, value]) => ({ where: `${name}: job ${job}`, shell: "sh" as const, text: [...(value.before_script ?? stubbed), ...value.script!].join("\n") }));
  return prelude.length === 0 ? jobs : [{ where: `${name}: default before_script`, shell: "sh", text: prelude.join("\n") }, ...jobs];
}

/**
 * A Buildkite pipeline's scripts: each step's command, as the agent runs it (`bash -e -c`,
 * its default shell); read as sh, the stricter, as GitLab's. Every step starts with the
 * same prelude of functions: the first step is checked whole, each other with its
 * functions' bodies stubbed (the calls are still checked as calls).
 */
export function buildkiteScripts(pipeline: string, name: string): ShellScript[] {
  const parsed = parseYaml(pipeline) as { steps?: { key?: string; command?: string }[] };
  return (parsed.steps ?? [])
    .filter((step) => step.command !== undefined)
    .map((step, index) => ({
      where: `${name}: step ${step.key}`,
      shell: "sh" as const,
      options: "set -e",
      text: index === 0 ? step.command! : step.command!.replace(/^(\w+)\(\) \{\n[\s\S]*?\n\}$/gm, "$1() { :; }"),
    }));
}
