#!/usr/bin/env bash
# Installs what a build needs on a fresh Debian/Ubuntu machine with the CUDA
# toolkit: doctest (Debian package) and the pinned Python build tools
# (requirements.txt). Idempotent; skips what is already there.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v nvcc >/dev/null 2>&1; then
  if [ -x /usr/local/cuda/bin/nvcc ]; then
    export PATH="/usr/local/cuda/bin:$PATH"
  else
    echo "setup: nvcc not found; install the CUDA toolkit (12.x or 13.x) first" >&2
    exit 1
  fi
fi

if [ ! -f /usr/include/doctest/doctest.h ]; then
  sudo_cmd=""
  [ "$(id -u)" -eq 0 ] || sudo_cmd="sudo"
  $sudo_cmd apt-get update -q
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -q doctest-dev pkg-config
fi

python3 - <<'PY' || python3 -m pip install -q -r requirements.txt
import importlib.metadata as md, pathlib, sys
for line in pathlib.Path("requirements.txt").read_text().splitlines():
    line = line.split("#")[0].strip()
    if not line:
        continue
    name, version = line.split("==")
    try:
        if md.version(name) != version:
            sys.exit(1)
    except md.PackageNotFoundError:
        sys.exit(1)
PY
echo "setup: nvcc $(nvcc --version | sed -n 's/.*release \([0-9.]*\).*/\1/p'), meson $(meson --version), ninja $(ninja --version), doctest ok"
