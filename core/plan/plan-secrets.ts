// A `file` secret inside an image's build context: docker would send it with the context
// as an ordinary file, readable by any COPY, and the inputs digest would cover its bytes
// (caliban-images would read the secret). Refused, unless the context's ignore file
// leaves it out, as docker then does (InputsDigester.sends).

import type { ErrorCode, KeyPath } from "../errors.ts";
import type { Family } from "../matrix/matrix-types.ts";
import { isRemoteContext, joinPath, type InputsDigester } from "../changes/inputs.ts";
import { posix } from "node:path";

export interface SecretProblem {
  readonly code: ErrorCode;
  readonly keyPath: KeyPath;
  readonly message: string;
  readonly hint: string;
  /** One report per secret and context: every image of a family shares them. */
  readonly key: string;
}

export function secretsInContext(digester: InputsDigester, family: Family, dockerfile: string, context: string): SecretProblem[] {
  if (family.secrets.length === 0 || isRemoteContext(context)) return [];
  const problems: SecretProblem[] = [];
  for (const secret of family.secrets) {
    if (secret.file === undefined) continue;
    const relative = inside(context, secret.file);
    if (relative === undefined || !digester.sends(context, dockerfile, relative)) continue;
    problems.push({
      code: "INVALID_VALUE",
      keyPath: [...secret.keyPath, "file"],
      message: `secret "${secret.id}"'s file ${secret.file} is inside the build context ${context} of family "${family.name}": docker would send it as an ordinary file, and its bytes would be in the inputs digest`,
      hint: `move it out of the context, or leave it out in ${joinPath(context, ".dockerignore")} (a line: ${relative})`,
      key: `secret\u0000${family.name}\u0000${secret.id}\u0000${context}`,
    });
  }
  return problems;
}

/**
 * The file's path in the context, when it is in it; both relative to the matrix file's
 * folder. An absolute path is compared only with an absolute context (a relative one's
 * place on disk is not known here).
 */
function inside(context: string, file: string): string | undefined {
  if (posix.isAbsolute(file) !== posix.isAbsolute(context)) return undefined;
  const root = posix.isAbsolute(file) ? "" : "/matrix";
  const relative = posix.relative(posix.join(root, "/", context), posix.join(root, "/", file));
  return relative === "" || relative === ".." || relative.startsWith("../") || posix.isAbsolute(relative) ? undefined : relative;
}
