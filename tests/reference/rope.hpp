// Host reference for rotary position embedding (RoPE), in extended precision.
//
// Semantics (runtime/include/baracuda/ops/rope.hpp): for position p and pair
// i < r/2 (r = rotary_dim),
//   angle = p * position_scale * theta_base^(-2i / r)
//   NeoX (rotate-half): pairs (x[i], x[i + r/2]);  GPT-J: pairs (x[2i], x[2i+1])
//   (x0, x1) -> (x0 cos - x1 sin, x1 cos + x0 sin);  dims >= r copied.
//
// Arithmetic: the angle, its cos/sin and the rotation are carried in long
// double (x87 extended: 64-bit significand on x86-64; plain double elsewhere),
// so for |angle| <= 2^17 the reference is within ~1e-15 relative of the exact
// function; the kernels are judged against the exact function, not against
// their own f32 angle rounding (that rounding is what the SKU bound's
// |p| * u_math term budgets for). Needs IEEE arithmetic: never compile it
// with -ffast-math.
#pragma once

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <vector>

namespace bk_ref {

struct RopeSpec {
  bool neox = true;                // false: GPT-J interleaved
  std::int64_t rotary_dim = 0;     // even, <= head_dim; 0: head_dim
  double theta_base = 10000.0;
  double position_scale = 1.0;
};

inline std::int64_t rope_rotary_dim(const RopeSpec& s, std::int64_t head_dim) {
  return s.rotary_dim == 0 ? head_dim : s.rotary_dim;
}

// One row of `head_dim` values rotated for `position`; y may equal x.
inline void rope_row(const double* x, double* y, std::int64_t head_dim, const RopeSpec& s, std::int64_t position) {
  const std::int64_t r = rope_rotary_dim(s, head_dim);
  const std::int64_t half = r / 2;
  std::vector<double> row(x, x + head_dim);
  for (std::int64_t d = r; d < head_dim; ++d) y[d] = row[static_cast<std::size_t>(d)];
  for (std::int64_t i = 0; i < half; ++i) {
    const long double freq = std::pow(static_cast<long double>(s.theta_base),
                                      -static_cast<long double>(2 * i) / static_cast<long double>(r));
    const long double angle = static_cast<long double>(position) * static_cast<long double>(s.position_scale) * freq;
    const long double c = std::cos(angle), sn = std::sin(angle);
    const std::int64_t i0 = s.neox ? i : 2 * i;
    const std::int64_t i1 = s.neox ? i + half : 2 * i + 1;
    const long double x0 = row[static_cast<std::size_t>(i0)], x1 = row[static_cast<std::size_t>(i1)];
    y[i0] = static_cast<double>(x0 * c - x1 * sn);
    y[i1] = static_cast<double>(x1 * c + x0 * sn);
  }
}

// A logical [B, H, L, D] tensor (contiguous, in that order) rotated with
// positions[b * L + l].
inline std::vector<double> rope_tensor(const std::vector<double>& x, std::int64_t batch, std::int64_t heads,
                                       std::int64_t len, std::int64_t head_dim, const RopeSpec& s,
                                       const std::vector<std::int64_t>& positions) {
  std::vector<double> y(x.size());
  for (std::int64_t b = 0; b < batch; ++b)
    for (std::int64_t h = 0; h < heads; ++h)
      for (std::int64_t l = 0; l < len; ++l) {
        const std::size_t row = static_cast<std::size_t>(((b * heads + h) * len + l) * head_dim);
        rope_row(x.data() + row, y.data() + row, head_dim, s, positions[static_cast<std::size_t>(b * len + l)]);
      }
  return y;
}

}  // namespace bk_ref
