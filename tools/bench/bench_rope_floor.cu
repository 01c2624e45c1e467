// Benchmark: the memory floor of the fused RoPE + KV-append call at
// bench-rope's prefill configs: a copy kernel with the fused kernel's exact
// access pattern and no math (rope.cuh, rope_tok_kernel), on buffers of its
// own. With bench-rope's fused row beside it, it tells how much of the fused
// call's time is its bytes in that order and how much is the kernel.
//
// Pattern (rope_tok_kernel at D = 128, bf16): a one-shot grid of 256-thread
// blocks, block (x, y) = token x, head rows 32 y .. 32 y + 31 of the list
// Q heads, K heads, V heads (a row past the last head idles); 8 threads a
// row, thread v loads the 16-byte vectors at elements 8 v and 8 v + 64,
// then looks the token's cache slot up, then stores: Q rows back in place,
// K and V rows into the cache at position offsets[b] + l.
//
// Rows: bench "rope_kv_append", bench-rope's config strings (B=4, L_new=2048,
// Hq=32, Hkv 4 / 8 / 16, cache [B, Hkv, 4096, D]; Hkv 8 also [B, 4096, Hkv,
// D]), impl "cuda_fused_pattern_floor", median_us, gbps (bytes read +
// written). Timed like bench-rope: each launch on its own after warm-up,
// back to back, input sets rotating past the L2.
#include <cuda_runtime.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "bench_common.hpp"

namespace {

constexpr int kThreads = 256;
constexpr int kHeadDim = 128;                 // bf16: 16 vectors of 16 bytes a row
constexpr int kRowThreads = kHeadDim / 2 / 8;  // threads a row, two vectors each
constexpr int kRows = kThreads / kRowThreads;  // head rows a block

struct Pattern {
  std::uint16_t* q;             // [B, L, Hq, D], in place
  const std::uint16_t* k_new;   // [B, L, Hkv, D]
  const std::uint16_t* v_new;   // [B, L, Hkv, D]
  std::uint16_t* k_cache;       // [B, Hkv, L_max, D] or [B, L_max, Hkv, D]
  std::uint16_t* v_cache;
  const std::int64_t* offsets;  // [B]
  std::int64_t seq_len, heads_q, heads_kv, max_len;
  bool cache_blhd;
};

__global__ void __launch_bounds__(kThreads, 8) pattern_copy(const Pattern p) {
  const int row = static_cast<int>(threadIdx.x) / kRowThreads;
  const int v = static_cast<int>(threadIdx.x) - row * kRowThreads;
  const std::int64_t token = blockIdx.x;
  std::int64_t j = static_cast<std::int64_t>(blockIdx.y) * kRows + row;
  const std::int64_t b = token / p.seq_len;
  const std::int64_t l = token - b * p.seq_len;
  const bool is_q = j < p.heads_q;
  if (!is_q) j -= p.heads_q;
  const bool is_k = !is_q && j < p.heads_kv;
  if (!is_q && !is_k) j -= p.heads_kv;
  if (!is_q && j >= p.heads_kv) return;
  const std::uint16_t* src = is_q ? p.q + (token * p.heads_q + j) * kHeadDim
                                  : (is_k ? p.k_new : p.v_new) + (token * p.heads_kv + j) * kHeadDim;
  const uint4 a = __ldcg(reinterpret_cast<const uint4*>(src + 8 * v));
  const uint4 c = __ldcg(reinterpret_cast<const uint4*>(src + 8 * v + kHeadDim / 2));
  std::uint16_t* dst = const_cast<std::uint16_t*>(src);
  if (!is_q) {
    const std::int64_t pos = __ldg(p.offsets + b) + l;
    const std::int64_t cell = p.cache_blhd ? (b * p.max_len + pos) * p.heads_kv + j
                                           : (b * p.heads_kv + j) * p.max_len + pos;
    dst = (is_k ? p.k_cache : p.v_cache) + cell * kHeadDim;
  }
  __stcg(reinterpret_cast<uint4*>(dst + 8 * v), a);
  __stcg(reinterpret_cast<uint4*>(dst + 8 * v + kHeadDim / 2), c);
}

void bench_pattern(std::int64_t heads_kv, bool cache_blhd, const std::string& config) {
  const std::int64_t B = 4, L = 2048, Hq = 32, L_max = 4096;
  // bench-rope's inputs (its offsets; the positions go unused).
  const bench::RopeAppendInputs in(B, L, Hq, heads_kv, kHeadDim, L_max);
  const std::int64_t chunks = (Hq + 2 * heads_kv + kRows - 1) / kRows;
  const dim3 grid(static_cast<unsigned>(B * L), static_cast<unsigned>(chunks));
  const double us = bench::median(bench::launch_us(
      [&](int i) {
        const bench::RopeAppendSet& s = in.set(i);
        const Pattern p{static_cast<std::uint16_t*>(s.q->get()),
                        static_cast<const std::uint16_t*>(s.k->get()),
                        static_cast<const std::uint16_t*>(s.v->get()),
                        static_cast<std::uint16_t*>(in.k_cache.get()),
                        static_cast<std::uint16_t*>(in.v_cache.get()),
                        s.off->get(),
                        L,
                        Hq,
                        heads_kv,
                        L_max,
                        cache_blhd};
        pattern_copy<<<grid, kThreads>>>(p);
      },
      50, 10, /*drain_warmup=*/true));
  BENCH_CHECK(cudaGetLastError());
  bench::emit("rope_kv_append", config, "cuda_fused_pattern_floor", us,
              bench::format("\"gbps\": %.1f", in.fused_bytes() / (us * 1e-6) / 1e9));
}

}  // namespace

int main() {
  cudaDeviceProp prop{};
  if (!bench::device0(prop)) return 0;
  std::printf("device: %s, %d SMs\n", prop.name, prop.multiProcessorCount);
  const std::string base = "rope_kv_append_neox_bf16_B4_L2048_Hq32_Hkv";
  bench_pattern(8, false, base + "8_D128_Lmax4096");
  bench_pattern(8, true, base + "8_D128_Lmax4096_cacheBLHD");
  bench_pattern(4, false, base + "4_D128_Lmax4096");
  bench_pattern(16, false, base + "16_D128_Lmax4096");
  return 0;
}
