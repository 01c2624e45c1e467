// Strided views shared by every op. Tensors are rank 4 in the logical order
// (batch, head, position, dim); the last dim always has stride 1, and the
// three outer strides (in elements, not bytes) give the memory layout.
#pragma once

#include <cstdint>

namespace baracuda {

struct Strides3 {
  std::int64_t batch = 0;  // stride of dim 0 (b; or page for a paged cache)
  std::int64_t head = 0;   // stride of dim 1 (h)
  std::int64_t pos = 0;    // stride of dim 2 (l / s)
};

// [B, H, L, D] in memory.
constexpr Strides3 strides_bhld(std::int64_t heads, std::int64_t len, std::int64_t dim) {
  return {heads * len * dim, len * dim, dim};
}
// [B, L, H, D] in memory, still indexed (b, h, l, d).
constexpr Strides3 strides_blhd(std::int64_t heads, std::int64_t len, std::int64_t dim) {
  return {len * heads * dim, dim, heads * dim};
}

}  // namespace baracuda
