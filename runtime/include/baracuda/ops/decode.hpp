// Decode attention over the KV cache (flash-decoding, split-KV).
//
// Sample b has seqlens[b] valid cache positions; its q_len new tokens are the
// last q_len of them, so query i sees cache positions j < seqlens[b] with
// j <= seqlens[b] - q_len + i (causal among the new tokens). A row that sees
// no key gets O = 0 and LSE = -inf. seqlens[b] is clamped to [0, max_len]
// (paged: max_pages_per_seq * page_size) on the device: never an
// out-of-bounds read. Paged caches read page block_table[b, p / page_size];
// an entry outside [0, num_pages) reads as masked keys (documented skip).
#pragma once

#include <cmath>
#include <cstdint>

#include "baracuda/tensor.hpp"
#include "baracuda/types.hpp"

namespace baracuda {

struct DecodeDesc {
  Element element = Element::none;
  Element seqlen_element = Element::i32;  // i32 or i64
  std::int64_t batch = 0;
  std::int64_t heads_q = 0;
  std::int64_t heads_kv = 0;   // divides heads_q
  std::int64_t q_len = 1;      // 1..8 new tokens per sample
  std::int64_t max_len = 0;    // contiguous cache: L_max
  std::int64_t head_dim = 0;
  bool paged = false;
  std::int64_t page_size = 0;          // paged only, 1..256
  std::int64_t num_pages = 0;          // paged only
  std::int64_t max_pages_per_seq = 0;  // paged only
  float scale = 0.0f;                  // 0: 1 / sqrt(head_dim)
};

struct DecodeArgs {
  const void* q = nullptr;        Strides3 q_strides;        // [B, Hq, Lq, D]
  const void* k_cache = nullptr;  Strides3 k_cache_strides;  // [B, Hkv, L_max, D] | paged [P, Hkv, page, D]
  const void* v_cache = nullptr;  Strides3 v_cache_strides;  // same shape as k_cache
  const void* seqlens = nullptr;                             // [B], device, i32 or i64
  const std::int32_t* block_table = nullptr;                 // [B, max_pages_per_seq], paged only
  std::int64_t block_table_stride = 0;
  void* o = nullptr;              Strides3 o_strides;        // [B, Hq, Lq, D]
  float* lse = nullptr;                                      // [B, Hq, Lq], contiguous
};

// The scale a descriptor asks for (resolves the 0 default).
inline float effective_scale(const DecodeDesc& d) {
  return d.scale != 0.0f ? d.scale : 1.0f / std::sqrt(static_cast<float>(d.head_dim));
}

}  // namespace baracuda
