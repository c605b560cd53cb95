// The commands, declared once (cli/command-specs.ts): the list gives both the parser and
// --help. Each command's code is loaded when it runs, not at every start: a run of `plan`
// does not evaluate the emitters, the legacy importer or git's readers.

import { fail } from "../core/errors.ts";
import type { Options } from "./load-graph.ts";
import type { Io } from "./terminal.ts";
import { COMMANDS } from "./command-specs.ts";

export { COMMANDS };

export async function runCommand(name: string, args: string[], options: Options, io: Io): Promise<number> {
  switch (name) {
    case "plan":
      return (await import("./plan-command.ts")).planCommand(options, io);
    case "affected":
      return (await import("./emit-command.ts")).affectedCommand(args, options, io);
    case "emit":
      if (options.all) return (await import("./emit-all.ts")).emitAll(args, options, io, "write");
      if (args[0] === undefined) fail("USAGE", "emit needs an emitter's name, or --all", { hint: "see caliban-images emitters" });
      return (await import("./emit-command.ts")).emitCommand(args[0], args.slice(1), options, io);
    case "check":
      return (await import("./emit-all.ts")).emitAll(args, options, io, "check");
    case "emit-help":
      return (await import("./emit-command.ts")).emitHelp(args[0]!, options, io);
    case "lock":
      return (await import("./lock.ts")).lockCommand(options, io);
    case "resolve":
      return (await import("./resolve.ts")).resolveCommand(options, io);
    case "explain":
      return (await import("./explain.ts")).explainCommand(args[0]!, options, io);
    case "prune":
      return (await import("./prune.ts")).pruneCommand(options, io);
    case "import":
      return (await import("./import-command.ts")).importLegacy(args[0]!, options, io);
    case "init":
      return (await import("./init.ts")).initCommand(args[0], options, io);
    case "schema":
      return (await import("./plan-command.ts")).schemaCommand(options, io);
    case "emitters":
      return (await import("./emit-command.ts")).listEmitters(options, io);
    default:
      throw new Error(`command ${name} has no implementation`);
  }
}

/** `emit NAME --help` shows that emitter's options, which cac's help cannot know: the argv without the help flag. */
export function emitterHelpRequest(argv: readonly string[]): string[] | undefined {
  if (argv[0] !== "emit" || !argv.some((a) => a === "--help" || a === "-h")) return undefined;
  const rest = argv.filter((a) => a !== "--help" && a !== "-h");
  return rest.slice(1).some((a) => !a.startsWith("-")) ? rest : undefined;
}
