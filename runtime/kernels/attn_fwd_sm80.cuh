// Flash attention forward (prefill), arch class sm80: mma.sync m16n8k16,
// ldmatrix, cp.async. Runs on every cc >= 8.0 (built for sm_80 and sm_90).
//
// Computes, per (batch b, query head h), with G = Hq / Hkv and s = scale:
//   O[b, h]      = softmax(s * Q[b, h] K[b, h / G]^T + mask) V[b, h / G]
//   LSE[b, h, i] = ln(sum_j exp(s * q_i . k_j + mask_ij))
// causal: query i sees key j iff j <= i + Sk - Sq (bottom-right aligned);
// a row that sees no key gets O = 0 and LSE = -inf.
//
// Algorithm (FlashAttention-2): one CTA per (query tile, head, batch); each
// warp owns 16 or 32 whole query rows, so the softmax row statistics never
// leave a quad of lanes. K/V tiles stream through shared memory with
// cp.async (zero-filled past the sequence ends); S = Q K^T and O += P V run
// on mma.sync with f32 accumulators; the online softmax works in base 2
// with log2(e) folded into the scale; P is rounded to T for the PV product.
// Key tiles run from the last to the first, so the tiles that need a mask
// (the ragged end and the causal diagonal) come first and the rest run
// unmasked; causal tiles that no query of the CTA can see are skipped.
// Query tiles launch heaviest first (causal: the late ones). No atomics and
// a fixed reduction order: deterministic, bit-stable, batch invariant.
//
// Cost per call (D = head dim, causal roughly halves the first two):
//   FLOPs  = 4 * B * Hq * Sq * Sk * D
//   bytes >= 2 * sizeof(T) * B * (Hq * Sq + Hkv * Sk) * D + 4 * B * Hq * Sq
//   (each K/V tile is re-read once per query tile; L2 absorbs most of it).
//
// Measured on an H100 80GB HBM3 (SXM), FlashAttention's benchmark shapes
// (hidden 2048: H = 2048 / D; B * S = 16384; Sq = Sk = S; [B, S, H, D]
// memory), TFLOP/s = 4 B H S^2 D (halved for causal), median of 20 runs,
// against PyTorch 2.11 SDPA FLASH_ATTENTION (FlashAttention-2) timed in the
// same process on the same card (runs differ by a few percent from card to
// card, so only same-run ratios are meaningful):
//   v1  tiles D64 128x64 Q-in-regs, D128 128x64, D256 128x64 8 warps 1 stage:
//       bf16 full S=4096 / 16384: D64 315 / 318 (flash 308 / 313), D128 369 / 371
//       (355 / 343), D256 298 / 304 (325 / 321): D256 behind.
//   v2  D64 128x128 Q-in-regs: 347 / 354 (flash 301 / 298); D256 64x64 4 warps
//       1 stage (two CTAs per SM): 316 / 330 (flash 333 / 306). Tried and slower
//       for D256: 64x32 Q-in-regs 2 stages 307 / 304, 128x32 8 warps 288 / 293.
//   v3  this file. Tried and removed: a software-pipelined schedule (the next
//       tile's Q K^T interleaved with this tile's softmax, 16-row warps to make
//       room for two S tiles): slower everywhere (D128 315 / 332 vs 357 / 372),
//       the doubled ldmatrix traffic of 16-row warps outweighs the overlap.
//       Splitting the softmax into stats / exp / rescale steps (for that
//       schedule) left D64 at 327 / 327 instead of v2's 347 / 354: more spills
//       (152 bytes) in the 128x128 Q-in-regs shape.
//   v3 table: ours / flash, ratio; S = 1024, 4096, 16384:
//   bf16 D=64  full      299/288 1.04     327/313 1.05     327/313 1.04
//   bf16 D=128 full      341/333 1.03     357/343 1.04     372/349 1.07
//   bf16 D=256 full      298/312 0.96     302/325 0.93     323/313 1.03
//   bf16 D=64  causal    227/215 1.06     303/286 1.06     326/304 1.07
//   bf16 D=128 causal    263/246 1.07     324/302 1.07     338/327 1.03
//   bf16 D=256 causal    242/246 0.98     279/279 1.00     300/296 1.01
//   f16  D=64  full      301/290 1.04     332/301 1.10     323/313 1.03
//   f16  D=128 full      343/334 1.02     360/350 1.03     350/349 1.00
//   f16  D=256 full      302/312 0.97     297/304 0.98     313/314 0.99
//   f16  D=64  causal    188/179 1.05     302/285 1.06     322/290 1.11
//   f16  D=128 causal    267/247 1.08     327/310 1.05     328/314 1.04
//   f16  D=256 causal    241/245 0.98     278/282 0.99     295/289 1.02
//   Other head dims (bf16, S = 4096, B = 4, full / causal): D80 (H16) 205 / 210
//   (flash 267 / 218), D96 (H16) 276 / 251 (338 / 295), D192 (H8) 269 / 252
//   (325 / 267): behind; D80 and D96 use padded (not swizzled) smem rows and
//   the general copy path, which is where to look first.
//   v5: a row's 16-byte chunks need not divide the CTA's threads for the
//       add-only copy path (load_tile): D = 80 / 96 / 192 used to divide
//       each copy's index by the chunk count and multiply a 64-bit row
//       offset (9-20% of the kernel's SASS); the SASS at D = 64 / 128 / 256
//       is unchanged. Same H100, builds alternating in one run (2359c82 plus
//       this change), bf16, H = 2048 / D rounded down, TFLOP/s, full / causal
//       (torch flash in that run):
//         D80  S=4096  262.7-267.2 -> 285.1-285.8 (267.3) / 246.5-247.8 ->
//              263.0-263.6 (236.0); S=16384 270.4-272.6 -> 290.2-290.3
//              (275.5) / 264.8-265.4 -> 284.8 (264.4)
//         D96  S=4096  286.5-289.7 -> 297.3-297.8 (335.6) / 258.6-260.2 ->
//              285.9-288.5 (282.7); S=16384 291.0 -> 306.3 (337.7) /
//              279.3-280.6 -> 311.3-312.3 (323.6)
//         D192 S=4096  276.5-278.8 -> 307.6-308.1 (320.9) / 259.7-259.9 ->
//              277.2-278.2 (272.3); S=16384 286.3 -> 306.8-307.3 (330.8) /
//              296.2-296.6 -> 316.9 (298.1)
//       Still behind flash on the full (non-causal) problems at D96 and D192
//       (0.89-0.96x).
//   v6: tile shapes at D = 96 full and D = 192 (tile_shape). Same H100,
//       five builds alternating in one call (b76488d plus macro overrides of
//       tile_shape; the attn_fwd GPU suite passed for each, bf16 and f16),
//       bf16 S = 4096, TFLOP/s, two rounds (torch flash in that call):
//         D96  full    128x64 2 stages 297.5 / 297.7 -> 1 stage 316.8 / 319.0
//              (338.3); causal 286.9 / 286.4 -> 282.8 / 281.0 (279.1):
//              full only. 64x64 Q in registers 2 stages 256.0 / 256.2; 128x64
//              8 warps Q in registers 236.8 / 237.0.
//         D192 full    64x64 1 stage Q from smem 305.6 / 305.6 -> all of Q
//              in registers 325.9 / 326.0 (323.5); causal 277.1 / 277.4 ->
//              291.1 / 291.5 (267.3). Half of Q in registers 317.9 / 315.7
//              and 285.7 / 285.2; 128x64 8 warps 268.2 / 266.2 and 242.4;
//              64x32 Q in registers 2 stages 283.9 and 260.4 / 259.6.
//       At 150a8b0 (tools/bench/results/h100-150a8b0-fwd.log), bf16 S = 4096
//       against torch flash: D96 full 319 vs 339 (0.94x), causal 287 vs 271;
//       D192 full 329 vs 318 (1.03x), causal 293 vs 276. D96 full is the one
//       problem still behind flash.
//   v7: every head dim takes swizzled rows of whole 128-byte lines in shared
//       memory; D = 80 and 96 had rows padded to an odd chunk count (176 and
//       208 bytes). ncu at D96 full S=4096 (ce1b92c): 349K shared-memory bank
//       conflicts against flash's 41K, 38% of warp stalls on fixed-latency
//       waits (flash 31%). Same H100, builds alternating in one call (ce1b92c
//       plus a tile_shape override; the attn_fwd GPU suite passed for each
//       at D80 / D96, bf16 and f16; tools/bench/results/h100-ce1b92c-fwd-rows.md),
//       bf16, TFLOP/s, two rounds (torch flash in that call), padded ->
//       swizzled:
//         D80  S=4096  full 280.9 / 283.3 -> 293.8 / 298.5 (267.4), causal
//              260.0 / 263.6 -> 274.2 / 274.3 (237.4); S=16384 full 292.0 /
//              290.1 -> 303.9 / 303.9 (275.5), causal 285.0 / 284.7 ->
//              299.1 / 299.7 (263.8)
//         D96  S=4096  full 315.8 / 314.1 -> 329.3 / 328.4 (335.2), causal
//              287.7 / 284.0 -> 297.3 / 299.6 (278.0); S=16384 full 322.6 /
//              324.6 -> 339.2 / 335.8 (336.2), causal 308.4 / 307.3 ->
//              322.3 / 324.6 (323.5)
//       D96 causal with single buffers and swizzled rows: 294.1 / 294.3 at
//       S=4096. The SASS of D = 64 / 128 / 192 / 256 is unchanged.
//   Benchmark at 8351cc7 (H100, tools/bench/results/h100-8351cc7-bench.md):
//   S >= 4096, D64 / D128 1.02-1.13x flash; D256 0.99-1.18x (bf16 full
//   S=4096 320 vs 322, S=16384 328 vs 329 TFLOP/s).
//   v4  D256 keeps the first 8 of 16 k16 steps of Q in registers (tile_shape):
//       +2.6-3.7% over v3 on D256 in a same-process sweep on an H200 (output
//       bit-identical); see tools/bench/results/ for the benchmark run.
//   cuDNN (SDPA CUDNN_ATTENTION, wgmma) runs these shapes at 440-740 TFLOP/s:
//   the sm90a arch class is the path past this one.
// D = 256 sits at the shared-memory bandwidth of 16-row warps (0.56 ldmatrix
// x4 per mma: about 75% of the 128 B/clk per SM at 320 TFLOP/s).
#pragma once

#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <cuda_runtime.h>

#include <cstdint>
#include <limits>
#include <string>
#include <type_traits>

#include "baracuda/ops/attn_fwd.hpp"
#include "baracuda/types.hpp"
#include "kernels/common.cuh"
#include "kernels/mma_sm80.cuh"

namespace baracuda::kernels {
namespace attn_fwd_sm80_detail {

// ------------------------------------------------------------ tile shapes ----
struct TileShape {
  int block_m;     // query rows per CTA
  int block_n;     // keys per K/V tile
  int warps;       // block_m / warps = 16 or 32 rows per warp
  bool q_in_regs;  // Q fragments live in registers for the whole CTA (else re-read from smem per tile)
  int stages;      // 2: K and V double-buffered one tile ahead (one barrier per tile)
                   // 1: one K and one V buffer, V loads under Q K^T, the next K under softmax and P V
  int q_reg_steps = 0;  // !q_in_regs: the first q_reg_steps k16 steps of Q live in registers, the rest
                        // are re-read from smem per tile (0: none)
};

// Tile shape per (16-padded) head dim and mask. Register budget per thread
// (f32 unless said): O = rows/warp * D / 32, S = rows/warp * block_n / 32,
// Q = rows/warp * D / 64 (packed pairs). Every shape fits the 99 KB of shared
// memory per block of sm86 / sm89, so one shape serves every cc >= 8.0.
// Figures: H100, bf16, full, S = 4096 / 16384 (see the top of the file).
// Head dims off the catalog take the branch that covers them (D = 48: the
// D <= 64 shape; D = 112: the D <= 128 one). At D = 48
// (152 bytes of spills full, 56 causal) and D = 112 full (96 bytes) the
// no-spill shapes were slower (0effec4, H100, bf16 S = 4096, two rounds,
// tools/bench/results/h100-0effec4-fwd-offcatalog.log): D48 128x64 with Q in
// registers full 268-273 -> 268-270 TFLOP/s, causal 250-251 -> 245; D112
// full 64x64 with Q in registers 322-324 -> 273-275. Torch flash in that
// call: 200 / 176 (D48) and 285 / 229 (D112) TFLOP/s full / causal.
constexpr TileShape tile_shape(int head_dim_padded, bool causal) {
  if (head_dim_padded <= 64) {
    // 32 rows/warp (a K/V fragment feeds two m16 tiles), Q in registers:
    // O 64 + S 128 + Q 32 regs. 80 KB smem, 2 CTAs/SM. 327 / 327 TFLOP/s;
    // 128x64 (S 64 regs) 312 / 324.
    return {128, 128, 4, true, 2};
  }
  if (head_dim_padded == 96 && !causal) {
    // D = 96 full: single K and V buffers (v6). The double-buffered shape
    // below ran at 255 registers with 24 bytes of spills; this one needs no
    // spill and was 6.5-7.2% faster at S = 4096, but 1.4-1.9% slower causal.
    return {128, 64, 4, false, 1};
  }
  if (head_dim_padded <= 128) {
    // 32 rows/warp; Q re-read from smem (O 128 + S 64 leaves no room for Q).
    // D = 128: 96 KB smem, 2 CTAs/SM. 357 / 372 TFLOP/s.
    return {128, 64, 4, false, 2};
  }
  // 16 rows/warp (O up to 128 regs), single K and V buffers so that two CTAs
  // share an SM (D = 256: 96 KB each). D = 256: 302 / 323 TFLOP/s with Q
  // from smem; 128 rows with 8 warps (one CTA/SM) 294 / 304; 64x32 with Q in
  // registers and two stages 307 / 304.
  // D <= 192: all of Q in registers (O 96 + S 32 + Q 48 at D = 192, 253
  // registers, no spill; v6): 6.6-6.7% faster full and 5.0-5.1% causal than
  // Q from shared memory; half of Q in registers 2.8-4.0% faster, 8 warps of
  // 16 rows 12% slower, 32-key tiles double-buffered 6-7% slower.
  if (head_dim_padded <= 192) return {64, 64, 4, true, 1};
  // D = 256: the same shape with the first 8 of the 16 k16 steps of Q kept in
  // registers (half the Q re-reads from smem; all of Q spills). Sweep on an
  // H200, bf16, vs the shape above / torch flash in the same process:
  // S=4096 full 1.027x / 1.009x, S=16384 full 1.027x / 1.007x, causal
  // 1.026x / 1.021x and 1.037x / 1.144x; output bit-identical. 128x64 with
  // 8 warps (FA2's A100 shape), single or double buffered: 0.90-0.94x.
  return {64, 64, 4, false, 1, 8};
}

// --------------------------------------------------------------- params ----
struct Params {
  const void* q;  // [B, Hq, Sq, D]
  const void* k;  // [B, Hkv, Sk, D]
  const void* v;  // [B, Hkv, Sk, D]
  void* o;        // [B, Hq, Sq, D]
  float* lse;     // [B, Hq, Sq], contiguous
  Strides3 q_str, k_str, v_str, o_str;  // elements
  std::int64_t bh_total;                // B * Hq
  int seq_q, seq_k;
  int heads_q;
  int group;          // Hq / Hkv
  int num_m_blocks;   // ceil(Sq / block_m)
  float scale_log2;   // |scale| * log2(e)
  int negate_q;       // scale < 0: the kernel negates Q and uses |scale|
};

// ------------------------------------------------------- PTX wrappers ----
// Shared sm80 primitives: cp.async, ldmatrix, mma.sync, packing, exp2.
using namespace sm80;  // kernels/mma_sm80.cuh

// --------------------------------------------------------------- kernel ----
template <class T, int kHeadDim, bool kCausal, int kBlockM, int kBlockN, int kWarps, bool kQInRegs, int kStages,
          int kQRegStepsReq = 0>
struct AttnFwd {
  static_assert(std::is_same_v<T, __half> || std::is_same_v<T, __nv_bfloat16>, "T must be __half or __nv_bfloat16");
  static_assert(kHeadDim % 8 == 0 && kHeadDim >= 16 && kHeadDim <= 256,
                "kHeadDim must be a multiple of 8 in [16, 256]");
  static_assert(kStages == 1 || kStages == 2, "kStages must be 1 or 2");

  static constexpr int kRowsPerCta = kBlockM;
  static constexpr int kThreads = kWarps * 32;
  static constexpr int kWarpRows = kBlockM / kWarps;  // query rows per warp
  static constexpr int kMT = kWarpRows / 16;          // m16 tiles per warp
  static constexpr int kDPad = (kHeadDim + 15) / 16 * 16;
  static constexpr int kKSteps = kDPad / 16;          // k16 steps of Q K^T
  static constexpr int kNT = kBlockN / 8;             // n8 tiles of S
  static constexpr int kDT = kDPad / 8;               // n8 tiles of O
  static constexpr int kChunks = kHeadDim / 8;        // 16-byte chunks of a row in global memory
  static constexpr int kChunksPad = kDPad / 8;        // 16-byte chunks of a row that the mma reads
  // Shared-memory rows span whole 128-byte lines (D = 80 and 96: 256 bytes,
  // the last 48 or 64 unused) and XOR-swizzle the 16-byte chunk by (row & 7):
  // the 8 row addresses of one ldmatrix phase hit 8 distinct 16-byte bank
  // groups. (v7: 4-6% faster at D = 80 / 96 than rows padded to an odd
  // chunk count, 208 bytes at D = 96, which ncu showed with 8.5x flash's
  // shared-memory bank conflicts.)
  static constexpr int kRowBytes = (kChunksPad + 7) / 8 * 128;
  static constexpr int kQBytes = kBlockM * kRowBytes;
  static constexpr int kTileBytes = kBlockN * kRowBytes;
  static constexpr int kSmemBytes = kQBytes + 2 * kStages * kTileBytes;
  // k16 steps of Q held in registers for the whole CTA (the rest re-read from smem)
  static constexpr int kQRegSteps = kQInRegs ? kKSteps : (kQRegStepsReq < kKSteps ? kQRegStepsReq : kKSteps);
  static constexpr int kMinBlocks = kWarps <= 4 ? 2 : 1;

  static_assert(kWarpRows == 16 || kWarpRows == 32, "each warp owns 16 or 32 query rows");
  static_assert(kBlockN % 16 == 0 && kBlockN >= 16, "block_n must be a multiple of 16");

  static __device__ __forceinline__ std::uint32_t smem_off(int row, int chunk) {
    return static_cast<std::uint32_t>(row * kRowBytes + ((chunk ^ (row & 7)) << 4));
  }
  // Byte offset of chunk c2 + hi (c2 even, known at compile time) for a lane
  // whose ldmatrix row is congruent to the lane's (lane & 7); `x` is the
  // lane's precomputed chunk term hi ^ (lane & 7).
  static __device__ __forceinline__ std::uint32_t chunk_off(int c2, std::uint32_t x) {
    return (static_cast<std::uint32_t>(c2) ^ x) << 4;
  }

  // Copies rows [0, kRows) of a tile (row stride `stride` elements) into smem.
  // kGuard: rows >= valid_rows are zero-filled and read nothing; without it
  // every row is read (a full tile inside the sequence).
  // Thread tid < kRowStep * kChunks copies chunk tid % kChunks of rows
  // tid / kChunks + it * kRowStep, so every copy after the first is an add
  // (when kChunks does not divide kThreads, the last kThreads % kChunks
  // threads copy nothing: one index division per tile instead of one per copy).
  template <int kRows, bool kGuard>
  static __device__ __forceinline__ void load_tile(std::uint32_t s, const T* g, std::int64_t stride, int valid_rows,
                                                   int tid) {
    constexpr int kRowStep = kThreads / kChunks;
    static_assert(kRowStep >= 1, "a row has more chunks than the CTA has threads");
    constexpr int kIters = (kRows + kRowStep - 1) / kRowStep;
    // The swizzle repeats every 8 rows: the smem offsets of this thread's
    // rows take kPeriod distinct forms, the rest is a compile-time stride.
    constexpr int kPeriod = kRowStep % 8 == 0 ? 1 : (kRowStep % 4 == 0 ? 2 : (kRowStep % 2 == 0 ? 4 : 8));
    if (kThreads % kChunks != 0 && tid >= kRowStep * kChunks) return;
    const int row0 = tid / kChunks;
    const int c = tid - row0 * kChunks;
    const T* src = g + row0 * stride + c * 8;
    const std::int64_t step = opaque(stride * kRowStep);
#pragma unroll
    for (int it = 0; it < kIters; ++it) {
      const int row = row0 + it * kRowStep;
      if (kRows % kRowStep == 0 || it + 1 < kIters || row < kRows) {
        const std::uint32_t dst =
            s + smem_off(row0 + (it % kPeriod) * kRowStep, c) + (it / kPeriod) * kPeriod * kRowStep * kRowBytes;
        if constexpr (kGuard) {
          const bool ok = row < valid_rows;
          cp_async_16(dst, ok ? src : g, ok ? 16u : 0u);
        } else {
          cp_async_16(dst, src, 16u);
        }
      }
      src += step;
    }
  }

  // Zero-fills the pad columns [kHeadDim, kDPad) of `rows` smem rows; the
  // async copies never write them.
  static __device__ __forceinline__ void zero_pad_columns(unsigned char* s, int rows, int tid) {
    constexpr int kPad = kChunksPad - kChunks;
    for (int i = tid; i < rows * kPad; i += kThreads) {
      const int row = i / kPad;
      const int c = kChunks + (i - row * kPad);
      *reinterpret_cast<uint4*>(s + smem_off(row, c)) = make_uint4(0, 0, 0, 0);
    }
  }

  struct State {
    float acc_o[kMT][kDT][4];
    float row_max[kMT][2];  // raw scores (before scale)
    float row_sum[kMT][2];  // this lane's partial sum of P
    std::uint32_t q_frag[kQRegSteps > 0 ? kMT : 1][kQRegSteps > 0 ? kQRegSteps : 1][4];
  };
  using Scores = float[kMT][kNT][4];

  // ldmatrix lane roles: "A" pattern (Q, and V transposed): row lane & 15,
  // chunk hi lane >> 4; "B" pattern (K): row (lane & 7) + 8 * (lane >> 4),
  // chunk hi (lane >> 3) & 1. x* is the lane's chunk term for chunk_off.
  static __device__ __forceinline__ std::uint32_t lane_xa(int lane) {
    return (lane >> 4) ^ (lane & 7);
  }
  static __device__ __forceinline__ std::uint32_t lane_xb(int lane) {
    return ((lane >> 3) & 1) ^ (lane & 7);
  }

  // One k16 step of S = Q K^T for this warp's rows and the K tile at smem
  // address k_tile (ks is a compile-time constant once the caller unrolls).
  static __device__ __forceinline__ void gemm_qk_step(Scores& acc_s, const State& st, std::uint32_t sQ,
                                                      std::uint32_t k_tile, int ks, int warp, int lane) {
    const std::uint32_t k_base = k_tile + ((lane & 7) + ((lane >> 4) << 3)) * kRowBytes;
    std::uint32_t a[kMT][4];
#pragma unroll
    for (int mt = 0; mt < kMT; ++mt) {
      if (ks < kQRegSteps) {  // compile-time once unrolled
#pragma unroll
        for (int e = 0; e < 4; ++e) a[mt][e] = st.q_frag[mt][ks < kQRegSteps ? ks : 0][e];
      } else {
        const std::uint32_t q_base = sQ + (warp * kWarpRows + (lane & 15)) * kRowBytes;
        ldsm_x4(q_base + mt * 16 * kRowBytes + chunk_off(2 * ks, lane_xa(lane)), a[mt]);
      }
    }
#pragma unroll
    for (int np = 0; np < kNT / 2; ++np) {
      std::uint32_t b[4];
      ldsm_x4(k_base + np * 16 * kRowBytes + chunk_off(2 * ks, lane_xb(lane)), b);
#pragma unroll
      for (int mt = 0; mt < kMT; ++mt) {
        mma_16816<T>(acc_s[mt][2 * np], a[mt], b[0], b[1]);
        mma_16816<T>(acc_s[mt][2 * np + 1], a[mt], b[2], b[3]);
      }
    }
  }

  static __device__ __forceinline__ void zero_scores(Scores& acc_s) {
#pragma unroll
    for (int mt = 0; mt < kMT; ++mt) zero_frags(acc_s[mt]);
  }

  // S = Q K^T for this warp's rows and the K tile at smem address k_tile.
  static __device__ __forceinline__ void gemm_qk(Scores& acc_s, const State& st, std::uint32_t sQ,
                                                 std::uint32_t k_tile, int warp, int lane) {
    zero_scores(acc_s);
#pragma unroll
    for (int ks = 0; ks < kKSteps; ++ks) gemm_qk_step(acc_s, st, sQ, k_tile, ks, warp, lane);
  }

  // Softmax statistics of key tile n: mask (keys past Sk; causal: keys past
  // i + Sk - Sq), new row max, the factor alpha that rescales the old O and
  // row sum, and the scaled max the exponents subtract. Returns whether any
  // alpha of this lane differs from 1.
  template <bool kMask>
  static __device__ __forceinline__ bool softmax_stats(Scores& acc_s, State& st, const Params& p, int n, int m0,
                                                       int warp, int lane, float (&m_scaled)[kMT][2],
                                                       float (&alpha)[kMT][2]) {
    const int g = lane >> 2;
    const int t = lane & 3;
    if constexpr (kMask) {
      const int key0 = n * kBlockN + 2 * t;
#pragma unroll
      for (int mt = 0; mt < kMT; ++mt) {
#pragma unroll
        for (int r = 0; r < 2; ++r) {
          int limit = p.seq_k;
          if constexpr (kCausal) {
            const std::int64_t row = static_cast<std::int64_t>(m0) + warp * kWarpRows + mt * 16 + g + 8 * r;
            const std::int64_t lim = row + 1 + p.seq_k - p.seq_q;
            limit = static_cast<int>(lim < 0 ? 0 : (lim < p.seq_k ? lim : p.seq_k));
          }
#pragma unroll
          for (int nt = 0; nt < kNT; ++nt)
#pragma unroll
            for (int e = 0; e < 2; ++e)
              if (key0 + nt * 8 + e >= limit) acc_s[mt][nt][2 * r + e] = -INFINITY;
        }
      }
    }
    // Base 2, the scale folded into the exponent's FMA.
    const float sl2 = p.scale_log2;
    bool rescale = false;
#pragma unroll
    for (int mt = 0; mt < kMT; ++mt) {
#pragma unroll
      for (int r = 0; r < 2; ++r) {
        float mx = st.row_max[mt][r];
#pragma unroll
        for (int nt = 0; nt < kNT; ++nt) mx = fmaxf(mx, fmaxf(acc_s[mt][nt][2 * r], acc_s[mt][nt][2 * r + 1]));
        mx = fmaxf(mx, __shfl_xor_sync(0xffffffffu, mx, 1));
        mx = fmaxf(mx, __shfl_xor_sync(0xffffffffu, mx, 2));
        // A row with no visible key so far keeps max -inf: use 0 so that
        // exp2(-inf - 0) = 0 instead of NaN.
        m_scaled[mt][r] = mx == -INFINITY ? 0.0f : mx * sl2;
        alpha[mt][r] = fast_exp2(st.row_max[mt][r] * sl2 - m_scaled[mt][r]);
        st.row_max[mt][r] = mx;
        st.row_sum[mt][r] *= alpha[mt][r];
        rescale |= alpha[mt][r] != 1.0f;
      }
    }
    return rescale;
  }

  // P = exp2(S * scale_log2 - m_scaled) for the n8 tiles [nt0, nt1), added to the row sums.
  static __device__ __forceinline__ void softmax_exp(Scores& acc_s, State& st, float sl2,
                                                     const float (&m_scaled)[kMT][2], int nt0, int nt1) {
#pragma unroll
    for (int mt = 0; mt < kMT; ++mt) {
#pragma unroll
      for (int r = 0; r < 2; ++r) {
#pragma unroll
        for (int nt = nt0; nt < nt1; ++nt) {
#pragma unroll
          for (int e = 0; e < 2; ++e) {
            const float pe = fast_exp2(fmaf(acc_s[mt][nt][2 * r + e], sl2, -m_scaled[mt][r]));
            acc_s[mt][nt][2 * r + e] = pe;
            st.row_sum[mt][r] += pe;
          }
        }
      }
    }
  }

  // Rescales O only when some row max of the warp moved (alpha == 1 makes
  // the product exact, so skipping it changes no bit).
  static __device__ __forceinline__ void rescale_o(State& st, const float (&alpha)[kMT][2], bool rescale) {
    if (__any_sync(0xffffffffu, rescale)) {
#pragma unroll
      for (int mt = 0; mt < kMT; ++mt)
#pragma unroll
        for (int dt = 0; dt < kDT; ++dt)
#pragma unroll
          for (int e = 0; e < 4; ++e) st.acc_o[mt][dt][e] *= alpha[mt][e >> 1];
    }
  }

  // Mask and online softmax of key tile n: updates the row max and sum,
  // rescales O, and turns acc_s into P (f32; rounded to T by gemm_pv).
  template <bool kMask>
  static __device__ __forceinline__ void softmax(Scores& acc_s, State& st, const Params& p, int n, int m0,
                                                 int warp, int lane) {
    float m_scaled[kMT][2];
    float alpha[kMT][2];
    const bool rescale = softmax_stats<kMask>(acc_s, st, p, n, m0, warp, lane, m_scaled, alpha);
    softmax_exp(acc_s, st, p.scale_log2, m_scaled, 0, kNT);
    rescale_o(st, alpha, rescale);
  }

  // O += P V for the V tile at smem address v_tile (P rounded to T; V read
  // transposed by ldmatrix).
  static __device__ __forceinline__ void gemm_pv(const Scores& acc_s, State& st, std::uint32_t v_tile, int lane) {
    const std::uint32_t xa = lane_xa(lane);
    const std::uint32_t v_base = v_tile + (lane & 15) * kRowBytes;
#pragma unroll
    for (int kk = 0; kk < kBlockN / 16; ++kk) {
      std::uint32_t a[kMT][4];
#pragma unroll
      for (int mt = 0; mt < kMT; ++mt) {
        a[mt][0] = pack2<T>(acc_s[mt][2 * kk][0], acc_s[mt][2 * kk][1]);
        a[mt][1] = pack2<T>(acc_s[mt][2 * kk][2], acc_s[mt][2 * kk][3]);
        a[mt][2] = pack2<T>(acc_s[mt][2 * kk + 1][0], acc_s[mt][2 * kk + 1][1]);
        a[mt][3] = pack2<T>(acc_s[mt][2 * kk + 1][2], acc_s[mt][2 * kk + 1][3]);
      }
#pragma unroll
      for (int dp = 0; dp < kDT / 2; ++dp) {
        std::uint32_t b[4];
        ldsm_x4_trans(v_base + kk * 16 * kRowBytes + chunk_off(2 * dp, xa), b);
#pragma unroll
        for (int mt = 0; mt < kMT; ++mt) {
          mma_16816<T>(st.acc_o[mt][2 * dp], a[mt], b[0], b[1]);
          mma_16816<T>(st.acc_o[mt][2 * dp + 1], a[mt], b[2], b[3]);
        }
      }
    }
  }

  // One key tile n: S = Q K^T, mask, online softmax, O += P V.
  //   kStages 2: K[n], V[n] arrived a tile ago; K[n-1], V[n-1] load now.
  //   kStages 1: V[n] loads under Q K^T, K[n-1] under softmax and P V.
  template <bool kMask>
  static __device__ __forceinline__ void tile(const Params& p, State& st, int n, std::uint32_t sQ, std::uint32_t sK,
                                              std::uint32_t sV, const T* kg, const T* vg, int m0, int tid, int warp,
                                              int lane) {
    const int buf = kStages == 2 ? (n & 1) : 0;
    const std::int64_t kv_row0 = static_cast<std::int64_t>(n) * kBlockN;

    cp_async_wait<0>();
    __syncthreads();
    if constexpr (kStages == 2) {
      if (n > 0) {
        const std::int64_t r = kv_row0 - kBlockN;
        const int nxt = buf ^ 1;
        load_tile<kBlockN, false>(sK + nxt * kTileBytes, kg + r * p.k_str.pos, p.k_str.pos, kBlockN, tid);
        load_tile<kBlockN, false>(sV + nxt * kTileBytes, vg + r * p.v_str.pos, p.v_str.pos, kBlockN, tid);
      }
      cp_async_commit();
    } else {
      // Only masked tiles can be ragged: unmasked ones lie inside the sequence.
      const int valid = static_cast<int>(p.seq_k - kv_row0 < kBlockN ? p.seq_k - kv_row0 : kBlockN);
      load_tile<kBlockN, kMask>(sV, vg + kv_row0 * p.v_str.pos, p.v_str.pos, valid, tid);
      cp_async_commit();
    }

    Scores acc_s;
    gemm_qk(acc_s, st, sQ, sK + buf * kTileBytes, warp, lane);

    if constexpr (kStages == 1) {
      cp_async_wait<0>();
      __syncthreads();
      if (n > 0) {
        const std::int64_t r = kv_row0 - kBlockN;
        load_tile<kBlockN, false>(sK, kg + r * p.k_str.pos, p.k_str.pos, kBlockN, tid);
      }
      cp_async_commit();
    }

    softmax<kMask>(acc_s, st, p, n, m0, warp, lane);
    gemm_pv(acc_s, st, sV + buf * kTileBytes, lane);
  }

  static __device__ __forceinline__ void run(const Params& p) {
    extern __shared__ __align__(128) unsigned char smem_raw[];
    const int tid = threadIdx.x;
    const int lane = tid & 31;
    const int warp = tid >> 5;

    const std::int64_t bh = static_cast<std::int64_t>(blockIdx.z) * gridDim.y + blockIdx.y;
    if (bh >= p.bh_total) return;
    const int m_block = p.num_m_blocks - 1 - static_cast<int>(blockIdx.x);  // heaviest first
    const std::int64_t b = bh / p.heads_q;
    const int h = static_cast<int>(bh - b * p.heads_q);
    const int hk = h / p.group;
    const int m0 = m_block * kBlockM;
    const int q_rows = p.seq_q - m0 < kBlockM ? p.seq_q - m0 : kBlockM;

    const T* qg = static_cast<const T*>(p.q) + b * p.q_str.batch + h * p.q_str.head + m0 * p.q_str.pos;
    const T* kg = static_cast<const T*>(p.k) + b * p.k_str.batch + hk * p.k_str.head;
    const T* vg = static_cast<const T*>(p.v) + b * p.v_str.batch + hk * p.v_str.head;
    T* og = static_cast<T*>(p.o) + b * p.o_str.batch + h * p.o_str.head + m0 * p.o_str.pos;
    float* lse = p.lse + bh * p.seq_q + m0;

    // Keys visible to the tile's last valid row.
    std::int64_t n_keys = p.seq_k;
    if constexpr (kCausal) {
      const std::int64_t last = static_cast<std::int64_t>(m0) + q_rows + p.seq_k - p.seq_q;
      n_keys = last < n_keys ? last : n_keys;
    }
    if (n_keys <= 0) {  // no row of this tile sees a key: O = 0, LSE = -inf
      for (int i = tid; i < q_rows * kChunks; i += kThreads) {
        const int row = i / kChunks;
        const int c = i - row * kChunks;
        *reinterpret_cast<uint4*>(og + row * p.o_str.pos + c * 8) = make_uint4(0, 0, 0, 0);
      }
      for (int i = tid; i < q_rows; i += kThreads) lse[i] = -INFINITY;
      return;
    }
    const int n_blocks = static_cast<int>((n_keys + kBlockN - 1) / kBlockN);

    const std::uint32_t sQ = smem_addr(smem_raw);
    const std::uint32_t sK = sQ + kQBytes;
    const std::uint32_t sV = sK + kStages * kTileBytes;
    if constexpr (kDPad != kHeadDim) zero_pad_columns(smem_raw, kBlockM + 2 * kStages * kBlockN, tid);

    // Prologue: Q (group 0), the last K/V tile (group 1; stages 1: K only).
    load_tile<kBlockM, true>(sQ, qg, p.q_str.pos, q_rows, tid);
    cp_async_commit();
    {
      const int n = n_blocks - 1;
      const std::int64_t r = static_cast<std::int64_t>(n) * kBlockN;
      const int valid = static_cast<int>(p.seq_k - r < kBlockN ? p.seq_k - r : kBlockN);
      const int buf = kStages == 2 ? (n & 1) : 0;
      load_tile<kBlockN, true>(sK + buf * kTileBytes, kg + r * p.k_str.pos, p.k_str.pos, valid, tid);
      if constexpr (kStages == 2)
        load_tile<kBlockN, true>(sV + buf * kTileBytes, vg + r * p.v_str.pos, p.v_str.pos, valid, tid);
      cp_async_commit();
    }

    State st;
#pragma unroll
    for (int mt = 0; mt < kMT; ++mt) {
#pragma unroll
      for (int r = 0; r < 2; ++r) {
        st.row_max[mt][r] = -INFINITY;
        st.row_sum[mt][r] = 0.0f;
      }
      zero_frags(st.acc_o[mt]);
    }

    cp_async_wait<1>();
    __syncthreads();
    // Each warp reads only its own Q rows from here on.
    if (p.negate_q) {
      unsigned char* rows = smem_raw + warp * kWarpRows * kRowBytes;
      for (int i = lane; i < kWarpRows * kRowBytes / 16; i += 32) {
        uint4* v = reinterpret_cast<uint4*>(rows + i * 16);
        uint4 x = *v;
        x.x ^= 0x80008000u;
        x.y ^= 0x80008000u;
        x.z ^= 0x80008000u;
        x.w ^= 0x80008000u;
        *v = x;
      }
      __syncwarp();
    }
    if constexpr (kQRegSteps > 0) {
      const std::uint32_t xa = lane_xa(lane);
      const std::uint32_t q_base = sQ + (warp * kWarpRows + (lane & 15)) * kRowBytes;
#pragma unroll
      for (int mt = 0; mt < kMT; ++mt)
#pragma unroll
        for (int ks = 0; ks < kQRegSteps; ++ks) ldsm_x4(q_base + mt * 16 * kRowBytes + chunk_off(2 * ks, xa), st.q_frag[mt][ks]);
    }

    // Key tiles from the last to the first: the ones that need a mask come first.
    const std::int64_t first_row_limit = static_cast<std::int64_t>(m0) + p.seq_k - p.seq_q;  // causal: row m0 sees keys <= this
    auto need_mask = [&](int n) {
      const std::int64_t end = static_cast<std::int64_t>(n + 1) * kBlockN;  // one past the tile's last key
      return end > p.seq_k || (kCausal && end - 1 > first_row_limit);
    };
    int n = n_blocks - 1;
    for (; n >= 0 && need_mask(n); --n) tile<true>(p, st, n, sQ, sK, sV, kg, vg, m0, tid, warp, lane);
    for (; n >= 0; --n) tile<false>(p, st, n, sQ, sK, sV, kg, vg, m0, tid, warp, lane);

    // ---- epilogue: normalize, LSE, stage O through this warp's Q rows, 16-byte stores
    const int g = lane >> 2;
    const int t = lane & 3;
    unsigned char* o_rows = smem_raw + warp * kWarpRows * kRowBytes;
    __syncwarp();
#pragma unroll
    for (int mt = 0; mt < kMT; ++mt) {
#pragma unroll
      for (int r = 0; r < 2; ++r) {
        float l = st.row_sum[mt][r];
        l += __shfl_xor_sync(0xffffffffu, l, 1);
        l += __shfl_xor_sync(0xffffffffu, l, 2);
        // l == 0 exactly when the row saw no key (the row max contributes exp2(0) = 1).
        const float inv = l == 0.0f ? 0.0f : 1.0f / l;
        const int row = mt * 16 + g + 8 * r;  // within the warp
        const int row_cta = warp * kWarpRows + row;
        if (t == 0 && row_cta < q_rows) {
          lse[row_cta] = l == 0.0f ? -INFINITY
                                   : (st.row_max[mt][r] * p.scale_log2 + log2f(l)) * 0.69314718055994530942f;
        }
#pragma unroll
        for (int dt = 0; dt < kDT; ++dt) {
          const std::uint32_t packed = pack2<T>(st.acc_o[mt][dt][2 * r] * inv, st.acc_o[mt][dt][2 * r + 1] * inv);
          *reinterpret_cast<std::uint32_t*>(o_rows + smem_off(row, dt) + 4 * t) = packed;
        }
      }
    }
    __syncwarp();
    const int warp_row0 = warp * kWarpRows;
    constexpr int kWarpChunks = kWarpRows * kChunks;
#pragma unroll
    for (int it = 0; it < (kWarpChunks + 31) / 32; ++it) {
      const int i = lane + it * 32;
      const int row = i / kChunks;
      const int c = i - row * kChunks;
      if ((kWarpChunks % 32 == 0 || i < kWarpChunks) && warp_row0 + row < q_rows) {
        const uint4 x = *reinterpret_cast<const uint4*>(o_rows + smem_off(row, c));
        *reinterpret_cast<uint4*>(og + (warp_row0 + row) * p.o_str.pos + c * 8) = x;
      }
    }
  }
};

template <class Kernel>
__global__ void __launch_bounds__(Kernel::kThreads, Kernel::kMinBlocks) attn_fwd_sm80_kernel(const __grid_constant__ Params p) {
  Kernel::run(p);
}

template <class T, int kHeadDim, bool kCausal, TileShape kShape>
using KernelFor = AttnFwd<T, kHeadDim, kCausal, kShape.block_m, kShape.block_n, kShape.warps, kShape.q_in_regs,
                          kShape.stages, kShape.q_reg_steps>;

template <class T>
constexpr Element element_of() {
  return std::is_same_v<T, __half> ? Element::f16 : Element::bf16;
}

// Launches one tile shape. The host has validated the descriptor and the
// arguments; the checks here only keep a misuse from reaching the device.
template <class T, int kHeadDim, bool kCausal, TileShape kShape>
Status launch(const AttnFwdDesc& d, const AttnFwdArgs& a, cudaStream_t stream) {
  using Kernel = KernelFor<T, kHeadDim, kCausal, kShape>;
  constexpr const char* kName = "attn_fwd_sm80";
  const std::int64_t bh_total = d.batch * d.heads_q;
  const std::int64_t m_blocks = ceil_div(d.seq_q, Kernel::kRowsPerCta);
  const std::int64_t grid_y = bh_total < 65535 ? bh_total : 65535;
  const std::int64_t grid_z = ceil_div(bh_total, grid_y);
  if (grid_z > 65535) {
    return Status::error(StatusCode::not_supported,
                         std::string(kName) + ": batch * heads_q = " + std::to_string(bh_total) +
                             " exceeds the grid limit of 65535 * 65535");
  }

  Params p{};
  p.q = a.q;
  p.k = a.k;
  p.v = a.v;
  p.o = a.o;
  p.lse = a.lse;
  p.q_str = a.q_strides;
  p.k_str = a.k_strides;
  p.v_str = a.v_strides;
  p.o_str = a.o_strides;
  p.bh_total = bh_total;
  p.seq_q = static_cast<int>(d.seq_q);
  p.seq_k = static_cast<int>(d.seq_k);
  p.heads_q = static_cast<int>(d.heads_q);
  p.group = static_cast<int>(d.heads_q / d.heads_kv);
  p.num_m_blocks = static_cast<int>(m_blocks);
  const float scale = effective_scale(d);
  p.scale_log2 = (scale < 0.0f ? -scale : scale) * 1.44269504088896340736f;
  p.negate_q = scale < 0.0f ? 1 : 0;

  int device = 0;
  int smem_optin = 0;
  if (Status s = cuda_status(cudaGetDevice(&device), "attn_fwd_sm80: cudaGetDevice"); !s.ok()) return s;
  if (Status s = cuda_status(cudaDeviceGetAttribute(&smem_optin, cudaDevAttrMaxSharedMemoryPerBlockOptin, device),
                             "attn_fwd_sm80: cudaDeviceGetAttribute");
      !s.ok()) {
    return s;
  }
  if (smem_optin < Kernel::kSmemBytes) {
    return Status::error(StatusCode::not_supported,
                         std::string(kName) + ": head dim " + std::to_string(kHeadDim) + " needs " +
                             std::to_string(Kernel::kSmemBytes) + " bytes of shared memory per block; the device has " +
                             std::to_string(smem_optin));
  }
  auto kernel = attn_fwd_sm80_kernel<Kernel>;
  if (Status s = set_smem_limit(kernel, Kernel::kSmemBytes, kName); !s.ok()) return s;
  kernel<<<dim3(static_cast<unsigned>(m_blocks), static_cast<unsigned>(grid_y), static_cast<unsigned>(grid_z)),
           Kernel::kThreads, Kernel::kSmemBytes, stream>>>(p);
  return check_launch(kName);
}

}  // namespace attn_fwd_sm80_detail

// Entry of the attn_fwd sm80 SKUs: T in {__half, __nv_bfloat16}, Dqk == Dv == kHeadDim.
template <class T, int kHeadDim, bool kCausal>
Status attn_fwd_sm80(const LaunchContext& ctx) {
  namespace detail = attn_fwd_sm80_detail;
  const auto& d = *static_cast<const AttnFwdDesc*>(ctx.desc);
  const auto& a = *static_cast<const AttnFwdArgs*>(ctx.args);

  if (d.element != detail::element_of<T>() || d.head_dim_qk != kHeadDim || d.head_dim_v != kHeadDim ||
      d.causal != kCausal) {
    return Status::invalid("attn_fwd_sm80: descriptor (element, head dims, causal) does not match the SKU");
  }
  if (d.heads_kv < 1 || d.heads_q % d.heads_kv != 0) {
    return Status::invalid("attn_fwd_sm80: heads_kv = " + std::to_string(d.heads_kv) + " must divide heads_q = " +
                           std::to_string(d.heads_q));
  }
  constexpr std::int64_t kIntMax = std::numeric_limits<int>::max();
  if (d.seq_q > kIntMax - 256 || d.seq_k > kIntMax - 256 || d.heads_q > kIntMax) {
    return Status::error(StatusCode::not_supported, "attn_fwd_sm80: seq_q, seq_k and heads_q must be below 2^31 - 256");
  }
  if (d.batch < 1 || d.heads_q < 1 || d.seq_q < 1 || d.seq_k < 1) return Status::success();

  constexpr detail::TileShape kShape = detail::tile_shape((kHeadDim + 15) / 16 * 16, kCausal);
  using Kernel = detail::KernelFor<T, kHeadDim, kCausal, kShape>;
  // One shape serves every cc >= 8.0: it fits the 99 KB per block of sm86 / sm89.
  static_assert(Kernel::kSmemBytes <= 99 * 1024, "tile shape exceeds the smallest sm80-class shared memory");
  return detail::launch<T, kHeadDim, kCausal, kShape>(d, a, ctx.stream);
}

}  // namespace baracuda::kernels
