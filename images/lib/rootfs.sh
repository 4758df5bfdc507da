# shellcheck shell=bash
# Helpers to assemble a FROM-scratch root filesystem from binaries that exist on
# this host. No public registry is reachable, so every image starts from files
# we copy here: a binary plus exactly the shared libraries `ldd` says it loads.
#
# Usage (source it, then call):
#   . images/lib/rootfs.sh
#   rootfs_init    DIR            # skeleton: usr-merged dirs, /tmp 1777, passwd/group
#   rootfs_add_bin DIR CMD...     # each CMD (name or path) + its ldd libraries
#   rootfs_add_file DIR PATH...   # plain files/dirs, copied at the same path, symlinks resolved
#   rootfs_finish  DIR            # fixed mtimes so the layer tar is byte-stable
#
# Paths inside DIR mirror host paths, so the ELF interpreter baked into each
# binary (/lib64/ld-linux-*.so.2) and the library paths resolve unchanged.

# uid/gid of the unprivileged user every image runs as.
: "${ROOTFS_APP_UID:=10001}"
: "${ROOTFS_APP_USER:=app}"

rootfs_init() {
  local root=$1
  # /home/<user> itself is not made here: it must be created by a COPY --chown
  # in the Dockerfile, or it would be root-owned (the context is owned by root).
  mkdir -p "$root"/usr/bin "$root"/usr/lib "$root"/usr/sbin "$root"/etc \
           "$root"/tmp "$root"/home
  # Debian 12 is usr-merged and ldd reports /lib/... and /lib64/...; mirroring the
  # symlinks means both /bin/sh and /usr/bin/sh work and libraries land once.
  # lib64 only exists on some arches, so it is made on demand (see _rootfs_copy).
  local d
  for d in bin lib sbin; do
    [ -e "$root/$d" ] || ln -s "usr/$d" "$root/$d"
  done
  chmod 1777 "$root/tmp"
  # glibc >= 2.34 has nss "files" built in, so passwd/group are all getpwuid needs
  # (node's os.userInfo(), bash's prompt, `id`). No shell login for anyone.
  cat > "$root/etc/passwd" <<PASSWD
root:x:0:0:root:/root:/usr/sbin/nologin
${ROOTFS_APP_USER}:x:${ROOTFS_APP_UID}:${ROOTFS_APP_UID}:procctl:/home/${ROOTFS_APP_USER}:/usr/sbin/nologin
nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin
PASSWD
  cat > "$root/etc/group" <<GROUP
root:x:0:
${ROOTFS_APP_USER}:x:${ROOTFS_APP_UID}:
nogroup:x:65534:
GROUP
}

# Copy one host path to the same path under root, following symlinks so the
# image gets real file contents (e.g. libstdc++.so.6 -> libstdc++.so.6.0.30).
_rootfs_copy() {
  local root=$1 src=$2
  local dst="$root$src"
  # /lib64 is a symlink on usr-merged hosts; mirror that instead of a real dir.
  if [[ $src == /lib64/* && ! -e $root/lib64 ]]; then
    if [ -L /lib64 ]; then mkdir -p "$root/usr/lib64"; ln -s usr/lib64 "$root/lib64"
    else mkdir -p "$root/lib64"; fi
  fi
  mkdir -p "$(dirname "$dst")"
  cp -L --remove-destination "$src" "$dst"
}

# The libraries a dynamic ELF loads, one absolute path a line (vdso excluded).
# Fails loudly on "not found" rather than building an image that cannot start.
rootfs_libs_of() {
  local bin=$1 out
  out=$(ldd "$bin" 2>&1) || {
    # Static binaries: ldd exits 1 with "not a dynamic executable"; nothing to copy.
    [[ $out == *"not a dynamic executable"* || $out == *"statically linked"* ]] && return 0
    echo "rootfs: ldd $bin failed: $out" >&2; return 1
  }
  if grep -q 'not found' <<<"$out"; then
    echo "rootfs: $bin has missing libraries:" >&2; grep 'not found' <<<"$out" >&2; return 1
  fi
  # Lines look like "libc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x...)" or
  # "/lib64/ld-linux-x86-64.so.2 (0x...)"; take the absolute path from either form.
  awk '$2 == "=>" && $3 ~ /^\// {print $3} $1 ~ /^\// {print $1}' <<<"$out" | sort -u
}

rootfs_add_bin() {
  local root=$1; shift
  local cmd path real lib libs
  for cmd in "$@"; do
    # type -P, not command -v: true/echo/etc. are shell builtins but we want the file.
    path=$(type -P "$cmd") || { echo "rootfs: $cmd not found on host" >&2; return 1; }
    real=$(readlink -f "$path")
    _rootfs_copy "$root" "$real"
    # Keep the name callers use (e.g. /usr/local/bin/node -> real file) working too.
    if [ "$path" != "$real" ] && [ ! -e "$root$path" ]; then
      mkdir -p "$(dirname "$root$path")"
      ln -s "$real" "$root$path"
    fi
    # Separate assignment: a failing $(...) in a for-list would not stop set -e.
    libs=$(rootfs_libs_of "$real") || return 1
    for lib in $libs; do
      [ -e "$root$lib" ] || _rootfs_copy "$root" "$lib"
    done
  done
}

rootfs_add_file() {
  local root=$1; shift
  local p
  for p in "$@"; do
    if [ -d "$p" ]; then
      mkdir -p "$root$p"
      # -L: Debian's /etc/ssl/certs is mostly symlinks into /usr/share; copy contents.
      cp -RL "$p/." "$root$p/"
    else
      _rootfs_copy "$root" "$p"
    fi
  done
}

rootfs_finish() {
  local root=$1
  # A fixed mtime makes the COPY layer tar identical across rebuilds on the same
  # host, so its layer digest (and the registry blob) is reused. The image config
  # still carries a build timestamp, so the manifest digest differs per build.
  find "$root" -exec touch -h -d @0 {} +
}
