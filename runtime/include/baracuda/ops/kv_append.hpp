// KV-cache append.
//
// For each b < B, h < H, l < L_new, d:
//   K_cache[b, h, off[b] + l, d] = K_new[b, h, l, d]     (d < head_dim_k)
//   V_cache[b, h, off[b] + l, d] = V_new[b, h, l, d]     (d < head_dim_v)
// A cell whose position off[b] + l lies outside [0, L_max) is skipped, never
// written. Paged caches (`desc.paged`) hold pages [num_pages, H, page_size, D];
// position p of sample b lives in page block_table[b, p / page_size], slot
// p % page_size. A position past max_pages_per_seq * page_size, or a block
// table entry outside [0, num_pages), skips the cell (documented skip; no
// read or write outside the buffers).
#pragma once

#include <cstdint>

#include "baracuda/tensor.hpp"
#include "baracuda/types.hpp"

namespace baracuda {

struct KvAppendDesc {
  Element element = Element::none;
  std::int64_t batch = 0;
  std::int64_t heads = 0;
  std::int64_t new_len = 0;      // L_new
  std::int64_t max_len = 0;      // L_max (contiguous cache only)
  std::int64_t head_dim_k = 0;
  std::int64_t head_dim_v = 0;
  bool paged = false;
  std::int64_t page_size = 0;          // paged only, 1..256
  std::int64_t num_pages = 0;          // paged only
  std::int64_t max_pages_per_seq = 0;  // paged only
};

struct KvAppendArgs {
  const void* k_new = nullptr;  Strides3 k_new_strides;    // [B, H, L_new, Dk]
  const void* v_new = nullptr;  Strides3 v_new_strides;    // [B, H, L_new, Dv]
  void* k_cache = nullptr;      Strides3 k_cache_strides;  // [B, H, L_max, Dk] | paged [P, H, page, Dk]
  void* v_cache = nullptr;      Strides3 v_cache_strides;  // [B, H, L_max, Dv] | paged [P, H, page, Dv]
  const std::int64_t* offsets = nullptr;                   // [B], device
  const std::int32_t* block_table = nullptr;               // [B, max_pages_per_seq], device, paged only
  std::int64_t block_table_stride = 0;                     // elements between rows of block_table
};

}  // namespace baracuda
