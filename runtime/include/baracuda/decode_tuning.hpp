// Split-KV tuning of decode attention (kernels/attn_decode_sm80.cuh), shared
// by the host (workspace sizes, plans) and the kernel launcher, so both
// derive the same split from the same inputs. Plain constexpr arithmetic: no
// CUDA headers, usable from host and device code.
//
// The decode kernel runs one CTA per (sample, KV head, split, row block).
// Each CTA streams its keys through shared memory in tiles of at most 128
// keys, so every split size is a multiple of kDecodeSplitGranule (128): a
// tile never straddles two splits.
//
// Adaptive splits (kFixedSplit = false), the FlashDecoding wave heuristic:
// one wave is `slots` CTAs; for each candidate split count s (its split size
// rounded up to the granule), efficiency = ctas / (waves * slots) with
// ctas = batch * heads_kv * s; the smallest s within 95% of the best
// efficiency wins (fewer splits: less partial-output traffic and a cheaper
// merge). A split keeps at least kDecodeMinKeysPerSplit = 256 keys (128 KB
// of K+V at head dim 128): below that the pipeline prologue and the partial
// write cost more than the parallelism gains. Once batch * heads_kv fills
// kDecodeManyWaves = 4 waves, one split is used (tail under ~1/8).
// Waves are counted at one CTA per SM on a contiguous cache and two on a
// paged one (the paged kernel keeps two resident, about 100 KB of shared
// memory each at head dim 128): one streaming CTA per SM already reads at the
// card's rate (bench-read-floor, H100 SXM at 185da35, B=16 L=8192 bytes:
// 3032 GB/s with 132 CTAs, 3024 with 264), so a contiguous cache gains
// nothing from a second CTA but pays for its splits; a paged cache needs the
// second CTA to hide the block-table lookups.
// Measured (H100 SXM, 132 SMs, bf16 Hq=32 Hkv=8 D=128, one token, split
// sweeps of the same kernel, us contiguous / paged page 16):
//   B=1  L=32768: 16 splits 53.6/85.4, 29 56.6/63.7, 32 54.7/60.5, 64 60.2/72.4
//   B=2  L=16384: 15 55.4/62.2, 16 54.1/59.5, 32 57.6/68.1
//   B=4  L=8192:  4 52.9/81.9, 8 53.7/59.5, 16 56.9/67.8
//   B=8  L=2048:  1 34.4/78.4, 2 32.0/46.9, 4 32.4/36.9
//   B=16 L=8192:  1 180.8/293.3, 2 184.8/192.3, 4 185.5/200.6
//   B=32 L=32768, B=64 L=4096, B=128 L=2048: 1 split fastest.
// The rule picks 16 / 8 / 4 / 2 / 1 splits contiguous and 32 / 16 / 8 / 4 / 2
// paged on these problems.
//
// Fixed splits (kFixedSplit = true): every split holds kDecodeFixedSplitKeys
// = 1024 keys whatever the batch or the GPU, so a sample's reduction order,
// and hence its bits, do not depend on the rest of the batch (batch
// invariance). Measured against 512 (same card and problems, us contiguous /
// paged): B=1 L=32768 54.7/60.5 vs 60.0/72.3; B=16 L=8192 187.8/218.6 vs
// 190.6/235.8; B=128 L=2048 363.2/416.0 vs 368.4/430.8; 512 wins only on
// short single samples (B=1 L=4096: 22.6/45.7 vs 16.9/28.3).
//
// Workspace (only when num_splits > 1): partial outputs, f32
// [B * Hq * Lq, num_splits, D], normalized per split, then partial
// log2-sum-exp, f32 [B * Hq * Lq, num_splits], at a 256-byte aligned offset.
// With one split the kernel writes O and LSE directly and needs none.
#pragma once

#include <cstddef>
#include <cstdint>

namespace baracuda {

inline constexpr int kDecodeMaxQueryLen = 8;

inline constexpr std::int64_t kDecodeSplitGranule = 128;
inline constexpr std::int64_t kDecodeMinKeysPerSplit = 256;
inline constexpr std::int64_t kDecodeFixedSplitKeys = 1024;
inline constexpr int kDecodeMaxSplits = 256;
inline constexpr int kDecodeCtasPerSmContiguous = 1;
inline constexpr int kDecodeCtasPerSmPaged = 2;
inline constexpr int kDecodeManyWaves = 4;

struct DecodeSplit {
  int num_splits;
  std::int64_t keys_per_split;
};

namespace decode_detail {
constexpr std::int64_t cdiv(std::int64_t a, std::int64_t b) { return (a + b - 1) / b; }
constexpr std::int64_t round_up(std::int64_t a, std::int64_t b) { return cdiv(a, b) * b; }

// Split of `max_keys` into about `want` splits, each a multiple of the granule.
constexpr DecodeSplit split_into(std::int64_t max_keys, std::int64_t want) {
  const std::int64_t keys = round_up(cdiv(max_keys, want), kDecodeSplitGranule);
  return {static_cast<int>(cdiv(max_keys, keys)), keys};
}

// Wave efficiency in [0, 1] of `ctas` CTAs over `slots` resident slots.
constexpr double wave_efficiency(std::int64_t ctas, std::int64_t slots) {
  const std::int64_t waves = cdiv(ctas, slots);
  return static_cast<double>(ctas) / static_cast<double>(waves * slots);
}
}  // namespace decode_detail

constexpr DecodeSplit decode_split(std::int64_t batch, std::int64_t heads_kv, std::int64_t max_keys, int sm_count,
                                   bool fixed_split, bool paged) {
  using namespace decode_detail;
  if (max_keys < 1) max_keys = 1;
  if (fixed_split) return {static_cast<int>(cdiv(max_keys, kDecodeFixedSplitKeys)), kDecodeFixedSplitKeys};

  const std::int64_t rows = (batch < 1 ? 1 : batch) * (heads_kv < 1 ? 1 : heads_kv);
  const std::int64_t slots = static_cast<std::int64_t>(sm_count < 1 ? 1 : sm_count) *
                            (paged ? kDecodeCtasPerSmPaged : kDecodeCtasPerSmContiguous);
  const DecodeSplit one = split_into(max_keys, 1);
  if (rows >= kDecodeManyWaves * slots || max_keys <= kDecodeMinKeysPerSplit) return one;

  std::int64_t limit = cdiv(max_keys, kDecodeMinKeysPerSplit);
  if (limit > kDecodeMaxSplits) limit = kDecodeMaxSplits;

  double best = 0.0;
  for (std::int64_t s = 1; s <= limit; ++s) {
    const DecodeSplit c = split_into(max_keys, s);
    const double e = wave_efficiency(rows * c.num_splits, slots);
    if (e > best) best = e;
  }
  for (std::int64_t s = 1; s <= limit; ++s) {
    const DecodeSplit c = split_into(max_keys, s);
    if (wave_efficiency(rows * c.num_splits, slots) >= 0.95 * best) return c;
  }
  return one;
}

// Division of a key index by the page size without an integer divide (the
// paged kernel computes a block-table slot per cache row it loads): for a
// page size d in [2, 256] and 0 <= j < 2^31, with l = ceil(log2 d) and
// mul = ceil(2^(31 + l) / d) < 2^32, the error e = mul d - 2^(31 + l) < d <= 2^l
// gives j e < 2^(31 + l), so j / d = floor(j mul / 2^(31 + l)) =
// umulhi(j, mul) >> (l - 1). d = 1 has mul = 0 and means j itself.
struct PageDivisor {
  std::uint32_t mul;
  int shift;
};

constexpr PageDivisor page_divisor(std::int64_t d) {
  if (d <= 1) return {0u, 0};
  int l = 0;
  while ((std::int64_t{1} << l) < d) ++l;
  const std::uint64_t pw = std::uint64_t{1} << (31 + l);
  return {static_cast<std::uint32_t>((pw + static_cast<std::uint64_t>(d) - 1) / static_cast<std::uint64_t>(d)), l - 1};
}

// j / d through a PageDivisor: the high 32 bits of the 64-bit product,
// shifted. The paged decode kernel calls this (device code: __umulhi).
constexpr std::uint32_t page_divide(std::uint32_t j, const PageDivisor& div) {
  if (div.mul == 0) return j;
#ifdef __CUDA_ARCH__
  return __umulhi(j, div.mul) >> div.shift;
#else
  return static_cast<std::uint32_t>((std::uint64_t{j} * div.mul) >> 32) >> div.shift;
#endif
}

// Byte offset of the partial LSE array inside the workspace.
constexpr std::size_t decode_workspace_lse_offset(std::int64_t batch, std::int64_t heads_q, std::int64_t q_len,
                                                  std::int64_t head_dim, const DecodeSplit& split) {
  const std::int64_t rows = batch * heads_q * q_len;
  const std::int64_t o_bytes = rows * split.num_splits * head_dim * static_cast<std::int64_t>(sizeof(float));
  return static_cast<std::size_t>(decode_detail::round_up(o_bytes, 256));
}

constexpr std::size_t decode_workspace_bytes(std::int64_t batch, std::int64_t heads_q, std::int64_t q_len,
                                             std::int64_t head_dim, const DecodeSplit& split) {
  if (split.num_splits <= 1) return 0;
  const std::int64_t rows = batch * heads_q * q_len;
  return decode_workspace_lse_offset(batch, heads_q, q_len, head_dim, split) +
         static_cast<std::size_t>(rows * split.num_splits) * sizeof(float);
}

}  // namespace baracuda
