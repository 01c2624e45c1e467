#!/usr/bin/env bash
# The main job on a fresh machine: set up, build the catalog, list it, select
# plans for typical problems (with the reasons), and, where a GPU exists, run
# the GPU check (tests, benchmarks beside the peers).
# BUILD_DIR and MESON_ARGS as in tools/test.sh; default: the full catalog,
# machine code for sm_80 and sm_90.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="/usr/local/cuda/bin:$PATH"
tools/setup.sh

build="${BUILD_DIR:-build}"
if [ ! -d "$build" ]; then
  # shellcheck disable=SC2086
  meson setup "$build" ${MESON_ARGS:-}
fi
meson compile -C "$build"
cat_exe="$build/tools/baracuda-catalog"

echo; echo "== catalog"
"$cat_exe" list
echo; echo "== plans"
# Without a GPU the tool explains for the newest arch the build has code for.
explain() { echo "\$ baracuda-catalog explain $*"; "$cat_exe" explain "$@" | sed -n '1,8p' || true; echo; }
explain --op kv_append --element bf16 --head-dim 128
explain --op attn_fwd --element bf16 --head-dim 128 --causal --seq-q 4096
explain --op attn_fwd --element bf16 --head-dim 72
explain --op attn_fwd --element bf16 --head-dim 128 --objective most_precise
explain --op attn_decode --element bf16 --head-dim 128 --batch 16 --max-len 8192 --batch-invariant
explain --op rope_kv_append --element bf16 --head-dim 128 --paged

if nvidia-smi -L >/dev/null 2>&1; then
  echo "== GPU found: running tools/gpu_check.sh"
  BUILD_DIR="$build" tools/gpu_check.sh
else
  echo "== no GPU here: kernels not run (tools/gpu_check.sh runs them on a GPU machine)"
fi
