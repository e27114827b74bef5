#!/usr/bin/env bash
# Runs every test of the workspace, with the real peer tools the tests compare against.
# Installs missing peers from Debian's packages (as root, or with sudo), then makes their
# absence a failure rather than a skip (STRATA_REQUIRE_TOOLS=1).
set -euo pipefail
cd "$(dirname "$0")/.."

# Debian package that provides each required command.
declare -A PKG=([promtool]=prometheus [prometheus]=prometheus [prometheus-node-exporter]=prometheus-node-exporter [victoria-metrics]=victoria-metrics)
missing=()
for cmd in "${!PKG[@]}"; do
  command -v "$cmd" >/dev/null 2>&1 || missing+=("${PKG[$cmd]}")
done
if [ ${#missing[@]} -gt 0 ]; then
  mapfile -t missing < <(printf '%s\n' "${missing[@]}" | sort -u)
  echo "test.sh: installing ${missing[*]} (Debian packages)"
  if [ "$(id -u)" = 0 ]; then SUDO=(); else SUDO=(sudo); fi
  "${SUDO[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${SUDO[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
for cmd in "${!PKG[@]}"; do
  command -v "$cmd" >/dev/null 2>&1 || { echo "test.sh: required tool '$cmd' is missing" >&2; exit 1; }
done
# moto (PyPI `moto[server]`): a local S3 API server for the object-storage tests. Installed
# once into a virtualenv outside the repository; only its `moto_server` goes on PATH.
MOTO_VERSION=5.2.5
TOOLS_DIR="${STRATA_TOOLS_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/strata-tools}"
if ! command -v moto_server >/dev/null 2>&1; then
  if [ ! -x "$TOOLS_DIR/bin/moto_server" ]; then
    echo "test.sh: installing moto[server]==$MOTO_VERSION into $TOOLS_DIR/moto-venv (PyPI)"
    if ! python3 -m venv "$TOOLS_DIR/moto-venv" >/dev/null 2>&1; then
      if [ "$(id -u)" = 0 ]; then SUDO=(); else SUDO=(sudo); fi
      "${SUDO[@]}" apt-get update -qq
      DEBIAN_FRONTEND=noninteractive "${SUDO[@]}" apt-get install -y -qq --no-install-recommends python3-venv >/dev/null
      rm -rf "$TOOLS_DIR/moto-venv"
      python3 -m venv "$TOOLS_DIR/moto-venv"
    fi
    "$TOOLS_DIR/moto-venv/bin/pip" install -q --disable-pip-version-check "moto[server]==$MOTO_VERSION"
    mkdir -p "$TOOLS_DIR/bin"
    ln -sf "$TOOLS_DIR/moto-venv/bin/moto_server" "$TOOLS_DIR/bin/moto_server"
  fi
  export PATH="$TOOLS_DIR/bin:$PATH"
fi
command -v moto_server >/dev/null 2>&1 || { echo "test.sh: required tool 'moto_server' is missing" >&2; exit 1; }

[ -d ../shared/testdata ] || { echo "test.sh: ../shared (test data) must sit beside the repository" >&2; exit 1; }

export STRATA_REQUIRE_TOOLS=1
exec cargo test --workspace "$@"
