#!/usr/bin/env bash
# Bring up the services procctl's Docker tests need, idempotently:
#   1. docker.io + docker-registry (Debian packages) installed
#   2. dockerd answering on /var/run/docker.sock
#   3. an OCI registry (Debian's docker-registry) on http://127.0.0.1:5000
# Safe to run again: anything already answering is left alone.
# Logs and state: $PROCCTL_CI_DIR (default /tmp/procctl-ci).
set -euo pipefail

CI_DIR=${PROCCTL_CI_DIR:-/tmp/procctl-ci}
REGISTRY_ADDR=${PROCCTL_REGISTRY_ADDR:-127.0.0.1:5000}
mkdir -p "$CI_DIR"

log() { echo "services: $*" >&2; }
now_ms() { echo $(( $(date +%s%N) / 1000000 )); }
# wait_until NAME SECONDS LOG CHECK...: poll CHECK until it succeeds; on time-out show LOG's tail.
wait_until() {
  local name=$1 limit=$2 logfile=$3 start=$SECONDS t0
  shift 3
  t0=$(now_ms)
  until "$@"; do
    if (( SECONDS - start >= limit )); then
      log "$name did not answer within ${limit}s; last log lines:"
      tail -n 40 "$logfile" >&2
      exit 1
    fi
    sleep 0.2
  done
  log "$name up after $(( $(now_ms) - t0 ))ms"
}

# apt and dockerd need root; use sudo when the script runs as someone else.
SUDO=
[ "$(id -u)" = 0 ] || SUDO=sudo

# --- 1. packages ------------------------------------------------------------
missing=()
command -v dockerd >/dev/null || missing+=(docker.io)
command -v docker-registry >/dev/null || missing+=(docker-registry)
command -v curl >/dev/null || missing+=(curl)   # used for the readiness probes below
/usr/bin/python3 -c 'import websockets' 2>/dev/null || missing+=(python3-websockets)   # test/protocol/python-runtime.test.ts
if [ ${#missing[@]} -gt 0 ]; then
  log "installing ${missing[*]}"
  $SUDO apt-get update -q
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}"
fi

# --- 2. dockerd -------------------------------------------------------------
docker_up() { docker version >/dev/null 2>&1; }

if docker_up; then
  log "dockerd already answering"
else
  log "starting dockerd (log: $CI_DIR/dockerd.log)"
  # No flags: the defaults work in these VMs (checked: overlay2 on ext4, nft
  # iptables, cgroup v1). iptables must stay on: `--internal` networks are
  # enforced by its FORWARD rules. dockerd picks the storage driver itself and
  # only falls back (to vfs at worst) where overlay2 is unsupported; that path is
  # not exercised here. Escape hatch: PROCCTL_DOCKERD_ARGS, e.g.
  # "--storage-driver=vfs", or "--iptables=false" for a sandbox without
  # netfilter (then Docker installs no isolation rules for internal networks).
  # setsid: detach from this shell's process group so CI job cleanup does not kill it.
  # shellcheck disable=SC2086
  $SUDO setsid dockerd ${PROCCTL_DOCKERD_ARGS:-} >>"$CI_DIR/dockerd.log" 2>&1 </dev/null &
  wait_until "dockerd" 60 "$CI_DIR/dockerd.log" docker_up
fi
# Non-root callers need the socket; CI runs as root so this is usually a no-op.
[ "$(id -u)" = 0 ] || $SUDO chmod 666 /var/run/docker.sock

# --- 3. registry --------------------------------------------------------------
# Only a 200 counts: Debian's packaged config turns on htpasswd auth (401), and
# a registry that wants auth is not the one tests can push to anonymously.
registry_code() { curl -s -o /dev/null -w '%{http_code}' --max-time 2 "http://$REGISTRY_ADDR/v2/" || true; }
registry_ready() { [ "$(registry_code)" = 200 ]; }

code=$(registry_code)
if [ "$code" = 401 ] && [ -x /etc/init.d/docker-registry ]; then
  # On a machine without a policy-rc.d, apt's postinst starts Debian's own
  # service (htpasswd auth, all interfaces). Stop it; ours replaces it. The init
  # script is called directly because invoke-rc.d may be denied by policy.
  log "stopping Debian's docker-registry service (it answers 401)"
  { command -v systemctl >/dev/null && $SUDO systemctl stop docker-registry 2>/dev/null; } \
    || $SUDO /etc/init.d/docker-registry stop || true
  for _ in 1 2 3 4 5 6 7 8 9 10; do code=$(registry_code); [ "$code" = 000 ] && break; sleep 0.3; done
fi
if [ "$code" = 200 ]; then
  log "registry already answering on $REGISTRY_ADDR"
elif [ "$code" != 000 ]; then
  log "something on $REGISTRY_ADDR answers /v2/ with HTTP $code, not an anonymous registry; stop it and rerun"
  exit 1
else
  mkdir -p "$CI_DIR/registry"
  # Our own config instead of /etc/docker/registry/config.yml: loopback only, no
  # auth, storage under $CI_DIR, deletes allowed (tests may clean up manifests).
  cat > "$CI_DIR/registry.yml" <<YAML
version: 0.1
log:
  level: info
  fields:
    service: registry
storage:
  filesystem:
    rootdirectory: $CI_DIR/registry
  delete:
    enabled: true
  cache:
    blobdescriptor: inmemory
http:
  addr: $REGISTRY_ADDR
  headers:
    X-Content-Type-Options: [nosniff]
YAML
  log "starting docker-registry on $REGISTRY_ADDR (log: $CI_DIR/registry.log)"
  setsid docker-registry serve "$CI_DIR/registry.yml" >>"$CI_DIR/registry.log" 2>&1 </dev/null &
  wait_until "registry" 30 "$CI_DIR/registry.log" registry_ready
fi
# 127.0.0.0/8 registries are trusted over plain HTTP by dockerd's defaults,
# so no --insecure-registry flag is needed to push/pull $REGISTRY_ADDR.
