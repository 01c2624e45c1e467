// Argument checks shared by the ops' host code. Each returns a Status whose
// message names the field and the offending value.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdint>
#include <string>

#include "baracuda/tensor.hpp"
#include "baracuda/types.hpp"

#define BK_TRY(expr)                          \
  do {                                        \
    ::baracuda::Status bk_s_ = (expr);        \
    if (!bk_s_.ok()) return bk_s_;            \
  } while (0)

namespace baracuda::checks {

inline std::string str(std::int64_t v) { return std::to_string(v); }

inline Status at_least(const char* field, std::int64_t value, std::int64_t min) {
  if (value >= min) return Status::success();
  return Status::invalid(std::string(field) + " = " + str(value) + ": must be >= " + str(min));
}

inline Status in_range(const char* field, std::int64_t value, std::int64_t lo, std::int64_t hi) {
  if (value >= lo && value <= hi) return Status::success();
  return Status::invalid(std::string(field) + " = " + str(value) + ": must be in [" + str(lo) + ", " + str(hi) + "]");
}

inline Status finite(const char* field, double value) {
  if (std::isfinite(value)) return Status::success();
  return Status::invalid(std::string(field) + " = " + std::to_string(value) + ": must be finite");
}

inline Status one_of_elements(const char* field, Element e, std::initializer_list<Element> allowed) {
  std::string list;
  for (Element a : allowed) {
    if (a == e) return Status::success();
    list += (list.empty() ? "" : ", ") + std::string(to_string(a));
  }
  return Status::invalid(std::string(field) + " = " + std::string(to_string(e)) + ": must be one of {" + list + "}");
}

// Non-null and aligned to `align` bytes.
inline Status pointer(const char* field, const void* p, std::size_t align) {
  if (p == nullptr) return Status::invalid(std::string(field) + ": null pointer");
  if (reinterpret_cast<std::uintptr_t>(p) % align != 0) {
    char buf[32];
    std::snprintf(buf, sizeof(buf), "%p", p);
    return Status::invalid(std::string(field) + " = " + buf + ": not " + str(static_cast<std::int64_t>(align)) +
                           "-byte aligned");
  }
  return Status::success();
}

// Strides of a [d0, d1, d2, dim] tensor: non-negative, multiples of
// `multiple` elements; with `unique`, every element has its own address
// (required of outputs).
inline Status strides(const char* field, const Strides3& s, std::int64_t d0, std::int64_t d1, std::int64_t d2,
                      std::int64_t dim, std::int64_t multiple, bool unique) {
  const std::int64_t v[3] = {s.batch, s.head, s.pos};
  static const char* const kNames[3] = {"batch", "head", "pos"};
  for (int i = 0; i < 3; ++i) {
    if (v[i] < 0)
      return Status::invalid(std::string(field) + "." + kNames[i] + " stride = " + str(v[i]) + ": must be >= 0");
    if (v[i] % multiple != 0)
      return Status::invalid(std::string(field) + "." + kNames[i] + " stride = " + str(v[i]) +
                             ": must be a multiple of " + str(multiple) + " elements (16-byte rows)");
  }
  if (!unique) return Status::success();
  // Sort the (stride, extent) pairs of extents > 1; each stride must clear the
  // span of the dims inside it, starting from the contiguous head dim.
  struct Dim { std::int64_t stride, extent; int index; };
  Dim dims[3] = {{s.batch, d0, 0}, {s.head, d1, 1}, {s.pos, d2, 2}};
  std::sort(std::begin(dims), std::end(dims), [](const Dim& a, const Dim& b) { return a.stride < b.stride; });
  std::int64_t span = dim;
  for (const Dim& d : dims) {
    if (d.extent <= 1) continue;
    if (d.stride < span)
      return Status::invalid(std::string(field) + "." + kNames[d.index] + " stride = " + str(d.stride) +
                             ": rows overlap (needs >= " + str(span) + " for an output)");
    span = d.stride * d.extent;
  }
  return Status::success();
}

// A paged cache's block table [B, max_pages_per_seq] (i32, row stride given).
inline Status block_table(const std::int32_t* table, std::int64_t stride, std::int64_t max_pages_per_seq) {
  BK_TRY(pointer("block_table", table, alignof(std::int32_t)));
  if (stride < max_pages_per_seq)
    return Status::invalid("block_table_stride = " + str(stride) + ": must be >= max_pages_per_seq (" +
                           str(max_pages_per_seq) + ")");
  return Status::success();
}

// Alignment a SKU needs: 16 bytes (vector access) for specialized head dims,
// the element size for generic ones.
inline std::size_t alignment(const KernelSku& sku, Element e) {
  return sku.generic_head_dim() || sku.backend == Backend::reference ? element_size(e) : 16;
}
inline std::int64_t stride_multiple(const KernelSku& sku, Element e) {
  return static_cast<std::int64_t>(alignment(sku, e) / element_size(e));
}

}  // namespace baracuda::checks
