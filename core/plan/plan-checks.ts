// What the matrix says, checked against what the builds would do, at plan time: claims a
// build would break or quietly not keep.
//
// - Each image's platforms and runner (runnerProblems, every plan; plan-runner.ts asks):
//   Windows platforms, which only a Windows machine builds: QEMU emulates CPUs, not
//   operating systems, so a Windows image needs its `runner` (the family's or a `when`
//   rule's, as its values give it when templated) to be a Windows one.
// - Against the Dockerfile (DockerfileChecks, the working tree only, as the paths check):
//   a `from` family whose Dockerfile has no FROM that is its base image once the build
//   args are in (a chain in name only), and a `target` that names no stage.
//
// Each is an error: every case refused here is a build that fails, or one that builds
// something other than what the graph says. What a hard rule would refuse wrongly is
// left alone (a Windows runner's self-hosted labels cannot be told from others'; a
// Linux image on a Windows machine can be built by Docker Desktop's Linux engine).

import { didYouMean, type ErrorCode, type KeyPath } from "../errors.ts";
import type { BasePart, BuildArg, ImageNode } from "../graph.ts";
import type { Family } from "../matrix/matrix-types.ts";
import { fromImage, namesArg, quotedReference, sameImage, type FromLine, type ParsedDockerfile } from "./dockerfile-from.ts";
import { partsChainProblem } from "./base-parts-chain.ts";

export interface PlanProblem {
  readonly code: ErrorCode;
  readonly keyPath: KeyPath;
  readonly message: string;
  readonly hint?: string;
}

/**
 * Labels only a machine that cannot build a Windows image has: GitHub's hosted Linux and
 * macOS images (ubuntu-24.04, ubuntu-latest, macos-15, ...), and the OS label a
 * self-hosted runner gets (linux, macOS). Any other label may be a Windows machine's.
 */
const NOT_WINDOWS_RUNNER = /^(?:ubuntu-.*|macos-.*|linux|macos)$/i;

const isWindows = (platform: string) => /^windows[(/]/.test(platform);

/** What of an image the runner check reads: its platforms and runner, and where each is written (the family's, or a `when` rule's). */
export interface RunnerSettings {
  readonly family: string;
  readonly platforms: readonly string[];
  readonly platformsPath: KeyPath;
  readonly runner: readonly string[] | undefined;
  readonly runnerPath: KeyPath;
}

/**
 * Windows platforms: an image is built on its one runner (the family's, or a `when`
 * rule's). A Windows image is built only on Windows, so that runner must be one that can
 * be, and the image may hold no platform of another OS (one machine builds Windows images
 * or Linux ones, not both). The planner asks once per place the settings are written.
 */
export function runnerProblems(image: RunnerSettings): PlanProblem[] {
  const placed = image.platforms.map((platform, index) => ({ platform, keyPath: [...image.platformsPath, index] }));
  const windows = placed.find(({ platform }) => isWindows(platform));
  if (windows === undefined) return [];
  const problems: PlanProblem[] = [];
  const other = placed.find(({ platform }) => !isWindows(platform));
  if (other !== undefined) {
    problems.push({
      code: "INVALID_VALUE",
      keyPath: other.keyPath,
      message: `${other.platform} and ${windows.platform} are both platforms of an image of family "${image.family}", built on one runner: a Windows image builds only on Windows, and a ${other.platform.split("/")[0]} one never does`,
      hint: "give the Windows images their own platforms and Windows runner (a `when` rule matching them), or a family of their own",
    });
  }
  const runners = image.runner ?? [];
  const notWindows = runners.findIndex((label) => NOT_WINDOWS_RUNNER.test(label));
  if (runners.length === 0) {
    problems.push({
      code: "INVALID_VALUE",
      keyPath: windows.keyPath,
      message: `${windows.platform} is built only on a Windows machine, and family "${image.family}" names no \`runner\`: its images would go to the CI's default Linux runner, where QEMU cannot run Windows`,
      hint: 'name a Windows runner: runner = "windows-2022" (GitHub\'s hosted Windows Server 2022, "windows-2025" for 2025), or your self-hosted Windows runners\' labels',
    });
  } else if (notWindows >= 0) {
    problems.push({
      code: "INVALID_VALUE",
      keyPath: runners.length > 1 ? [...image.runnerPath, notWindows] : image.runnerPath,
      message: `the runner label ${JSON.stringify(runners[notWindows])} is a Linux or macOS machine's, but ${windows.platform} is built only on Windows`,
      hint: 'runner = "windows-2022" (GitHub\'s hosted Windows Server 2022, "windows-2025" for 2025), or your self-hosted Windows runners\' labels',
    });
  }
  return problems;
}

const NO_PROBLEMS: readonly PlanProblem[] = [];

/** A Dockerfile's ARG and FROM lines (the planner's digester reads and parses each once). */
export interface Dockerfiles {
  dockerfile(dockerfile: string, context: string): ParsedDockerfile | undefined;
}

/** What of an image the Dockerfile checks read. */
export interface CheckedImage {
  readonly family: Family;
  readonly dockerfile: string;
  readonly context: string;
  readonly args: readonly BuildArg[];
  readonly base: ImageNode | undefined;
  /** The args that hold a part of the base (ImageNode.fromParts), if any. */
  readonly fromParts?: Readonly<Record<string, BasePart>> | undefined;
  readonly target: string | null;
  /** Where the image's target is written (the family's `target`, or a `when` rule's). */
  readonly targetPath: KeyPath;
}

/**
 * The checks of each image against its Dockerfile. A family's images share their FROM
 * lines and the arg that carries the base, so each check is made once per family and
 * Dockerfile (and target), on the first image; a missing Dockerfile, or one in a remote
 * context, is not read (the paths check reports the first, docker fetches the second).
 */
export class DockerfileChecks {
  private readonly checked = new Set<string>();
  /** The last image's settings: a family's images come one after another, mostly alike, and each of 100,000 must cost little. */
  private last: CheckedImage | undefined;

  image(dockerfiles: Dockerfiles, image: CheckedImage): readonly PlanProblem[] {
    const { family, dockerfile, target } = image;
    const last = this.last;
    this.last = image;
    if (last && last.family === family && last.dockerfile === dockerfile && last.target === target && last.targetPath === image.targetPath && (last.base === undefined) === (image.base === undefined)) return NO_PROBLEMS;
    const fromKey = image.base === undefined ? undefined : `from\u0000${family.name}\u0000${dockerfile}`;
    const targetKey = target === null ? undefined : `target\u0000${family.name}\u0000${image.targetPath.join(".")}\u0000${dockerfile}\u0000${target.toLowerCase()}`;
    const fromDue = fromKey !== undefined && this.first(fromKey);
    const targetDue = targetKey !== undefined && this.first(targetKey);
    if (!fromDue && !targetDue) return NO_PROBLEMS;
    const parsed = dockerfiles.dockerfile(dockerfile, image.context);
    if (parsed === undefined) return NO_PROBLEMS;
    const problems: PlanProblem[] = [];
    if (fromDue) {
      const problem = chainProblem(image, image.base!, parsed);
      if (problem) problems.push(problem);
    }
    if (targetDue) {
      const problem = targetProblem(image, target!, parsed);
      if (problem) problems.push(problem);
    }
    return problems;
  }

  private first(key: string): boolean {
    if (this.checked.has(key)) return false;
    this.checked.add(key);
    return true;
  }
}

/**
 * A `from` family's image is built FROM its base only when one FROM of its Dockerfile (of
 * any stage) is the base's reference once the build args are in: docker puts in only
 * args declared before the first FROM, and only in FROM lines (`COPY --from` takes none).
 */
function chainProblem(image: CheckedImage, base: ImageNode, parsed: ParsedDockerfile): PlanProblem | undefined {
  // Given as parts, the base is checked as a pipeline gives them (base-parts-chain.ts).
  if (image.fromParts !== undefined) return partsChainProblem(image.family, image.dockerfile, image.args, image.fromParts, base, parsed);
  if (parsed.froms.some((from) => sameImage(fromImage(parsed, from, image.args), base.reference))) return undefined;
  const { family, dockerfile } = image;
  const file = JSON.stringify(dockerfile);
  const keyPath = [...family.keyPath, "from"];
  const code = "INVALID_VALUE";
  // The args that hold the base's reference: from_arg, or the ones whose template names {from}.
  const carriers = image.args.filter((arg) => arg.value.includes(base.reference)).map((arg) => arg.name);
  for (const from of parsed.froms) {
    const carrier = carriers.find((name) => namesArg(from, name));
    if (carrier === undefined) continue;
    if (!parsed.globalArgs.has(carrier)) {
      return {
        code,
        keyPath,
        message: `the FROM at line ${from.line} of ${file} uses the build arg ${carrier}, which holds the reference of "${family.from}"'s image, but ${file} declares no ARG ${carrier} before its first FROM, so docker leaves it empty there`,
        hint: `add ARG ${carrier} at the top of ${file}, before the first FROM`,
      };
    }
    return {
      code,
      keyPath,
      message: `the FROM at line ${from.line} of ${file} is ${quotedReference(fromImage(parsed, from, image.args))} once the build args are in, not ${base.reference}, the image of "${family.from}" that ${image.family.name} builds FROM`,
      hint: `${carrier} holds the base's whole reference (repository:tag): write FROM $${carrier}; for a FROM that writes a tag after it, give the base as parts, args = [{ ${carrier} = "{from.repository}", BASE_TAG = "{from.tag}" }] and FROM \${${carrier}}:\${BASE_TAG}`,
    };
  }
  const held =
    parsed.froms.length === 0 ? "it has no FROM line" : carriers.length === 0 ? "no build arg holds the reference of its base" : `none of its FROM lines uses ${carriers.join(" or ")}, the build arg that holds the reference of its base`;
  const single = parsed.froms.map(wholeArg).find((name) => name !== undefined && parsed.globalArgs.has(name));
  const arg = carriers[0] ?? family.fromArg;
  const hint =
    single === undefined
      ? `begin ${file} with ARG ${arg} and FROM $${arg} (a FROM of any stage will do), or leave out from = "${family.from}" if its images do not build FROM it`
      : family.argsNameFrom
        ? `its FROM takes the build arg ${single}: give the base in it, args = [{ ${single} = "{from}" }]`
        : `its FROM takes the build arg ${single}: set from_arg = "${single}"`;
  return { code, keyPath, message: `family "${family.name}" builds FROM "${family.from}", but ${file} would not: ${held}`, hint };
}

/** The arg that is a FROM's whole image expression (`FROM $BASE`, `FROM ${BASE}`), if any. */
function wholeArg(from: FromLine): string | undefined {
  const whole = /^\$(?:\{([A-Za-z_][A-Za-z0-9_]*)\}|([A-Za-z_][A-Za-z0-9_]*))$/.exec(from.image);
  return whole ? (whole[1] ?? whole[2]) : undefined;
}

/** `docker build --target` names a stage (`FROM ... AS name`), matched as docker does, whatever the case. */
function targetProblem(image: CheckedImage, target: string, parsed: ParsedDockerfile): PlanProblem | undefined {
  const stages = parsed.froms.flatMap((from) => (from.stage === undefined ? [] : [from.stage]));
  if (stages.includes(target.toLowerCase())) return undefined;
  const file = JSON.stringify(image.dockerfile);
  const hint = stages.length === 0 ? `${file} names no stage (FROM IMAGE AS NAME): leave \`target\` out to build it whole` : (didYouMean(target, stages) ?? `its stages: ${stages.join(", ")}`);
  return { code: "UNKNOWN_REFERENCE", keyPath: image.targetPath, message: `the target "${target}" is no stage of ${file}: docker build --target would fail`, hint };
}
