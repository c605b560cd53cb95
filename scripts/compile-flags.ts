// How the binary is compiled: by `npm run build`, and by the benchmark, which must
// measure exactly what users run.
export const COMPILE_FLAGS = [
  "--compile",
  "--minify",
  // Bytecode: no parsing at start-up (measured: --version 18 ms without, 10 ms with).
  "--bytecode",
  // An ES module, not the CommonJS bundle --bytecode gives by default: starts 0.6 ms
  // sooner (7.6 → 7.0 ms for emit cloudbuild on Caliban's matrix, measured with hyperfine).
  "--format=esm",
  // A user's .env and bunfig.toml are theirs, not ours: loading them would let a file
  // in the working directory change what the binary does, and finding them cost 3 ms
  // in a large directory.
  "--no-compile-autoload-dotenv",
  "--no-compile-autoload-bunfig",
  // A reluctant JIT: a small matrix's run is over before compiling would pay (1 ms of
  // 8 saved); cli/commands.ts sets the normal policy back for a large matrix.
  "--compile-jit-policy=8",
];
