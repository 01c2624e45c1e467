#!/usr/bin/env bash
# The GPU check: on a machine with an NVIDIA GPU (H100 for the committed
# figures), build the full catalog, run the GPU test suites, a
# compute-sanitizer sample, the benchmarks beside their PyTorch peers, and
# print a short table last.
#   tools/gpu_check.sh [tests|bench|all]      (default: all)
#   tools/gpu_check.sh axes   head dims off the default catalog: a copy of the
#                             project regenerated with AXES (default
#                             tests/gpu/off_catalog_axes.json), only those
#                             dims built, GPU suites + memcheck of their
#                             bf16 SKUs
# Environment: BUILD_DIR (build-gpu), GPU_ARCHS (90: sm80-class code compiled
# for sm_90 runs on the H100 beside the sm90a class), OUT (a folder for logs;
# default build-gpu/logs), MESON_ARGS (extra SKU filters), QUICK=1 (short bench),
# COMMIT (the commit to name in the log where the tree has no .git).
set -uo pipefail
cd "$(dirname "$0")/.."
what="${1:-all}"
build="${BUILD_DIR:-build-gpu}"
archs="${GPU_ARCHS:-90}"
out="${OUT:-$build/logs}"
mkdir -p "$out"
export PATH="/usr/local/cuda/bin:$PATH"

echo "== machine"
nvidia-smi --query-gpu=name,memory.total,clocks.max.sm,driver_version --format=csv,noheader || exit 1
commit="${COMMIT:-$(git rev-parse --short HEAD 2>/dev/null || echo unknown)}"
echo "commit $commit"
nvcc --version | tail -2 | head -1
python3 -c "import torch; print('torch', torch.__version__, 'cudnn', torch.backends.cudnn.version())" 2>/dev/null

if [ "$what" = axes ]; then
  # The GPU suites take every SKU of the registry, so a catalog of only the
  # off-catalog dims tests exactly them (tools/axes_tree.sh: a copy of the
  # project regenerated with the axes).
  axes="${AXES:-tests/gpu/off_catalog_axes.json}"
  src="$(realpath -m "$build-axes")/src"
  dims=$(tools/axes_tree.sh "$axes" "$src") || exit 1
  echo "== axes $axes: head dims $dims"
  # memcheck sample: the bf16 SKUs of every dim the axes name.
  sample=$(echo "$dims" | tr ',' '\n' | sed 's/.*/*bf16_hd&_*/' | paste -sd, -)
  AXES_SAMPLE="$sample" COMMIT="$commit" \
  BUILD_DIR="$(realpath "$build-axes")/build" OUT="$(realpath "$out")/axes" MESON_ARGS="-Dhead_dims=$dims ${MESON_ARGS:-}" \
      "$src/tools/gpu_check.sh" axes-tests
  exit $?
fi

echo "== build (gpu_archs=$archs)"
if [ ! -d "$build" ]; then
  # shellcheck disable=SC2086
  meson setup "$build" -Dgpu_archs="$archs" ${MESON_ARGS:-} >"$out/setup.log" 2>&1 || { cat "$out/setup.log"; exit 1; }
fi
start=$(date +%s)
meson compile -C "$build" >"$out/build.log" 2>&1 || { tail -50 "$out/build.log"; exit 1; }
echo "built in $(( $(date +%s) - start )) s"
"$build/tools/baracuda-catalog" list | tail -1

status=0
# memcheck: a sample of SKUs of every op (axes-tests: of the off-catalog dims).
mc_tc='kv_append: every*,rope*,attn_decode: every*,attn_fwd: every*'
mc_sc='*bf16_hd128_sm80,*bf16_hd128_paged_sm80,*bf16_hd128_neox_sm80,*f32_hdany_neox_paged_sm80,*bf16_hd128_causal_sm80,*f32_hdany_causal_sm80_ref_f32acc'
if [ "$what" = axes-tests ]; then
  mc_tc='kv_append: every*,rope*,attn_fwd: every*'
  mc_sc="${AXES_SAMPLE:?}"
  "$build/tools/baracuda-catalog" list >"$out/catalog.txt" 2>&1
fi
if [ "$what" = all ] || [ "$what" = tests ] || [ "$what" = axes-tests ]; then
  echo "== GPU tests"
  "$build/tests/gpu-tests" --duration=true >"$out/gpu-tests.log" 2>&1
  rc=$?; status=$(( status | rc ))
  grep -E "ERROR|FATAL|test cases|assertions" "$out/gpu-tests.log" | tail -40
  if [ "$what" != axes-tests ]; then  # the host suites name catalog SKUs
    echo "== host tests"
    "$build/tests/host-tests" >"$out/host-tests.log" 2>&1; rc=$?; status=$(( status | rc ))
    tail -3 "$out/host-tests.log"
  fi
  echo "== compute-sanitizer memcheck ($mc_sc)"
  timeout 300 compute-sanitizer --tool memcheck --error-exitcode 1 "$build/tests/gpu-tests" -tc="$mc_tc" -sc="$mc_sc" \
      >"$out/memcheck.log" 2>&1
  rc=$?; status=$(( status | rc )); echo "memcheck rc=$rc: $(grep -E 'ERROR SUMMARY' "$out/memcheck.log" | tail -1)"
fi

if [ "$what" = all ] || [ "$what" = bench ]; then
  echo "== benchmarks (baracuda beside its peers, same card, same run)"
  : >"$out/bench.log"
  # The decode peer also runs baracuda on its own tensors through this library.
  case "$build" in /*) capi_dir="$build" ;; *) capi_dir="$PWD/$build" ;; esac
  export BARACUDA_BENCH_CAPI="$capi_dir/tools/libbaracuda-bench-capi.so"
  for b in kv_append attn_fwd attn_decode rope; do
    exe="$build/tools/bench-${b//_/-}"
    [ -x "$exe" ] && "$exe" ${QUICK:+--quick} 2>&1 | tee -a "$out/bench.log" | grep -v '^BENCH' | tail -5
    PYTHONUNBUFFERED=1 python3 "tools/bench/peer_$b.py" ${QUICK:+--quick} 2>&1 | tee -a "$out/bench.log" | grep -v '^BENCH' | tail -5
  done
  # Flash forward at head dims off the powers of two (padded rows, 5 / 6 / 12 k16 steps), beside flash.
  for d in 80 96 192; do
    "$build/tools/bench-attn-fwd" --dtype bf16 --S 4096 --D $d 2>&1 | tee -a "$out/bench.log" | grep -v '^BENCH' | tail -1
    python3 tools/bench/peer_attn_fwd.py --dtype bf16 --S 4096 --D $d 2>&1 | tee -a "$out/bench.log" | grep -v '^BENCH' | tail -1
  done
  # The card's streaming-read floor on the decode problems (peer rows of
  # attn_decode); the fused RoPE + append's access pattern without its math
  # (peer rows of rope_kv_append).
  for f in read-floor rope-floor; do
    [ -x "$build/tools/bench-$f" ] && "$build/tools/bench-$f" 2>&1 | tee -a "$out/bench.log" | grep -v '^BENCH' | tail -2
  done
  # The reference SKUs (correctness first; their speed for the record), one config.
  ref_exe="$build/tools/bench-attn-fwd"
  [ -x "$ref_exe" ] && "$ref_exe" --sku attn_fwd_bf16_hdany_sm80_ref_f32acc --sku attn_fwd_bf16_hdany_sm80_ref_f64acc \
      --dtype bf16 --S 4096 --D 128 --full --reps 20 2>&1 | tee -a "$out/bench.log" | grep -v '^BENCH' | tail -3
  python3 tools/bench/summarize.py "$out/bench.log" --markdown >"$out/bench.md"
fi

if [ "$what" = all ] || [ "$what" = tests ]; then
  echo "== compute-sanitizer racecheck (shared-memory hazards of the attention kernels, small cases)"
  timeout 240 compute-sanitizer --tool racecheck --error-exitcode 1 "$build/tests/gpu-tests" \
      -tc='attn_fwd: batch*,attn_decode: batch*' -sc='attn_fwd_bf16_hd128_causal_sm80,attn_decode_bf16_hd128_fixedsplit_sm80' \
      >"$out/racecheck.log" 2>&1
  rc=$?; status=$(( status | rc )); echo "racecheck rc=$rc: $(grep -E 'RACECHECK SUMMARY|ERROR SUMMARY' "$out/racecheck.log" | tail -1)"
fi

if [ "$what" = all ] || [ "$what" = bench ]; then
  python3 tools/bench/summarize.py "$out/bench.log"
fi
echo "== gpu_check status: $status (0 = every suite passed)"
exit $status
