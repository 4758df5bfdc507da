#!/usr/bin/env bash
# Build procctl/node-base:20 FROM scratch out of this host's node and its libraries.
#   images/base/build.sh            # build and tag procctl/node-base:20
#   images/base/build.sh --push     # also push to $REGISTRY (127.0.0.1:5000) and print the digest ref
# Needs a running dockerd (.ci/services.sh) and, for --push, the local registry.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=../lib/rootfs.sh
. "$here/../lib/rootfs.sh"

TAG=${TAG:-procctl/node-base:20}
REGISTRY=${REGISTRY:-127.0.0.1:5000}
# Shell + basics the executor needs for shell_command; ~2 MB next to node's ~95 MB.
# The ones from coreutils/grep/sed pull in libselinux/libpcre2/libacl (small).
TOOLS=(bash cat ls env sleep mkdir rm cp mv ln chmod touch id uname head tail wc sort seq tr cut tee dirname basename mktemp date grep sed true false)

push=0
[ "${1:-}" = "--push" ] && push=1

node_bin=$(readlink -f "$(command -v node)")
node_version=$("$node_bin" -p 'process.versions.node')
case $node_version in 20.*) ;; *) echo "build.sh: host node is $node_version, tag says 20" >&2; exit 1;; esac

ctx=$(mktemp -d /tmp/procctl-node-base.XXXXXX)
trap 'rm -rf "$ctx"' EXIT
root=$ctx/rootfs
mkdir -p "$ctx/home"

rootfs_init "$root"
rootfs_add_bin "$root" "$node_bin" "${TOOLS[@]}"
# /bin/sh is what `sh -c` and many tools exec; bash serves as sh here (no dash).
ln -s bash "$root/usr/bin/sh"
# Node ships its own CA store; the system bundle is for --use-openssl-ca / other tools.
[ -d /etc/ssl/certs ] && rootfs_add_file "$root" /etc/ssl/certs
rootfs_finish "$root"
rootfs_finish "$ctx/home"
cp "$here/Dockerfile" "$ctx/Dockerfile"

# Classic builder on purpose: it is what the Engine API /build at v1.41 gives our
# code, it needs no buildx plugin (Debian's docker.io ships none), and CLI 28's
# default would try BuildKit/buildx.
start=$(date +%s%N)
DOCKER_BUILDKIT=0 docker build -q \
  --label "org.opencontainers.image.title=procctl node base" \
  --label "procctl.node-version=$node_version" \
  -t "$TAG" "$ctx" >/dev/null
end=$(date +%s%N)
printf 'built %s (node %s, %s) in %.1fs\n' "$TAG" "$node_version" \
  "$(docker image inspect -f '{{.Size}}' "$TAG" | awk '{printf "%.0f MB", $1/1e6}')" \
  "$(( (end - start) / 1000000 ))e-3" >&2

# Smoke test: node starts as the unprivileged user and bash runs.
docker run --rm --network none "$TAG" node -e 'if (process.getuid() !== 10001) process.exit(3)'
docker run --rm --network none "$TAG" sh -c 'true'

if [ $push = 1 ]; then
  remote="$REGISTRY/$TAG"
  docker tag "$TAG" "$remote"
  docker push -q "$remote" >/dev/null
  # RepoDigests holds name@sha256:<manifest digest> as the registry stores it.
  docker image inspect -f '{{range .RepoDigests}}{{println .}}{{end}}' "$remote" | grep -m1 "^$REGISTRY/${TAG%:*}@"
fi
