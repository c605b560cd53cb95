// The digest of everything that decides what an image's build produces (docs/
// incremental-builds.md, "The inputs digest"): its Dockerfile's bytes, the files of its build context that
// docker would send, its build args, and its base image's digest. Two checkouts with
// the same files give the same digests on any machine; an image is rebuilt exactly
// when its digest is not yet in the registry.
//
// Files are read through a SourceTree (core/changes/source-tree.ts): the working tree or a git
// revision, so that `affected --since REV` digests REV with the very same code. Each
// context is listed and hashed once, however many images share it.

import { parseDockerfile, type ParsedDockerfile } from "../plan/dockerfile-from.ts";
import { fail } from "../errors.ts";
import { imageRunner, writtenPlatforms, type BasePart, type BuildArg, type BuildGraph, type ImageNode } from "../graph.ts";
import { baseNamedValue } from "../base-parts.ts";
import { isSpecialKind, specialName, type SourceFile, type SourceTree } from "./source-tree.ts";
import { ignoreMatcher, type IgnoreMatcher } from "./ignore-matcher.ts";
import { sortByCodePoints } from "./path-order.ts";

export { NO_SOURCES, type SourceFile, type SourceTree } from "./source-tree.ts";

/** The files of a context that a build sends, with their digests: what `affected` compares to say why. */
export interface ContextFiles {
  /** The ignore file that chose them (`<Dockerfile>.dockerignore` or `<context>/.dockerignore`), if any. */
  readonly ignoreFile: string | undefined;
  /** path → "<kind> <blob id>", paths relative to the context. */
  readonly files: ReadonlyMap<string, string>;
}

/** What an image's digest is made of, kept for `affected` to tell why an image changed. */
export interface InputParts {
  readonly dockerfile: string;
  readonly context: string;
  readonly args: readonly string[];
  /** `label`, `platform` and `target` lines: what the build is asked for beside its args. */
  readonly build: readonly string[];
  /** `upstream REF@sha256:...` lines: the locked external images it builds FROM. */
  readonly upstream: readonly string[];
  readonly base: string | null;
}

/** Computes `inputs` for images, remembering each Dockerfile's and context's digest. */
export class InputsDigester {
  private readonly dockerfiles = new Map<string, string>();
  private readonly parsedDockerfiles = new Map<string, ParsedDockerfile | undefined>();
  private readonly ignoreFiles = new Map<string, string | undefined>();
  private readonly contexts = new Map<string, DigestedContext>();
  private readonly matchers = new Map<string, IgnoreMatcher>();
  private readonly argLines = new Map<BuildArg, string>();
  private lastDockerfile: string | undefined;
  private lastContext: string | undefined;
  private lastHead = "";

  /** Paths relative to the matrix file's directory (a directory ends in '/') that no context digest covers. */
  private readonly excluded: readonly string[];

  /**
   * `generated`: the matrix file and the files it says `emit --all` writes. A context
   * holding them would send them, but they describe the build: were they digested, every
   * emitted file would change the digests written in it, a loop with no fixed point.
   */
  constructor(
    private readonly tree: SourceTree,
    generated: readonly string[] = [],
  ) {
    this.excluded = generated.map((path) => normalPath(path) + (path.endsWith("/") ? "/" : ""));
  }

  /**
   * An image's digest: "sha256:" and 64 hex digits. Where an arg's value holds the
   * base's reference ({from} put it there), it is digested as `{from}`, and an arg holding
   * a part of it (`fromParts`) as `{from.repository}` or `{from.tag}`: the base's own
   * digest stands for it, and the repository images are pushed to is no input.
   *
   * It runs once per image of matrices of 100,000: the text's first lines are kept for
   * the last Dockerfile and context (a family's images mostly share them), and an arg's
   * line for its BuildArg object (images share those of an axis value). `parts` is the
   * plain version, which `affected` reads and the tests compare with.
   */
  image(
    dockerfile: string,
    context: string,
    args: readonly BuildArg[],
    base: { readonly reference: string; readonly inputs: string } | undefined,
    upstream: readonly string[] = [],
    settings?: BuildSettings,
    fromParts?: Readonly<Record<string, BasePart>>,
  ): string {
    if (dockerfile !== this.lastDockerfile || context !== this.lastContext) {
      this.lastDockerfile = dockerfile;
      this.lastContext = context;
      this.lastHead = `caliban-images inputs 1\n${this.dockerfileLine(dockerfile, context)}\n${this.contextLine(context, dockerfile)}\n`;
    }
    let text = this.lastHead;
    for (let i = 0; i < args.length; i++) {
      const arg = args[i]!;
      const part = fromParts?.[arg.name];
      if (part !== undefined || (base !== undefined && arg.value.includes(base.reference))) {
        text += `${argLine(arg.name, baseNamedValue(arg.value, part, base))}\n`;
        continue;
      }
      let line = this.argLines.get(arg);
      if (line === undefined) this.argLines.set(arg, (line = `${argLine(arg.name, arg.value)}\n`));
      text += line;
    }
    if (settings !== undefined) for (const line of buildLines(settings)) text += `${line}\n`;
    for (let i = 0; i < upstream.length; i++) text += `${upstreamLine(upstream[i]!)}\n`;
    if (base !== undefined) text += `base ${base.inputs}\n`;
    return `sha256:${sha256(text)}`;
  }

  parts(
    dockerfile: string,
    context: string,
    args: readonly BuildArg[],
    base: { readonly reference: string; readonly inputs: string } | undefined,
    upstream: readonly string[] = [],
    settings?: BuildSettings,
    fromParts?: Readonly<Record<string, BasePart>>,
  ): InputParts {
    return {
      dockerfile: this.dockerfileLine(dockerfile, context),
      context: this.contextLine(context, dockerfile),
      args: args.map(({ name, value }) => argLine(name, baseNamedValue(value, fromParts?.[name], base))),
      build: settings === undefined ? [] : buildLines(settings),
      upstream: upstream.map(upstreamLine),
      base: base ? `base ${base.inputs}` : null,
    };
  }

  /** A Dockerfile's ARGs and FROM lines (core/plan/dockerfile-from.ts), parsed once; undefined when it is missing or in a remote context. */
  dockerfile(dockerfile: string, context: string): ParsedDockerfile | undefined {
    if (isRemoteContext(context)) return undefined;
    if (this.parsedDockerfiles.has(dockerfile)) return this.parsedDockerfiles.get(dockerfile);
    const bytes = this.tree.readFile(dockerfile);
    const parsed = bytes === undefined ? undefined : parseDockerfile(new TextDecoder().decode(bytes));
    this.parsedDockerfiles.set(dockerfile, parsed);
    return parsed;
  }

  /** The files a context sends for a Dockerfile, in code point order (path-order.ts), each with its blob id (undefined for a URL context or a missing directory). */
  contextListing(context: string, dockerfile: string): ContextListing | undefined {
    return isRemoteContext(context) ? undefined : this.context(context, this.ignoreFile(dockerfile, context)).listing;
  }

  /** The same files by path, each as "<kind> <blob id>". */
  contextFiles(context: string, dockerfile: string): ContextFiles | undefined {
    const listing = this.contextListing(context, dockerfile);
    if (listing === undefined) return undefined;
    const { files, digests, ignoreFile } = listing;
    return { ignoreFile, files: new Map(files.map((file, i) => [file.path, `${file.kind} ${digests[i]}`])) };
  }

  /** Whether a build of `dockerfile` in `context` sends the file at `relative` (in the context), were it there. */
  sends(context: string, dockerfile: string, relative: string): boolean {
    if (isRemoteContext(context) || this.generatedIn(context)(relative)) return false;
    const ignoreFile = this.ignoreFile(dockerfile, context);
    if (ignoreFile === undefined) return true;
    return !this.matcher(ignoreFile).ignores(relative);
  }

  private dockerfileLine(dockerfile: string, context: string): string {
    // With a remote context, -f names a file inside it: only its name is known here.
    if (isRemoteContext(context)) return `dockerfile path ${netstring(dockerfile)}`;
    let line = this.dockerfiles.get(dockerfile);
    if (line === undefined) {
      const bytes = this.tree.readFile(dockerfile);
      line = `dockerfile ${bytes === undefined ? "missing" : sha256(bytes)}`;
      this.dockerfiles.set(dockerfile, line);
    }
    return line;
  }

  private contextLine(context: string, dockerfile: string): string {
    if (isRemoteContext(context)) return `context url ${netstring(context)}`;
    return `context ${this.context(context, this.ignoreFile(dockerfile, context)).digest}`;
  }

  private matcher(ignoreFile: string): IgnoreMatcher {
    let matcher = this.matchers.get(ignoreFile);
    if (!matcher) this.matchers.set(ignoreFile, (matcher = ignoreMatcher(this.tree.readFile(ignoreFile)!)));
    return matcher;
  }

  /** Whether a file of `context`, by its path in it, is one of the generated paths. */
  private generatedIn(context: string): (path: string) => boolean {
    if (this.excluded.length === 0 || context.startsWith("/")) return () => false;
    const prefix = normalPath(context);
    const inContext = prefix === "" ? this.excluded : this.excluded.filter((path) => path.startsWith(`${prefix}/`)).map((path) => path.slice(prefix.length + 1));
    if (inContext.length === 0) return () => false;
    return (path) => inContext.some((excluded) => (excluded.endsWith("/") ? path.startsWith(excluded) : path === excluded));
  }

  /** Docker's rule: `<Dockerfile>.dockerignore` beside the Dockerfile, when there is one, else `<context>/.dockerignore`. */
  private ignoreFile(dockerfile: string, context: string): string | undefined {
    const key = `${dockerfile}\u0000${context}`;
    if (this.ignoreFiles.has(key)) return this.ignoreFiles.get(key);
    const candidates = [`${dockerfile}.dockerignore`, joinPath(context, ".dockerignore")];
    const found = candidates.find((path) => this.tree.readFile(path) !== undefined);
    this.ignoreFiles.set(key, found);
    return found;
  }

  private context(context: string, ignoreFile: string | undefined): DigestedContext {
    const key = `${context}\u0000${ignoreFile ?? ""}`;
    let known = this.contexts.get(key);
    if (known) return known;
    const ignore = ignoreFile === undefined ? undefined : this.matcher(ignoreFile);
    const listed = this.tree.listFiles(context, (relative) => ignore?.skipsDirectory(relative) ?? false);
    if (listed === undefined) {
      known = { digest: "missing" };
    } else {
      const generated = this.generatedIn(context);
      const sent = listed.filter((file) => !(ignore?.ignores(file.path) ?? false) && !generated(file.path));
      sortByCodePoints(sent);
      for (const file of sent) {
        if (!isSpecialKind(file.kind)) continue;
        fail("FILE_UNREADABLE", `cannot read: it is ${specialName(file.kind)}, not a file: a build context cannot send it (refused unread)`, {
          file: joinPath(context, file.path),
          hint: `remove it, or leave it out of the context in ${ignoreFile ?? joinPath(context, ".dockerignore")}`,
        });
      }
      const digests = this.tree.digests(context, sent);
      // Hashed a piece at a time: a context of 20,000 files is 1.5 MB of text, not made into one string.
      const hasher = new Bun.CryptoHasher("sha256");
      let text = "caliban-images context 1\n";
      for (let i = 0; i < sent.length; i++) {
        const file = sent[i]!;
        text += `${file.kind} ${digests[i]} ${netstring(file.path)}\n`;
        if (text.length >= HASHED_AT_ONCE) {
          hasher.update(text);
          text = "";
        }
      }
      known = { digest: hasher.update(text).digest("hex"), listing: { files: sent, digests, ignoreFile } };
    }
    this.contexts.set(key, known);
    return known;
  }
}

/** The files a context sends, in code point order, with their digests (by index), and the ignore file that chose them. */
export interface ContextListing {
  readonly files: readonly SourceFile[];
  readonly digests: readonly string[];
  readonly ignoreFile: string | undefined;
}

/** A context's digest, and the files it sends with theirs (no listing: the directory is missing). */
interface DigestedContext {
  readonly digest: string;
  readonly listing?: ContextListing;
}

const HASHED_AT_ONCE = 1 << 16;

/** The text an image's digest is the sha256 of (docs/incremental-builds.md, "The inputs digest"). */
export function imageText(parts: InputParts): string {
  return `caliban-images inputs 1\n${parts.dockerfile}\n${parts.context}\n${[...parts.args, ...parts.build, ...parts.upstream].map((line) => `${line}\n`).join("")}${parts.base === null ? "" : `${parts.base}\n`}`;
}

/**
 * The cosign annotation every signature of a pushed image carries, its inputs digest's hex
 * (docs/signing.md): a signature vouches for a digest, and this says which inputs built
 * it, so a signed image put under another image's content tag does not verify there.
 */
export const INPUTS_ANNOTATION = "caliban-images.inputs";

/**
 * The annotation naming the commit the pipeline built from, where the CI tells it: what
 * `explain` plans to read the image's inputs back (it checks they hash to the signed
 * inputs digest, so a wrong or missing revision can mislead no one).
 */
export const REVISION_ANNOTATION = "caliban-images.revision";

/** The tag an image is also pushed under: its digest's hex, so any tag grammar accepts it (71 characters). */
export function contentTag(inputs: string): string {
  return `inputs-${inputs.slice("sha256:".length)}`;
}

/** What a build is asked for beside its args: labels (not those the CI sets at build time), platforms, a target stage, the runner. */
export interface BuildSettings {
  readonly labels: readonly { readonly name: string; readonly value: string; readonly revision: boolean }[];
  readonly platforms: readonly string[];
  readonly target: string | null;
  /**
   * The CI runner's labels, when the family names one: with no platforms, the runner's
   * machine decides the image's architecture (an x86 and an arm family split only by
   * runner), so two such builds must never share a content reference.
   */
  readonly runner?: readonly string[] | null;
  /** OCI annotations: absent or none adds nothing, so an image without them keeps its digest. */
  readonly annotations?: readonly { readonly name: string; readonly value: string }[];
}

/**
 * The settings an image of the graph was digested with, read back from it (`affected` and
 * `explain` ask the digester for its parts): its platforms as written, and the runner a
 * `when` rule gave it, else its family's.
 */
export function digestedSettings(graph: BuildGraph, image: ImageNode): BuildSettings {
  const family = graph.families.find((candidate) => candidate.name === image.family)!;
  return { ...image, platforms: writtenPlatforms(image), runner: imageRunner(family, image) };
}

function buildLines(settings: BuildSettings): string[] {
  const lines: string[] = [];
  for (const label of settings.labels) if (!label.revision) lines.push(`label ${netstring(label.name)} ${netstring(label.value)}`);
  for (const platform of settings.platforms) lines.push(`platform ${netstring(platform)}`);
  if (settings.target !== null) lines.push(`target ${netstring(settings.target)}`);
  for (const label of settings.runner ?? []) lines.push(`runner ${netstring(label)}`);
  for (const annotation of settings.annotations ?? []) lines.push(`annotation ${netstring(annotation.name)} ${netstring(annotation.value)}`);
  return lines;
}

function upstreamLine(pinned: string): string {
  return `upstream ${netstring(pinned)}`;
}

function argLine(name: string, value: string): string {
  return `arg ${netstring(name)} ${netstring(value)}`;
}

/** `<UTF-8 byte length>:<text>`: a field no text can run over into the next. */
function netstring(text: string): string {
  return `${Buffer.byteLength(text)}:${text}`;
}

export function sha256(data: string | Uint8Array): string {
  return Bun.SHA256.hash(data, "hex");
}

/** A relative path without '.' segments or doubled slashes ("" for the directory itself); '..' stays. */
export function normalPath(path: string): string {
  return path.split("/").filter((segment) => segment !== "" && segment !== ".").join("/");
}

export function joinPath(directory: string, name: string): string {
  return directory === "." || directory === "" ? name : `${directory.replace(/\/+$/, "")}/${name}`;
}

/** A context docker fetches: a URL, or a git remote (git@host:repo, github.com/...). */
export function isRemoteContext(context: string): boolean {
  return /^[A-Za-z][A-Za-z0-9+.-]*:\/\//.test(context) || /^git@/.test(context) || /^github\.com\//.test(context);
}
