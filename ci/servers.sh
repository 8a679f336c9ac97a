#!/usr/bin/env bash
# The real servers and build tools the lockproof-distributed-coord tests need, installed from
# Debian when missing:
#   source ci/servers.sh && ensure_coord_servers     (what ci/test.sh does)
#   bash ci/servers.sh                               (the same, by hand)
# zookeeper (ZooKeeper 3.8 on a Java runtime) and etcd-server (etcd 3.4) are only installed here:
# the tests start private instances on free loopback ports with data in temporary directories
# (distributed-coord/src/testing.rs) and kill them when done. The Debian packages may also start
# system services on the default ports; the tests never use those.
# protobuf-compiler (protoc) and libprotobuf-dev (the well-known .proto files) are needed to
# build the etcd-client crate. The tests fail, never skip, when a server binary is missing.

# coord_missing: the packages of this list whose files are not installed.
coord_missing() {
  local pkg missing=()
  for pkg in zookeeper etcd-server protobuf-compiler libprotobuf-dev; do
    if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed'; then
      missing+=("$pkg")
    fi
  done
  echo "${missing[@]}"
}

ensure_coord_servers() {
  local missing
  missing=$(coord_missing)
  if [ -z "$missing" ]; then
    return 0
  fi
  local sudo=()
  if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1; then
      sudo=(sudo)
    else
      echo "ci/servers.sh: missing Debian packages ($missing) and this is not root (no sudo)" >&2
      return 1
    fi
  fi
  if ! command -v apt-get >/dev/null 2>&1; then
    echo "ci/servers.sh: missing Debian packages ($missing) and there is no apt-get" >&2
    return 1
  fi
  echo "== installing $missing"
  local start=$SECONDS
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  # shellcheck disable=SC2086 # the list is split into package names on purpose
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive \
    apt-get install -y -qq --no-install-recommends $missing
  echo "== installed in $((SECONDS - start)) s"
  missing=$(coord_missing)
  if [ -n "$missing" ]; then
    echo "ci/servers.sh: still missing after apt-get install: $missing" >&2
    return 1
  fi
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
  set -euo pipefail
  ensure_coord_servers
fi
