// Prints the peak RSS, in bytes, of the command given as arguments. Run as a fresh
// process per measurement: Bun reports the largest of all the children a process has
// waited for, so only a parent with this one child gives this child's figure.
const result = Bun.spawnSync(process.argv.slice(2), { stdout: "ignore", stderr: "ignore", cwd: process.cwd() });
if (result.exitCode !== 0) process.exit(result.exitCode ?? 1);
console.log(result.resourceUsage.maxRSS);
