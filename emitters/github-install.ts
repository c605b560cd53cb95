// How a job of the emitted workflow gets caliban-images: a pinned release's binary for
// the runner's platform (scripts/release.ts names them), checked against that release's
// SHA256SUMS, itself checked against a pinned digest when one is given. No binary is
// committed. `install-command` replaces the whole step.

import packageJson from "../package.json" with { type: "json" };
import type { OptionSpec } from "./contract.ts";
import { noExpressionProblem } from "./options.ts";
import { shellWord, yamlScalar } from "./quoting.ts";

/** Where this project's releases are: its repository's GitHub releases. */
export const RELEASES_URL = `${packageJson.repository.url}/releases/download`;

const VERSION_PATTERN = /^[0-9]+\.[0-9]+\.[0-9]+(-[0-9A-Za-z.-]+)?$/;

export const INSTALL_OPTIONS = {
  "install-command": {
    type: "string",
    default: "",
    description: "the shell command that puts caliban-images on the PATH of a job or step that runs it (the resolve job or step, the lock job); default: the pinned release below, checksum-verified",
    check: noExpressionProblem,
  },
  "caliban-images-version": {
    type: "string",
    default: packageJson.version,
    description: "the release of caliban-images such a job installs (default: this one's)",
    check: (value) => (VERSION_PATTERN.test(String(value)) ? undefined : `"${value}" is not a version such as ${packageJson.version}`),
  },
  "release-url": {
    type: "string",
    default: RELEASES_URL,
    description: "where the releases are (a fork's or a mirror's): RELEASE-URL/vVERSION/caliban-images-linux-x64 and SHA256SUMS",
    check: (value) => noExpressionProblem(value) ?? (/^https?:\/\/[^\s'"`\\]+$/.test(String(value)) ? undefined : "must be an http(s) URL"),
  },
  "cosign-install-command": {
    type: "string",
    default: "",
    description: "with [sign]: the shell command that puts cosign on the PATH of the jobs that sign or verify; default: the cosign release sigstore/cosign-installer pins, checksum-verified (GitHub: the installer itself)",
    check: noExpressionProblem,
  },
  "release-sha256sums": {
    type: "string",
    default: "",
    description: "the sha256 of that release's SHA256SUMS (64 hex digits, from its release page): pins every binary of it",
    check: (value) => (value === "" || /^[0-9a-f]{64}$/.test(String(value)) ? undefined : "must be 64 lowercase hex digits"),
  },
} satisfies Record<string, OptionSpec>;

export interface InstallOptions {
  "install-command": string;
  "cosign-install-command": string;
  "caliban-images-version": string;
  "release-url": string;
  "release-sha256sums": string;
}

/** The step, as the lines of a job's `steps:` list (indented by the caller). */
export function installStep(options: InstallOptions): string[] {
  if (options["install-command"].trim() !== "") return ["- name: Install caliban-images", `  run: ${yamlScalar(options["install-command"])}`];
  return [
    `- name: Install caliban-images ${options["caliban-images-version"]}`,
    "  run: |",
    ...[...installScript(options, '"$RUNNER_TEMP/caliban-images"', true), 'echo "$RUNNER_TEMP/caliban-images" >> "$GITHUB_PATH"'].map((line) => `    ${line}`),
  ];
}

/**
 * Bash lines that download the pinned release's binary for this machine into `directory`
 * (a shell word) as `caliban-images`, each file checked with sha256sum: the runner's
 * binary against SHA256SUMS, SHA256SUMS against the pin when one is given. Every CI that
 * runs caliban-images installs it so (GitHub's jobs, Cloud Build's resolve step, GitLab's resolve job); `annotate`: GitHub's ::error:: form.
 */
export function installScript(options: InstallOptions, directory: string, annotate = false): string[] {
  const base = `${options["release-url"].replace(/\/+$/, "")}/v${options["caliban-images-version"]}`;
  const pin = options["release-sha256sums"];
  return [
    `base=${shellWord(base)}`,
    'case "$(uname -s)-$(uname -m)" in',
    "  Linux-x86_64) binary=caliban-images-linux-x64 ;;",
    "  Linux-aarch64 | Linux-arm64) binary=caliban-images-linux-arm64 ;;",
    // GitHub shows an ::error:: line as an annotation; any other CI's log shows the line as it is.
    `  *) echo "${annotate ? "::error::" : "error: "}caliban-images has no release binary for $(uname -s) $(uname -m)"${annotate ? "" : " >&2"}; exit 1 ;;`,
    "esac",
    `mkdir -p ${directory}`,
    `cd ${directory}`,
    'curl -fsSL --retry 3 -o SHA256SUMS "$base/SHA256SUMS"',
    ...(pin === "" ? [] : [`echo ${shellWord(`${pin}  SHA256SUMS`)} | sha256sum --check --strict`]),
    'curl -fsSL --retry 3 -o "$binary" "$base/$binary"',
    'grep -E "^[0-9a-f]{64}  $binary\\$" SHA256SUMS | sha256sum --check --strict',
    'chmod +x "$binary"',
    'mv "$binary" caliban-images',
  ];
}
