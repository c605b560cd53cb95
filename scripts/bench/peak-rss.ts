// Prints the peak RSS, in bytes, of the command given as arguments. Run as a fresh
// process per measurement: Bun reports the largest of all the children a process has
// waited for, so only a parent with this one child gives this child's figure. Exits
// with the command's exit code, for the caller to check.
const result = Bun.spawnSync(process.argv.slice(2), { stdout: "ignore", stderr: "ignore", cwd: process.cwd() });
console.log(result.resourceUsage.maxRSS);
process.exit(result.exitCode ?? 1);
