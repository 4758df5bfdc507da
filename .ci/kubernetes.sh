#!/usr/bin/env bash
# A real single-node Kubernetes (v1.20.2) on 127.0.0.1 for procctl's Kubernetes tests, and for users
# who want one locally. Idempotent, safe to rerun like .ci/services.sh:
#   bash .ci/kubernetes.sh [start]       build once (cached), start what is not running, wait for Ready
#   bash .ci/kubernetes.sh stop          stop what this script started and remove the kubelet's pods
#   bash .ci/kubernetes.sh apiserver PORT  a second API server in the foreground (the tests' "API lost" case)
#   bash .ci/kubernetes.sh status        show which components answer
# The binaries are built from Debian 12's own source package (the only Kubernetes this sandbox can
# get; see ../shared/research/kubernetes.md) with three kubelet patches the sandbox needs, into
# $PROCCTL_K8S_CACHE/<version>-<patch hash>, and rebuilt only when that directory is missing.
# Runtime: Docker through the kubelet's dockershim (dockerd comes from .ci/services.sh).
# Kubeconfig: $PROCCTL_K8S_DIR/kubeconfig (default /var/lib/procctl-k8s/kubeconfig).
set -euo pipefail

K8S_SRC_VERSION=${PROCCTL_K8S_SRC_VERSION:-1.20.5+really1.20.2-1.1+deb12u1}
K8S_GIT_VERSION=v1.20.2
CACHE_ROOT=${PROCCTL_K8S_CACHE:-/var/cache/procctl-k8s}
STATE=${PROCCTL_K8S_DIR:-/var/lib/procctl-k8s}
BUILD_ROOT=${PROCCTL_K8S_BUILD_DIR:-/var/tmp/procctl-k8s-build}
ETCD_CLIENT_PORT=23790
ETCD_PEER_PORT=23800
API_PORT=6443
NODE_NAME=procctl-node
PAUSE_IMAGE=procctl/k8s-pause:3.4.1
KUBECONFIG_PATH=$STATE/kubeconfig

log() { echo "kubernetes: $*" >&2; }
now_ms() { echo $(( $(date +%s%N) / 1000000 )); }
T0=$(now_ms)
elapsed() { echo "$(( ($(now_ms) - T0) / 1000 ))s"; }
die() { log "error: $*"; exit 1; }

SUDO=
[ "$(id -u)" = 0 ] || SUDO=sudo

# The patches, as (file, sed expression, text that must be present afterwards). Their text keys the
# binary cache, so changing one rebuilds.
PATCHES=(
  # runc refuses a negative oom_score_adj without CAP_SYS_RESOURCE, which this sandbox lacks.
  "pkg/kubelet/dockershim/docker_sandbox.go|s/defaultSandboxOOMAdj int = -998/defaultSandboxOOMAdj int = 0/|defaultSandboxOOMAdj int = 0"
  "pkg/kubelet/qos/policy.go|s/guaranteedOOMScoreAdj int = -997/guaranteedOOMScoreAdj int = 0/|guaranteedOOMScoreAdj int = 0"
  # The node is 127.0.0.1: everything here lives on loopback.
  "pkg/kubelet/kubelet_node_status.go|s/if nodeIP.IsLoopback() {/if false \&\& nodeIP.IsLoopback() {/|if false \&\& nodeIP.IsLoopback() {"
)
PATCH_HASH=$(printf '%s\n' "${PATCHES[@]}" "reflect2-1.0.2" | sha256sum | cut -c1-12)
BIN=$CACHE_ROOT/$K8S_SRC_VERSION-$PATCH_HASH/bin
COMPONENTS=(kube-apiserver kube-controller-manager kube-scheduler kubelet)

# --- packages -------------------------------------------------------------------------------------
install_packages() {
  local missing=() p
  for p in "$@"; do dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || missing+=("$p"); done
  [ ${#missing[@]} -eq 0 ] && return 0
  log "installing ${missing[*]} [$(elapsed)]"
  $SUDO apt-get -o DPkg::Lock::Timeout=900 update -q >/dev/null || true
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=900 install -y -q --no-install-recommends "${missing[@]}" >/dev/null
}

# --- build ----------------------------------------------------------------------------------------
binaries_cached() {
  local c
  for c in "${COMPONENTS[@]}" pause; do [ -x "$BIN/$c" ] || return 1; done
}

# A private apt configuration whose sources are the machine's own Debian sources as deb-src, so the
# system's apt state is untouched and no host name lives in this repository.
private_apt_sources() {
  local apt_dir=$1 f
  mkdir -p "$apt_dir/sources.list.d" "$apt_dir/lists/partial" "$apt_dir/cache/archives/partial"
  : >"$apt_dir/sources.list"
  for f in /etc/apt/sources.list.d/*.sources; do
    [ -e "$f" ] || continue
    sed -E 's/^Types:.*/Types: deb-src/' "$f" >"$apt_dir/sources.list.d/$(basename "$f")"
  done
  for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
    [ -e "$f" ] || continue
    sed -nE 's/^[[:space:]]*deb[[:space:]]+/deb-src /p' "$f" >>"$apt_dir/sources.list"
  done
}

build_binaries() {
  log "building Kubernetes $K8S_GIT_VERSION from Debian source $K8S_SRC_VERSION into $BIN (once per machine) [$(elapsed)]"
  install_packages golang-1.19-go golang-1.19-src golang-github-modern-go-reflect2-dev rsync dpkg-dev gcc libc6-dev
  rm -rf "$BUILD_ROOT"
  mkdir -p "$BUILD_ROOT"
  local apt_dir=$BUILD_ROOT/apt
  private_apt_sources "$apt_dir"
  local apt_opts=(-o "Dir::Etc::sourcelist=$apt_dir/sources.list" -o "Dir::Etc::sourceparts=$apt_dir/sources.list.d"
    -o "Dir::State::Lists=$apt_dir/lists" -o "Dir::Cache=$apt_dir/cache" -o "APT::Sandbox::User=root")
  apt-get "${apt_opts[@]}" update -q >/dev/null
  log "source index fetched [$(elapsed)]"
  (cd "$BUILD_ROOT" && apt-get "${apt_opts[@]}" source -q --download-only "kubernetes=$K8S_SRC_VERSION" >/dev/null)
  log "source downloaded [$(elapsed)]"
  (cd "$BUILD_ROOT" && dpkg-source --no-check -x ./kubernetes_*.dsc src >/dev/null)
  local tree=$BUILD_ROOT/src
  log "source unpacked [$(elapsed)]"

  local entry file expr expect
  for entry in "${PATCHES[@]}"; do
    IFS='|' read -r file expr expect <<<"$entry"
    sed -i -e "$expr" "$tree/$file"
    grep -qF "${expect//\\/}" "$tree/$file" || die "patch did not apply to $file"
  done
  # The vendored reflect2 1.0.1 predates Go 1.18's runtime; Debian's 1.0.2 is the fixed release.
  rm -rf "$tree/vendor/github.com/modern-go/reflect2"
  cp -r /usr/share/gocode/src/github.com/modern-go/reflect2 "$tree/vendor/github.com/modern-go/reflect2"

  local gopath=$BUILD_ROOT/gopath
  mkdir -p "$gopath/src/k8s.io"
  ln -sfn "$tree" "$gopath/src/k8s.io/kubernetes"
  log "compiling ${COMPONENTS[*]} (the long step) [$(elapsed)]"
  (
    cd "$gopath/src/k8s.io/kubernetes"
    export PATH=/usr/lib/go-1.19/bin:$PATH GOROOT=/usr/lib/go-1.19 GOPATH=$gopath GOPROXY=off GOTOOLCHAIN=local \
      GOFLAGS=-mod=vendor GOCACHE=$BUILD_ROOT/gocache KUBE_GIT_VERSION=$K8S_GIT_VERSION KUBE_GIT_TREE_STATE=archive
    make WHAT="cmd/kube-apiserver cmd/kube-controller-manager cmd/kube-scheduler cmd/kubelet" >"$BUILD_ROOT/make.log" 2>&1 \
      || { tail -n 60 "$BUILD_ROOT/make.log" >&2; die "make failed (log: $BUILD_ROOT/make.log)"; }
  )
  log "compiled [$(elapsed)]"
  local out=$tree/_output/local/bin/linux/amd64 tmp=$BIN.partial c
  [ -d "$out" ] || out=$(dirname "$(find "$tree/_output" -type f -name kubelet | head -n 1)")
  rm -rf "$tmp" && mkdir -p "$tmp"
  for c in "${COMPONENTS[@]}"; do cp "$out/$c" "$tmp/$c"; done
  # The sandbox image, from the tree's own source: nothing may be pulled from outside.
  gcc -Os -static -o "$tmp/pause" "$tree/build/pause/linux/pause.c"
  rm -rf "$BIN" && mv "$tmp" "$BIN"
  rm -rf "$BUILD_ROOT"
  log "binaries cached in $BIN [$(elapsed)]"
}

pause_image() {
  docker image inspect "$PAUSE_IMAGE" >/dev/null 2>&1 && return 0
  local dir
  dir=$(mktemp -d)
  cp "$BIN/pause" "$dir/pause"
  tar -C "$dir" -c pause | docker import --change 'ENTRYPOINT ["/pause"]' - "$PAUSE_IMAGE" >/dev/null
  rm -rf "$dir"
  log "pause image $PAUSE_IMAGE imported [$(elapsed)]"
}

# --- credentials ----------------------------------------------------------------------------------
make_pki() {
  local pki=$STATE/pki
  [ -s "$pki/apiserver.crt" ] && [ -s "$STATE/tokens.csv" ] && [ -s "$KUBECONFIG_PATH" ] && return 0
  mkdir -p "$pki"
  openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -subj "/CN=procctl-k8s-ca" \
    -keyout "$pki/ca.key" -out "$pki/ca.crt" 2>/dev/null
  openssl req -newkey rsa:2048 -nodes -subj "/CN=kube-apiserver" -keyout "$pki/apiserver.key" -out "$pki/apiserver.csr" 2>/dev/null
  printf 'subjectAltName=IP:127.0.0.1,IP:10.96.0.1,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc\n' >"$pki/san.ext"
  openssl x509 -req -in "$pki/apiserver.csr" -CA "$pki/ca.crt" -CAkey "$pki/ca.key" -CAcreateserial -days 3650 \
    -extfile "$pki/san.ext" -out "$pki/apiserver.crt" 2>/dev/null
  openssl genrsa -out "$pki/sa.key" 2048 2>/dev/null
  openssl rsa -in "$pki/sa.key" -pubout -out "$pki/sa.pub" 2>/dev/null
  local token
  token=$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')
  (umask 077; printf '%s,admin,admin,system:masters\n' "$token" >"$STATE/tokens.csv")
  (umask 077; cat >"$KUBECONFIG_PATH" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: procctl-local
  cluster:
    server: https://127.0.0.1:$API_PORT
    certificate-authority-data: $(base64 -w0 "$pki/ca.crt")
users:
- name: admin
  user:
    token: $token
contexts:
- name: procctl-local
  context:
    cluster: procctl-local
    user: admin
    namespace: default
current-context: procctl-local
EOF
  )
  log "credentials and kubeconfig written to $STATE [$(elapsed)]"
}

# --- processes ------------------------------------------------------------------------------------
# Alive, and still the program we started (a pid file can outlive a reboot and its pid be reused).
pid_alive() {
  local pid
  [ -s "$STATE/$1.pid" ] || return 1
  pid=$(cat "$STATE/$1.pid")
  kill -0 "$pid" 2>/dev/null && tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q -- "$1"
}

launch() {
  local name=$1
  shift
  if pid_alive "$name"; then return 0; fi
  log "starting $name (log: $STATE/$name.log) [$(elapsed)]"
  # setsid: detach from this shell's process group so a CI job's cleanup does not kill it.
  setsid "$@" >>"$STATE/$name.log" 2>&1 </dev/null &
  echo $! >"$STATE/$name.pid"
}

wait_until() {
  local name=$1 limit=$2 start=$SECONDS t0
  shift 2
  t0=$(now_ms)
  until "$@" >/dev/null 2>&1; do
    if (( SECONDS - start >= limit )); then
      log "$name not ready within ${limit}s; last log lines:"
      tail -n 30 "$STATE/${name%% *}.log" >&2 2>/dev/null || true
      exit 1
    fi
    sleep 0.5
  done
  log "$name ready after $(( $(now_ms) - t0 ))ms [$(elapsed)]"
}

kc() { kubectl --kubeconfig "$KUBECONFIG_PATH" --request-timeout=5s "$@"; }
etcd_up() { curl -sf --max-time 2 "http://127.0.0.1:$ETCD_CLIENT_PORT/health" | grep -q true; }
api_up() { kc get --raw /readyz; }
node_ready() { kc get node "$NODE_NAME" -o jsonpath='{.status.conditions[?(@.type=="Ready")].status}' | grep -qx True; }
default_sa() { kc -n default get serviceaccount default; }

# The API server's flags; a second one on another port (`apiserver PORT`) shares etcd and credentials.
apiserver_args() {
  local pki=$STATE/pki
  echo --etcd-servers "http://127.0.0.1:$ETCD_CLIENT_PORT" \
    --bind-address 127.0.0.1 --advertise-address 127.0.0.1 --secure-port "$1" --insecure-port 0 \
    --tls-cert-file "$pki/apiserver.crt" --tls-private-key-file "$pki/apiserver.key" \
    --token-auth-file "$STATE/tokens.csv" --authorization-mode AlwaysAllow \
    --service-account-key-file "$pki/sa.pub" --service-account-signing-key-file "$pki/sa.key" \
    --service-account-issuer https://kubernetes.default.svc.cluster.local \
    --service-cluster-ip-range 10.96.0.0/24 --endpoint-reconciler-type none \
    --kubelet-preferred-address-types InternalIP --allow-privileged=true \
    --feature-gates TTLAfterFinished=true
}

start() {
  command -v docker >/dev/null && docker version >/dev/null 2>&1 || die "dockerd does not answer: run bash .ci/services.sh first"
  install_packages etcd-server socat openssl curl conntrack
  # Any kubectl does for the readiness checks; Debian's (1.20.2, as the cluster) when there is none.
  command -v kubectl >/dev/null || install_packages kubernetes-client
  binaries_cached || build_binaries
  mkdir -p "$STATE"
  pause_image
  make_pki
  local pki=$STATE/pki

  # Debian's etcd-server package starts its own service on the default ports; ours uses others.
  launch etcd etcd --name procctl --data-dir "$STATE/etcd" \
    --listen-client-urls "http://127.0.0.1:$ETCD_CLIENT_PORT" --advertise-client-urls "http://127.0.0.1:$ETCD_CLIENT_PORT" \
    --listen-peer-urls "http://127.0.0.1:$ETCD_PEER_PORT" --initial-advertise-peer-urls "http://127.0.0.1:$ETCD_PEER_PORT" \
    --initial-cluster "procctl=http://127.0.0.1:$ETCD_PEER_PORT"
  wait_until "etcd" 60 etcd_up

  # shellcheck disable=SC2046
  launch kube-apiserver "$BIN/kube-apiserver" $(apiserver_args "$API_PORT")
  wait_until "kube-apiserver" 120 api_up

  launch kube-controller-manager "$BIN/kube-controller-manager" --kubeconfig "$KUBECONFIG_PATH" --leader-elect=false \
    --bind-address 127.0.0.1 --port 0 --service-account-private-key-file "$pki/sa.key" --root-ca-file "$pki/ca.crt" \
    --feature-gates TTLAfterFinished=true --allocate-node-cidrs=false
  launch kube-scheduler "$BIN/kube-scheduler" --kubeconfig "$KUBECONFIG_PATH" --leader-elect=false \
    --bind-address 127.0.0.1 --port 0
  # Image GC thresholds at 100%: the engine is shared, and the kubelet must never delete the
  # engine's other images. Evictions only on real exhaustion for the same reason.
  launch kubelet "$BIN/kubelet" --kubeconfig "$KUBECONFIG_PATH" --container-runtime docker \
    --pod-infra-container-image "$PAUSE_IMAGE" --hostname-override "$NODE_NAME" \
    --node-ip 127.0.0.1 --address 127.0.0.1 --healthz-bind-address 127.0.0.1 --read-only-port 0 \
    --root-dir "$STATE/kubelet" --cert-dir "$STATE/kubelet-pki" \
    --cgroup-driver cgroupfs --cgroups-per-qos=false --enforce-node-allocatable= \
    --fail-swap-on=false --make-iptables-util-chains=false \
    --image-gc-high-threshold 100 --image-gc-low-threshold 99 \
    --eviction-hard 'memory.available<100Mi,nodefs.available<1%,imagefs.available<1%' \
    --serialize-image-pulls=false
  wait_until "kubelet (node Ready)" 180 node_ready
  wait_until "kube-controller-manager (default service account)" 120 default_sa
  log "cluster ready: export KUBECONFIG=$KUBECONFIG_PATH [$(elapsed)]"
}

stop_component() {
  local name=$1 pid i
  pid_alive "$name" || { rm -f "$STATE/$name.pid"; return 0; }
  pid=$(cat "$STATE/$name.pid")
  kill "$pid" 2>/dev/null || true
  for i in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
  kill -0 "$pid" 2>/dev/null && kill -9 "$pid" 2>/dev/null || true
  rm -f "$STATE/$name.pid"
  log "stopped $name [$(elapsed)]"
}

stop() {
  stop_component kubelet
  # The kubelet's own containers (dockershim labels them); nothing else in the shared engine.
  local ids
  ids=$(docker ps -aq --filter label=io.kubernetes.docker.type 2>/dev/null || true)
  [ -n "$ids" ] && docker rm -f $ids >/dev/null && log "removed the kubelet's containers"
  local c
  for c in kube-scheduler kube-controller-manager kube-apiserver etcd; do stop_component "$c"; done
  # Secret and token volumes the kubelet mounted under its root dir.
  if [ -d "$STATE/kubelet" ]; then
    grep -F " $STATE/kubelet/" /proc/mounts | awk '{print $2}' | sort -r | while read -r m; do umount "$m" 2>/dev/null || true; done
  fi
  rm -rf "$STATE/etcd" "$STATE/kubelet"
}

status() {
  local c
  for c in etcd "${COMPONENTS[@]}"; do
    if pid_alive "$c"; then echo "$c running (pid $(cat "$STATE/$c.pid"))"; else echo "$c stopped"; fi
  done
  binaries_cached && echo "binaries: $BIN" || echo "binaries: not built"
  echo "kubeconfig: $KUBECONFIG_PATH"
}

case "${1:-start}" in
  start) start ;;
  build) binaries_cached || build_binaries ;;
  stop) stop ;;
  # A second API server in the foreground, for a test that must lose one mid-run while the
  # cluster (kubelet, controllers, other tests) keeps using the first: the caller stops it.
  apiserver) [[ "${2:-}" =~ ^[0-9]+$ ]] || die "usage: $0 apiserver PORT"; binaries_cached || die "not built"
    # shellcheck disable=SC2046
    exec "$BIN/kube-apiserver" $(apiserver_args "$2") ;;
  status) status ;;
  *) die "usage: $0 [start|build|stop|status|apiserver PORT]" ;;
esac
