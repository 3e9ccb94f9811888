#!/bin/bash
# Bring up what shipyard's docker stage and its tests need, on Debian 12 as root:
#   - the Debian docker.io engine (overlay2, else vfs; no iptables, no docker0 bridge),
#   - a registry on 127.0.0.1:5000 (Debian docker-registry, no auth, no TLS),
#   - the local base image py-base:3.11 (Debian's python3.11 unpacked from .debs, plus
#     busybox), built without pulling anything, also tagged python:3.11-slim (the base
#     docker/Dockerfile.cpu names) when no real image of that name is here,
#   - the buildx CLI plugin from Debian trixie (SHIPYARD_DOCKER_BUILDX=0 skips it).
# Idempotent: a second run checks each piece and only starts what is missing.
# Environment: SHIPYARD_DOCKER_WORK (state dir, default /var/lib/shipyard-docker),
# SHIPYARD_DOCKER_BUILDX (1), SHIPYARD_DOCKER_ARM64 (0: qemu binfmt for linux/arm64).
# See docs/docker.md; the measurements behind each step are in shared/docker-offline.md.
set -euo pipefail

W=${SHIPYARD_DOCKER_WORK:-/var/lib/shipyard-docker}
PLUGINS=/usr/local/lib/docker/cli-plugins
START=$EPOCHREALTIME
export DEBIAN_FRONTEND=noninteractive
mkdir -p "$W"

step() { printf 'docker-up: %-9s %s\n' "$1" "$2"; }
apt_updated=0
apt_update() { [ $apt_updated = 1 ] || { apt-get update -qq; apt_updated=1; }; }
port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

if [ "$(id -u)" != 0 ]; then
  echo "docker-up: run as root (it installs packages and starts dockerd)" >&2
  exit 3
fi

# 1. Packages: engine, registry, busybox for the base image's shell.
if ! command -v dockerd >/dev/null || ! command -v docker-registry >/dev/null || [ ! -x /bin/busybox ]; then
  apt_update
  apt-get install -y -qq --no-install-recommends docker.io docker-registry busybox-static >/dev/null
fi
if [ ! -e /sys/fs/cgroup/devices ] && [ ! -e /sys/fs/cgroup/cgroup.controllers ]; then
  apt_update
  apt-get install -y -qq --no-install-recommends cgroupfs-mount >/dev/null
  cgroupfs-mount
fi
# docker/build-static.sh (shipyard's minimal image) needs binutils and Debian's python3 venv.
if ! command -v objdump >/dev/null || ! /usr/bin/python3 -c 'import ensurepip' 2>/dev/null; then
  apt_update
  apt-get install -y -qq --no-install-recommends binutils python3-venv >/dev/null
fi
step packages "$(dpkg-query -W -f '${Version}' docker.io) (docker.io)"

# 2. The engine: overlay2 when an overlay mount works under /var/lib/docker, else vfs.
if ! docker info >/dev/null 2>&1; then
  pid=$(cat /var/run/docker.pid 2>/dev/null || true)
  if [ -n "$pid" ] && { [ "$(cat "/proc/$pid/comm" 2>/dev/null)" != dockerd ] ||
    grep -qs '^State:.*Z' "/proc/$pid/status"; }; then
    rm -f /var/run/docker.pid # stale: dead, zombie or reused pid
  fi
  # A dockerd killed hard leaves its managed containerd running, orphaned; the next dockerd
  # then times out starting its own. End that one containerd, by its recorded pid.
  cpid=$(cat /var/run/docker/containerd/containerd.pid 2>/dev/null || true)
  if [ -n "$cpid" ] && [ "$(cat "/proc/$cpid/comm" 2>/dev/null)" = containerd ] &&
    [ "$(cut -d' ' -f4 "/proc/$cpid/stat" 2>/dev/null)" = 1 ]; then
    kill "$cpid" 2>/dev/null || true
    for _ in $(seq 50); do [ -e "/proc/$cpid" ] || break; sleep 0.2; done
  fi
  driver=vfs
  mkdir -p /var/lib/docker
  o=$(mktemp -d /var/lib/docker/ovltest.XXXX)
  mkdir "$o/l" "$o/u" "$o/w" "$o/m"
  if mount -t overlay overlay -o "lowerdir=$o/l,upperdir=$o/u,workdir=$o/w" "$o/m" 2>/dev/null; then
    umount "$o/m"
    driver=overlay2
  fi
  rm -rf "$o"
  nohup dockerd --storage-driver="$driver" --iptables=false --bridge=none \
    >"$W/dockerd.log" 2>&1 </dev/null &
  for _ in $(seq 300); do docker info >/dev/null 2>&1 && break; sleep 0.2; done
  if ! docker info >/dev/null 2>&1; then
    tail -n 20 "$W/dockerd.log" >&2
    echo "docker-up: dockerd did not answer within 60 s (log: $W/dockerd.log)" >&2
    exit 3
  fi
fi
step engine "$(docker info --format '{{.ServerVersion}} {{.Driver}}')"

# 3. Optional: qemu for linux/arm64 builds and runs.
if [ "${SHIPYARD_DOCKER_ARM64:-0}" = 1 ]; then
  if ! command -v update-binfmts >/dev/null || [ ! -x /usr/bin/qemu-aarch64-static ]; then
    apt_update
    apt-get install -y -qq --no-install-recommends qemu-user-static binfmt-support >/dev/null
  fi
  mountpoint -q /proc/sys/fs/binfmt_misc || mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc
  update-binfmts --enable qemu-aarch64 2>/dev/null || true
  step arm64 "qemu-aarch64 binfmt enabled"
fi

# 4. The registry on 127.0.0.1:5000 (our own config: the package's listens on all
#    interfaces with htpasswd auth, and its init script needs systemd).
if ! port_open 5000; then
  cat >"$W/registry.yml" <<EOF
version: 0.1
log: {level: warn, accesslog: {disabled: true}}
storage: {filesystem: {rootdirectory: $W/registry}, delete: {enabled: true}}
http: {addr: "127.0.0.1:5000"}
EOF
  nohup docker-registry serve "$W/registry.yml" >"$W/registry.log" 2>&1 </dev/null &
  echo $! >"$W/registry.pid"
  for _ in $(seq 50); do port_open 5000 && break; sleep 0.1; done
  port_open 5000 || { tail "$W/registry.log" >&2; echo "docker-up: registry did not start" >&2; exit 3; }
fi
step registry "127.0.0.1:5000"

# 5. py-base:3.11: Debian's python3.11 and its dependency closure unpacked from .debs
#    (no maintainer scripts, no chroot), trimmed, with busybox as /bin/sh.
if ! docker image inspect py-base:3.11 >/dev/null 2>&1; then
  apt_update
  rm -rf "$W/debs" "$W/rootfs"
  mkdir -p "$W/debs" "$W/rootfs/bin" "$W/rootfs/tmp" "$W/rootfs/etc"
  # shellcheck disable=SC2046 # the package list is meant to split into words
  (cd "$W/debs" && apt-get download -qq $(apt-cache depends --recurse --no-recommends \
    --no-suggests --no-conflicts --no-breaks --no-replaces --no-enhances \
    python3.11-minimal libpython3.11-stdlib | grep -E '^[a-z0-9]' | sort -u |
    grep -vxE 'dpkg|install-info|perl.*|libperl.*|tar|mailcap|mime-support|libgdbm-compat4') \
    2>/dev/null)
  for deb in "$W"/debs/*.deb; do dpkg-deb -x "$deb" "$W/rootfs"; done
  (
    cd "$W/rootfs"
    rm -rf usr/share/doc usr/share/man usr/share/locale usr/share/info usr/share/lintian \
      usr/lib/x86_64-linux-gnu/gconv usr/lib/python3.11/test usr/lib/python3.11/idlelib \
      usr/lib/python3.11/lib2to3 usr/lib/python3.11/pydoc_data usr/lib/python3.11/tkinter \
      usr/lib/python3.11/ensurepip
    cp /bin/busybox bin/
    for applet in sh ls cat env echo sleep mkdir rm cp mv chmod ln test true false id grep \
      sed wc head tail; do
      ln -sf busybox "bin/$applet"
    done
    ln -sf python3.11 usr/bin/python3
    chmod 1777 tmp
    printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/sh\n' \
      >etc/passwd
    printf 'root:x:0:\nnogroup:x:65534:\n' >etc/group
    tar --numeric-owner -c . | docker import \
      -c 'ENV PATH=/usr/local/bin:/usr/bin:/bin LANG=C.UTF-8' -c 'CMD ["python3"]' \
      - py-base:3.11 >/dev/null
  )
  rm -rf "$W/debs" "$W/rootfs"
fi
docker run --rm --network none py-base:3.11 \
  python3 -c 'import ssl, sqlite3, json, ctypes, lzma, bz2, zlib, venv' >/dev/null
size=$(docker image inspect py-base:3.11 --format '{{.Size}}')
# The Dockerfiles' default base, which a machine without a registry cannot pull: the
# stand-in answers to that name too (a real one, pulled before, is left as it is).
if ! docker image inspect python:3.11-slim >/dev/null 2>&1; then
  docker tag py-base:3.11 python:3.11-slim
fi
step py-base "py-base:3.11 $((size / 1000000)) MB (python:3.11-slim when no real one is here)"

# 6. Optional (default on): the buildx plugin from Debian trixie's docker-buildx .deb,
#    fetched with a private apt config so the system's sources stay untouched.
if [ "${SHIPYARD_DOCKER_BUILDX:-1}" = 1 ] && [ ! -x "$PLUGINS/docker-buildx" ]; then
  A="$W/trixie"
  mkdir -p "$A/lists/partial" "$A/cache/archives/partial" "$A/parts" "$A/debs" "$PLUGINS"
  : >"$A/status"
  printf 'Types: deb\nURIs: http://deb.debian.org/debian\nSuites: trixie\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' \
    >"$A/parts/trixie.sources"
  O=(-o "Dir::State::Lists=$A/lists" -o "Dir::State::status=$A/status" -o "Dir::Cache=$A/cache"
    -o Dir::Etc::SourceList=/dev/null -o "Dir::Etc::SourceParts=$A/parts")
  if apt-get "${O[@]}" update -qq && (cd "$A/debs" && apt-get "${O[@]}" download -qq docker-buildx 2>/dev/null); then
    dpkg-deb --fsys-tarfile "$A"/debs/docker-buildx_*.deb |
      tar -xO ./usr/libexec/docker/cli-plugins/docker-buildx >"$PLUGINS/docker-buildx.tmp"
    chmod +x "$PLUGINS/docker-buildx.tmp"
    mv "$PLUGINS/docker-buildx.tmp" "$PLUGINS/docker-buildx"
  else
    echo "docker-up: could not fetch docker-buildx from trixie; builds use the legacy builder" >&2
  fi
  rm -rf "$A"
fi
if [ -x "$PLUGINS/docker-buildx" ]; then
  step buildx "$(docker buildx version 2>/dev/null | cut -d' ' -f2)"
fi

step ready "in $(awk -v a="$START" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }') s"
