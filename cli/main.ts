#!/usr/bin/env bun
// caliban-images: data to stdout, messages to stderr. A user's mistake is
// `error: ...` and exit 2 with no stack trace; exit 1 means a bug of ours.

import { cac } from "cac";
import { CalibanError, formatDiagnostic } from "../core/errors.ts";
import { runCommand, COMMANDS, emitterHelpRequest } from "./commands.ts";
import { Terminal, type Io } from "./terminal.ts";
import packageJson from "../package.json" with { type: "json" };

export const EXIT_USAGE = 2;
export const EXIT_BUG = 1;
/** A registry could not be asked (`lock`): not the user's input, and worth a retry. */
export const EXIT_REGISTRY = 4;
/** What a shell reports for a program stopped by SIGPIPE: the reader of stdout went away (`| head`). */
export const EXIT_PIPE_CLOSED = 141;

export async function main(argv: readonly string[], io: Io): Promise<number> {
  const cli = cac("caliban-images");
  // cac parses argv once per registered command: register only the one named, all for the program's help.
  const named = COMMANDS.filter((spec) => spec.name === argv[0]);
  for (const spec of named.length > 0 ? named : COMMANDS) {
    const command = cli.command(spec.usage, spec.description);
    for (const [flags, description, config] of spec.options) command.option(flags, description, config);
    for (const example of spec.examples) command.example(example);
  }
  cli.help();
  // The version alone (cac's would add the platform and a runtime version of its own).
  if (argv.includes("--version") || argv[0] === "-v") {
    io.stdout(`caliban-images ${packageJson.version}\n`);
    return 0;
  }

  try {
    const emitHelpArgv = emitterHelpRequest(argv);
    const parsed = cli.parse(["bun", "caliban-images", ...(emitHelpArgv ?? argv)], { run: false });
    if (parsed.options.help) return 0;
    const command = cli.matchedCommand;
    if (!command) {
      if (parsed.args.length > 0) {
        throw new CalibanError({ code: "USAGE", message: `unknown command "${parsed.args[0]}"`, hint: `commands: ${COMMANDS.map((c) => c.name).join(", ")}; see caliban-images --help` });
      }
      // No command is a usage mistake: the help goes to stderr, exit 2 (cac writes it with console.info).
      const info = console.info;
      console.info = (text: string) => io.stderr(`${text}\n`);
      try {
        cli.outputHelp();
      } finally {
        console.info = info;
      }
      return EXIT_USAGE;
    }
    command.checkUnknownOptions();
    command.checkOptionValue();
    command.checkRequiredArgs();
    command.checkUnusedArgs();
    const options = { ...parsed.options, ...valuesAsWritten(emitHelpArgv ?? argv, parsed.options) };
    const code = await runCommand(emitHelpArgv ? "emit-help" : command.name, [...parsed.args], options, io);
    await io.flushed();
    return code;
  } catch (error) {
    return reportError(error, io);
  }
}

/**
 * cac's parser reads an option value that looks like a number as one (`-o 2024` gave
 * 2024, `-o 007` gave 7): each such option's values as the command line wrote them.
 */
function valuesAsWritten(argv: readonly string[], parsed: Record<string, unknown>): Record<string, unknown> {
  const written = new Map<string, string[]>();
  for (let i = 0; i < argv.length; i++) {
    const flag = /^(?:--([A-Za-z][\w-]*)|-([A-Za-z]))(?:=(.*))?$/s.exec(argv[i]!);
    if (!flag) continue;
    const name = flag[1] ? flag[1].replace(/-([a-z])/g, (_, c: string) => c.toUpperCase()) : SHORT_OPTIONS[flag[2]!];
    // As the parser reads it: a next word that starts with '-' is a flag, not this one's value.
    const next = argv[i + 1];
    const value = flag[3] ?? (next !== undefined && !next.startsWith("-") ? next : undefined);
    if (name === undefined || value === undefined) continue;
    if (flag[3] === undefined) i++;
    written.set(name, [...(written.get(name) ?? []), value]);
  }
  const restored: Record<string, unknown> = {};
  for (const [name, values] of written) {
    const value = parsed[name];
    const isNumber = (item: unknown) => typeof item === "number";
    if (isNumber(value) || (Array.isArray(value) && value.some(isNumber))) restored[name] = Array.isArray(value) ? values : values[0];
  }
  return restored;
}

/** The one-letter flags, by the option they stand for. */
const SHORT_OPTIONS: Record<string, string> = { o: "output" };

function reportError(error: unknown, io: Io): number {
  if ((error as NodeJS.ErrnoException | undefined)?.code === "EPIPE") return EXIT_PIPE_CLOSED;
  if (error instanceof CalibanError) {
    io.stderr(`${error.diagnostics.map(formatDiagnostic).join("\n")}\n`);
    if (error.diagnostics.length > 1) io.stderr(`${error.diagnostics.length} problems\n`);
    return error.diagnostics.every((d) => d.code === "REGISTRY") ? EXIT_REGISTRY : EXIT_USAGE;
  }
  if (error instanceof Error && error.name === "CACError") {
    io.stderr(`error: ${error.message}\n  hint: see caliban-images --help\n`);
    return EXIT_USAGE;
  }
  const detail = error instanceof Error ? (error.stack ?? error.message) : String(error);
  io.stderr(`error: internal error in caliban-images (a bug: please report it with this output)\n${detail}\n`);
  return EXIT_BUG;
}

if (import.meta.main) {
  const io = new Terminal();
  void main(process.argv.slice(2), io).then(async (code) => {
    // An error message is still queued; a stderr nobody reads cannot be helped.
    await io.flushed().catch(() => {});
    process.exitCode = code;
  });
}
