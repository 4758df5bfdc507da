#!/usr/bin/env bash
# Build the llmctl-executor image.
#
#   app/llmctl-executor/build-executor.sh
#
# Build arguments (environment variables), as in the executor spec:
#   IMAGE_NAME=llmctl-executor:latest
#   EXECUTOR_BASE_IMAGE=procctl/node-base:20   base providing node >= 20 and bash
#   INSTALL_CLAUDE=true|false (default true)   Claude Code CLI from the npm registry
#   INSTALL_VLLM=true|false   (default false)  vLLM from PyPI into /opt/venv
#   VENV_SYSTEM_SITE_PACKAGES=true|false (default false)  /opt/venv sees the base's packages
#   CLAUDE_CODE_VERSION=latest                 npm version/tag of @anthropic-ai/claude-code
#
# Defaults that differ from the upstream spec, because they must build on machines that reach
# only the npm registry and Debian's archive (see docs/executor.md):
#   - EXECUTOR_BASE_IMAGE is procctl/node-base:20 (built here FROM scratch by
#     images/base/build.sh), not nvidia/cuda:…: no public image registry is reachable.
#   - INSTALL_VLLM defaults to false: vLLM comes from PyPI, which is not reachable here.
# Asking for what cannot be fetched fails before building, saying what is missing.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)

IMAGE_NAME=${IMAGE_NAME:-llmctl-executor:latest}
DEFAULT_BASE=procctl/node-base:20
EXECUTOR_BASE_IMAGE=${EXECUTOR_BASE_IMAGE:-$DEFAULT_BASE}
INSTALL_CLAUDE=${INSTALL_CLAUDE:-true}
INSTALL_VLLM=${INSTALL_VLLM:-false}
VENV_SYSTEM_SITE_PACKAGES=${VENV_SYSTEM_SITE_PACKAGES:-false}
CLAUDE_CODE_VERSION=${CLAUDE_CODE_VERSION:-latest}

die() { echo "build-executor: $*" >&2; exit 1; }
log() { echo "build-executor: $*" >&2; }

for var in INSTALL_CLAUDE INSTALL_VLLM VENV_SYSTEM_SITE_PACKAGES; do
  case ${!var} in true|false) ;; *) die "$var must be true or false, got '${!var}'";; esac
done
command -v docker >/dev/null || die "docker CLI not found"
docker version >/dev/null 2>&1 || die "no Docker engine answers (start it with .ci/services.sh)"

# --- base image ----------------------------------------------------------------------------
# An image name whose first component has a dot, a colon or is localhost names a registry we
# may be able to reach (e.g. 127.0.0.1:5000/…); anything else would come from Docker Hub.
has_registry_host() { local first=${1%%/*}; [[ $1 == */* && ( $first == *.* || $first == *:* || $first == localhost ) ]]; }

if ! docker image inspect "$EXECUTOR_BASE_IMAGE" >/dev/null 2>&1; then
  if [ "$EXECUTOR_BASE_IMAGE" = "$DEFAULT_BASE" ]; then
    log "base $DEFAULT_BASE missing; building it with images/base/build.sh"
    bash "$repo/images/base/build.sh"
  elif has_registry_host "$EXECUTOR_BASE_IMAGE"; then
    docker pull -q "$EXECUTOR_BASE_IMAGE" >/dev/null ||
      die "cannot pull base image $EXECUTOR_BASE_IMAGE from its registry"
  else
    die "base image $EXECUTOR_BASE_IMAGE is not present locally and cannot be fetched: public image registries (Docker Hub, nvcr.io, …) are not reachable from this machine. Load it with 'docker load', or use the default EXECUTOR_BASE_IMAGE=$DEFAULT_BASE"
  fi
fi

# The executor is a Node program: the base must bring node >= 20 (and bash for shell_command).
base_node=$(docker run --rm --network none --entrypoint node "$EXECUTOR_BASE_IMAGE" -p 'process.versions.node' 2>/dev/null) ||
  die "base image $EXECUTOR_BASE_IMAGE has no working 'node'; the executor needs Node.js >= 20 in the base (procctl/node-base:20 has it)"
[ "${base_node%%.*}" -ge 20 ] || die "base image $EXECUTOR_BASE_IMAGE has node $base_node; the executor needs >= 20"
docker run --rm --network none --entrypoint bash "$EXECUTOR_BASE_IMAGE" -c true >/dev/null 2>&1 ||
  die "base image $EXECUTOR_BASE_IMAGE has no bash; shell_command payloads need it"

needs_venv=false
if [ "$INSTALL_VLLM" = true ] || [ "$VENV_SYSTEM_SITE_PACKAGES" = true ]; then
  needs_venv=true
  docker run --rm --network none --entrypoint python3 "$EXECUTOR_BASE_IMAGE" -c 'import venv' >/dev/null 2>&1 ||
    die "INSTALL_VLLM=$INSTALL_VLLM VENV_SYSTEM_SITE_PACKAGES=$VENV_SYSTEM_SITE_PACKAGES need python3 with venv in the base image, and $EXECUTOR_BASE_IMAGE has none. vLLM itself is installed from PyPI, which this machine cannot reach: use INSTALL_VLLM=false, or a base with vLLM preinstalled plus VENV_SYSTEM_SITE_PACKAGES=true"
fi

# --- stage the build context -----------------------------------------------------------------
[ -f "$repo/dist/src/cli/llmctl-executor.js" ] || die "dist/ not built; run 'npm run build' first"
ctx=$(mktemp -d /tmp/llmctl-executor-build.XXXXXX)
trap 'rm -rf "$ctx"' EXIT
opt=$ctx/rootfs/opt/llmctl-executor
mkdir -p "$opt/dist/src/cli" "$opt/bin"
# Only the executor's compiled modules and the two it shares with procctl — its --version and the
# I-JSON payload check, with that check's one dependency (jsonc-parser, no dependencies of its own).
(cd "$repo/dist/src" && find executor -name '*.js' -print0 | xargs -0 cp --parents -t "$opt/dist/src")
mkdir -p "$opt/dist/src/contracts" "$opt/node_modules"
cp "$repo/dist/src/cli/llmctl-executor.js" "$repo/dist/src/cli/version.js" "$opt/dist/src/cli/"
cp "$repo/dist/src/contracts/i-json.js" "$opt/dist/src/contracts/"
cp -r "$repo/node_modules/jsonc-parser" "$opt/node_modules/"
chmod 0755 "$opt/dist/src/cli/llmctl-executor.js"
version=$(node -p "require('$repo/package.json').version")
printf '{"name":"llmctl-executor-image","version":"%s","private":true,"type":"module"}\n' "$version" > "$opt/package.json"
ln -s ../dist/src/cli/llmctl-executor.js "$opt/bin/llmctl-executor"

if [ "$INSTALL_CLAUDE" = true ]; then
  # Installed with the host's npm (the npm registry is reachable; the build container may not
  # be). The package ships a native binary per platform as an optional dependency.
  log "fetching @anthropic-ai/claude-code@$CLAUDE_CODE_VERSION from the npm registry"
  claude=$ctx/rootfs/opt/claude
  mkdir -p "$claude/bin"
  npm install --prefix "$claude" --no-save --no-audit --no-fund --loglevel=error \
      "@anthropic-ai/claude-code@$CLAUDE_CODE_VERSION" >/dev/null 2>"$ctx/npm.log" ||
    { cat "$ctx/npm.log" >&2; die "INSTALL_CLAUDE=true: cannot fetch @anthropic-ai/claude-code@$CLAUDE_CODE_VERSION from the npm registry"; }
  exe=$(readlink -f "$claude/node_modules/.bin/claude") || die "INSTALL_CLAUDE=true: the npm package has no 'claude' bin"
  ln -s "../node_modules/.bin/claude" "$claude/bin/claude"
  # Its binary may need libraries the base lacks (librt, …): add them at their host paths.
  # shellcheck source=../../images/lib/rootfs.sh
  . "$repo/images/lib/rootfs.sh"
  if [ "$EXECUTOR_BASE_IMAGE" = "$DEFAULT_BASE" ] && head -c 4 "$exe" | grep -q ELF; then
    for lib in $(rootfs_libs_of "$exe"); do _rootfs_copy "$ctx/rootfs" "$lib"; done
  fi
fi
cp "$here/Dockerfile" "$ctx/Dockerfile"

# Classic builder, as for the base image: no buildx plugin here, and Engine API v1.41 semantics.
log "building $IMAGE_NAME from $EXECUTOR_BASE_IMAGE (INSTALL_CLAUDE=$INSTALL_CLAUDE INSTALL_VLLM=$INSTALL_VLLM VENV_SYSTEM_SITE_PACKAGES=$VENV_SYSTEM_SITE_PACKAGES)"
DOCKER_BUILDKIT=0 docker build -q \
  --build-arg "EXECUTOR_BASE_IMAGE=$EXECUTOR_BASE_IMAGE" \
  --build-arg "INSTALL_CLAUDE=$INSTALL_CLAUDE" \
  -t "$IMAGE_NAME" "$ctx" >/dev/null

if [ "$needs_venv" = true ]; then
  base_user=$(docker image inspect -f '{{.Config.User}}' "$EXECUTOR_BASE_IMAGE")
  mkdir -p "$ctx/vllm"
  cp "$here/Dockerfile.vllm" "$ctx/vllm/Dockerfile"
  DOCKER_BUILDKIT=0 docker build -q \
    --build-arg "EXECUTOR_IMAGE=$IMAGE_NAME" \
    --build-arg "INSTALL_VLLM=$INSTALL_VLLM" \
    --build-arg "VENV_SYSTEM_SITE_PACKAGES=$VENV_SYSTEM_SITE_PACKAGES" \
    --build-arg "RESTORE_USER=${base_user:-root}" \
    -t "$IMAGE_NAME" "$ctx/vllm" >/dev/null
fi

# Cheap self-check: the entrypoint starts and answers --help.
docker run --rm --network none "$IMAGE_NAME" --help >/dev/null ||
  die "built $IMAGE_NAME but its entrypoint does not start"
log "built $IMAGE_NAME ($(docker image inspect -f '{{.Size}}' "$IMAGE_NAME" | awk '{printf "%.0f MB", $1/1e6}'))"
echo "$IMAGE_NAME"
