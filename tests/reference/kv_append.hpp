// Host reference of the KV-cache append: applies the op's semantics to a host
// copy of the cache (element bytes copied as they are: the op is bit-exact).
#pragma once

#include <cstdint>
#include <vector>

#include "baracuda/ops/kv_append.hpp"

namespace bk_ref {

// One tensor (K or V): new rows [B, H, L_new, dim] (strides `src_s`) into the
// cache (strides `dst_s`), with the skipping rules of ops/kv_append.hpp.
template <class T>
void kv_append(const baracuda::KvAppendDesc& d, std::int64_t dim, const std::vector<T>& src,
               const baracuda::Strides3& src_s, std::vector<T>& cache, const baracuda::Strides3& dst_s,
               const std::vector<std::int64_t>& offsets, const std::vector<std::int32_t>& block_table,
               std::int64_t block_table_stride) {
  for (std::int64_t b = 0; b < d.batch; ++b)
    for (std::int64_t h = 0; h < d.heads; ++h)
      for (std::int64_t l = 0; l < d.new_len; ++l) {
        const std::int64_t p = offsets[b] + l;
        std::int64_t row = 0, slot = 0;
        if (!d.paged) {
          if (p < 0 || p >= d.max_len) continue;
          row = b;
          slot = p;
        } else {
          if (p < 0 || p / d.page_size >= d.max_pages_per_seq) continue;
          const std::int64_t page = block_table[b * block_table_stride + p / d.page_size];
          if (page < 0 || page >= d.num_pages) continue;
          row = page;
          slot = p % d.page_size;
        }
        for (std::int64_t x = 0; x < dim; ++x)
          cache[row * dst_s.batch + h * dst_s.head + slot * dst_s.pos + x] =
              src[b * src_s.batch + h * src_s.head + l * src_s.pos + x];
      }
}

}  // namespace bk_ref
