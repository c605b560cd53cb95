// Writing one file whole or not at all: a new temporary file beside the target,
// created exclusively under a name no one can guess (never following a link planted
// there), given the mode and owner of the file it replaces; the caller renames it into
// place. A target that already holds exactly the output is left as it is.

import { fail } from "../core/errors.ts";
import { collectionRequester } from "../core/memory.ts";

type NodeFs = typeof import("node:fs");
type NodePath = typeof import("node:path");
type Stats = import("node:fs").Stats;

let lastYield = 0;

/**
 * A signal's handler runs only when the event loop does (cli/output.ts removes the
 * temporary files then): between batches, at most every 20 ms, it is let in. (A turn
 * of the loop per batch cost a tenth of a 10,000-image Cloud Build run, 66 files.)
 */
async function letSignalsIn(): Promise<void> {
  const now = performance.now();
  if (now - lastYield < 20) return;
  lastYield = now;
  await new Promise((resolve) => setImmediate(resolve));
}

/** 16 random hex digits, from the Web Crypto API (node:crypto would cost start-up time to load). */
export function unguessable(): string {
  return Buffer.from(crypto.getRandomValues(new Uint8Array(8))).toString("hex");
}

/**
 * A new file beside `destination`, for writing: created with O_EXCL and O_NOFOLLOW, so
 * it is ours alone (two writers sharing a directory, and a process id, never share one)
 * and no link planted under its name is followed; mode and owner as `replaced` has them,
 * or a new file's (0666 less the umask).
 */
function createTemporary(fs: NodeFs, path: NodePath, destination: string, replaced: Stats | undefined): { fd: number; path: string } {
  const { O_WRONLY, O_CREAT, O_EXCL, O_NOFOLLOW } = fs.constants;
  for (let attempt = 0; ; attempt++) {
    const temporary = path.join(path.dirname(destination), `.${path.basename(destination)}.${unguessable()}.tmp`);
    let fd: number;
    try {
      fd = fs.openSync(temporary, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, 0o600);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "EEXIST" && attempt < 8) continue;
      throw error;
    }
    if (replaced) {
      try {
        fs.fchownSync(fd, replaced.uid, replaced.gid);
      } catch {
        // Only root may give a file to another owner: the file is then ours, as any rewrite by us would leave it.
      }
      fs.fchmodSync(fd, replaced.mode & 0o7777);
    } else {
      fs.fchmodSync(fd, 0o666 & ~process.umask());
    }
    return { fd, path: temporary };
  }
}

/**
 * Writes `contents` to a new temporary file beside `destination`, unless `destination` already holds exactly them:
 * then nothing is written and the file is left as it is, its time stamp too (so a
 * make or a CI cache that depends on it sees no change, and a rerun costs a read). The
 * two are compared batch by batch as the text is made; at the first difference the
 * part that matched is copied from the old file and the rest written as it comes.
 * Returns the temporary file written, if one was; it is added to `temporaries` as soon
 * as it exists.
 */
export async function writeIfChanged(fs: NodeFs, path: NodePath, destination: string, contents: string | Iterable<string>, temporaries: string[]): Promise<string | undefined> {
  const old = openRegularFile(fs, destination);
  let out: number | undefined;
  let temporary: string | undefined;
  let matched = 0;
  const startWriting = () => {
    ({ fd: out, path: temporary } = createTemporary(fs, path, destination, old === undefined ? undefined : fs.fstatSync(old)));
    temporaries.push(temporary);
    if (old !== undefined) copyBytes(fs, old, out, matched);
  };
  try {
    if (old === undefined) startWriting();
    for (const batch of batches(contents)) {
      await letSignalsIn();
      if (out !== undefined) {
        writeText(fs, out, batch);
        continue;
      }
      const bytes = utf8(batch);
      if (sameBytes(fs, old!, matched, bytes)) {
        matched += bytes.length;
        continue;
      }
      startWriting();
      writeBytes(fs, out!, bytes);
    }
    // Everything matched: the file is unchanged only if it has nothing more.
    if (out === undefined && fs.fstatSync(old!).size !== matched) startWriting();
    return temporary;
  } finally {
    if (out !== undefined) fs.closeSync(out);
    if (old !== undefined) fs.closeSync(old);
  }
}

/** A descriptor of `path` for reading when it is a regular file (never waiting on a FIFO); otherwise undefined. */
function openRegularFile(fs: NodeFs, path: string): number | undefined {
  let fd: number;
  try {
    fd = fs.openSync(path, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
  } catch {
    return undefined; // absent or unreadable: it is replaced, as it would be anyway
  }
  if (fs.fstatSync(fd).isFile()) return fd;
  fs.closeSync(fd);
  return undefined;
}

const encoder = new TextEncoder();
// Made on first use, not at start-up: most runs write to stdout.
let encoded = new Uint8Array(0);
let readBack: Uint8Array | undefined;

/** The UTF-8 of `text`, in a buffer reused by the next call (grown by doubling: a file's chunks, a split config's files, mostly grow a little each). */
function utf8(text: string): Uint8Array {
  if (text.length * 3 > encoded.length) encoded = new Uint8Array(Math.max(text.length * 3, 2 * encoded.length, 1 << 20));
  return encoded.subarray(0, encoder.encodeInto(text, encoded).written);
}

/** Whether the file holds exactly `bytes` from `offset` on: read and compared a slice at a time, to stop at a difference. */
function sameBytes(fs: NodeFs, fd: number, offset: number, bytes: Uint8Array): boolean {
  const readBack = readBuffer();
  for (let start = 0; start < bytes.length; ) {
    const length = Math.min(COMPARED_AT_ONCE, bytes.length - start);
    let have = 0;
    while (have < length) {
      const read = fs.readSync(fd, readBack, have, length - have, offset + start + have);
      if (read === 0) return false;
      have += read;
    }
    if (Buffer.compare(bytes.subarray(start, start + length), readBack.subarray(0, length)) !== 0) return false;
    start += length;
  }
  return true;
}

const COMPARED_AT_ONCE = 1 << 16;

/** Copies the first `length` bytes of one file to another. */
function copyBytes(fs: NodeFs, from: number, to: number, length: number): void {
  const readBack = readBuffer();
  for (let offset = 0; offset < length; ) {
    const read = fs.readSync(from, readBack, 0, Math.min(readBack.length, length - offset), offset);
    if (read === 0) throw Object.assign(new Error("the file changed while it was read"), { code: "EAGAIN" });
    writeBytes(fs, to, readBack.subarray(0, read));
    offset += read;
  }
}

function readBuffer(): Uint8Array {
  return (readBack ??= new Uint8Array(1 << 20));
}

function writeBytes(fs: NodeFs, fd: number, bytes: Uint8Array): void {
  for (let offset = 0; offset < bytes.length; ) offset += fs.writeSync(fd, bytes, offset);
}

/** Chunks are gathered into strings of about this many characters, then written. */
const BATCH = 1 << 18;

/** The chunks and batches written are dead at once: a collection is asked for every 8 Mi characters (core/memory.ts). */
const requestCollection = collectionRequester(32);

/** Text or chunks as strings of about BATCH characters: no string the size of the output. */
export function* batches(contents: string | Iterable<string>): Generator<string> {
  if (typeof contents === "string") {
    yield contents;
    return;
  }
  let pending = "";
  for (const chunk of contents) {
    if (typeof chunk !== "string") fail("PLUGIN", `an emitter yielded ${typeof chunk} where text belongs`);
    pending += chunk;
    if (pending.length >= BATCH) {
      yield pending;
      pending = "";
      requestCollection();
    }
  }
  if (pending) yield pending;
}

/** A string written as UTF-8 (measured fastest here); a partial write is finished from its bytes. */
export function writeText(fs: NodeFs, fd: number, text: string): void {
  const written = fs.writeSync(fd, text);
  const bytes = Buffer.byteLength(text);
  if (written < bytes) {
    const buffer = Buffer.from(text);
    for (let offset = written; offset < buffer.length; ) offset += fs.writeSync(fd, buffer, offset);
  }
}
