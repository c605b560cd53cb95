// The text of Cloud Build steps: a step arg holds text literally once its '$' is doubled
// (Cloud Build substitutes $NAME), and a content-tags step is a bash script of shell words.

import type { BuildArg, ImageNode } from "../core/graph.ts";
import { BASE_TAG_WORD, BASE_WORD, CONTENT_WORD, digestPrelude, registryHasCall } from "./cloudbuild-resolve.ts";
import { doubleDollars, shellWord } from "./quoting.ts";
import { splitAliases } from "./build-time.ts";
import { buildTimeEnv, pushStampedLines, stampedAliases } from "./cloudbuild-build-time.ts";
import { namesBuildTime } from "../core/build-time.ts";
import { secretEnvNames, secretSpecs } from "./secrets.ts";

/** A step arg holding `text` literally: Cloud Build substitutes $NAME and ${NAME} in args, and reads "$$" as '$'. */
export const stepArg = doubleDollars;

/**
 * Whether a build pushes (with [publish]): Cloud Build pastes the trigger's `_PUSH` into
 * the script's text once, as a quoted word the script then reads as data, so no test in
 * it compares two constants ('$' doubled for Cloud Build where the shell's own).
 */
export const PUSH_SETTING = "push='$_PUSH'";
export const IF_PUSHING = 'if [ "$$push" = true ]; then';

/**
 * An image's step with content tags, a bash script: when the registry has the image's
 * content reference, the image is pulled and its tag pushed (the daemon is shared, so a
 * later step building FROM it finds it); otherwise it is built FROM its base's content
 * reference and pushed under both.
 */
/** A shell word of a step's script, '$' doubled for Cloud Build: the script's own `$_PUSH` and `$COMMIT_SHA` are its substitutions. */
export function scriptWord(text: string): string {
  return stepArg(shellWord(text));
}

/**
 * The --build-arg words of a step's script; with content tags, a base is named by its
 * content reference: the `base` variable the step's prelude set from this build's tree
 * (and an arg holding the base's tag, {from.tag}, gets that reference's tag).
 */
export function argWords(image: ImageNode, base: ImageNode | undefined, contentTags: boolean): string {
  let words = "";
  for (const arg of image.args) {
    if (base !== undefined && contentTags && image.fromParts?.[arg.name] === "tag") words += ` --build-arg ${scriptWord(`${arg.name}=`)}${BASE_TAG_WORD}`;
    // A name holds no reference (nor a reference an '='): the value alone can hold the base's.
    else if (base === undefined || !contentTags || !arg.value.includes(base.reference)) words += plainArgWord(arg);
    else words += baseArgWord(arg, base);
  }
  return words;
}

/** An arg's words as they are, made once per arg: the images of a graph share their axis values' args by the thousand. */
const plainArgWords = new WeakMap<BuildArg, string>();
function plainArgWord(arg: BuildArg): string {
  let words = plainArgWords.get(arg);
  if (words === undefined) plainArgWords.set(arg, (words = ` --build-arg ${scriptWord(`${arg.name}=${arg.value}`)}`));
  return words;
}

/** An arg holding its base's reference, as words naming the `base` variable instead: made once per arg and base (the images built FROM one base share its arg). */
const baseArgWords = new WeakMap<BuildArg, { base: string; words: string }>();
function baseArgWord(arg: BuildArg, base: ImageNode): string {
  const made = baseArgWords.get(arg);
  if (made?.base === base.reference) return made.words;
  const words = ` --build-arg ${`${arg.name}=${arg.value}`.split(base.reference).map((part) => (part === "" ? "" : scriptWord(part))).join(BASE_WORD)}`;
  baseArgWords.set(arg, { base: base.reference, words });
  return words;
}

/** Aliases (-t; not those naming build-time values, which only a push tags), labels (--label, the commit from $COMMIT_SHA) and target (--target) as words of a step's script. */
export function settingWords(image: ImageNode): string {
  // Most images have none of them: no arrays made for nothing.
  if (image.aliases.length === 0 && image.labels.length === 0 && image.target === null) return "";
  return [
    ...splitAliases(image).fixed.map((alias) => ` -t ${image.repository}:${alias}`),
    ...image.labels.map((label) => ` --label ${label.revision ? `${scriptWord(`${label.name}=`)}"$COMMIT_SHA"` : scriptWord(`${label.name}=${label.value}`)}`),
    ...(image.target === null ? [] : [` --target ${scriptWord(image.target)}`]),
  ].join("");
}

export function stepScript(image: ImageNode, base: ImageNode | undefined, gated: boolean): string {
  const content = CONTENT_WORD;
  const word = scriptWord;
  const args = [argWords(image, base, true)];
  // References need no quoting (core/graph.ts).
  const aliases = splitAliases(image).fixed.map((alias) => `${image.repository}:${alias}`);
  // The aliases naming build-time values are tagged when the image is pushed, their values found then.
  const stamped = stampedAliases(image);
  const stampedPushes = pushStampedLines(stamped, content, true).map((line) => `  ${line}`);
  // An internal image (published = false) has no tag of its own: it is pushed under its content reference alone.
  const named = image.published === false ? [] : [image.reference, ...aliases];
  const retag = [`  retry docker pull ${content}`, ...named.flatMap((reference) => [`  docker tag ${content} ${reference}`, `  retry docker push ${reference}`]), ...stampedPushes];
  const publish = [`  retry docker push ${content}`, ...named.map((reference) => `  retry docker push ${reference}`), ...stampedPushes];
  // Aliases, labels and target as shell words; Cloud Build puts the commit in for $COMMIT_SHA before bash runs.
  const settings = settingWords(image);
  // Its secrets, handed to the build only when it pushes (with [publish]).
  const secrets = secretScriptParts(image, gated);
  const when = (lines: string[]) => (gated ? [`  ${IF_PUSHING}`, ...lines.map((line) => `  ${line}`), "  fi"] : lines);
  const build = [
    `  docker build${image.published === false ? "" : ` -t ${image.reference}`} -t ${content}${settings}${secrets.word} -f ${word(image.dockerfile)}${args.join("")} ${word(image.context)}`,
    // The family's smoke test, in the built image: with `set -e` a failure pushes nothing of it.
    ...(image.test === null ? [] : [`  docker run --rm ${content} sh -c ${word(image.test)}`]),
    ...when(publish),
  ];
  return `${digestPrelude(image, base)}${[
    ...stamped.define,
    ...(gated ? [PUSH_SETTING] : []),
    ...secrets.define,
    // rebuild = "always": built whatever the registry has, so it is not asked.
    ...(image.rebuild === "always"
      ? [`echo '${image.reference}: rebuilt every run (rebuild = "always")'`, ...build.map((line) => line.slice(2))]
      : [`if ${registryHasCall(image, false)}; then`, `  echo '${image.reference}: the registry has its inputs digest: not rebuilt'`, ...when(retag), "else", ...build, "fi"]),
    "",
  ].join("\n")}`;
}

/**
 * A step that carries an image an earlier config builds into this one, for the images
 * built FROM it here: pulled by its content reference when the registry has it, else
 * built into this build's daemon under it (a pull request's build pushes nothing for a
 * later config to pull). It pushes nothing either way.
 */
export function carryScript(image: ImageNode, base: ImageNode | undefined, verified: boolean): string {
  return `${digestPrelude(image, base)}${[
    // With [sign], a base is pulled to build FROM only when cosign verifies it.
    `if ${registryHasCall(image, verified)}; then`,
    `  retry docker pull ${CONTENT_WORD}`,
    "else",
    `  echo '${image.reference}: not in the registry (this build pushes nothing): built here for the images built FROM it'`,
    `  docker build -t ${CONTENT_WORD}${settingWords(image)} -f ${scriptWord(image.dockerfile)}${argWords(image, base, true)} ${scriptWord(image.context)}`,
    "fi",
    "",
  ].join("\n")}`;
}

/**
 * A plain step that pushes one of the image's aliases, after the image's push: tagged from
 * its reference. One naming build-time values finds them first (and reads the branch from
 * the step's `env`); with [publish], only a build that pushes does either.
 */
export function aliasPushStep(image: ImageNode, alias: string, gated: boolean): { entrypoint: string; args: string[]; env?: string[] } {
  if (!namesBuildTime(alias)) {
    const aliasReference = `${image.repository}:${alias}`;
    return { entrypoint: "bash", args: ["-c", gated ? `${PUSH_SETTING}; ${IF_PUSHING} docker tag ${image.reference} ${aliasReference} && docker push ${aliasReference}; fi` : `docker tag ${image.reference} ${aliasReference} && docker push ${aliasReference}`] };
  }
  const stamped = stampedAliases({ ...image, aliases: [alias] });
  const pushes = pushStampedLines(stamped, image.reference, false);
  const lines = ["set -euo pipefail", ...stamped.define, ...(gated ? [PUSH_SETTING, IF_PUSHING, ...pushes.map((line) => `  ${line}`), "fi"] : pushes), ""];
  return { entrypoint: "bash", args: ["-c", lines.join("\n")], ...buildTimeEnv({ ...image, aliases: [alias] }) };
}

/**
 * An image's aliases (-t; not those naming build-time values: see aliasPushStep), labels (--label) and target (--target), as docker build's
 * arguments of a plain step ('$' doubled for Cloud Build). A label the CI sets at build
 * time takes the commit from Cloud Build's own $COMMIT_SHA.
 */
export function buildSettingArgs(image: ImageNode): string[] {
  const args: string[] = [];
  for (const alias of splitAliases(image).fixed) args.push("-t", `${image.repository}:${alias}`);
  for (const label of image.labels) args.push("--label", label.revision ? `${label.name}=$COMMIT_SHA` : stepArg(`${label.name}=${label.value}`));
  if (image.target !== null) args.push("--target", stepArg(image.target));
  return args;
}

/**
 * An image's secrets in its step's script: the lines that set the `secrets` array (after
 * PUSH_SETTING when `gated`: empty, and the variables unset, unless the build pushes), and
 * the word its builds take. None for an image without secrets. BuildKit is asked for
 * explicitly: a `docker build` of an older engine has --secret only with it.
 */
export function secretScriptParts(image: ImageNode, gated: boolean): { define: string[]; word: string } {
  if (image.secrets === undefined) return { define: [], word: "" };
  const flags = secretSpecs(image).map((spec) => `--secret ${scriptWord(spec)}`).join(" ");
  const names = secretEnvNames([image]);
  const define = gated
    ? ["secrets=()", `${IF_PUSHING} secrets=(${flags});${names.length === 0 ? "" : ` else unset ${names.join(" ")};`} fi`]
    : [`secrets=(${flags})`];
  return { define: ["export DOCKER_BUILDKIT=1", ...define], word: ' "$${secrets[@]}"' };
}

/** A plain step's `docker` args as a bash script that hands the image's secrets to the build (before the context, the last arg). */
export function plainSecretScript(image: ImageNode, args: readonly string[], gated: boolean): string {
  const { define, word } = secretScriptParts(image, gated);
  // The args are step args already ('$' doubled): a shell word of each keeps it so.
  const words = args.map(shellWord);
  return ["set -euo pipefail", ...(gated ? [PUSH_SETTING] : []), ...define, `docker ${words.slice(0, -1).join(" ")}${word} ${words.at(-1)}`, ""].join("\n");
}
