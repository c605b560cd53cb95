// How a CI job without an action for it gets cosign (Cloud Build's steps, GitLab's and
// Buildkite's jobs): the release sigstore/cosign-installer pins, downloaded from
// cosign's GitHub releases and checked against the sha256 that installer carries for
// it (action.yml of v4.1.2, "bootstrap_*_sha"). GitHub's jobs use the installer itself
// (emitters/github-actions.ts). cosign 3 signs in Sigstore's bundle format.

import { shellWord } from "./quoting.ts";

export const COSIGN_RELEASE = {
  version: "v3.0.6",
  sha256: {
    "linux-amd64": "c956e5dfcac53d52bcf058360d579472f0c1d2d9b69f55209e256fe7783f4c74",
    "linux-arm64": "bedac92e8c3729864e13d4a17048007cfafa79d5deca993a43a90ffe018ef2b8",
  },
} as const;

/** Bash lines that put the pinned cosign for this machine in `directory` (a shell word), checked with sha256sum. */
export function cosignInstallScript(directory: string): string[] {
  const base = `https://github.com/sigstore/cosign/releases/download/${COSIGN_RELEASE.version}`;
  return [
    'case "$(uname -s)-$(uname -m)" in',
    `  Linux-x86_64) cosign_binary=cosign-linux-amd64 cosign_sha256=${COSIGN_RELEASE.sha256["linux-amd64"]} ;;`,
    `  Linux-aarch64 | Linux-arm64) cosign_binary=cosign-linux-arm64 cosign_sha256=${COSIGN_RELEASE.sha256["linux-arm64"]} ;;`,
    '  *) echo "error: no pinned cosign for $(uname -s) $(uname -m)" >&2; exit 1 ;;',
    "esac",
    `mkdir -p ${directory}`,
    `(`,
    `  cd ${directory}`,
    `  curl -fsSL --retry 3 -o cosign.new ${shellWord(base)}/"$cosign_binary"`,
    '  echo "$cosign_sha256  cosign.new" | sha256sum --check --strict --quiet',
    "  chmod +x cosign.new",
    "  mv cosign.new cosign",
    ")",
  ];
}

/**
 * The commands that put cosign on the PATH: the cosign-install-command when given, else the
 * pinned release, in a folder named by its version (a later step, or job on the same
 * machine, finds it there and downloads nothing).
 */
export function cosignInstallCommands(options: { readonly "cosign-install-command": string }): string[] {
  if (options["cosign-install-command"].trim() !== "") return [options["cosign-install-command"]];
  const directory = `"$HOME/.caliban-images/cosign-${COSIGN_RELEASE.version}"`;
  return [`if [ ! -x ${directory}/cosign ]; then`, ...cosignInstallScript(directory).map((line) => `  ${line}`), "fi", `export PATH=${directory}:"$PATH"`];
}
