// Each image's repository: the top-level one (after --base-url), or its family's own
// (core/matrix/matrix-repository.ts) filled in for its combination, and checked against
// Docker's grammar at the family's `repository` line. An image of a family with its own
// repository has an id that begins with that repository's last component
// (`base-notebook-latest`): another repository may hold an image of the same tag
// (quay.io/jupyter/base-notebook:latest, quay.io/jupyter/scipy-notebook:latest).

import type { KeyPath } from "../errors.ts";
import type { Family } from "../matrix/matrix-types.ts";
import { repositoryProblem } from "../names.ts";
import { compileTemplate, type CompiledPart } from "./compile-family.ts";

/** Where an image is pushed, and what that adds to its graph node. */
export interface ImagePlace {
  readonly repository: string;
  /** The node's `repositorySuffix` (core/graph.ts), or {} for the top-level repository. */
  readonly node: { readonly repositorySuffix?: string | null };
  /** What the image's id begins with: "" in the top-level repository. */
  readonly idPrefix: string;
}

export class ImageRepositories {
  /** Every repository an image is in so far, the top-level one first: a FROM naming one is no external image a lock pins (plan-upstream.ts). */
  readonly known: Set<string>;
  /** The top-level repository's place: every image's of a family without a repository of its own. */
  readonly top: ImagePlace;
  /** Each family's repository template, compiled once. */
  private readonly compiled = new Map<string, readonly CompiledPart[]>();
  /** Places by family and text, each checked once. */
  private readonly places = new Map<string, ImagePlace>();
  private readonly reported = new Set<string>();

  constructor(
    private readonly repository: string,
    private readonly report: (keyPath: KeyPath, message: string, hint?: string) => void,
  ) {
    this.known = new Set([repository]);
    this.top = { repository, node: {}, idPrefix: "" };
  }

  /**
   * The image's place; `expand` fills a template in for its combination. A repository that
   * is none is reported, once per family, and planning goes on (the plan then fails).
   */
  place(family: Family, expand: (parts: readonly CompiledPart[], keyPath: KeyPath) => string): ImagePlace {
    const own = family.repository;
    if (own === undefined) return this.top;
    let parts = this.compiled.get(family.name);
    if (!parts) this.compiled.set(family.name, (parts = compileTemplate(family, own.template)));
    const text = expand(parts, own.keyPath);
    // "{repository}" alone is the top-level repository itself.
    if (own.relative && text === "") return this.top;
    const key = `${family.name}\u0000${own.relative ? "+" : "="}${text}`;
    let place = this.places.get(key);
    if (place !== undefined) return place;
    const repository = own.relative ? `${this.repository}${text}` : text;
    const problem = repositoryProblem(repository);
    if (problem !== undefined && !this.reported.has(family.name)) {
      this.reported.add(family.name);
      const hint = own.relative ? `it is the top-level repository "${this.repository}", then "${text}"` : undefined;
      this.report(own.keyPath, `the repository "${repository}" ${problem}`, hint);
    }
    place = { repository, node: { repositorySuffix: own.relative ? text : null }, idPrefix: `${repository.slice(repository.lastIndexOf("/") + 1)}-` };
    this.known.add(repository);
    this.places.set(key, place);
    return place;
  }
}
