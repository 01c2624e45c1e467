// Rotary position embedding (RoPE), and RoPE fused with the KV-cache append.
//
// What it computes (ops/rope.hpp, ops/kv_append.hpp):
//   rope():           Q[b,h,l] and K[b,h,l] rotated by positions[b,l], in place
//                     (out == in) or out of place; dims past rotary_dim copied.
//   rope_kv_append(): Q rotated as above; K_cache[slot(b, off[b]+l), h] =
//                     rope(K_new[b,h,l]); V_cache[same slot, h] = V_new[b,h,l];
//                     cells whose cache position is out of range are skipped
//                     (kv_slot.cuh, shared with kv_append.cuh).
//   Both styles: NeoX rotate-half pairs (x[i], x[i + r/2]) and GPT-J
//   interleaved pairs (x[2i], x[2i+1]); partial rotary r <= head_dim.
//
// Angle accuracy (the choice that matters for long contexts):
//   freq_i = position_scale * theta_base^(-2i/r) is computed in f64 and rounded
//   once to the angle type (f32; f64 for f64 tensors), once per launch on the
//   host into a table in the kernel parameters (Params::freq, r/2 <= 128; the
//   generic kernel computes it on the device, same formula, when r/2 > 128:
//   the choice depends on r alone, so every kernel uses the same bits for the
//   same call); angle = fl(fl(p) * freq_i) with one IEEE multiply; cos/sin
//   by sincosf / sincos (full-range accurate, <= 2 ulp, Payne-Hanek reduction
//   past |angle| = 105615), NOT __sincosf, which has no accurate range
//   reduction and whose error grows with |angle|. So the only
//   position-dependent error is the rounding of the angle itself,
//   <= 1 ulp(|p| * freq): for |p| <= 2^17 that is inside the SKU bound
//   2u + 2^17 * 4 u_f32. Compiling this file with --use_fast_math would turn
//   sincosf into __sincosf, so it is rejected below.
//   The rotation y0 = x0 c - x1 s, y1 = x1 c + x0 s is written with explicit
//   _rn intrinsics (no contraction choices left to the compiler), in one
//   device function used by both entries: rope() followed by a bit-exact KV
//   append gives the same bits as rope_kv_append().
//
// Work mapping (specialized head dims, 16-byte vectors of kVec elements):
//   rotary_dim == head_dim, rope() or fused (rope_tok_kernel): one-shot grid
//   of 256-thread blocks, block = (token, 256 / kGroup head rows: Q, then K,
//   then fused V), kGroup = (D/2) / kVec threads per row, each thread one
//   16-byte vector pair (NeoX: vector v and its partner D/2 later; GPT-J:
//   vectors v and v + kGroup); both loads issued, then the first D/2
//   threads compute the token's cos/sin into shared memory, __syncthreads,
//   rotate (V rows: copy), store. A token's rows past its whole blocks (K
//   rows of rope() with fewer K than Q heads, fused K / V rows) share a block
//   with the same rows of the next tokens when they fill at most a quarter
//   of one (baracuda/rope_tuning.hpp).
//   Everything else (partial rotary): a warp takes one
//   (token, head chunk) item at a time (grid-stride over items, grid capped
//   at 8 blocks per SM); inside the warp, groups of kGroup lanes each
//   own one head row, and each lane owns kVec whole pairs of that row (NeoX:
//   the vector at i and the vector at i + r/2; GPT-J: two vectors of adjacent
//   pairs), so a lane's cos/sin are computed once per token and reused across
//   every head the lane visits (Q, K and, fused, the V rows it copies).
//   Rows are processed two at a time with all loads issued before any store.
//   Generic head dims (and NeoX with r/2 not a multiple of kVec) use a scalar
//   kernel: lanes over pairs, heads looped inside the lane.
//
// Bytes per call (the floor): rope(): (Hq + Hk) * B * L * D * sizeof(T) read
//   and the same written (in place with partial rotary: only r/D of it), plus
//   8 B * B * L positions. Fused: adds H * B * L * D * sizeof(T) read and
//   written for V. FLOPs: 6 per rotated pair per head, plus one sincos per
//   (token, pair, lane group) — negligible against the bytes.
//
// Measured (H100 80GB HBM3, 132 SMs, CUDA events, median of 50; bench_rope /
// peer_rope.py in the same run; gbps counts bytes read + written):
//   v4 (this version): tails of at most a quarter block packed 2^shift
//   tokens a block, after the blocks of whole chunks (a second kernel
//   instantiation with a one-dimensional grid; problems without such a tail
//   keep v3's kernel: a one-dimensional grid for them cost 0.3-1.6 us).
//   Same H100, builds alternating (1f0cea4 plus this change, four rounds,
//   tools/bench/results/h100-1f0cea4-rope-pack.md): rope() of Q and K at
//   B=4 L=2048 Hq=32, Hkv=8 62.7-63.0 -> 61.3-61.6 us, Hkv=4 60.0-60.2 ->
//   55.9-56.0; fused Hkv=4 63.4-63.6 -> 62.2-62.3; Q-only rope(), fused
//   Hkv=8 / 16 and paged unchanged (within 0.05 us).
//   v3: the fused op takes rope_tok_kernel too at full rotary
//   (it kept the warp-item kernel, at 0.89 of the copy rate where rope()
//   ran at 0.98). bench-rope, bf16 NeoX Hq=32 Hkv=8 D=128: B=4 L=2048 fused
//   77.5-77.9 us (5ba89a1 and earlier runs) -> 73.2 us = 2752 GB/s, against
//   84.7 us for rope then append (saving 11.5 us; the K_new write and re-read
//   it saves, 33.6 MB, take 11.6 us at the 2884 GB/s copy rate of that run);
//   B=64 L=1 7.5 us against 12.1. rope() SASS unchanged.
//   Tried on v3 and dropped (e1b5a9d, same H100, builds alternating;
//   tools/bench/results/h100-e1b5a9d-rope-blocks.md): splitting a token's
//   rows evenly over its blocks (48 fused rows: 1 x 48, 2 x 24 or 3 x 16
//   rows instead of 32 + 16 with half a block idle): fused B=4 L=2048
//   73.8-74.6 us against 73.1, rope then append up to 2 us slower. ncu: the
//   fused call moves exactly its bytes (100.8 MB read, 81% of DRAM peak).
//   Also dropped (d19430d, tools/bench/results/h100-d19430d-rope-kv-packing.md):
//   K / V rows of up to 4 tokens per block after the Q blocks (Hkv = 8: two
//   tokens a full block): 73.5 us against 72.9 at Hkv = 8, faster only at
//   Hkv = 4 (62.1 vs 63.5).
//   Also dropped (c54494c, tools/bench/results/h100-24f2dfd-rope-fused-parts.md):
//   a token-major grid (a token's chunks adjacent): fused 73.4 vs 73.0 us,
//   and RoPE then append 86.1 vs 84.4; 128-thread blocks: 74.6. The chunk
//   order matters to RoPE then append, not to the fused call: the K rows run
//   last, so back to back the append finds part of the K_new RoPE just wrote
//   in the L2 (run K rows first: sequence 90.8 us instead of 84.9, fused
//   73.2 either way).
//   The floor (e1f2799, tools/bench/results/h100-e1f2799-fused-floor.md):
//   this kernel's access pattern without math (bench-rope-floor) takes
//   72.5-72.8 us against the kernel's 72.8-73.1; a memcpy of the same bytes
//   71.0-71.2. Also dropped there: fused loads issued before the slot
//   lookup (72.9-73.1 vs 72.8-73.0, rope() 0.3 us slower); one 16-byte
//   vector per thread of two rows, so a warp instruction covers whole rows,
//   with NeoX partners exchanged through shared memory (0.6 us faster as a
//   bare copy; in this kernel it spills at 32 registers, fused 83.7 us; at
//   6 blocks per SM rope() gains 0.5 us but fused Hkv 8 / 4 lose 1.8 / 4 us;
//   parking the rows before the sincos makes fused 82.5 us).
//   Not written (fa5517a, tools/bench/results/h100-fa5517a-fused-tma-probe.md):
//   an sm90 fused kernel on TMA bulk copies. Moving the fused bytes without
//   math, bulk copies took 75.4-77.4 us and a persistent grid of this
//   kernel's rows 78.1-78.6, against 72.5-72.7 for this grid.
//   v2 (rope_tok_kernel for full-rotary rope(), frequencies
//   from the host-computed parameter table in every kernel). Sweep
//   (a standalone harness, H100, rope NeoX bf16 in place, B=1
//   L=16384 H=32 D=128 [B,L,H,D], median of 350): v1 library 102.8 us; the
//   same token-per-block kernel with a precomputed frequency table 94.8 us
//   (per-block f64 pow instead: 100.1 us), bit-identical to v1 (that table
//   was built on the device with rope_freq; v2 builds it on the host); in-place
//   copy floor (16-byte load + store back, no math) 94.6 us; torch.compile
//   95.4 us. Library (commit 052254f, bench_rope beside peer_rope.py, one
//   run): 94.9 us = 2829 GB/s (0.98 of a 93.2 us copy) vs torch.compile
//   95.3 us (1.004x). Fused RoPE + append: B=4 L=2048 78.0 us (rope then
//   append 84.6 us); B=64 L=1 9.2 us (was 6.9 us in v1; rope then append
//   14.8 us). Most of the decode-size loss was host time: the table's
//   std::pow calls on every launch. With the table cached per thread
//   (d6be576): B=64 L=1 8.1 us (rope then append 13.3 us), rope 94.8 us;
//   the rest is the 1 KB larger parameter block and its staging.
//   The in-place floor bounds this op: on the same sweep at ec83e0c
//   (tools/bench/results/h100-ec83e0c-decode-probe.md) the
//   library took 94.6 us against 94.4 for the 16-byte load + store back
//   (92.9 for a d2d copy to a third buffer); streaming cache hints on the
//   floor's loads and stores made it slower (ld/st .cs 95.0 us, ld.lu +
//   st.cs 95.3 us). torch.compile sits on the same floor, so the ratio to
//   it is parity within run-to-run noise.
//   v1 (warp per token, 2 rows in flight, 80 regs, 3 blocks/SM)
//   rope, NeoX bf16, B=1 L=16384 H=32 D=128, in place:
//     rope_bf16_hd128_neox_sm80  102.2 us  2626 GB/s  (0.91 of a d2d copy of
//     the same bytes, 93.0 us / 2886 GB/s); torch.compile of the rotate-half
//     formula 103.7 us / 2588 GB/s (1.01x); torch eager 870 us / 308 GB/s.
//     Generic rope_bf16_hdany_neox_sm80 (scalar): 192.6 us / 1394 GB/s.
//   rope_kv_append, NeoX bf16, Hq=32 Hkv=8 D=128, cache [B, 8, 4096, 128]:
//     decode  B=64 L=1:    fused 6.5 us; rope + kv_append 12.0 us (1.85x);
//                          torch.compile 68.6 us, eager 199 us.
//     prefill B=4 L=2048:  fused 78.3 us / 2571 GB/s; rope + kv_append
//                          97.7 us (1.25x); torch.compile 176 us, eager 675 us.
//   Accuracy (GPU tests, positions up to |1e5|): max ||out-ref||/||ref|| over
//   all cases: bf16 1.7e-3, f16 4.8e-4, f32 5.8e-4 (as expected from rounding
//   angles ~1e5 to f32),
//   f64 9.6e-13; every SKU inside its bound.
#pragma once

#include <cuda_runtime.h>

#include <cmath>
#include <cstdint>
#include <type_traits>

#include "baracuda/ops/kv_append.hpp"
#include "baracuda/ops/rope.hpp"
#include "baracuda/rope_tuning.hpp"
#include "kernels/common.cuh"
#include "kernels/kv_slot.cuh"

#if defined(__USE_FAST_MATH__)
#error "rope.cuh needs accurate sincosf; --use_fast_math maps it to __sincosf (see the header comment)"
#endif

namespace baracuda::kernels {
namespace rope_detail {

// Angle / rotation type: f32, f64 for f64 tensors.
template <class T>
using AngleT = std::conditional_t<std::is_same_v<T, double>, double, float>;

// ------------------------------------------------------ shared math ----
// freq_i = position_scale * theta^(-2i / rotary_dim), in f64, rounded once
// to the angle type A (the host builds the frequency table with it, the
// generic kernel computes pairs past the table with it).
template <class A>
__host__ __device__ __forceinline__ A rope_freq(double theta_base, double position_scale, std::int64_t rotary_dim,
                                                std::int64_t i) {
  const double exponent = -static_cast<double>(2 * i) / static_cast<double>(rotary_dim);
  return static_cast<A>(position_scale * pow(theta_base, exponent));
}

__device__ __forceinline__ void rope_cos_sin(std::int64_t position, float freq, float& c, float& s) {
  const float angle = __fmul_rn(__ll2float_rn(position), freq);
  sincosf(angle, &s, &c);
}
__device__ __forceinline__ void rope_cos_sin(std::int64_t position, double freq, double& c, double& s) {
  const double angle = __dmul_rn(__ll2double_rn(position), freq);
  sincos(angle, &s, &c);
}

// (x0, x1) -> (x0 c - x1 s, x1 c + x0 s): the one rotation both entries use.
__device__ __forceinline__ void rope_rotate(float x0, float x1, float c, float s, float& y0, float& y1) {
  y0 = __fmaf_rn(x0, c, -__fmul_rn(x1, s));
  y1 = __fmaf_rn(x1, c, __fmul_rn(x0, s));
}
__device__ __forceinline__ void rope_rotate(double x0, double x1, double c, double s, double& y0, double& y1) {
  y0 = __fma_rn(x0, c, -__dmul_rn(x1, s));
  y1 = __fma_rn(x1, c, __dmul_rn(x0, s));
}

template <class T>
__device__ __forceinline__ void rotate_elements(T& e0, T& e1, AngleT<T> c, AngleT<T> s) {
  AngleT<T> y0, y1;
  rope_rotate(convert<AngleT<T>>(e0), convert<AngleT<T>>(e1), c, s, y0, y1);
  e0 = convert<T>(y0);
  e1 = convert<T>(y1);
}

// --------------------------------------------------------- params ----
// One tensor's rows. `out` is the rotated tensor, or the cache (fused K, V),
// addressed with `out_strides` at the cache slot instead of (b, l).
struct RowSet {
  const void* in = nullptr;  Strides3 in_strides;   // [B, H, L, D]
  void* out = nullptr;       Strides3 out_strides;  // [B, H, L, D] | cache [B, H, L_max, D] | [P, H, page, D]
  std::int64_t heads = 0;                           // 0: absent
  bool copy_tail = false;                           // write dims >= rotary_dim (false when in place)
};

// Inverse frequencies freq_i = position_scale * theta^(-2i / r), i < r/2,
// computed on the host (freq_table(): rope_freq, cached per thread) and
// passed in the kernel parameters (constant bank). Sized for the
// specialized head dims (<= 256: 128 pairs); a generic-kernel call with more
// pairs leaves it unfilled and its kernel computes the frequencies with
// rope_freq on the device instead.
// Every kernel takes a pair's frequency from the same source, chosen by
// rotary_dim alone (freq_in_table), so rope() and rope_kv_append() produce
// the same bits whichever kernel runs them.
constexpr int kFreqTable = 128;

union FreqTable {
  float f32[kFreqTable];   // AngleT = float (f16, bf16, f32 tensors)
  double f64[kFreqTable];  // AngleT = double (f64 tensors)
};

struct Params {
  RowSet q;   // rotated
  RowSet k;   // rotated; fused: K_new -> K_cache
  RowSet v;   // fused only: V_new -> V_cache, copied
  const std::int64_t* positions = nullptr;  // [B, L], contiguous
  std::int64_t seq_len = 0;                 // L (L_new when fused)
  std::int64_t tokens = 0;                  // B * L
  std::int64_t head_dim = 0;                // D at run time
  std::int64_t half = 0;                    // rotary_dim / 2
  double theta_base = 10000.0;
  double position_scale = 1.0;
  std::int64_t warps_per_token = 1;         // head chunks per token (one warp item each)
  std::int64_t tok_tail_chunk = 0;          // rope_tok_kernel, packed tails: whole chunks of kRows rows a token
  std::int64_t tok_pack_shift = 0;          // and tokens (log2) a block of tail rows holds
  KvAppendDesc kv_desc;                     // fused only
  KvAppendArgs kv_args;                     // fused only
  FreqTable freq{};                         // [half] when freq_in_table(half), else unused
};
// Kernel parameters are limited to 4 KB (sm_80 / pre-12.1 toolkits); the
// table is 1 KB of it.
static_assert(sizeof(Params) <= 4096, "rope Params must fit the 4 KB kernel-parameter limit");

__host__ __device__ constexpr bool freq_in_table(std::int64_t half) { return half <= kFreqTable; }

// Frequency of pair i from the launch's table (requires freq_in_table(p.half)).
template <class A>
__device__ __forceinline__ A table_freq(const Params& p, std::int64_t i) {
  if constexpr (std::is_same_v<A, double>) {
    return p.freq.f64[i];
  } else {
    return p.freq.f32[i];
  }
}

// Frequency of pair i for any launch: the table when it covers the rotary
// pairs, else rope_freq on the device (generic kernel, rotary_dim > 256).
template <class T>
__device__ __forceinline__ AngleT<T> pair_freq(const Params& p, std::int64_t i) {
  if (freq_in_table(p.half)) return table_freq<AngleT<T>>(p, i);
  return rope_freq<AngleT<T>>(p.theta_base, p.position_scale, 2 * p.half, i);
}

// The row of head-list index j (Q heads, then K heads, then V heads) for
// token (b, l): source, destination, and what to do with it.
template <class T>
struct RowJob {
  const T* src;
  T* dst;
  bool active;     // false: skipped (absent, or a cache cell out of range)
  bool rotate;     // false: plain copy (V rows)
  bool copy_tail;  // write the dims past rotary_dim
};

template <class T, bool kFused>
__device__ __forceinline__ RowJob<T> resolve_row(const Params& p, std::int64_t j, std::int64_t b, std::int64_t l,
                                                 const KvSlot& slot) {
  RowJob<T> job{nullptr, nullptr, false, true, false};
  if (j < p.q.heads) {
    job.src = static_cast<const T*>(p.q.in) + b * p.q.in_strides.batch + j * p.q.in_strides.head +
              l * p.q.in_strides.pos;
    job.dst = static_cast<T*>(p.q.out) + b * p.q.out_strides.batch + j * p.q.out_strides.head +
              l * p.q.out_strides.pos;
    job.active = true;
    job.copy_tail = p.q.copy_tail;
    return job;
  }
  j -= p.q.heads;
  const bool is_k = j < p.k.heads;
  if (!is_k) j -= p.k.heads;
  const RowSet& rows = is_k ? p.k : p.v;
  if (j >= rows.heads) return job;
  job.src = static_cast<const T*>(rows.in) + b * rows.in_strides.batch + j * rows.in_strides.head +
            l * rows.in_strides.pos;
  if constexpr (kFused) {
    if (!slot.valid) return job;
    job.dst = static_cast<T*>(rows.out) + slot.batch_or_page * rows.out_strides.batch + j * rows.out_strides.head +
              slot.pos_in_page * rows.out_strides.pos;
  } else {
    job.dst = static_cast<T*>(rows.out) + b * rows.out_strides.batch + j * rows.out_strides.head +
              l * rows.out_strides.pos;
  }
  job.active = true;
  job.rotate = is_k;
  job.copy_tail = rows.copy_tail;
  return job;
}

template <bool kFused, bool kPaged>
__device__ __forceinline__ KvSlot token_slot(const Params& p, std::int64_t b, std::int64_t l) {
  if constexpr (kFused) {
    const std::int64_t pos = kv_position(__ldg(p.kv_args.offsets + b), l);
    return kv_slot<kPaged>(p.kv_desc, p.kv_args, b, pos);
  } else {
    return KvSlot{true, b, l};
  }
}

// Work item `item` of the warp-per-item kernels (warps_per_token items per
// token): its chunk of the token's rows, the token's sample b and sequence
// index l, its rotary position and its cache slot.
struct TokenItem {
  std::int64_t chunk, b, l, position;
  KvSlot slot;
};

template <bool kFused, bool kPaged>
__device__ __forceinline__ TokenItem token_item(const Params& p, std::int64_t item) {
  const std::int64_t token = item / p.warps_per_token;
  const std::int64_t b = token / p.seq_len;
  const std::int64_t l = token - b * p.seq_len;
  return {item - token * p.warps_per_token, b, l, __ldg(p.positions + token), token_slot<kFused, kPaged>(p, b, l)};
}

// ------------------------------------------- vectorized (fixed D) ----
template <class T>
struct alignas(16) Vec16 {
  T v[16 / sizeof(T)];
};

// Explicit global 16-byte accesses (ld/st.global.cg: every byte is touched
// once, so L1 allocation buys nothing). Not the read-only path: in place,
// the same thread writes what it read.
template <class T>
__device__ __forceinline__ void load16(Vec16<T>& dst, const T* src) {
  *reinterpret_cast<uint4*>(&dst) = __ldcg(reinterpret_cast<const uint4*>(src));
}
template <class T>
__device__ __forceinline__ void store16(T* dst, const Vec16<T>& src) {
  __stcg(reinterpret_cast<uint4*>(dst), *reinterpret_cast<const uint4*>(&src));
}

template <class T, int kHeadDim>
struct VecTile {
  static constexpr int kVec = 16 / static_cast<int>(sizeof(T));      // elements per 16-byte vector
  static constexpr bool kVectorizable = kHeadDim > 0 && kHeadDim % (2 * kVec) == 0;
  static constexpr int kPairSlots = kVectorizable ? kHeadDim / (2 * kVec) : 1;  // vector pairs per row
  static constexpr int kGroup = kPairSlots < 32 ? kPairSlots : 32;    // lanes per head row
  static constexpr int kSlots = (kPairSlots + kGroup - 1) / kGroup;   // vector pairs per lane
  static constexpr int kRowsPerWarp = 32 / kGroup;                    // head rows a warp works on at once
};

// Where a lane's two vectors of slot `ps` sit in a row, and whether they are
// rotated (per element pair, `rot`) or copied.
struct SlotPlace {
  int ea, eb;            // element offsets of vector a and vector b (< kHeadDim)
  bool need_a, need_b;   // loaded and stored at all
  bool rotate;           // NeoX: a[t] pairs with b[t]; GPT-J: adjacent pairs inside a and b
};

template <class T, int kHeadDim, RopeStyle kStyle>
__device__ __forceinline__ SlotPlace place_slot(int ps, int half, const RowJob<T>& job) {
  using Tile = VecTile<T, kHeadDim>;
  constexpr int kVec = Tile::kVec;
  SlotPlace s{0, 0, false, false, false};
  if (ps >= Tile::kPairSlots || !job.active) return s;
  if (job.rotate && kStyle == RopeStyle::neox) {
    const int npv = half / kVec;  // rotated vector pairs (half % kVec == 0 on this path)
    if (ps < npv) {
      s.ea = ps * kVec;
      s.eb = s.ea + half;
      s.need_a = s.need_b = true;
      s.rotate = true;
    } else {
      s.ea = 2 * half + 2 * (ps - npv) * kVec;
      s.eb = s.ea + kVec;
      s.need_a = s.need_b = job.copy_tail;
    }
    return s;
  }
  s.ea = ps * kVec;
  s.eb = s.ea + kHeadDim / 2;
  if (job.rotate) {  // GPT-J: a vector is touched when it holds a rotated pair, or to copy the tail
    s.rotate = true;
    s.need_a = job.copy_tail || s.ea < 2 * half;
    s.need_b = job.copy_tail || s.eb < 2 * half;
  } else {
    s.need_a = s.need_b = true;
  }
  return s;
}

template <class T, int kHeadDim, RopeStyle kStyle>
__device__ __forceinline__ void rotate_slot(Vec16<T>& a, Vec16<T>& b, int ea, int eb, int half,
                                            const AngleT<T>* c, const AngleT<T>* s) {
  constexpr int kVec = VecTile<T, kHeadDim>::kVec;
  if constexpr (kStyle == RopeStyle::neox) {
#pragma unroll
    for (int t = 0; t < kVec; ++t) rotate_elements<T>(a.v[t], b.v[t], c[t], s[t]);
  } else {
#pragma unroll
    for (int t = 0; t < kVec / 2; ++t) {
      if (ea + 2 * t < 2 * half) rotate_elements<T>(a.v[2 * t], a.v[2 * t + 1], c[t], s[t]);
      if (eb + 2 * t < 2 * half)
        rotate_elements<T>(b.v[2 * t], b.v[2 * t + 1], c[kVec / 2 + t], s[kVec / 2 + t]);
    }
  }
}

constexpr int kBlockThreads = 256;
constexpr int kWarpsPerBlock = kBlockThreads / 32;

template <class T, int kHeadDim, RopeStyle kStyle, bool kFused, bool kPaged>
__global__ void __launch_bounds__(kBlockThreads, 3) rope_vec_kernel(const Params p) {
  using Tile = VecTile<T, kHeadDim>;
  using A = AngleT<T>;
  constexpr int kVec = Tile::kVec;
  constexpr int kSlots = Tile::kSlots;
  constexpr int kRowsPerWarp = Tile::kRowsPerWarp;
  static_assert(Tile::kVectorizable, "rope_vec_kernel needs kHeadDim to be a multiple of two 16-byte vectors");
  static_assert(kHeadDim / 2 <= kFreqTable, "the launch's frequency table covers every rotary pair of this kernel");

  // Staged from the parameter table (lane-divergent indices below would
  // serialize on the constant bank; shared memory does not).
  __shared__ A s_freq[kHeadDim / 2];
  for (int i = threadIdx.x; i < p.half; i += blockDim.x) s_freq[i] = table_freq<A>(p, i);
  __syncthreads();

  const int lane = threadIdx.x & 31;
  const int row = lane / Tile::kGroup;
  const int g = lane - row * Tile::kGroup;
  if (row >= kRowsPerWarp) return;  // lanes past the last full group (head dims whose groups don't tile 32)

  const std::int64_t warp_id = (static_cast<std::int64_t>(blockIdx.x) * blockDim.x + threadIdx.x) >> 5;
  const std::int64_t num_warps = (static_cast<std::int64_t>(gridDim.x) * blockDim.x) >> 5;
  const std::int64_t items = p.tokens * p.warps_per_token;
  const std::int64_t rows_total = p.q.heads + p.k.heads + p.v.heads;
  const std::int64_t row_stride = p.warps_per_token * kRowsPerWarp;
  const int half = static_cast<int>(p.half);  // <= kHeadDim / 2 (launch checks)

  for (std::int64_t item = warp_id; item < items; item += num_warps) {
    const auto [chunk, b, l, position, slot] = token_item<kFused, kPaged>(p, item);

    // cos/sin of this lane's kSlots * kVec pairs, reused for every row below.
    A c[kSlots][kVec], s[kSlots][kVec];
#pragma unroll
    for (int k = 0; k < kSlots; ++k) {
      const int ps = g + k * Tile::kGroup;
#pragma unroll
      for (int t = 0; t < kVec; ++t) {
        int pair;  // NeoX: pair ps*kVec + t; GPT-J: the pairs held by vectors ps and ps + kPairSlots
        if constexpr (kStyle == RopeStyle::neox) {
          pair = ps * kVec + t;
        } else {
          pair = t < kVec / 2 ? ps * (kVec / 2) + t : (ps * kVec + kHeadDim / 2) / 2 + (t - kVec / 2);
        }
        const A f = (ps < Tile::kPairSlots && pair < half) ? s_freq[pair] : A(0);
        rope_cos_sin(position, f, c[k][t], s[k][t]);
      }
    }

    for (std::int64_t j = chunk * kRowsPerWarp + row; j < rows_total; j += 2 * row_stride) {
      // Two rows per step, every load issued before any store.
      RowJob<T> jobs[2];
      jobs[0] = resolve_row<T, kFused>(p, j, b, l, slot);
      jobs[1] = resolve_row<T, kFused>(p, j + row_stride, b, l, slot);
      SlotPlace place[2][kSlots];
      Vec16<T> va[2][kSlots], vb[2][kSlots];
#pragma unroll
      for (int r = 0; r < 2; ++r)
#pragma unroll
        for (int k = 0; k < kSlots; ++k) {
          place[r][k] = place_slot<T, kHeadDim, kStyle>(g + k * Tile::kGroup, half, jobs[r]);
          if (place[r][k].need_a) load16(va[r][k], jobs[r].src + place[r][k].ea);
          if (place[r][k].need_b) load16(vb[r][k], jobs[r].src + place[r][k].eb);
        }
#pragma unroll
      for (int r = 0; r < 2; ++r)
#pragma unroll
        for (int k = 0; k < kSlots; ++k) {
          const SlotPlace& pl = place[r][k];
          if (pl.rotate) rotate_slot<T, kHeadDim, kStyle>(va[r][k], vb[r][k], pl.ea, pl.eb, half, c[k], s[k]);
          if (pl.need_a) store16(jobs[r].dst + pl.ea, va[r][k]);
          if (pl.need_b) store16(jobs[r].dst + pl.eb, vb[r][k]);
        }
    }
  }
}

// ------------------------------- token per block (full rotary) ----
// rope() and rope_kv_append() with rotary_dim == head_dim == kHeadDim: a
// one-shot grid, block (x, y) = token x, head rows y * kRows .. + kRows - 1
// (Q heads, then K heads, then fused V heads: resolve_row's order; fused K
// and V rows go to the token's cache slot, V rows copied); tails of at most
// a quarter block packed several tokens a block (tok_block). kGroup = (D/2) /
// kVec threads per row; thread v of a row owns the 16-byte vectors v and
// v + kGroup, the same two vectors place_slot gives lane g = v (NeoX:
// elements kVec v .. and their partners D/2 later; GPT-J: adjacent pairs
// inside each vector). Both loads are issued first; meanwhile the block's
// first D/2 threads turn the token's position and the table's frequencies
// into (cos, sin) with rope_cos_sin, into shared memory; __syncthreads;
// rotate_slot; store. Same frequency, same rope_cos_sin, same rotation as
// rope_vec_kernel: the same bits.
constexpr int kTokThreads = 256;

template <class T>
__device__ __forceinline__ void opaque_words(Vec16<T>& x) {
  auto* w = reinterpret_cast<unsigned*>(&x);
  asm volatile("" : "+r"(w[0]), "+r"(w[1]), "+r"(w[2]), "+r"(w[3]));
}

template <class T, int kHeadDim>
struct TokTile {
  static constexpr int kVec = 16 / static_cast<int>(sizeof(T));  // elements per 16-byte vector
  static constexpr int kHalf = kHeadDim / 2;                      // rotary pairs (full rotary)
  static constexpr int kGroup = kHalf / kVec > 0 ? kHalf / kVec : 1;  // threads per head row
  static constexpr int kRows = kTokThreads / kGroup;              // head rows per block
  // Specialized head dims whose rows tile the block in whole 16-byte vector
  // pairs and whose pairs each get one cos/sin thread; anything else keeps
  // rope_vec_kernel. (Holds for every element type at 64 / 128 / 256: at
  // most 64 threads per row, 128 pairs.)
  static constexpr bool kSupported = (kHeadDim == 64 || kHeadDim == 128 || kHeadDim == 256) && kHalf % kVec == 0 &&
                                     kTokThreads % kGroup == 0 && kHalf <= kTokThreads && kHalf <= kFreqTable;
  // f64 sincos needs more registers than the 32 of 8 blocks per SM.
  static constexpr int kMinBlocks = sizeof(T) == 8 ? 4 : 8;
  // Tokens whose (cos, sin) one block can hold: one pair per thread.
  static constexpr int kMaxPack = kTokThreads / kHalf;
};

// One block's rows. kPacked false: token t0's head rows chunk * kRows ..
// + kRows - 1 (t0 and everything derived from it block-uniform). kPacked
// true: the tail rows (from chunk * kRows on) of the 2^pack_shift tokens t0,
// t0 + 1, ..., row = tail row x 2^pack_shift + token, so adjacent rows write
// adjacent cache cells. s_c / s_s: (cos, sin), one row per token.
template <class T, int kHeadDim, RopeStyle kStyle, bool kFused, bool kPaged, bool kPacked>
__device__ __forceinline__ void tok_block(const Params& p, std::int64_t t0, std::int64_t chunk, int pack_shift,
                                          AngleT<T> (*s_c)[kHeadDim / 2], AngleT<T> (*s_s)[kHeadDim / 2]) {
  using Tile = TokTile<T, kHeadDim>;
  using A = AngleT<T>;
  constexpr int kVec = Tile::kVec;
  constexpr int kHalf = Tile::kHalf;

  const int row = static_cast<int>(threadIdx.x) / Tile::kGroup;
  const int v = static_cast<int>(threadIdx.x) - row * Tile::kGroup;
  const int tl = kPacked ? row & ((1 << pack_shift) - 1) : 0;  // the row's token within the block
  const std::int64_t token = t0 + tl;
  const std::int64_t j = chunk * Tile::kRows + (kPacked ? row >> pack_shift : row);
  const std::int64_t b = token / p.seq_len;
  const std::int64_t l = token - b * p.seq_len;
  const int ea = v * kVec;
  const int eb = ea + kHalf;

  // 1. Both loads first (rows past the last head or token, and fused K / V
  // rows whose cache cell is out of range: inactive).
  RowJob<T> job{nullptr, nullptr, false, true, false};
  if (!kPacked || token < p.tokens) job = resolve_row<T, kFused>(p, j, b, l, token_slot<kFused, kPaged>(p, b, l));
  Vec16<T> va, vb;
  if (job.active) {
    load16(va, job.src + ea);
    load16(vb, job.src + eb);
  }

  // 2. The tokens' (cos, sin), one pair per thread (stored in the order the
  // threads consume them: thread v reads entries kVec v .. kVec v + kVec - 1,
  // rotate_slot's c[t] / s[t]. NeoX: pair kVec v + t. GPT-J: pairs (kVec/2)
  // v + t of vector a, then (kVec/2) v + t + D/4 of vector b).
  const int cs_token = kPacked ? static_cast<int>(threadIdx.x) / kHalf : 0;
  if (kPacked ? cs_token < (1 << pack_shift) && t0 + cs_token < p.tokens : threadIdx.x < kHalf) {
    const int i = static_cast<int>(threadIdx.x) - cs_token * kHalf;  // pair
    int at = i;
    if constexpr (kStyle == RopeStyle::gptj) {
      constexpr int kHv = kVec / 2;  // pairs per vector
      const int in_b = i >= kHalf / 2 ? 1 : 0;
      const int q = i - in_b * (kHalf / 2);
      at = (q / kHv) * kVec + in_b * kHv + q % kHv;
    }
    A c, s;
    rope_cos_sin(__ldg(p.positions + t0 + cs_token), table_freq<A>(p, i), c, s);
    s_c[cs_token][at] = c;
    s_s[cs_token][at] = s;
  }
  __syncthreads();

  // 3. Rotate (full rotary: every vector of a Q or K row holds rotated pairs
  // only; fused V rows are copied as they are), store.
  if (!job.active) return;
  // The loaded words stay opaque until here: otherwise the element unpacking
  // is scheduled right after the loads, which waits on them before the
  // cos/sin work and doubles the live registers across sincosf (a spill at
  // 32 registers).
  opaque_words(va);
  opaque_words(vb);
  if (!kFused || job.rotate) rotate_slot<T, kHeadDim, kStyle>(va, vb, ea, eb, kHalf, s_c[tl] + ea, s_s[tl] + ea);
  store16(job.dst + ea, va);
  store16(job.dst + eb, vb);
}

// kPackTail false: grid (tokens, chunks), block (x, y) = token x's rows
// y * kRows .. + kRows - 1. kPackTail true: a one-dimensional grid, blocks
// of one token's whole chunks first (token-fastest, chunk-major), then the
// packed blocks of the tokens' tail rows. Two kernels, so that problems
// without a packed tail keep the two-dimensional grid's block decode (the
// one-dimensional one cost 0.3-1.6 us on them; see the header).
template <class T, int kHeadDim, RopeStyle kStyle, bool kFused, bool kPaged, bool kPackTail>
__global__ void __launch_bounds__(kTokThreads, TokTile<T, kHeadDim>::kMinBlocks) rope_tok_kernel(const Params p) {
  using Tile = TokTile<T, kHeadDim>;
  using A = AngleT<T>;
  static_assert(Tile::kSupported, "rope_tok_kernel: head dim / element type not supported");
  static_assert(Tile::kHalf % Tile::kVec == 0 && Tile::kGroup * Tile::kVec == Tile::kHalf,
                "a row is kGroup vector pairs");
  static_assert(Tile::kRows * Tile::kGroup == kTokThreads, "whole rows per block");
  __shared__ A s_c[kPackTail ? Tile::kMaxPack : 1][Tile::kHalf];
  __shared__ A s_s[kPackTail ? Tile::kMaxPack : 1][Tile::kHalf];

  if constexpr (!kPackTail) {
    tok_block<T, kHeadDim, kStyle, kFused, kPaged, false>(p, blockIdx.x, blockIdx.y, 0, s_c, s_s);
  } else {
    const unsigned bid = blockIdx.x;
    const unsigned tokens = static_cast<unsigned>(p.tokens);
    const unsigned tail_chunk = static_cast<unsigned>(p.tok_tail_chunk);
    const unsigned regular = tokens * tail_chunk;
    if (bid < regular) {
      const unsigned chunk = bid / tokens;
      tok_block<T, kHeadDim, kStyle, kFused, kPaged, false>(p, bid - chunk * tokens, chunk, 0, s_c, s_s);
    } else {
      const int shift = static_cast<int>(p.tok_pack_shift);
      tok_block<T, kHeadDim, kStyle, kFused, kPaged, true>(p, static_cast<std::int64_t>(bid - regular) << shift,
                                                           tail_chunk, shift, s_c, s_s);
    }
  }
}

// ------------------------------------------------- generic (any D) ----
// Lanes over "items": item i < half is the rotated pair i (NeoX: elements i,
// i + half; GPT-J: 2i, 2i + 1); item i >= half copies tail elements
// 2 half + 2 (i - half) and the next one (when < D). Heads loop inside.
constexpr int kGenericFreqTable = 512;

template <class T, RopeStyle kStyle, bool kFused, bool kPaged>
__global__ void __launch_bounds__(kBlockThreads) rope_generic_kernel(const Params p) {
  using A = AngleT<T>;
  __shared__ A s_freq[kGenericFreqTable];
  const std::int64_t half = p.half;
  for (int i = threadIdx.x; i < half && i < kGenericFreqTable; i += blockDim.x) s_freq[i] = pair_freq<T>(p, i);
  __syncthreads();

  const int lane = threadIdx.x & 31;
  const std::int64_t warp_id = (static_cast<std::int64_t>(blockIdx.x) * blockDim.x + threadIdx.x) >> 5;
  const std::int64_t num_warps = (static_cast<std::int64_t>(gridDim.x) * blockDim.x) >> 5;
  const std::int64_t items = p.tokens * p.warps_per_token;
  const std::int64_t rows_total = p.q.heads + p.k.heads + p.v.heads;
  const std::int64_t tail = p.head_dim - 2 * half;
  const std::int64_t pair_items = half + (tail + 1) / 2;

  for (std::int64_t item = warp_id; item < items; item += num_warps) {
    const auto [chunk, b, l, position, slot] = token_item<kFused, kPaged>(p, item);

    for (std::int64_t it = lane; it < pair_items; it += 32) {
      const bool rotated = it < half;
      A c = A(1), s = A(0);
      std::int64_t e0, e1;
      bool has_e1 = true;
      if (rotated) {
        const A f = it < kGenericFreqTable ? s_freq[it] : pair_freq<T>(p, it);
        rope_cos_sin(position, f, c, s);
        e0 = kStyle == RopeStyle::neox ? it : 2 * it;
        e1 = kStyle == RopeStyle::neox ? it + half : 2 * it + 1;
      } else {
        e0 = 2 * half + 2 * (it - half);
        e1 = e0 + 1;
        has_e1 = e1 < p.head_dim;
      }
      for (std::int64_t j = chunk; j < rows_total; j += p.warps_per_token) {
        const RowJob<T> job = resolve_row<T, kFused>(p, j, b, l, slot);
        if (!job.active) continue;
        if (rotated && job.rotate) {
          T x0 = job.src[e0], x1 = job.src[e1];
          rotate_elements<T>(x0, x1, c, s);
          job.dst[e0] = x0;
          job.dst[e1] = x1;
        } else if (!job.rotate || job.copy_tail) {
          const T x0 = job.src[e0];
          if (has_e1) {
            const T x1 = job.src[e1];
            job.dst[e1] = x1;
          }
          job.dst[e0] = x0;
        }
      }
    }
  }
}

// ---------------------------------------------------------- launch ----
inline bool same_strides(const Strides3& a, const Strides3& b) {
  return a.batch == b.batch && a.head == b.head && a.pos == b.pos;
}

inline RowSet row_set(const void* in, const Strides3& in_strides, void* out, const Strides3& out_strides,
                      std::int64_t heads, bool in_place_allowed) {
  RowSet r;
  if (heads <= 0 || in == nullptr || out == nullptr) return r;  // absent tensor
  r.in = in;
  r.in_strides = in_strides;
  r.out = out;
  r.out_strides = out_strides;
  r.heads = heads;
  r.copy_tail = !(in_place_allowed && in == out && same_strides(in_strides, out_strides));
  return r;
}

// The frequency table (see Params::freq): rope_freq on the host. It depends
// only on (theta_base, position_scale, half), so a thread-local cache keeps
// the up to 128 std::pow calls off the launch path of decode steps that
// repeat them (they cost about 2 us a launch, measured on the B=64 L=1 fused
// call).
template <class A>
const FreqTable& freq_table(double theta_base, double position_scale, std::int64_t half) {
  struct Cache {
    double theta_base = 0.0, position_scale = 0.0;
    std::int64_t half = -1;
    FreqTable table{};
  };
  thread_local Cache cache;
  if (cache.half != half || cache.theta_base != theta_base || cache.position_scale != position_scale) {
    for (std::int64_t i = 0; i < half; ++i) {
      const A f = rope_freq<A>(theta_base, position_scale, 2 * half, i);
      if constexpr (std::is_same_v<A, double>) {
        cache.table.f64[i] = f;
      } else {
        cache.table.f32[i] = f;
      }
    }
    cache.theta_base = theta_base;
    cache.position_scale = position_scale;
    cache.half = half;
  }
  return cache.table;
}

template <class T, int kHeadDim, RopeStyle kStyle, bool kFused, bool kPaged>
Status launch(Params p, std::int64_t rotary_dim, const LaunchContext& ctx, const char* name) {
  using Tile = VecTile<T, kHeadDim>;
  if (rotary_dim == 0) rotary_dim = p.head_dim;
  // The host validates 0 < rotary_dim <= head_dim; the clamp only keeps
  // every access inside the row whatever reaches here.
  p.half = (rotary_dim < p.head_dim ? rotary_dim : p.head_dim) / 2;
  const std::int64_t rows_total = p.q.heads + p.k.heads + p.v.heads;
  if (p.tokens <= 0 || rows_total <= 0) return Status::success();

  if (freq_in_table(p.half)) p.freq = freq_table<AngleT<T>>(p.theta_base, p.position_scale, p.half);


  // Full rotary on a specialized head dim, rope() or fused: rope_tok_kernel,
  // one block per (token, kRows head rows), or per 2^shift tokens' short
  // tails (rope_tok_pack_shift), at every token count. No
  // token-count threshold: none has been measured, one thread per vector
  // pair is the most parallelism any mapping exposes (decode calls
  // included), and it keeps this path under the small-shape GPU tests.
  if constexpr (TokTile<T, kHeadDim>::kSupported) {
    using TT = TokTile<T, kHeadDim>;
    const std::int64_t whole = rows_total / TT::kRows;
    const std::int64_t chunks = ceil_div(rows_total, std::int64_t{TT::kRows});
    const int shift = rope_tok_pack_shift(rows_total - whole * TT::kRows, TT::kRows, TT::kMaxPack);
    const bool full_rotary = p.head_dim == kHeadDim && 2 * p.half == kHeadDim;
    if (full_rotary && shift < 0 && p.tokens <= 0x7fffffff && chunks <= 65535) {
      rope_tok_kernel<T, kHeadDim, kStyle, kFused, kPaged, false>
          <<<dim3(static_cast<unsigned>(p.tokens), static_cast<unsigned>(chunks)), kTokThreads, 0, ctx.stream>>>(p);
      return check_launch(name);
    }
    const std::int64_t blocks = shift < 0 ? 0 : p.tokens * whole + ceil_div(p.tokens, std::int64_t{1} << shift);
    if (full_rotary && shift >= 0 && p.tokens <= 0x7fffffff && blocks <= 0x7fffffff) {
      p.tok_tail_chunk = whole;
      p.tok_pack_shift = shift;
      rope_tok_kernel<T, kHeadDim, kStyle, kFused, kPaged, true>
          <<<static_cast<unsigned>(blocks), kTokThreads, 0, ctx.stream>>>(p);
      return check_launch(name);
    }
  }

  // Vector path: fixed D, and NeoX partners r/2 apart must stay 16-byte aligned.
  bool vectorized = false;
  if constexpr (Tile::kVectorizable) {
    vectorized = p.head_dim == kHeadDim && p.half <= kHeadDim / 2 &&
                 (kStyle == RopeStyle::gptj || p.half % Tile::kVec == 0);
  }
  const std::int64_t rows_per_warp = vectorized ? Tile::kRowsPerWarp : 1;

  // Split a token's heads over several warps only when tokens alone do not
  // fill the GPU (decode); otherwise one warp per token maximizes cos/sin reuse.
  const std::int64_t sm_count = ctx.sm_count > 0 ? ctx.sm_count : 132;
  const std::int64_t target_warps = sm_count * 64;
  const std::int64_t max_split = ceil_div(rows_total, rows_per_warp);
  std::int64_t split = ceil_div(target_warps, p.tokens);
  split = split < 1 ? 1 : (split > max_split ? max_split : split);
  p.warps_per_token = split;
  const std::int64_t items = p.tokens * split;
  std::int64_t blocks = ceil_div(items, kWarpsPerBlock);
  if (blocks > sm_count * 8) blocks = sm_count * 8;

  if (vectorized) {
    if constexpr (Tile::kVectorizable) {
      rope_vec_kernel<T, kHeadDim, kStyle, kFused, kPaged>
          <<<static_cast<unsigned>(blocks), kBlockThreads, 0, ctx.stream>>>(p);
    }
  } else {
    rope_generic_kernel<T, kStyle, kFused, kPaged><<<static_cast<unsigned>(blocks), kBlockThreads, 0, ctx.stream>>>(p);
  }
  return check_launch(name);
}

}  // namespace rope_detail

namespace rope_detail {
// The parameters both entries share: positions, token counts, head dim, RoPE settings.
inline Params base_params(const std::int64_t* positions, std::int64_t batch, std::int64_t len,
                          std::int64_t head_dim, const RopeParams& rope) {
  Params p;
  p.positions = positions;
  p.seq_len = len;
  p.tokens = batch * len;
  p.head_dim = head_dim;
  p.theta_base = rope.theta_base;
  p.position_scale = rope.position_scale;
  return p;
}
}  // namespace rope_detail

// RoPE on Q and/or K (ops/rope.hpp). kHeadDim 0: any head dim.
template <class T, int kHeadDim, RopeStyle kStyle>
Status rope(const LaunchContext& ctx) {
  const auto& desc = *static_cast<const RopeDesc*>(ctx.desc);
  const auto& args = *static_cast<const RopeArgs*>(ctx.args);
  rope_detail::Params p =
      rope_detail::base_params(args.positions, desc.batch, desc.seq_len, desc.head_dim, desc.rope);
  p.q = rope_detail::row_set(args.q_in, args.q_in_strides, args.q_out, args.q_out_strides, desc.heads_q, true);
  p.k = rope_detail::row_set(args.k_in, args.k_in_strides, args.k_out, args.k_out_strides, desc.heads_k, true);
  return rope_detail::launch<T, kHeadDim, kStyle, false, false>(p, desc.rope.rotary_dim, ctx, "rope");
}

// RoPE on K_new (and Q), K -> K_cache, V_new -> V_cache (ops/rope.hpp,
// ops/kv_append.hpp). kPaged selects the paged cache layout.
template <class T, int kHeadDim, RopeStyle kStyle, bool kPaged>
Status rope_kv_append(const LaunchContext& ctx) {
  const auto& desc = *static_cast<const RopeKvAppendDesc*>(ctx.desc);
  const auto& args = *static_cast<const RopeKvAppendArgs*>(ctx.args);
  const KvAppendDesc& ad = desc.append;
  const KvAppendArgs& aa = args.append;
  rope_detail::Params p = rope_detail::base_params(args.positions, ad.batch, ad.new_len, ad.head_dim_k, desc.rope);
  p.q = rope_detail::row_set(args.q_in, args.q_in_strides, args.q_out, args.q_out_strides, desc.heads_q, true);
  p.k = rope_detail::row_set(aa.k_new, aa.k_new_strides, aa.k_cache, aa.k_cache_strides, ad.heads, false);
  p.v = rope_detail::row_set(aa.v_new, aa.v_new_strides, aa.v_cache, aa.v_cache_strides, ad.heads, false);
  p.kv_desc = ad;
  p.kv_args = aa;
  return rope_detail::launch<T, kHeadDim, kStyle, true, kPaged>(p, desc.rope.rotary_dim, ctx, "rope_kv_append");
}

}  // namespace baracuda::kernels
