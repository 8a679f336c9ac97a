#!/usr/bin/env bash
# System tools some tests need beyond a Rust toolchain, installed from Debian when missing.
#   source ci/deps.sh && ensure_test_tools     (what ci/test.sh does)
#   bash ci/deps.sh                            (the same, by hand)
# xmllint (libxml2-utils) validates `lockproof check --format junit` against the JUnit XSD
# (harness/cli/tests/junit.rs); chromium renders the HTML reports headless
# (harness/cli/tests/browser.rs). Those tests fail, never skip, when a tool is missing.

_apt_updated=0

# ensure_cmd COMMAND PACKAGE: install Debian's PACKAGE unless COMMAND is already on PATH.
ensure_cmd() {
  local cmd=$1 pkg=$2
  if command -v "$cmd" >/dev/null 2>&1; then
    return 0
  fi
  local sudo=()
  if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1; then
      sudo=(sudo)
    else
      echo "ci/deps.sh: $cmd is missing and this is not root (no sudo): install the Debian package $pkg" >&2
      return 1
    fi
  fi
  if ! command -v apt-get >/dev/null 2>&1; then
    echo "ci/deps.sh: $cmd is missing and there is no apt-get: install $pkg (Debian's name)" >&2
    return 1
  fi
  echo "== installing $pkg (for $cmd)"
  if [ "$_apt_updated" -eq 0 ]; then
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq
    _apt_updated=1
  fi
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive \
    apt-get install -y -qq --no-install-recommends "$pkg"
  command -v "$cmd" >/dev/null 2>&1 || {
    echo "ci/deps.sh: installed $pkg but $cmd is still not on PATH" >&2
    return 1
  }
}

ensure_test_tools() {
  ensure_cmd xmllint libxml2-utils
  ensure_cmd chromium chromium
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
  set -euo pipefail
  ensure_test_tools
fi
