// KV-cache append: K_cache[b, h, off[b] + l, :] = K_new[b, h, l, :], same for V
// (semantics, skipping and the paged layout: baracuda/ops/kv_append.hpp).
//
// A pure copy: bytes = 2 * B * H * L_new * (Dk + Dv) * sizeof(T) (read + write),
// no FLOPs. Specialized head dims copy 16-byte vectors, kUnroll of them in
// flight per thread (all loads issued before the stores); the generic kernel
// copies one element per thread step and serves any head dim and alignment.
//
// Measured, H100 80GB HBM3, bf16 B=8 H=8 L_new=2048 D=128 prefill (copy
// ceiling cudaMemcpy d2d 2966 GB/s) and B=64 L_new=1 decode:
//   v1 grid (chunk, b*h, K|V), 4 vectors per thread, address per vector:
//      61.0 us = 2199 GB/s (0.74 of copy); decode 5.6 us.  (commit 0461395)
//   v2 8 vectors per thread, one address per thread, streaming loads:
//      65.8 us = 2039 GB/s (0.69): fewer, longer blocks; worse. (da47c78)
//   sweep (a standalone harness, same card, one run): persistent grids of
//      2-8 vectors per thread 2352-2399 GB/s; one block per item with the
//      loads issued before the offset/slot lookup 2518-2525 GB/s; decode
//      4.1-6.1 us.
//   v3 (this file): one block per item, 2 rows per thread, loads first:
//      sweep 53.3 us = 2518 GB/s (0.85); bench-kv-append at 8351cc7:
//      53.4 us = 2515 GB/s = 0.84 of the 2985 GB/s copy, decode 4.6 us
//      (torch index_put_ 290.6 us / 103.5 us in the same run).
//   Against a copy of its own size the gap is smaller (c54494c, B=4 H=8
//   L_new=2048, tools/bench/results/h100-24f2dfd-rope-fused-parts.md): a
//   33.5 MB cudaMemcpy moves 2570 GB/s, this kernel 2390-2408 (0.94); a
//   trimmed probe of the same pattern with 4 rows per thread reached
//   2530-2558, but kUnroll = 4 here did not (ff23160, alternating builds, four
//   rounds: bench-kv-append prefill median 53.14 us both ways, the append in
//   bench-rope 27.7-28.0 vs 27.8-27.9 us).
#pragma once

#include <cstdint>

#include "baracuda/ops/kv_append.hpp"
#include "kernels/common.cuh"
#include "kernels/kv_slot.cuh"

namespace baracuda::kernels {

namespace kv_append_impl {

constexpr int kThreads = 256;
constexpr int kUnroll = 2;  // rows per thread (see the sweep in the header)

// One of the two tensors (K or V) of a launch.
struct Side {
  const char* src;   // [B, H, L_new, D]
  char* dst;         // cache
  Strides3 src_strides;
  Strides3 dst_strides;
  std::int64_t dim;  // elements per row
};

__device__ __forceinline__ Side side_of(const KvAppendDesc& d, const KvAppendArgs& a, int which) {
  if (which == 0)
    return {static_cast<const char*>(a.k_new), static_cast<char*>(a.k_cache), a.k_new_strides, a.k_cache_strides,
            d.head_dim_k};
  return {static_cast<const char*>(a.v_new), static_cast<char*>(a.v_cache), a.v_new_strides, a.v_cache_strides,
          d.head_dim_v};
}

// kHeadDim > 0: 16-byte vectors, kVecs of them per row. One block per item
// (side, b, h, chunk of kRowsPerItem rows). The block is kRowsPerStep whole
// rows (VecShape: kThreads threads when kVecs divides it, else the largest
// multiple of kVecs below), so a thread keeps its vector column for all
// kUnroll rows and only the row advances. The loads do not depend on the
// offsets, so they are issued first; the slot lookup (offset load, range
// check, block table) overlaps them.
template <class T, int kHeadDim>
struct VecShape {
  static constexpr int kVecElems = 16 / static_cast<int>(sizeof(T));
  static constexpr int kVecs = kHeadDim / kVecElems;           // 16-byte vectors per row
  static_assert(kHeadDim % kVecElems == 0, "head dim must fill whole 16-byte vectors");
  static_assert(kVecs <= kThreads, "a row must fit one block step");
  static constexpr int kRowsPerStep = kThreads / kVecs;
  static constexpr int kBlock = kRowsPerStep * kVecs;          // threads per block
  static constexpr int kRowsPerItem = kRowsPerStep * kUnroll;
};

template <class T, int kHeadDim, bool kPaged>
__global__ void __launch_bounds__(kThreads) kv_append_vec_kernel(const KvAppendDesc desc, const KvAppendArgs args,
                                                                 const std::int64_t chunks) {
  using Shape = VecShape<T, kHeadDim>;
  constexpr int kVecElems = Shape::kVecElems;
  constexpr int kVecs = Shape::kVecs;
  constexpr int kRowsPerStep = Shape::kRowsPerStep;
  const std::int64_t bhn = desc.batch * desc.heads;
  const std::int64_t item = blockIdx.x;
  const std::int64_t rest = item / chunks;
  const std::int64_t chunk = item - rest * chunks;
  const int which = rest >= bhn;
  const std::int64_t bh = rest - which * bhn;
  const std::int64_t b = bh / desc.heads;
  const std::int64_t h = bh - b * desc.heads;
  const Side side = side_of(desc, args, which);
  const int v = static_cast<int>(threadIdx.x) % kVecs;
  const std::int64_t l0 = chunk * kRowsPerStep * kUnroll + threadIdx.x / kVecs;
  const T* src = reinterpret_cast<const T*>(side.src) + b * side.src_strides.batch + h * side.src_strides.head +
                 l0 * side.src_strides.pos + v * kVecElems;
  uint4 data[kUnroll];
#pragma unroll
  for (int u = 0; u < kUnroll; ++u)
    if (l0 + u * kRowsPerStep < desc.new_len)
      data[u] = *reinterpret_cast<const uint4*>(src + u * kRowsPerStep * side.src_strides.pos);
  const std::int64_t offset = __ldg(args.offsets + b);
  T* dst_head = reinterpret_cast<T*>(side.dst) + h * side.dst_strides.head + v * kVecElems;
#pragma unroll
  for (int u = 0; u < kUnroll; ++u) {
    const std::int64_t l = l0 + u * kRowsPerStep;
    if (l >= desc.new_len) continue;
    const KvSlot slot = kv_slot<kPaged>(desc, args, b, kv_position(offset, l));
    if (slot.valid)
      *reinterpret_cast<uint4*>(dst_head + slot.batch_or_page * side.dst_strides.batch +
                                slot.pos_in_page * side.dst_strides.pos) = data[u];
  }
}

// Any head dim, element alignment only.
template <class T, bool kPaged>
__global__ void __launch_bounds__(kThreads) kv_append_any_kernel(const KvAppendDesc desc, const KvAppendArgs args) {
  const Side side = side_of(desc, args, blockIdx.z);
  const std::int64_t per_bh = desc.new_len * side.dim;
  for (std::int64_t bh = blockIdx.y; bh < desc.batch * desc.heads; bh += gridDim.y) {
    const std::int64_t b = bh / desc.heads;
    const std::int64_t h = bh - b * desc.heads;
    const std::int64_t offset = __ldg(args.offsets + b);
    for (std::int64_t i = static_cast<std::int64_t>(blockIdx.x) * kThreads + threadIdx.x; i < per_bh;
         i += static_cast<std::int64_t>(gridDim.x) * kThreads) {
      const std::int64_t l = i / side.dim;
      const std::int64_t d = i - l * side.dim;
      const KvSlot slot = kv_slot<kPaged>(desc, args, b, kv_position(offset, l));
      if (!slot.valid) continue;
      const T* src = reinterpret_cast<const T*>(side.src) + b * side.src_strides.batch + h * side.src_strides.head +
                     l * side.src_strides.pos + d;
      T* dst = reinterpret_cast<T*>(side.dst) + slot.batch_or_page * side.dst_strides.batch +
               h * side.dst_strides.head + slot.pos_in_page * side.dst_strides.pos + d;
      *dst = *src;
    }
  }
}

}  // namespace kv_append_impl

// Entry of every kv_append SKU. kHeadDim == 0: the generic kernel.
template <class T, int kHeadDim, bool kPaged>
Status kv_append(const LaunchContext& ctx) {
  using namespace kv_append_impl;
  const auto& desc = *static_cast<const KvAppendDesc*>(ctx.desc);
  const auto& args = *static_cast<const KvAppendArgs*>(ctx.args);
  const std::int64_t bh = desc.batch * desc.heads;
  if constexpr (kHeadDim > 0) {
    using Shape = VecShape<T, kHeadDim>;
    const std::int64_t chunks = ceil_div(desc.new_len, Shape::kRowsPerItem);
    const std::int64_t items = 2 * bh * chunks;
    if (items > 0x7fffffff)
      return Status::error(StatusCode::not_supported, "kv_append: batch * heads * new_len = " +
                                                          std::to_string(bh * desc.new_len) + " rows: too many");
    kv_append_vec_kernel<T, kHeadDim, kPaged>
        <<<static_cast<unsigned>(items), Shape::kBlock, 0, ctx.stream>>>(desc, args, chunks);
    return check_launch("kv_append_vec_kernel");
  } else {
    const unsigned grid_y = static_cast<unsigned>(bh < 65535 ? bh : 65535);
    const std::int64_t dim = desc.head_dim_k > desc.head_dim_v ? desc.head_dim_k : desc.head_dim_v;
    const std::int64_t want = ceil_div(desc.new_len * dim, kThreads);
    const unsigned blocks_x = static_cast<unsigned>(want < 4096 ? want : 4096);
    kv_append_any_kernel<T, kPaged><<<dim3(blocks_x, grid_y, 2), kThreads, 0, ctx.stream>>>(desc, args);
    return check_launch("kv_append_any_kernel");
  }
}

}  // namespace baracuda::kernels
