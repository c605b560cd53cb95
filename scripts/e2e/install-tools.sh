#!/usr/bin/env bash
# Installs the real tools the end-to-end checks feed our outputs to (see
# ../shared/VALIDATORS.md), from Debian's archive only, into .cache/e2e where it can:
#   - docker buildx (Debian 13's docker-buildx, whose binary runs on Debian 12),
#     unpacked through a private apt configuration: the system's apt state is untouched;
#   - a docker engine, the same way: Debian 13's docker.io (dockerd 26.1), docker-cli,
#     containerd and tini (docker-init), unpacked into .cache/e2e/docker-engine, with
#     their commands linked in .cache/e2e/docker-engine/bin. Debian 13's runc needs
#     glibc 2.38: the engine uses Debian 12's runc from /usr/sbin, installed below.
#     scripts/e2e/docker-engine.ts starts it (no system service, no iptables);
#   - podman, runc, busybox-static, docker-registry, and skopeo, which the Makefile's
#     `make push DOCKER=podman` asks the registry with, and rsync, which gitlab-ci-local's
#     shell executor copies a checkout with (Debian 12 packages, as root);
#   - cosign, Debian 13's (a static binary), unpacked into .cache/e2e/cosign;
#   - shellcheck, the machine's own release's package, unpacked into .cache/e2e/shellcheck
#     (emitters/shellcheck.test.ts, part of npm test, finds it there). With the argument
#     `shellcheck`, only it: .ci/run installs it so before npm test.
# Idempotent: a second run reuses what is there. Prints, as its last line, the
# environment to use: NAME=VALUE pairs for `eval "export $(... | tail -n 1)"`.
set -euo pipefail
cd "$(dirname "$0")/../.."
cache="$PWD/.cache/e2e"
mkdir -p "$cache"
only="${1:-}"
case "$only" in "" | shellcheck) ;; *) echo "install-tools: no such tool group: $only (give none, or shellcheck)" >&2; exit 2 ;; esac

# --- shellcheck ------------------------------------------------------------------
# Its libraries (libgmp, libffi) are the release's own, so the release's package runs.
shellcheck_dir="$cache/shellcheck"
if ! command -v shellcheck >/dev/null 2>&1 && [ ! -x "$shellcheck_dir/usr/bin/shellcheck" ]; then
  rm -rf "$shellcheck_dir"
  mkdir -p "$shellcheck_dir/debs"
  # A machine whose package lists were never fetched knows no package: fetch them (as root) once.
  (cd "$shellcheck_dir/debs" && { apt-get -q download shellcheck >/dev/null 2>&1 || { apt-get -q update >/dev/null && apt-get -q download shellcheck >/dev/null; }; })
  dpkg -x "$shellcheck_dir"/debs/shellcheck_*.deb "$shellcheck_dir"
  "$shellcheck_dir/usr/bin/shellcheck" --version >/dev/null
fi
if [ "$only" = shellcheck ]; then
  printf 'PATH=%q\n' "$PATH:$shellcheck_dir/usr/bin"
  exit 0
fi

# --- a private apt configuration pointing at trixie ------------------------------
apt_root="$cache/apt"
trixie_ready=
trixie_apt() {
  [ -z "$trixie_ready" ] || return 0
  mkdir -p "$apt_root/lists/partial" "$apt_root/cache/archives/partial" "$apt_root/sources.list.d"
  : > "$apt_root/status"
  local uris
  uris=$(sed -n 's/^URIs:[[:space:]]*//p' /etc/apt/sources.list.d/debian.sources 2>/dev/null | grep -v security | head -n 1)
  uris=${uris:-$(awk '/^deb / && !/security/ {print $2; exit}' /etc/apt/sources.list 2>/dev/null)}
  [ -n "$uris" ] || { echo "install-tools: no Debian source found in /etc/apt" >&2; exit 1; }
  cat > "$apt_root/sources.list" <<SOURCES
deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $uris trixie main
SOURCES
  cat > "$apt_root/apt.conf" <<CONF
Dir::Etc::SourceList "$apt_root/sources.list";
Dir::Etc::SourceParts "$apt_root/sources.list.d";
Dir::State::Lists "$apt_root/lists";
Dir::Cache "$apt_root/cache";
Dir::State::status "$apt_root/status";
APT::Architecture "$(dpkg --print-architecture)";
APT::Sandbox::User "root";
CONF
  APT_CONFIG="$apt_root/apt.conf" apt-get -q update >/dev/null
  trixie_ready=1
}

# --- buildx ----------------------------------------------------------------------
buildx="$cache/docker-config/cli-plugins/docker-buildx"
if [ ! -x "$buildx" ]; then
  trixie_apt
  (cd "$apt_root" && APT_CONFIG="$apt_root/apt.conf" apt-get -q download docker-buildx >/dev/null)
  rm -rf "$apt_root/unpacked"
  dpkg -x "$apt_root"/docker-buildx_*.deb "$apt_root/unpacked"
  mkdir -p "$(dirname "$buildx")"
  ln -sf "$apt_root/unpacked/usr/libexec/docker/cli-plugins/docker-buildx" "$buildx"
fi

# --- a docker engine: dockerd, the docker CLI, containerd, docker-init -----------
engine="$cache/docker-engine"
# command in bin -> where the package puts it
engine_links=(
  dockerd:usr/sbin/dockerd
  docker-proxy:usr/sbin/docker-proxy
  docker:usr/bin/docker
  containerd:usr/bin/containerd
  containerd-shim-runc-v2:usr/bin/containerd-shim-runc-v2
  ctr:usr/bin/ctr
  docker-init:usr/bin/tini-static
)
engine_ready=1
for link in "${engine_links[@]}"; do [ -x "$engine/bin/${link%%:*}" ] || engine_ready=; done
if [ -z "$engine_ready" ]; then
  trixie_apt
  rm -rf "$engine/debs" "$engine/root" "$engine/bin"
  mkdir -p "$engine/debs" "$engine/bin"
  (cd "$engine/debs" && APT_CONFIG="$apt_root/apt.conf" apt-get -q download docker.io docker-cli containerd tini >/dev/null)
  for deb in "$engine/debs"/*.deb; do dpkg -x "$deb" "$engine/root"; done
  for link in "${engine_links[@]}"; do ln -s "$engine/root/${link#*:}" "$engine/bin/${link%%:*}"; done
  for link in "${engine_links[@]}"; do
    [ -x "$engine/bin/${link%%:*}" ] || { echo "install-tools: ${link#*:} is not in the downloaded packages" >&2; exit 1; }
  done
fi

# --- cosign: Debian 13's package (one static Go binary), unpacked into .cache/e2e/cosign:
# prune's end-to-end check signs images with a generated key pair and verifies them.
cosign_dir="$cache/cosign"
if ! command -v cosign >/dev/null 2>&1 && [ ! -x "$cosign_dir/usr/bin/cosign" ]; then
  trixie_apt
  rm -rf "$cosign_dir"
  mkdir -p "$cosign_dir/debs"
  (cd "$cosign_dir/debs" && APT_CONFIG="$apt_root/apt.conf" apt-get -q download cosign >/dev/null)
  dpkg -x "$cosign_dir"/debs/cosign_*.deb "$cosign_dir"
  "$cosign_dir/usr/bin/cosign" version >/dev/null 2>&1
fi

# --- podman and a registry, from the machine's own Debian release ----------------
need=()
for tool in podman runc busybox docker-registry skopeo rsync; do command -v "$tool" >/dev/null 2>&1 || need+=("$tool"); done
if [ ${#need[@]} -gt 0 ]; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get -q update >/dev/null
  apt-get -q install -y --no-install-recommends podman runc busybox-static docker-registry skopeo rsync >/dev/null
fi

# The last line: the docker CLI on PATH is the machine's own if it has one, else the
# engine's (appended); the e2e tests name the engine's dockerd and CLI by these paths.
path="$PATH"
case ":$path:" in *":$engine/bin:"*) ;; *) path="$path:$engine/bin" ;; esac
[ ! -d "$shellcheck_dir/usr/bin" ] || path="$path:$shellcheck_dir/usr/bin"
[ ! -d "$cosign_dir/usr/bin" ] || path="$path:$cosign_dir/usr/bin"
printf 'DOCKER_CONFIG=%q CALIBAN_E2E_DOCKERD=%q CALIBAN_E2E_DOCKER=%q PATH=%q\n' \
  "$cache/docker-config" "$engine/bin/dockerd" "$engine/bin/docker" "$path"
