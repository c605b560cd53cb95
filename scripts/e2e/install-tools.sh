#!/usr/bin/env bash
# Installs the real tools the end-to-end checks feed our outputs to (see
# ../shared/VALIDATORS.md), from Debian's archive only, into .cache/e2e where it can:
#   - docker buildx (Debian 13's docker-buildx, whose binary runs on Debian 12),
#     unpacked through a private apt configuration: the system's apt state is untouched;
#   - podman, runc, busybox-static, docker-registry, and skopeo, which the Makefile's
#     `make push DOCKER=podman` asks the registry with (Debian 12 packages, as root).
# Idempotent: a second run reuses what is there. Prints the environment to use.
set -euo pipefail
cd "$(dirname "$0")/../.."
cache="$PWD/.cache/e2e"
mkdir -p "$cache"

# --- buildx, through a private apt configuration pointing at trixie -------------
buildx="$cache/docker-config/cli-plugins/docker-buildx"
if [ ! -x "$buildx" ]; then
  apt_root="$cache/apt"
  mkdir -p "$apt_root/lists/partial" "$apt_root/cache/archives/partial" "$apt_root/sources.list.d"
  : > "$apt_root/status"
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
CONF
  export APT_CONFIG="$apt_root/apt.conf"
  apt-get -q update >/dev/null
  (cd "$apt_root" && apt-get -q download docker-buildx >/dev/null)
  rm -rf "$apt_root/unpacked"
  dpkg -x "$apt_root"/docker-buildx_*.deb "$apt_root/unpacked"
  unset APT_CONFIG
  mkdir -p "$(dirname "$buildx")"
  ln -sf "$apt_root/unpacked/usr/libexec/docker/cli-plugins/docker-buildx" "$buildx"
fi

# --- podman and a registry, from the machine's own Debian release ----------------
need=()
for tool in podman runc busybox docker-registry skopeo; do command -v "$tool" >/dev/null 2>&1 || need+=("$tool"); done
if [ ${#need[@]} -gt 0 ]; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get -q update >/dev/null
  apt-get -q install -y --no-install-recommends podman runc busybox-static docker-registry skopeo >/dev/null
fi

echo "DOCKER_CONFIG=$cache/docker-config"
