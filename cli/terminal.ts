// Where a command's text goes: stdout and stderr, in the order written.
//
// Loading node:fs costs about a millisecond in the compiled binary (as much as all our
// own code), so stdout and stderr go through Bun's own writers, chosen by what the
// stream is. Bun.write(Bun.stdout) hands a write to a regular file to a thread pool
// (about 1 ms to start), and preallocates the file from offset 0 first, which on an
// appending fd (`>> log`, `2>> log`) leaves a block of NUL bytes before the text
// (oven-sh/bun#41685, open). A FileSink writes a regular file at once with write(2),
// which appends as the fd says. Pipes and terminals keep Bun.write: it waits out a
// full pipe and reports EPIPE (| head).

import { fail } from "../core/errors.ts";

/** Where a command's text goes, in order. */
export interface Io {
  stdout(text: string): void;
  stderr(text: string): void;
  /** Resolves when everything written so far is out. */
  flushed(): Promise<unknown>;
}

/** Text for stdout or stderr, written in the order given (each waits for the one before). */
export class Terminal implements Io {
  private queue: Promise<void> = Promise.resolve();
  /** The first failed write's error, until flushed() reports it; later texts are still written. */
  private failure: { error: unknown } | undefined;

  stdout(text: string): void {
    this.enqueue(Bun.stdout, text);
  }

  stderr(text: string): void {
    this.enqueue(Bun.stderr, text);
  }

  /**
   * Resolves when everything written so far is out; rejects with the first failed
   * write's error (once), so that the message saying so can still be written.
   */
  async flushed(): Promise<void> {
    await this.queue;
    const failure = this.failure;
    this.failure = undefined;
    if (failure) throw failure.error;
  }

  private enqueue(destination: Stream, text: string): void {
    this.queue = this.queue.then(() =>
      writeTo(destination, text).catch((error: unknown) => {
        this.failure ??= { error };
      }),
    );
  }
}

export type Stream = typeof Bun.stdout;
const sinks = new Map<Stream, ReturnType<Stream["writer"]> | null>();

/**
 * Writes all of `text` to stdout or stderr (see the top of this file for how). A
 * failure other than EPIPE (a reader that left: the caller ends quietly) is an
 * OUTPUT error naming the stream.
 */
export async function writeTo(stream: Stream, text: string): Promise<void> {
  try {
    let sink = sinks.get(stream);
    if (sink === undefined) {
      // A BunFile's size is finite for a regular file only (Infinity for a pipe, a terminal, /dev/null).
      sink = Number.isFinite(stream.size) ? stream.writer() : null;
      sinks.set(stream, sink);
    }
    if (sink === null) {
      await Bun.write(stream, text);
      return;
    }
    await sink.write(text);
    await sink.flush();
  } catch (error) {
    const e = error as NodeJS.ErrnoException;
    if (e.code === "EPIPE") throw error;
    fail("OUTPUT", `cannot write to ${stream === Bun.stderr ? "stderr" : "stdout"}: ${e.code ?? ""} ${String(e.message ?? e).replace(/^[A-Z]+: /, "")}`.replace(/\s+/g, " "));
  }
}
