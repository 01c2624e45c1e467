#!/usr/bin/env bash
# Sets up, builds the representative SKU subset, and runs every test suite
# (host suites; GPU suites run where a GPU exists, else report "skipped: no GPU").
# BUILD_DIR and MESON_ARGS override the defaults (the full catalog: MESON_ARGS=" ").
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="/usr/local/cuda/bin:$PATH"
tools/setup.sh

build="${BUILD_DIR:-build-test}"
# meson setup, or --reconfigure where the build folder exists (options may
# have changed since): setup_build BUILD_DIR [SOURCE_DIR] MESON_ARGS...
setup_build() {
  if [ -d "$1" ]; then meson setup --reconfigure "$@" >/dev/null; else meson setup "$@"; fi
}

# The subset: every op, bf16 and f32, head dim 128 and the generic kernels,
# machine code for sm_80 only (nvcc time on small machines).
args="${MESON_ARGS:--Delements=bf16,f32 -Dhead_dims=128,any -Dgpu_archs=80}"
# shellcheck disable=SC2086
setup_build "$build" $args
meson compile -C "$build"

# Head dims off the default catalog must compile too (the GPU check runs them:
# tools/gpu_check.sh axes). Here the KV append and RoPE SKUs of
# tests/gpu/off_catalog_axes.json, bf16, the library only.
axes_dims=$(tools/axes_tree.sh tests/gpu/off_catalog_axes.json "$build-axes/src")
setup_build "$build-axes/build" "$build-axes/src" -Dhead_dims="$axes_dims" -Delements=bf16 \
    -Dops=kv_append,rope,rope_kv_append -Dgpu_archs=80 -Dtests=false
meson compile -C "$build-axes/build" baracuda_kernels
set +e
meson test -C "$build" --print-errorlogs
rc=$?
set -e
python3 - "$build/meson-logs/testlog.json" <<'PY'
import json, sys
results = [json.loads(line) for line in open(sys.argv[1]) if line.strip()]
passed = sum(r["result"] == "OK" for r in results)
skipped = sum(r["result"] == "SKIP" for r in results)
print(f"tests: {passed} passed, {len(results) - passed - skipped} failed, {skipped} skipped")
PY
exit $rc
