// The text of Cloud Build steps: a step arg holds text literally once its '$' is doubled
// (Cloud Build substitutes $NAME), and a content-tags step is a bash script of shell words.

import type { BuildArg, ImageNode } from "../core/graph.ts";
import { BASE_TAG_WORD, BASE_WORD, CONTENT_WORD, digestPrelude, registryHasCall } from "./cloudbuild-resolve.ts";
import { doubleDollars, shellWord } from "./quoting.ts";
import { splitAliases } from "./build-time.ts";
import { buildTimeEnv, pushStampedLines, stampedAliases } from "./cloudbuild-build-time.ts";
import { namesBuildTime } from "../core/build-time.ts";
import { secretEnvNames, secretSpecs } from "./secrets.ts";
import { remembered } from "./text.ts";

/** A step arg holding `text` literally: Cloud Build substitutes $NAME and ${NAME} in args, and reads "$$" as '$'. */
export const stepArg = doubleDollars;

/**
 * Whether a build pushes (with [publish]): Cloud Build pastes the trigger's `_PUSH` into
 * the script's text once, as a quoted word the script then reads as data, so no test in
 * it compares two constants ('$' doubled for Cloud Build where the shell's own).
 */
export const PUSH_SETTING = "push='$_PUSH'";
export const IF_PUSHING = 'if [ "$$push" = true ]; then';

/** A shell word of a step's script, '$' doubled for Cloud Build: the script's own `$_PUSH` and `$COMMIT_SHA` are its substitutions. */
export function scriptWord(text: string): string {
  return stepArg(shellWord(text));
}

/** A family's dockerfile, context or test as a word, made once: its images share them by the thousand. */
const familyWord = remembered(scriptWord);

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

/**
 * An image's step with content tags, a bash script: when the registry has the image's
 * content reference, the image is pulled and its tag pushed (the daemon is shared, so a
 * later step building FROM it finds it); otherwise it is built FROM its base's content
 * reference and pushed under both.
 */
export function stepScript(image: ImageNode, base: ImageNode | undefined, gated: boolean): string {
  // Written with `+=`, a line at a time, rather than as arrays spread and joined: it is made for each of thousands of images.
  const content = CONTENT_WORD;
  // The aliases naming build-time values are tagged when the image is pushed, their values found then.
  const stamped = stampedAliases(image);
  const stampedPushes = pushStampedLines(stamped, content, true);
  // Its secrets, handed to the build only when it pushes (with [publish]).
  const secrets = secretScriptParts(image, gated);
  let script = digestPrelude(image, base);
  for (const line of stamped.define) script += `${line}\n`;
  if (gated) script += `${PUSH_SETTING}\n`;
  for (const line of secrets.define) script += `${line}\n`;
  // rebuild = "always": built whatever the registry has, so it is not asked (and its build is in no `else`).
  const always = image.rebuild === "always";
  const indent = always ? "" : "  ";
  // What only a build that pushes runs: with [publish], in an `if` that asks whether it does.
  const pushIndent = gated ? `${indent}  ` : indent;
  const whenPushing = (lines: string) => (gated ? `${indent}${IF_PUSHING}\n${lines}${indent}fi\n` : lines);
  // An internal image (published = false) has no tag of its own: it is pushed under its content reference alone.
  // References need no quoting (core/graph.ts).
  const named = image.published === false ? [] : [image.reference, ...splitAliases(image).fixed.map((alias) => `${image.repository}:${alias}`)];
  // Built: pushed under its content reference and its tags.
  let publish = `${pushIndent}retry docker push ${content}\n`;
  for (const reference of named) publish += `${pushIndent}retry docker push ${reference}\n`;
  for (const line of stampedPushes) publish += `${pushIndent}${line}\n`;
  // Aliases, labels and target as shell words; Cloud Build puts the commit in for $COMMIT_SHA before bash runs.
  let build = `${indent}docker build${image.published === false ? "" : ` -t ${image.reference}`} -t ${content}${settingWords(image)}${secrets.word} -f ${familyWord(image.dockerfile)}${argWords(image, base, true)} ${familyWord(image.context)}\n`;
  // The family's smoke test, in the built image: with `set -e` a failure pushes nothing of it.
  if (image.test !== null) build += `${indent}docker run --rm ${content} sh -c ${familyWord(image.test)}\n`;
  build += whenPushing(publish);
  if (always) return `${script}echo '${image.reference}: rebuilt every run (rebuild = "always")'\n${build}`;
  // The registry has its content reference: pulled, and pushed under its tags.
  let retag = `${pushIndent}retry docker pull ${content}\n`;
  for (const reference of named) retag += `${pushIndent}docker tag ${content} ${reference}\n${pushIndent}retry docker push ${reference}\n`;
  for (const line of stampedPushes) retag += `${pushIndent}${line}\n`;
  return `${script}if ${registryHasCall(image, false)}; then\n  echo '${image.reference}: the registry has its inputs digest: not rebuilt'\n${whenPushing(retag)}else\n${build}fi\n`;
}

/**
 * A step that carries an image an earlier config builds into this one, for the images
 * built FROM it here: pulled by its content reference when the registry has it, else
 * built into this build's daemon under it (a pull request's build pushes nothing for a
 * later config to pull). It pushes nothing either way. With [sign] (`verified`), a base
 * is pulled to build FROM only when cosign verifies it.
 */
export function carryScript(image: ImageNode, base: ImageNode | undefined, verified: boolean): string {
  return `${digestPrelude(image, base)}if ${registryHasCall(image, verified)}; then
  retry docker pull ${CONTENT_WORD}
else
  echo '${image.reference}: not in the registry (this build pushes nothing): built here for the images built FROM it'
  docker build -t ${CONTENT_WORD}${settingWords(image)} -f ${familyWord(image.dockerfile)}${argWords(image, base, true)} ${familyWord(image.context)}
fi
`;
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

/** An image without secrets (most): one answer for all of them. */
const NO_SECRETS = { define: [], word: "" } as const;

/**
 * An image's secrets in its step's script: the lines that set the `secrets` array (after
 * PUSH_SETTING when `gated`: empty, and the variables unset, unless the build pushes), and
 * the word its builds take. None for an image without secrets. BuildKit is asked for
 * explicitly: a `docker build` of an older engine has --secret only with it.
 */
export function secretScriptParts(image: ImageNode, gated: boolean): { readonly define: readonly string[]; readonly word: string } {
  if (image.secrets === undefined) return NO_SECRETS;
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
