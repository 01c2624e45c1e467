// Reference attention forward (backend "reference"): the most precise and
// most general attn_fwd kernel of the catalog, the one the others are judged
// against on the device.
//
// Computes, for every b < B, h < Hq, query row i < Sq (ops/attn_fwd.hpp):
//   s_ij   = scale * sum_d Q[b,h,i,d] K[b,h/G,j,d]      masked: j >= Sk, or
//                                                       causal and j > i + Sk - Sq
//   O[b,h,i,:] = sum_j exp(s_ij - m_i) V[b,h/G,j,:] / l_i,  l_i = sum_j exp(s_ij - m_i)
//   LSE[b,h,i] = m_i + log(l_i)          (rows that see no key: O = 0, LSE = -inf)
// Every product, exponential, sum and the final division are carried in Acc
// (float or double); only the store rounds to T, once (double -> half / bf16
// directly, never through float). Any Dqk, Dv in [1, kAttnReferenceMaxHeadDim],
// Dqk != Dv, any GQA group, arbitrary element strides (scalar loads only:
// nothing assumes more than element alignment), no workspace.
//
// Shape of the computation: one CTA of kThreads threads per (kRows query
// rows, query head, batch), grid-stride over a 64-bit work index. The CTA
// stages its query rows in shared memory (converted to Acc), then streams
// the keys in chunks of kKeys with an exact online softmax (running max and
// sum, rescaling on each new max); there is no Sq x Sk buffer.
//   scores : thread (row = t / kKeys, key = t % kKeys) forms one dot product,
//            d = 0 .. Dqk-1 in order, reading K through a shared tile of
//            kKeys x kDTile elements loaded coalesced along d;
//   softmax: chunk max and sum across the row's kKeys lanes by xor
//            butterflies (every lane ends with the same bits);
//   P.V    : thread t owns columns t + kThreads*c of all kRows rows in
//            registers; V rows are read coalesced along d, keys in order.
// Every reduction has one fixed order that depends only on (i, j, d), never
// on the batch, the grid or timing: deterministic, bit-stable and batch
// invariant.
//
// Cost per call (Sk_eff = keys seen per row: Sk, or about Sk/2 when causal
// with Sq == Sk):
//   FLOPs  2 * B * Hq * Sq * Sk_eff * (Dqk + Dv) in Acc, plus one exp per
//          (row, key) and one per (row, key chunk);
//   bytes  compulsory: Q + K + V + O + 4 * B * Hq * Sq (LSE); K and V are
//          re-read once per kRows query rows of each query head (mostly from
//          L2).
//
// Measured (H100 80GB HBM3, commit 517f07f, bench-attn-fwd --sku ...,
// tools/bench/results/h100-517f07f-reference.log): bf16 B=4 H=16 S=4096
// D=128 full, f32 accumulation 122.8 ms = 4.5 TFLOP/s, f64 accumulation
// 187.2 ms = 2.9 TFLOP/s (the flash SKU: 1.51 ms = 365 TFLOP/s). A precision
// path, not a speed path.
#pragma once

#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <cuda_runtime.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>
#include <type_traits>

#include "baracuda/limits.hpp"
#include "baracuda/ops/attn_fwd.hpp"
#include "baracuda/types.hpp"
#include "kernels/common.cuh"

namespace baracuda::kernels {

namespace attn_reference_detail {

inline constexpr int kThreads = 128;
inline constexpr int kRows = 8;                         // query rows per CTA
inline constexpr int kKeys = kThreads / kRows;          // keys per chunk (one per thread and row)
inline constexpr int kDTile = 64;                       // K columns staged per tile
inline constexpr int kKStride = kDTile + 1;             // padded: conflict-free for 4- and 8-byte Acc
inline constexpr int kDvSlots = (kAttnReferenceMaxHeadDim + kThreads - 1) / kThreads;
static_assert(kKeys * kRows == kThreads, "score mapping needs one thread per (row, key)");
static_assert((kKeys & (kKeys - 1)) == 0 && kKeys <= 32, "row lanes must be a power-of-two part of a warp");
static_assert(kThreads % 32 == 0, "whole warps only");

struct Params {
  const void* q;  Strides3 q_strides;  // [B, Hq, Sq, Dqk]
  const void* k;  Strides3 k_strides;  // [B, Hkv, Sk, Dqk]
  const void* v;  Strides3 v_strides;  // [B, Hkv, Sk, Dv]
  void* o;        Strides3 o_strides;  // [B, Hq, Sq, Dv]
  float* lse;                          // [B, Hq, Sq], contiguous; may be null
  std::int64_t batch, heads_q, group, seq_q, seq_k;
  int head_dim_qk, head_dim_v;
  std::int64_t row_groups;             // ceil(Sq / kRows)
  std::int64_t work_items;             // row_groups * Hq * B
  double scale;                        // converted to Acc on the device
};

__device__ __forceinline__ std::int64_t min64(std::int64_t a, std::int64_t b) { return a < b ? a : b; }

template <class Acc, class T>
__device__ __forceinline__ Acc load_acc(const T* p) {
  return convert<Acc>(*p);
}

// Acc -> T with a single rounding.
template <class T, class Acc>
__device__ __forceinline__ T store_cast(Acc x) {
  if constexpr (std::is_same_v<Acc, double> && std::is_same_v<T, __half>) {
    return __double2half(x);
  } else if constexpr (std::is_same_v<Acc, double> && std::is_same_v<T, __nv_bfloat16>) {
    return __double2bfloat16(x);
  } else {
    return convert<T>(x);
  }
}

template <class Acc>
__device__ __forceinline__ Acc acc_fma(Acc a, Acc b, Acc c) {
  if constexpr (std::is_same_v<Acc, float>) return fmaf(a, b, c);
  else return fma(a, b, c);
}
template <class Acc>
__device__ __forceinline__ Acc acc_exp(Acc x) {
  if constexpr (std::is_same_v<Acc, float>) return expf(x);
  else return exp(x);
}
template <class Acc>
__device__ __forceinline__ Acc acc_log(Acc x) {
  if constexpr (std::is_same_v<Acc, float>) return logf(x);
  else return log(x);
}

// Max and sum over the kKeys lanes of one row. Xor butterflies combine the
// same pairs in the same order on every lane (a + b == b + a bitwise), so all
// lanes of the row end with identical bits.
template <class Acc>
__device__ __forceinline__ Acc row_max(Acc x) {
#pragma unroll
  for (int off = kKeys / 2; off > 0; off /= 2) x = fmax(x, __shfl_xor_sync(0xffffffffu, x, off, kKeys));
  return x;
}
template <class Acc>
__device__ __forceinline__ Acc row_sum(Acc x) {
#pragma unroll
  for (int off = kKeys / 2; off > 0; off /= 2) x += __shfl_xor_sync(0xffffffffu, x, off, kKeys);
  return x;
}

template <class T, class Acc, bool kCausal>
__global__ void __launch_bounds__(kThreads) attn_reference_kernel(const Params p) {
  extern __shared__ __align__(16) unsigned char smem_raw[];
  Acc* sQ = reinterpret_cast<Acc*>(smem_raw);          // [kRows, Dqk + 1]
  __shared__ Acc sK[kKeys * kKStride];                 // [kKeys, kDTile] tile of K, padded
  __shared__ Acc sP[kRows * kKeys];                    // probabilities of the chunk
  __shared__ Acc sAlpha[kRows];                        // rescale factor of the chunk
  __shared__ Acc sL[kRows];                            // final row sums
  __shared__ Acc sM[kRows];                            // final row maxima

  const T* __restrict__ q_ptr = static_cast<const T*>(p.q);
  const T* __restrict__ k_ptr = static_cast<const T*>(p.k);
  const T* __restrict__ v_ptr = static_cast<const T*>(p.v);
  T* __restrict__ o_ptr = static_cast<T*>(p.o);

  const int tid = static_cast<int>(threadIdx.x);
  const int my_row = tid / kKeys;   // score mapping
  const int my_key = tid % kKeys;
  const int dqk = p.head_dim_qk;
  const int dv = p.head_dim_v;
  const int ldq = dqk + 1;
  const Acc scale = static_cast<Acc>(p.scale);
  const Acc neg_inf = static_cast<Acc>(-INFINITY);
  const std::int64_t causal_shift = p.seq_k - p.seq_q;  // query i sees key j iff j <= i + shift

  for (std::int64_t work = blockIdx.x; work < p.work_items; work += gridDim.x) {
    // Row group fastest (consecutive CTAs share K/V in L2), heaviest causal
    // group first.
    const std::int64_t rg = p.row_groups - 1 - work % p.row_groups;
    const std::int64_t bh = work / p.row_groups;
    const std::int64_t h = bh % p.heads_q;
    const std::int64_t b = bh / p.heads_q;
    const std::int64_t hk = h / p.group;
    const std::int64_t row0 = rg * kRows;
    const int rows = static_cast<int>(min64(kRows, p.seq_q - row0));

    const T* q_base = q_ptr + b * p.q_strides.batch + h * p.q_strides.head;
    const T* k_base = k_ptr + b * p.k_strides.batch + hk * p.k_strides.head;
    const T* v_base = v_ptr + b * p.v_strides.batch + hk * p.v_strides.head;

    // Keys any row of the group can see.
    std::int64_t n_keys = p.seq_k;
    if constexpr (kCausal) n_keys = min64(n_keys, row0 + rows + causal_shift);  // last row sees j <= row + shift
    if (n_keys < 0) n_keys = 0;

    __syncthreads();  // the previous work item is done with sQ, sL, sM
    for (int e = tid; e < kRows * dqk; e += kThreads) {
      const int r = e / dqk;
      const int d = e % dqk;
      sQ[r * ldq + d] = r < rows ? load_acc<Acc>(q_base + (row0 + r) * p.q_strides.pos + d) : Acc(0);
    }

    const std::int64_t i_row = row0 + my_row;
    const bool row_valid = my_row < rows;
    Acc m = neg_inf;  // running max of my_row (same bits on its kKeys lanes)
    Acc l = Acc(0);   // running sum of my_row
    Acc acc[kDvSlots][kRows];
#pragma unroll
    for (int c = 0; c < kDvSlots; ++c)
#pragma unroll
      for (int r = 0; r < kRows; ++r) acc[c][r] = Acc(0);

    for (std::int64_t kb = 0; kb < n_keys; kb += kKeys) {
      const int chunk = static_cast<int>(min64(kKeys, n_keys - kb));
      // ---- scores: s = q . k, d in order, through shared K tiles ----
      Acc s = Acc(0);
      for (int d0 = 0; d0 < dqk; d0 += kDTile) {
        const int dlen = min(kDTile, dqk - d0);
        __syncthreads();  // readers of the previous tile (and of sP) are done
        for (int e = tid; e < kKeys * kDTile; e += kThreads) {
          const int key = e / kDTile;
          const int d = e % kDTile;
          Acc x = Acc(0);
          if (key < chunk && d < dlen) x = load_acc<Acc>(k_base + (kb + key) * p.k_strides.pos + (d0 + d));
          sK[key * kKStride + d] = x;
        }
        __syncthreads();
        const Acc* qrow = sQ + my_row * ldq + d0;
        const Acc* krow = sK + my_key * kKStride;
#pragma unroll 8
        for (int d = 0; d < dlen; ++d) s = acc_fma<Acc>(qrow[d], krow[d], s);
      }

      // ---- online softmax update of my_row ----
      const std::int64_t j = kb + my_key;
      bool visible = row_valid && my_key < chunk;
      if constexpr (kCausal) visible = visible && j <= i_row + causal_shift;
      const Acc x = visible ? s * scale : neg_inf;
      const Acc m_new = fmax(m, row_max(x));
      const Acc m_use = m_new == neg_inf ? Acc(0) : m_new;  // no key seen yet: keep exp() finite
      const Acc pr = acc_exp<Acc>(x - m_use);                 // masked: exp(-inf) = 0
      const Acc alpha = acc_exp<Acc>(m - m_use);              // unchanged max: exactly 1
      l = l * alpha + row_sum(pr);
      m = m_new;
      sP[my_row * kKeys + my_key] = pr;
      if (my_key == 0) sAlpha[my_row] = alpha;
      __syncthreads();

      // ---- O = O * alpha + sum_j p_j V_j, keys in order ----
#pragma unroll
      for (int r = 0; r < kRows; ++r) {
        const Acc a = sAlpha[r];
#pragma unroll
        for (int c = 0; c < kDvSlots; ++c) acc[c][r] *= a;
      }
      const T* v_chunk = v_base + kb * p.v_strides.pos;
      for (int jj = 0; jj < chunk; ++jj) {
        Acc vj[kDvSlots];
#pragma unroll
        for (int c = 0; c < kDvSlots; ++c) {
          const int col = tid + c * kThreads;
          vj[c] = col < dv ? load_acc<Acc>(v_chunk + jj * p.v_strides.pos + col) : Acc(0);
        }
#pragma unroll
        for (int r = 0; r < kRows; ++r) {
          const Acc pj = sP[r * kKeys + jj];
#pragma unroll
          for (int c = 0; c < kDvSlots; ++c) acc[c][r] = acc_fma<Acc>(pj, vj[c], acc[c][r]);
        }
      }
    }

    if (my_key == 0) {
      sL[my_row] = l;
      sM[my_row] = m;
    }
    __syncthreads();

    // ---- epilogue: O = acc / l, LSE = m + log(l); empty rows O = 0, LSE = -inf ----
#pragma unroll
    for (int r = 0; r < kRows; ++r) {
      if (r >= rows) break;
      const Acc lr = sL[r];
      const bool empty = !(lr > Acc(0));
      T* o_row = o_ptr + b * p.o_strides.batch + h * p.o_strides.head + (row0 + r) * p.o_strides.pos;
#pragma unroll
      for (int c = 0; c < kDvSlots; ++c) {
        const int col = tid + c * kThreads;
        if (col < dv) o_row[col] = store_cast<T>(empty ? Acc(0) : acc[c][r] / lr);
      }
    }
    if (p.lse != nullptr && tid < rows) {
      const Acc lr = sL[tid];
      const Acc lse = lr > Acc(0) ? sM[tid] + acc_log<Acc>(lr) : neg_inf;
      p.lse[(b * p.heads_q + h) * p.seq_q + row0 + tid] = static_cast<float>(lse);
    }
  }
}

}  // namespace attn_reference_detail

template <class T, class Acc, bool kCausal>
Status attn_reference(const LaunchContext& ctx) {
  namespace detail = attn_reference_detail;
  static_assert(std::is_same_v<Acc, float> || std::is_same_v<Acc, double>, "Acc is float or double");
  static_assert(std::is_same_v<T, __half> || std::is_same_v<T, __nv_bfloat16> || std::is_same_v<T, float> ||
                    std::is_same_v<T, double>,
                "T is __half, __nv_bfloat16, float or double");
  const auto& desc = *static_cast<const AttnFwdDesc*>(ctx.desc);
  const auto& args = *static_cast<const AttnFwdArgs*>(ctx.args);

  // The host validated the descriptor; these checks keep the kernel's own
  // assumptions (register slots, no division by zero) explicit.
  if (desc.head_dim_qk < 1 || desc.head_dim_qk > kAttnReferenceMaxHeadDim)
    return Status::invalid("attn_reference: head_dim_qk = " + std::to_string(desc.head_dim_qk) +
                           " outside [1, " + std::to_string(kAttnReferenceMaxHeadDim) + "]");
  if (desc.head_dim_v < 1 || desc.head_dim_v > kAttnReferenceMaxHeadDim)
    return Status::invalid("attn_reference: head_dim_v = " + std::to_string(desc.head_dim_v) +
                           " outside [1, " + std::to_string(kAttnReferenceMaxHeadDim) + "]");
  if (desc.heads_kv < 1 || desc.heads_q < 1 || desc.heads_q % desc.heads_kv != 0)
    return Status::invalid("attn_reference: heads_q = " + std::to_string(desc.heads_q) +
                           " is not a multiple of heads_kv = " + std::to_string(desc.heads_kv));
  if (desc.batch < 1 || desc.seq_q < 1 || desc.seq_k < 1) return Status::success();

  detail::Params p{};
  p.q = args.q;  p.q_strides = args.q_strides;
  p.k = args.k;  p.k_strides = args.k_strides;
  p.v = args.v;  p.v_strides = args.v_strides;
  p.o = args.o;  p.o_strides = args.o_strides;
  p.lse = args.lse;
  p.batch = desc.batch;
  p.heads_q = desc.heads_q;
  p.group = desc.heads_q / desc.heads_kv;
  p.seq_q = desc.seq_q;
  p.seq_k = desc.seq_k;
  p.head_dim_qk = static_cast<int>(desc.head_dim_qk);
  p.head_dim_v = static_cast<int>(desc.head_dim_v);
  p.row_groups = ceil_div(desc.seq_q, detail::kRows);
  p.work_items = p.row_groups * desc.heads_q * desc.batch;
  p.scale = static_cast<double>(effective_scale(desc));

  const std::size_t smem = sizeof(Acc) * detail::kRows * static_cast<std::size_t>(p.head_dim_qk + 1);
  auto kernel = detail::attn_reference_kernel<T, Acc, kCausal>;
  if (Status st = set_smem_limit(kernel, smem, "attn_reference_kernel"); !st) return st;
  const std::int64_t max_grid = 0x7fffffff;
  const unsigned grid = static_cast<unsigned>(std::min<std::int64_t>(p.work_items, max_grid));
  kernel<<<grid, detail::kThreads, smem, ctx.stream>>>(p);
  return check_launch("attn_reference_kernel");
}

}  // namespace baracuda::kernels
