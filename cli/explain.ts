// `caliban-images explain REF`: the inputs that built an image, read back. With [sign], the
// image's signatures (verified by cosign under the matrix's key or identity, as resolve
// does before a reuse) give its inputs digest and the commit its pipeline built from; the
// matrix planned at that commit (cli/revision-plan.ts) has the image of that digest, and its
// Dockerfile, context files, args, build settings, upstream images and base are printed.
// What is printed hashes to the signed digest (core/changes/explain.ts checks it), so a
// wrong revision cannot mislead: it only finds no image. Without [sign], the inputs digest
// is read from a content tag (inputs-HEX), and the output says it is not verified.

import { dirname, resolve as absolutePath } from "node:path";
import { explainImage, type ExplainedImage } from "../core/changes/explain.ts";
import { INPUTS_ANNOTATION, REVISION_ANNOTATION } from "../core/changes/inputs.ts";
import { CalibanError, fail } from "../core/errors.ts";
import type { BuildGraph, ImageNode } from "../core/graph.ts";
import type { InputsDigester } from "../core/changes/inputs.ts";
import { dockerReferenceProblem } from "../core/names.ts";
import { displayName } from "../core/printable.ts";
import { findRepository, resolveRevision } from "./git-tree.ts";
import { loadGraph, optionalString, stringList, type Options, type Planned } from "./load-graph.ts";
import { imageName, Registry } from "./registry.ts";
import { planRevision, revisionMatrixPath } from "./revision-plan.ts";
import type { Io } from "./terminal.ts";
import { verifiedPayloads } from "./verify-signature.ts";

/** Where an image's inputs digests (hex) and the commits to plan came from. */
interface Claim {
  /**
   * The inputs digests its signatures name: one, or several where images of other inputs
   * came out byte for byte the same (one digest, a signature from each build).
   */
  readonly hexes: readonly string[];
  /** The commits the signatures name; none when no signature names one. */
  readonly revisions: readonly string[];
  /** Whether a signature cosign verified names the digest (else only a tag's name does). */
  readonly verified: boolean;
  /** How the digest is known, in words. */
  readonly verification: string;
}

/** Where the image was found: the plan, what it was planned at, and its images of the claimed inputs. */
interface Found {
  readonly graph: BuildGraph;
  readonly digester: InputsDigester;
  /** The commit it was planned at; null: the working tree. */
  readonly plannedAt: string | null;
  readonly images: readonly ImageNode[];
}

export async function explainCommand(reference: string, options: Options, io: Io): Promise<number> {
  const problem = dockerReferenceProblem(reference);
  if (problem !== undefined) fail("USAGE", `${JSON.stringify(reference)} ${problem}`, { hint: "give the image as the registry has it: REPOSITORY:TAG or REPOSITORY@sha256:..." });
  const planned = await loadGraph(options, io);
  const claim = await claimOf(reference, planned, options);
  const found = await planFor(claim, planned, optionalString(options.revision, "--revision"), io);
  const images = namedBy(reference, found.images);
  const explained = explainImage(found.graph, found.digester, images[0]!);
  const sameInputs = images.slice(1).map((image) => image.id);
  if (options.json === true) {
    io.stdout(`${JSON.stringify({ version: 1, reference, verification: claim.verification, verified: claim.verified, revision: found.plannedAt, sameInputs, image: explained }, null, 2)}\n`);
  } else {
    io.stdout(explainText(reference, claim, found.plannedAt, explained, sameInputs));
  }
  return 0;
}

/**
 * Of the images found, those the reference names: by its tag where the plan gives an image
 * that tag, else all of them; they must share their inputs (else which built it is unknown).
 */
function namedBy(reference: string, found: readonly ImageNode[]): readonly ImageNode[] {
  const name = reference.split("@")[0]!;
  const tag = name.lastIndexOf(":") > name.lastIndexOf("/") ? name.slice(name.lastIndexOf(":") + 1) : undefined;
  const tagged = tag === undefined ? [] : found.filter((image) => image.tag === tag || image.aliases.includes(tag));
  const images = tagged.length > 0 ? tagged : found;
  const inputs = [...new Set(images.map((image) => image.inputs))];
  if (inputs.length > 1) {
    const each = inputs.map((digest) => `${digest} (${images.filter((image) => image.inputs === digest).map((image) => image.id).join(", ")})`);
    fail("USAGE", `${reference} is signed as the image of ${inputs.length} inputs digests, ${each.join(", ")}: its builds came out byte for byte the same, and which is meant cannot be told`, { hint: "explain the content reference (REPOSITORY:inputs-HEX) or a tag of the one you mean" });
  }
  return images;
}

/** The inputs digests an image is claimed to have, and the commits to look for them at. */
async function claimOf(reference: string, planned: Planned, options: Options): Promise<Claim> {
  const sign = planned.graph.sign;
  const tagged = /:inputs-([0-9a-f]{64})(?:@sha256:[0-9a-f]{64})?$/.exec(reference)?.[1];
  if (sign === undefined) {
    if (tagged === undefined) {
      fail("USAGE", `${reference} is no content reference (REPOSITORY:inputs-HEX), and without [sign] there is no signature to read its inputs digest from`, { hint: "give the image's content reference (caliban-images resolve lists them), or sign images ([sign]) so that any tag of theirs can be explained" });
    }
    return { hexes: [tagged], revisions: [], verified: false, verification: "not verified: the matrix has no [sign], so the inputs digest is read from the tag's name, which anyone with push rights could have written" };
  }
  const registry = new Registry({ insecure: stringList(options.insecureRegistry) });
  const cosign = optionalString(options.cosign, "--cosign") ?? "cosign";
  const answer = await verifiedPayloads(cosign, sign, absolutePath(dirname(planned.loaded.matrix.file)), reference, registry.isPlainHttp(imageName(reference.split("@")[0]!).registry));
  if (!answer.verified) {
    throw new CalibanError({ code: "REGISTRY", message: `${reference} does not verify under the matrix's [sign] (${answer.why}): nothing vouches for what built it`, hint: "an image a pipeline of this matrix pushed is signed; this one was not, or by another key or identity" });
  }
  const hexes = [...new Set(answer.payloads.map((payload) => payload.annotations[INPUTS_ANNOTATION]).filter((hex): hex is string => hex !== undefined && /^[0-9a-f]{64}$/.test(hex)))];
  if (hexes.length === 0) fail("USAGE", `${reference} is signed under [sign], but no signature names its inputs digest (${INPUTS_ANNOTATION}): it is a shared tag's list, or was signed by hand`, { hint: "explain an image of the matrix: its content reference, or one of its own tags" });
  if (tagged !== undefined && !hexes.includes(tagged)) fail("USAGE", `${reference} is signed as the image of ${hexes.map((hex) => `sha256:${hex}`).join(", ")}, not of the inputs its tag names`, { hint: "it is another image put under this content tag: resolve rebuilds it rather than reuse it" });
  const revisions = [...new Set(answer.payloads.map((payload) => payload.annotations[REVISION_ANNOTATION]).filter((revision): revision is string => revision !== undefined && /^[0-9a-f]{7,64}$/.test(revision)))];
  return { hexes: tagged === undefined ? hexes : [tagged], revisions, verified: true, verification: `verified: signed under [sign] (${"key" in sign ? `key ${sign.publicKey}` : `identity ${sign.identity}, issuer ${sign.issuer}`})` };
}

/** The plan holding images of the claimed digests: at --revision, else at each commit a signature names, else of the working tree. */
async function planFor(claim: Claim, planned: Planned, revisionOption: string | undefined, io: Io): Promise<Found> {
  const wanted = new Set(claim.hexes.map((hex) => `sha256:${hex}`));
  const inputs = [...wanted].join(", ");
  const having = (graph: BuildGraph) => graph.images.filter((image) => wanted.has(image.inputs));
  const { source } = planned;
  const candidates = revisionOption !== undefined ? [{ revision: revisionOption, flag: "--revision" }] : claim.revisions.map((revision) => ({ revision, flag: "the signature's revision" }));
  if (candidates.length === 0) {
    const images = having(planned.graph);
    if (images.length > 0) return { graph: planned.graph, digester: planned.digester, plannedAt: null, images };
    fail("USAGE", `no image the matrix plans from the working tree has the inputs ${inputs}, and no signature names the commit that built it`, { hint: "give the commit it was built from: --revision REV" });
  }
  if (source.directory === undefined) fail("USAGE", "the embedded matrix has no history to plan a revision of", { hint: "run it where a matrix.toml is, or pass --matrix FILE" });
  const repository = findRepository(source.directory);
  if (repository === undefined) fail("USAGE", `${displayName(source.directory)} is in no git repository, and the image was built at ${candidates.map((c) => c.revision).join(", ")}`, { hint: "run explain in a clone of the repository the pipeline built" });
  const tried: string[] = [];
  for (const { revision, flag } of candidates) {
    const commit = resolveRevision(repository, revision, flag);
    const plan = await planRevision(repository, commit, revision, source.file, planned.loaded);
    if (plan === undefined) {
      tried.push(`${revisionMatrixPath(repository, source.file)} does not exist at ${revision}`);
      continue;
    }
    const images = having(plan.graph);
    if (images.length > 0) return { graph: plan.graph, digester: plan.digester, plannedAt: commit, images };
    tried.push(`no image planned at ${revision} has them`);
  }
  io.stderr(`note: ${tried.join("; ")}\n`);
  fail("USAGE", `no image of the matrix at ${candidates.map((c) => c.revision).join(", ")} has the inputs ${inputs}: the image was built from other files (uncommitted changes, a --var value, another matrix file)`, { hint: "name the matrix (--matrix) and the --var values the pipeline used, or the commit it built: --revision REV" });
}

/** The text form: a line per input, the context's files one a line. */
function explainText(reference: string, claim: Claim, plannedAt: string | null, image: ExplainedImage, alsoIds: readonly string[]): string {
  const lines = [reference, `  ${claim.verification}`, `  image       ${image.id} (${image.reference})${alsoIds.length > 0 ? `; the same inputs: ${alsoIds.join(", ")}` : ""}`, `  inputs      ${image.inputs}`, `  planned at  ${plannedAt ?? "the working tree"}`];
  lines.push(`  dockerfile  ${displayName(image.dockerfile.path)}${image.dockerfile.sha256 === null ? " (in the remote context)" : image.dockerfile.sha256 === "missing" ? " (missing)" : ` sha256:${image.dockerfile.sha256}`}`);
  const files = image.context.files;
  const ignore = image.context.ignoreFile === null ? "" : `, chosen by ${displayName(image.context.ignoreFile)}`;
  lines.push(`  context     ${displayName(image.context.path)}${files === null ? " (remote: fetched by the build, its files unknown here)" : ` (${files.length} ${files.length === 1 ? "file" : "files"} sent${ignore})`}`);
  for (const file of files ?? []) lines.push(`    ${file.kind.padEnd(4)} ${file.blob} ${displayName(file.path)}`);
  for (const arg of image.args) lines.push(`  arg         ${displayName(`${arg.name}=${arg.value}`)}`);
  for (const platform of image.platforms) lines.push(`  platform    ${displayName(platform)}`);
  if (image.target !== null) lines.push(`  target      ${displayName(image.target)}`);
  for (const label of image.labels) lines.push(`  label       ${displayName(`${label.name}=${label.value}`)}`);
  for (const annotation of image.annotations) lines.push(`  annotation  ${displayName(`${annotation.name}=${annotation.value}`)}`);
  for (const label of image.runner ?? []) lines.push(`  runner      ${displayName(label)}`);
  for (const upstream of image.upstream) lines.push(`  upstream    ${upstream}`);
  if (image.base !== null) lines.push(`  base        ${image.base.id}, ${image.base.inputs} (caliban-images explain ${image.base.contentReference})`);
  return `${lines.join("\n")}\n`;
}
