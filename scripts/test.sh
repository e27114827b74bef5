#!/usr/bin/env bash
# Runs every test of the workspace, with the real peer tools the tests compare against.
# Installs missing peers from Debian's packages (as root, or with sudo), then makes their
# absence a failure rather than a skip (STRATA_REQUIRE_TOOLS=1).
set -euo pipefail
cd "$(dirname "$0")/.."

# Debian package that provides each required command.
declare -A PKG=([promtool]=prometheus [prometheus]=prometheus)
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
[ -d ../shared/testdata ] || { echo "test.sh: ../shared (test data) must sit beside the repository" >&2; exit 1; }

export STRATA_REQUIRE_TOOLS=1
exec cargo test --workspace "$@"
