// Packing rule of the full-rotary RoPE kernel (kernels/rope.cuh,
// rope_tok_kernel). Plain constexpr arithmetic: no CUDA headers, so the host
// tests check it directly.
//
// The kernel's 256-thread block holds rows_per_block head rows of one token
// (bf16 / f16 at D = 128: 32). A token's rows past its whole blocks (the
// tail: the K rows of rope() when there are fewer K than Q heads, the K and
// V rows of the fused RoPE + KV append) would otherwise run in a block of
// their own, mostly idle. When the tail fills at most a quarter of a block,
// the tails of 2^shift consecutive tokens share one block instead (as many as
// fit, a power of two, at most max_pack: the tokens whose (cos, sin) one
// block computes).
//
// Measured (H100 80GB HBM3, bf16 NeoX D=128, Hq=32, B=4 L=2048, builds
// alternating in one device call, tools/bench/results/h100-1f0cea4-rope-pack.md):
//   quarter-full tails packed 4 tokens a block:
//     rope() of Q and K, Hkv=8 (tail 8 rows): 62.7-63.0 -> 61.3-61.6 us
//     rope() of Q and K, Hkv=4 (tail 4 rows): 60.0-60.2 -> 55.9-56.0 us
//     fused, Hkv=4 (tail 8 rows):             63.4-63.6 -> 62.2-62.3 us
//   half-full tails (fused, Hkv=8: 16 rows) packed 2 tokens a block: 73.0 ->
//     73.3 us ([B, H, L_max, D] cache), 72.6 -> 73.2 ([B, L_max, H, D]),
//     74.2 -> 74.7 (paged): so the threshold is a quarter.
#pragma once

#include <cstdint>

namespace baracuda {

// log2 of the tokens a packed tail block holds, or -1: no packing.
constexpr int rope_tok_pack_shift(std::int64_t tail_rows, int rows_per_block, int max_pack) {
  if (tail_rows <= 0 || 4 * tail_rows > rows_per_block) return -1;
  int shift = 0;
  while ((std::int64_t{2} << shift) * tail_rows <= rows_per_block && (2 << shift) <= max_pack) ++shift;
  return shift;
}

}  // namespace baracuda
