// The chain check (plan-checks.ts) of an image whose args give its base as parts
// (core/base-parts.ts): its Dockerfile builds FROM the base only when one FROM line, with
// the args a pipeline gives it (a tag arg the base's content tag, a repository arg the
// base's repository wherever make's REPOSITORY=... moves it), is the base's content
// reference. Then it is the base's reference with the plan's args too, and the image this
// run built in every pipeline. Refused, each at the family's `from`: a FROM that is the
// base with its tag (or repository) written in the Dockerfile, which no pipeline can
// point at what this run built; a FROM of the base's repository with another tag, which
// is another image; a part's arg declared only after the first FROM.

import type { ErrorCode, KeyPath } from "../errors.ts";
import type { BasePart, BuildArg, ImageNode } from "../graph.ts";
import type { Family } from "../matrix/matrix-types.ts";
import { contentTagOf } from "../base-parts.ts";
import { fromImage, namesArg, quotedReference, sameImage, type FromLine, type ParsedDockerfile } from "./dockerfile-from.ts";

/** A repository no Dockerfile names: where the check moves the base, as make's REPOSITORY=... would. */
const MOVED = "\u0000moved";

interface ChainProblem {
  readonly code: ErrorCode;
  readonly keyPath: KeyPath;
  readonly message: string;
  readonly hint: string;
}

/** `repository:tag` (or `repository@digest`, no tag) in its two parts. */
function splitTag(reference: string): { repository: string; tag: string | undefined } {
  const name = reference.split("@")[0]!;
  const colon = name.lastIndexOf(":");
  return colon > name.lastIndexOf("/") ? { repository: name.slice(0, colon), tag: name.slice(colon + 1) } : { repository: name, tag: undefined };
}

export function partsChainProblem(family: Family, dockerfile: string, args: readonly BuildArg[], fromParts: Readonly<Record<string, BasePart>>, base: ImageNode, parsed: ParsedDockerfile): ChainProblem | undefined {
  const contentTag = contentTagOf(base);
  const pipelineReference = `${MOVED}:${contentTag}`;
  // The args as a pipeline gives them: the repository moved, the tag made the content tag (either alone, to tell which part a FROM writes itself).
  const given = (moveRepository: boolean, moveTag: boolean) =>
    args.map((arg): BuildArg => {
      const part = fromParts[arg.name];
      if (part !== undefined) return (part === "repository" ? moveRepository : moveTag) ? { name: arg.name, value: part === "repository" ? MOVED : contentTag } : arg;
      return moveRepository && moveTag && arg.value.includes(base.reference) ? { name: arg.name, value: arg.value.split(base.reference).join(pipelineReference) } : arg;
    });
  const piped = given(true, true);
  if (parsed.froms.some((from) => fromImage(parsed, from, piped) === pipelineReference)) return undefined;

  const file = JSON.stringify(dockerfile);
  const names = Object.keys(fromParts);
  const argOf = (part: BasePart) => names.find((name) => fromParts[name] === part);
  const tagArg = argOf("tag") ?? "BASE_TAG";
  const repositoryArg = argOf("repository") ?? "IMAGE_NAME";
  const shape = `FROM \${${repositoryArg}}:\${${tagArg}}`;
  const problem = (message: string, hint: string): ChainProblem => ({ code: "INVALID_VALUE", keyPath: [...family.keyPath, "from"], message, hint });
  const at = (from: FromLine) => `the FROM at line ${from.line} of ${file}`;
  for (const from of parsed.froms) {
    const undeclared = names.find((name) => namesArg(from, name) && !parsed.globalArgs.has(name));
    if (undeclared !== undefined) {
      return problem(
        `${at(from)} uses the build arg ${undeclared}, which holds the ${fromParts[undeclared]} of "${family.from}"'s image, but ${file} declares no ARG ${undeclared} before its first FROM, so docker leaves it empty there`,
        `add ARG ${undeclared} at the top of ${file}, before the first FROM`,
      );
    }
    const image = fromImage(parsed, from, args);
    if (sameImage(image, base.reference)) {
      // The base, but not as a pipeline gives it: the FROM writes a part itself.
      if (!fromImage(parsed, from, given(false, true)).endsWith(`:${contentTag}`)) {
        const reads = argOf("tag") === undefined ? "no build arg holds {from.tag}" : `${argOf("tag")}, which holds {from.tag}, is not read there`;
        return problem(
          `${at(from)} is ${quotedReference(image)}, the image of "${family.from}", with its tag ${base.tag} written in ${file}: a pipeline builds FROM the image this run built by giving the base's content tag (inputs-<hex>) to the build arg that holds {from.tag}, and ${reads}`,
          `pass the tag as a build arg: ARG ${tagArg} before the first FROM, ${shape}, and args = [{ ${tagArg} = "{from.tag}" }]`,
        );
      }
      if (!fromImage(parsed, from, given(true, false)).startsWith(`${MOVED}:`)) {
        return problem(
          `${at(from)} is ${quotedReference(image)}, the image of "${family.from}", with its repository written in ${file}: make's REPOSITORY=..., bake's variable and resolve --registry move the base, which only the build arg that holds {from.repository} follows`,
          `pass the repository as a build arg: ARG ${repositoryArg} before the first FROM, ${shape}, and args = [{ ${repositoryArg} = "{from.repository}" }]`,
        );
      }
    }
    const { repository, tag } = splitTag(image);
    if (tag !== undefined && tag !== base.tag && sameImage(repository, base.repository)) {
      return problem(
        `${at(from)} is ${quotedReference(image)} once the build args are in: it asks for the tag ${tag} of ${base.repository}, but the image of "${family.from}" that ${family.name} builds FROM is tagged ${base.tag}`,
        `write the tag as {from.tag}: args = [{ ${tagArg} = "{from.tag}" }] and ${shape} in ${file}; or fix that FROM of ${file}`,
      );
    }
    if (names.some((name) => namesArg(from, name))) {
      return problem(`${at(from)} is ${quotedReference(image)} once the build args are in, not ${base.reference}, the image of "${family.from}" that ${family.name} builds FROM`, `write ${shape}, the base's repository and tag`);
    }
  }
  const held = parsed.froms.length === 0 ? "it has no FROM line" : `none of its FROM lines uses ${names.join(" or ")}, the build args that hold parts of its base's reference`;
  return problem(
    `family "${family.name}" builds FROM "${family.from}", but ${file} would not: ${held}`,
    `begin ${file} with ARG ${repositoryArg} and ARG ${tagArg}, then ${shape} (a FROM of any stage will do), or leave out from = "${family.from}" if its images do not build FROM it`,
  );
}
