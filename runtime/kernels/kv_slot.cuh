// Position -> KV-cache slot mapping shared by the KV-append kernels
// (kv_append.cuh) and the fused RoPE + KV-append kernel (rope.cuh), so both
// skip exactly the same cells and write exactly the same addresses.
//
// Contiguous cache [B, H, L_max, D]: position p of sample b is valid iff
//   0 <= p < max_len; the slot is (batch_or_page = b, pos_in_page = p).
// Paged cache [num_pages, H, page_size, D]: position p of sample b is valid
//   iff 0 <= p < max_pages_per_seq * page_size and the block table entry
//   e = block_table[b * block_table_stride + p / page_size] lies in
//   [0, num_pages); the slot is (batch_or_page = e, pos_in_page = p % page_size).
// The offsets and block table are device-resident and unvalidated by the
// host: every value is range-checked here before it is used as an index, and
// the block table is read only for in-range (b, p / page_size).
//
// Cost: one i32 load from the block table per call when paged (callers
// compute the slot once per (b, position) and reuse it across heads).
// Results: pure index arithmetic. The 64-bit division per row costs nothing
// measurable: a 32-bit / power-of-two-shift variant ran the paged append and
// the paged fused call at the same speed (H100, 67a4f9b,
// tools/bench/results/h100-67a4f9b-paged-writes.md).
#pragma once

#include <cstdint>

#include "baracuda/ops/kv_append.hpp"
#include "kernels/common.cuh"

namespace baracuda::kernels {

struct KvSlot {
  bool valid;
  std::int64_t batch_or_page;  // index along the cache's dim 0 (sample, or page when paged)
  std::int64_t pos_in_page;    // index along the cache's dim 2 (position, or slot in the page)
};

// Cache position off[b] + l without signed overflow: a wrapped sum is negative
// and therefore skipped by kv_slot (offsets are unvalidated device values).
__device__ __forceinline__ std::int64_t kv_position(std::int64_t offset, std::int64_t l) {
  return static_cast<std::int64_t>(static_cast<std::uint64_t>(offset) + static_cast<std::uint64_t>(l));
}

// `b` must be in [0, desc.batch); `pos` is the cache position off[b] + l
// (any value: out-of-range positions return an invalid slot).
template <bool kPaged>
__device__ __forceinline__ KvSlot kv_slot(const KvAppendDesc& desc, const KvAppendArgs& args, std::int64_t b,
                                          std::int64_t pos) {
  KvSlot slot{false, 0, 0};
  if constexpr (!kPaged) {
    if (pos < 0 || pos >= desc.max_len) return slot;
    slot.valid = true;
    slot.batch_or_page = b;
    slot.pos_in_page = pos;
  } else {
    // page_size >= 1 and max_pages_per_seq >= 1 are validated on the host.
    const std::int64_t page_size = desc.page_size;
    if (pos < 0 || pos / page_size >= desc.max_pages_per_seq) return slot;
    const std::int64_t logical_page = pos / page_size;
    const std::int64_t entry = static_cast<std::int64_t>(
        __ldg(args.block_table + b * args.block_table_stride + logical_page));
    if (entry < 0 || entry >= desc.num_pages) return slot;
    slot.valid = true;
    slot.batch_or_page = entry;
    slot.pos_in_page = pos - logical_page * page_size;
  }
  return slot;
}

}  // namespace baracuda::kernels
