// Decode attention over the KV cache (flash-decoding: split-KV, paged or
// contiguous cache, GQA), sm80 arch class (mma.sync + cp.async; runs on every
// cc >= 8.0).
//
// Computes, for each sample b, query head h and new token i < q_len,
//   O[b, h, i] = softmax_j(scale * q . k_j) V,   LSE = ln sum_j exp(scale * q . k_j)
// over the cache positions j < seqlens[b] with j <= seqlens[b] - q_len + i
// (ops/decode.hpp). Rows that see no key: O = 0, LSE = -inf.
//
// Work split. One CTA (4 warps) per (sample, KV head, split, row block): the
// G = Hq / Hkv query heads x q_len tokens of one KV head form the M = G * q_len
// rows of one mma.sync m16n8k16 problem (rows padded to 16), so each K/V byte
// is read from memory once. Up to 64 rows (4 m16 tiles) per CTA; larger groups
// take several row blocks (adjacent CTAs, their second K/V read hits L2). A
// CTA of at most 8 rows (GQA groups up to 8, one token) runs the narrow
// kernel: S^T = K Q^T and O^T = V^T P^T, keys and head dims on the mma's M
// side and the rows padded to N = 8, half the mma of 16 padded rows.
// Warps share the m16 tiles; the warps of one m16 tile take interleaved
// 16- or 32-key sub-tiles, each with its own online-softmax state, merged at
// the end in a fixed order. K/V stream through a cp.async ring, XOR-swizzled
// for conflict-free ldmatrix: 3 stages of 8192 / D keys (32 KB of K+V), or,
// for the adaptive-split contiguous kernels, a shape per head dim (D = 128:
// 2 stages of 128 keys, 64 KB each, with 32-key sub-tiles; SkuConfig). Paged
// caches look up each key row's page (block_table entries staged in a
// shared-memory ring by cp.async, kStages - 1 tiles ahead); an entry outside
// [0, num_pages) is never read and its keys are masked. Split count and size
// come from decode_split() (baracuda/decode_tuning.hpp); with more than one
// split, partial O (f32, normalized) and partial log2-sum-exp go to the
// workspace and a second kernel merges them in split order (deterministic,
// no atomics). Everything (splits, warp sub-tiles, merges) has a fixed order:
// results are bit-stable, and with kFixedSplit batch invariant.
//
// Cost per call: bytes = 2 * B * Hkv * L * D * sizeof(T) of K+V (dominant;
// L = keys actually present, except that a contiguous cache's first split
// loads its first kStages - 1 tiles before reading the length, so a sample
// shorter than that reads up to 64 KB per KV head, (kStages - 1) stages of
// 32 or 64 KB) + Q/O; FLOPs = 4 * B * Hq * q_len * L * D (tiny: the op is
// memory bound, the target is the copy bandwidth).
//
// Measured (H100 80GB HBM3 SXM, 132 SMs; device copy 3.02 TB/s read+write;
// bf16, Hq=32 Hkv=8 D=128 Lq=1, all samples at length L; GB/s = K+V bytes /
// median time; peers are torch 2.11 SDPA measured in the same run):
//   v1: combine kernel with one load round trip per split (a dependent chain):
//       B=1 L=32768 64.5 us = 2080 GB/s vs cuDNN 55.2 us; the merge cost
//       ~0.5 us per split (64 splits: 85.6 us).
//   v2: merge loads 16 partial rows (8 at D=256) before using
//       them and is a programmatic dependent launch on cc >= 9.0; Q and the
//       first block-table entries are loaded before the length. Contiguous,
//       adaptive split (decode_tuning.hpp rule), vs torch_cudnn / torch_flash:
//         B=1   L=32768  2454 GB/s  (cudnn 2446, 1.00x; flash 2160)
//         B=16  L=8192   2904 GB/s  (cudnn 3021, 0.96x; flash 2901)
//         B=64  L=4096   3032 GB/s  (cudnn 3038, 1.00x; flash 2684)
//         B=128 L=2048   3013 GB/s  (cudnn 3020, 1.00x; flash 2640)
//         B=32  L=32768  3109 GB/s  (cudnn 3113, 1.00x; flash 2754)
//       Paged, page 16, shuffled block table: 2219 / 2792 / 2872 / 2762 /
//       3027 GB/s (3% to 11% under contiguous). Fixed split (1024 keys):
//       2454 / 2858 / 2970 / 2957 / 3044 GB/s contiguous.
//   Stages: 2 and 3 within 2% of each other; 4 (one CTA per SM at D=128)
//   lost 6% contiguous and 35% paged.
//   v2.1: the split rule counts waves at one CTA per SM on a contiguous
//       cache (decode_tuning.hpp): B=16 L=8192 takes one split (180.8 us in
//       the sweep vs 184.8 for two), B=1 L=32768 16 (53.6 vs 54.7 us). At
//       88eeeed: B=1 53.7 us vs cuDNN 55.3 (1.03x); B=16 183.4 vs 177.8
//       (0.97x); B=64 / 128 / 32 1.00x.
//   Tried and dropped, stream-K: equal key ranges over one wave of CTAs,
//       ranges crossing (sample, KV head) boundaries, one cp.async pipeline
//       across the segments of a range, a merge kernel for the pieces. Every
//       schedule whose ranges end inside a unit lost 4-20% (B=16 L=8192:
//       196-200 us vs 182-190 with one CTA per unit; B=1 L=32768: 69-80 vs
//       58 us). Per-CTA globaltimer traces: the CTA that crosses a unit
//       stalls 10-40 us there, because the finished segment's stores and the
//       next segment's first loads queue behind the SM's in-flight tile loads
//       under a saturated memory system, so the crossing CTAs finish last.
//   Floor: a plain cp.async read loop of the same bytes (bench-read-floor,
//       185da35) takes 177.0 us with 132 CTAs and 177.5 us with 264 at
//       B=16 L=8192; cuDNN took 178.9 us and this kernel 185.0 in that run
//       (one CTA per unit leaves 4 of 132 SMs idle).
//   v2.2: a paged CTA used to read a tile's block-table entries
//       into registers one iteration before that tile's loads; under load the
//       lookup waited behind the SM's in-flight tile loads (B=128 L=2048
//       paged 388-399 us vs 349-357 contiguous, 0.89-0.90). The entries now
//       travel by cp.async into a shared-memory ring in the group of the tile
//       kStages - 1 earlier, so no lookup waits on a global load: paged page
//       16 is 0.90 / 0.93 / 0.95 / 0.95 / 0.95 of contiguous on the five
//       problems above (B=1: 59.7 vs 53.9 us; B=128: 377.9 vs 357.2 us), the
//       fixed-split paged SKU 5-20% faster than before. (Copying register
//       page ids two tiles ahead did not help: the copy of a register a load
//       still fills waits for that load.) Two CTAs per SM still serve paged
//       caches best (B=16 one split: 283.8 us, two splits 196.5 us).
//   Tried and dropped, sliced issue: the next tile's loads issued a slice per
//       16-key sub-tile, between the sub-tiles' math, instead of all before
//       it. Same H100, alternating runs of both builds: contiguous B=1 and
//       B=16 1-2% slower, B=64 / 128 / 32 within 0.4%; paged B=16 and B=32
//       2-3% faster but B=128 2.6% slower.
//   Where B=16 L=8192 loses against the read loop (H100, kernel of ec83e0c
//       driven directly with per-CTA globaltimer / clock64 traces, one
//       run per comparison; tools/bench/results/
//       h100-ec83e0c-decode-probe.md): this kernel 180.4-181.5 us, the same
//       kernel with the tile math compiled out 177.0-177.5, the read loop
//       with 128 CTAs 174.7-175.8 (132 CTAs: 175.2-175.7, so the 4 idle SMs
//       cost nothing). The median CTA lands its last tile as early as the
//       read loop's median (169-170 us into the kernel); the slowest lands
//       it 5-6 us after the median, against 2-3 us for the read loop, and
//       the last tile's math and the merge add 1.7 us (0.8 without math).
//       Under a saturated memory system a CTA that falls behind cannot catch
//       up while it also computes: the read loop with a 1000-cycle busy-wait
//       per tile (about this kernel's math) goes from 176.6 to 179.4-179.6
//       us, and the same with one 16 KB cp.async.bulk (TMA) per K or V tile
//       (176.6 without the wait, 179.2-179.4 with it). Also measured: mma.sync lowers the SM
//       clock from 1980-1995 to 1800-1835 MHz (one mma per tile in the read
//       loop costs it 0.5%, 32 per tile 1%), but FMAs in place of the mma
//       keep 1980 MHz and are no faster. Tried and dropped:
//       - a load warp (mbarrier full / empty per stage, cp.async.mbarrier
//         arrive) streaming K/V while 4 warps compute: B=16 181.5 / 181.2 /
//         180.7 us with 1 / 2 / 4 load warps (this kernel 181.4); contiguous
//         B=32 0.3-1.5% slower, B=128 0.7% faster to 1.1% slower; paged
//         1.4-5% faster with 2 load warps, 12-20% slower with 1; with 4
//         stages and tile t issued once tile t - 2 landed (two tiles in
//         flight whatever the math does, as in the read loop), 2 load warps:
//         B=16 179.9-180.3 us vs 181.1-181.5, B=32 -0.5%, B=128 +0.2%,
//         paged 1.3-1.4x slower;
//       - 128-key tiles (64 KB stages, 8 warps): 216.5 us, the slowest CTA
//         23 us behind the median; 32-key tiles (16 KB) with 3 / 4 / 5
//         stages: 192.4 / 187.8 / 185.6 us (spread 1.5 us, but every CTA
//         slower); 2 stages of 32 KB: 191.3 us (3 stages: 180.8-181.1 in
//         that run); 4-6 stages of 32 KB: 181.4-183.8 us (3: 180.2-180.4);
//       - two accumulator chains for Q K^T and skipping the identity
//         rescale: within 0.3% on all five problems (v2.2; v2.3 below
//         measures them again on a lighter loop).
//   v2.3: half the instructions per tile. ncu on the H100 at
//       fa598a0 (B=16 L=8192): v2.2 executed 37.8M warp instructions, cuDNN's
//       kernel 18.8M (cudnn_generated_fort_native_sdpa_sm80_flash_fprop_wmma_
//       f16_knob_35_16x128x128_1x4x1: 128 threads, 128-key tiles, 86 KB of
//       shared memory, 183 registers, one CTA per (sample, KV head) as here;
//       B=1 and B=32 take 2 splits and a reduction kernel). Per 64-key tile a
//       v2.2 warp ran ~620 instructions (SASS): ~280 to address its 16
//       cp.async (a 64-bit multiply and bounds check per row), ~60 to
//       recompute swizzled ldmatrix offsets, 64 FMULs of rescale, in four
//       copies of the sub-tile body (one per warp). v2.3: a full tile's
//       addresses are adds from a per-thread row pointer (only a split's last
//       tile checks rows), ldmatrix offsets are four opaque registers per
//       operand plus immediates, one sub-tile body, the rescale only when a
//       row's max moves (bit-identical: alpha is exactly 1 otherwise), Q K^T
//       in two accumulator chains: ~330 instructions per tile. Same H100,
//       both builds alternating in one run, us (v2.2 -> v2.3 without the two
//       chains; cuDNN in that run):
//         contiguous B=1 53.5-53.6 -> 53.0-53.3 (55.1), B=16 183.3-183.7 ->
//         180.7-181.3 (177.7), B=64 354.4-354.8 -> 352.7-352.8 (353.3),
//         B=128 357.1-357.4 -> 353.3 (355.4), B=32 1383.4-1386.7 ->
//         1381.8-1383.2 (1383.0); paged page 16 0.5-4% faster (fixed split
//         2-3.5%).
//       The two Q K^T chains, next run (without -> with): B=32 1382.8-1383.9
//       -> 1380.1-1381.7, B=64 352.8-353.1 -> 352.4-352.6, the others within
//       noise. Tried on v2.3 and dropped (same runs): issuing tile t + 2
//       before waiting for tile t (two barriers per tile: 0.4-0.6% slower at
//       B=64 / 128 / 32); 4 stages (contiguous no faster, paged 1.4x
//       slower); cp.async L2::128B / L2::256B prefetch hints and skipping the
//       softmax of the padding rows 8-15 (within noise). B=16 stays at
//       181.0-181.7 us against cuDNN's 177.8-177.9.
//       Then the first split issues its prologue tiles before the length is
//       read (cuDNN's dense kernel reads no lengths; zeroing V rows past the
//       length covers a partial tile) and blockIdx is decoded with 32-bit
//       divisions; same H100, alternating runs, us: B=1 53.1-53.4 ->
//       52.7-52.9 (fixed split 54.2-54.4 -> 53.9), B=128 353.8-354.0 ->
//       352.6-353.2, B=16 181.2-181.5 -> 179.0-181.1, B=64 / 32 within noise.
//       Then paged: a row's block-table slot by multiply-high (page_divisor,
//       decode_tuning.hpp) instead of an integer divide, ~110 of a paged
//       warp's ~870 instructions per tile outside the sub-tiles; same H100,
//       alternating runs, us, page 16: B=1 58.8-59.0 -> 57.6-57.8, B=16
//       196.2-196.7 -> 193.5-194.1, B=64 371.1-371.3 -> 365.9, B=128
//       371.2-371.8 -> 364.0-364.2, B=32 1446-1454 -> 1436 (fixed split
//       2-2.5% faster); the contiguous kernel's SASS is unchanged.
//   v2.4: tile shapes per SKU (SkuConfig). cuDNN's kernel takes
//       128-key tiles, each of its 4 warps 32 keys of one; here the
//       adaptive-split contiguous D = 128 kernel now does the same: 128-key
//       tiles (64 KB of K+V per stage) in 2 stages, one 32-key softmax step
//       per warp per tile (4 independent Q K^T chains; half the barriers,
//       max / sum reductions and rescale checks per key). Same H100, builds
//       alternating in one run (55c3f95 plus this change), us, 64-key tiles
//       x 3 stages x 16-key steps -> 128 x 2 x 32 (cuDNN; read floor):
//         B=1 53.2-53.3 -> 53.0-53.3 (54.8; 48.0), B=16 181.5-181.7 ->
//         180.0-180.4 (177.7; 177.2), B=64 352.6 -> 348.4-348.7 (353.5;
//         346.6), B=128 352.4-353.0 -> 348.9-349.2 (355.1; 346.8), B=32
//         1379.7-1381.7 -> 1370.0-1370.8 (1381.1; 1368.7).
//       Other shapes of that run and the one before (us, B=1 / 16 / 64 /
//       128 / 32): 128 x 3 x 32 (196 KB of ring) 53.4-54.0 / 179.7-180.1 /
//       355.2-356.3 / 350.8-351.0 / 1381.0-1385.6; 128 x 2 x 16 53.4-53.7 /
//       181.1-181.6 / 349.3-349.5 / 350.0-350.2 / 1371.3-1372.9; 64 x 3 x
//       32 (2 warps per tile) 53.4-53.5 / 182.6 / 353.3 / 354.4-354.7 /
//       1384.5-1387.2. Issuing a tile's K before its V, and storing only the
//       real rows in the end merge: within noise. The paged kernel keeps 64-key
//       tiles (128-key: 1-19% slower, more block-table entries per stage),
//       as does the fixed-split one (128-key: B=1 56.5 vs 54.3 us, its
//       1024-key splits take a deeper prologue each).
//       Then the narrow kernel (rows <= 8: S^T = K Q^T, O^T = V^T P^T, P^T
//       transposed in registers by movmatrix): half the mma and 32 fewer
//       accumulator registers (166 vs 228 contiguous). Same H100, alternating
//       runs, us, wide -> narrow: paged page 16 B=1 57.5 -> 56.6-56.8, B=16
//       194.0-194.3 -> 191.7-192.2, B=64 365.4-365.7 -> 363.4-364.1, B=128
//       363.9-364.5 -> 361.7-362.2, B=32 1434-1437 -> 1425-1426; contiguous
//       within 0.2% (B=16 180.1-180.5 both). Halving the math did not move
//       B=16 L=8192 (178.2-180.4 us over three runs against cuDNN's
//       177.7), nor did the shapes 128 x 3 x 32 (179.6-179.9), 64 x 3 x 16
//       (180.7-181.0), 64 x 2 x 16 (185.8-188.5) or two splits at two CTAs
//       per SM (182.5-182.8). Nor did starting each CTA at a different tile
//       of its range (tile (unit * 37) mod n, wrapping; B=16 179.9-180.1 vs
//       180.0-180.4), which cost the multi-wave problems 0.7-2.4% (B=128
//       357.1 vs 348.7 us). Against cuDNN on the same tensors (four
//       placements of K and V, 2b826d4) this kernel is level at B=16
//       (0.998-1.001) and 1.01-1.04x on the other four problems; each
//       kernel's own time moves up to 2% with the placement.
//   Tried on v2.4 and dropped (e378ade, same H100, builds alternating;
//       tools/bench/results/h100-e378ade-decode-experiments.md), us at B=16
//       L=8192 against this kernel's 177.7-182.3 over those runs:
//       - L2 prefetch of the tiles beyond the ring (cp.async.bulk.prefetch
//         or prefetch.global.L2): 1 tile ahead 189.6, 4 ahead 282; every
//         problem slower;
//       - L2 prefetch of a CTA's last tiles only (to lift the slowest CTAs'
//         share at the end): 178.3-191.5, slower everywhere;
//       - 1 or 2 load warps (full / empty mbarriers per stage) with 128-key
//         x 3 or 64-key x 4 stages: 179.8-182.0, multi-wave problems 1-2%
//         slower.
//   v2.5 (this file): shapes per head dim for the adaptive-split contiguous
//       SKUs at D = 64 and 256, which had kept the default. Same H100, five
//       builds alternating in one run (b6d8e67), us, round 1 / round 2, as
//       keys per tile x stages x keys per warp step (cuDNN; flash, same run):
//       D = 64, 128 x 3 x 16 (default) -> 128 x 3 x 32:
//         B=1 L=32768 31.3 / 31.5 -> 31.0 / 31.0 (48.9; 40.1), B=16 L=8192
//         94.0 / 94.0 -> 93.3 / 93.0 (94.5; 100.1), B=128 L=2048 180.8 /
//         181.1 -> 180.3 / 179.6 (180.5; 238.9);
//         128 x 2 x 32: 33.3 / 32.9, 97.0 / 97.0, 178.8 / 178.6;
//         128 x 4 x 32: 31.5 / 31.3, 93.6 / 93.4, 180.9 / 180.5;
//         128 x 4 x 16: 31.8 / 31.9, 94.2 / 94.7, 182.1 / 181.8.
//       D = 256, 32 x 3 x 16 (default) -> 64 x 2 x 16:
//         B=1 99.6 / 99.5 -> 99.5 / 99.0 (108.0; 108.1), B=16 348.8 / 350.2
//         -> 348.8 / 348.3 (369.7; 358.4), B=128 700.6 / 701.6 -> 692.6 /
//         692.5 (733.1; 697.5);
//         64 x 2 x 32: 99.9 / 99.6, 348.7 / 348.8, 693.1 / 692.8;
//         64 x 3 x 16: 99.4 / 99.3, 350.0 / 349.5, 701.6 / 701.6;
//         32 x 4 x 16: 100.0 / 100.1, 356.4 / 352.7, 702.3 / 702.3.
//       The decode GPU suite passed for every shape (6042 assertions).
//   Tried on v2.5 and dropped (704ba62, H100 and H200, builds alternating;
//       tools/bench/results/h100-704ba62-decode-lookahead.md): one tile in
//       flight while the grid is full and two at the end of a CTA's range
//       (a 3-stage ring; the last 8 or 16 tiles, or once at most 64 or 100
//       CTAs still run, by a global counter copied into shared memory with
//       each tile), to drain the one-wave tail at B=16 L=8192. Against the
//       same ring kept one tile ahead, B=16 0.5-2.7 us slower, multi-wave
//       problems up to 1% slower; the 3-stage ring one tile ahead, with
//       per-tile cp.async groups or the larger footprint alone, level with
//       this kernel (177.1-177.5 us vs cuDNN 177.7 in that run).
//   Measured against a plain read of the same tensors (ef690e4, H100, four
//       placements of K and V; tools/bench/results/h100-ef690e4-decode-floor.md):
//       at B=16 L=8192 this kernel and cuDNN's are within 0.3% of each other
//       and 0.3-2.8% above the read loop; a read loop with this kernel's
//       layout (one CTA per sample and KV head, 2 x 64 KB ring) moves with
//       the placement as both kernels do, and this kernel adds 2.2-2.6 us to
//       it (cuDNN 2.7-3.0). Rotating each CTA's start tile slows the read
//       loop too (+0.3-3.5 us).
#pragma once

#include <cstdint>
#include <type_traits>

#include "baracuda/decode_tuning.hpp"
#include "baracuda/ops/decode.hpp"
#include "kernels/common.cuh"
#include "kernels/mma_sm80.cuh"

namespace baracuda::kernels {
namespace decode_sm80 {

inline constexpr int kThreads = 128;
inline constexpr int kWarps = kThreads / 32;
inline constexpr int kMaxRowsPerCta = 16 * kWarps;  // one m16 tile per warp at most
// Positions are 32-bit inside the kernel; caches longer than this are rejected.
inline constexpr std::int64_t kMaxKeys = std::int64_t{1} << 30;

// The tile shape: kTileKeysArg keys of K and of V per ring stage, kStagesArg
// stages, and kSubKeysArg (16 or 32) keys per warp sub-tile, each taken in
// one online-softmax step. The default is 16 KB of K and 16 KB of V per
// stage, 3 stages, 16-key sub-tiles; SkuConfig (below) picks one per SKU.
template <int kHeadDimArg, int kTileKeysArg = 8192 / kHeadDimArg, int kSubKeysArg = 16, int kStagesArg = 3>
struct Config {
  static constexpr int kHeadDim = kHeadDimArg;
  static_assert(kHeadDim == 64 || kHeadDim == 128 || kHeadDim == 256, "head dim 64, 128 or 256");
  static_assert(kSubKeysArg == 16 || kSubKeysArg == 32, "16- or 32-key warp sub-tiles");
  static constexpr int kTileKeys = kTileKeysArg;
  static constexpr int kSubKeys = kSubKeysArg;
  static constexpr int kKeySteps = kSubKeys / 16;              // m16n8k16 key steps per sub-tile
  static constexpr int kStages = kStagesArg;
  static constexpr int kChunks = kHeadDim / 8;                 // 16-byte chunks per row
  static constexpr int kRowsPerPass = kThreads / kChunks;
  static constexpr int kPasses = kTileKeys / kRowsPerPass;     // rows each thread loads per tile
  static constexpr int kSubTiles = kTileKeys / kSubKeys;       // warp sub-tiles per tile
  static constexpr int kTileElems = kTileKeys * kHeadDim;
  static constexpr bool kQInRegs = kHeadDim <= 128;            // D = 256 reloads Q fragments from smem
  static constexpr int kScratchStride = kHeadDim + 8;          // f32 merge rows, padded against bank conflicts
  // Paged: block-table entries of upcoming tiles, a ring of kBtRing tiles of
  // up to kBtSlots entries (page size 1: one per key, +1 for a straddle).
  static constexpr int kBtRing = 4;
  static constexpr int kBtSlots = kTileKeys + 1;
  static_assert(kBtRing >= kStages, "a tile's entries land kStages - 1 tiles before its loads");
  static constexpr std::size_t paged_bytes() {
    return std::size_t{kStages} * kTileKeys + std::size_t{kBtRing} * kBtSlots * sizeof(std::int32_t);
  }
  static_assert(kPasses * kRowsPerPass == kTileKeys && kSubTiles * kSubKeys == kTileKeys);
  static_assert(kDecodeSplitGranule % kTileKeys == 0 && kDecodeFixedSplitKeys % kTileKeys == 0,
                "a tile must never straddle two splits");
  // Shared memory: the K ring, then the V ring (kStages tiles each), then Q.
  template <class T>
  static constexpr std::uint32_t tile_bytes() { return kTileElems * sizeof(T); }
  template <class T>
  static constexpr std::uint32_t ring_bytes() { return kStages * tile_bytes<T>(); }  // also the V ring's offset
  template <class T>
  static constexpr std::size_t kv_bytes() { return std::size_t{2} * ring_bytes<T>(); }
  static constexpr std::size_t scratch_bytes() {
    return std::size_t{kWarps} * 16 * kScratchStride * sizeof(float) + 2 * kWarps * 16 * sizeof(float);
  }
};

// The tile shape of each SKU. The adaptive-split contiguous kernels take the
// shapes that measured fastest per head dim (figures in the header): 128-key
// tiles with 32-key warp steps in 3 stages of 32 KB at D = 64 and 2 stages of
// 64 KB at D = 128; 64-key tiles with 16-key steps in 2 stages of 64 KB at
// D = 256. The paged and fixed-split kernels keep the default (3 stages of
// 32 KB, 16-key steps): larger tiles were slower there (more block-table
// lookups per stage in flight; a deeper prologue per 1024-key split).
template <int kHeadDim, bool kPaged, bool kFixedSplit>
using SkuConfig =
    std::conditional_t<kPaged || kFixedSplit, Config<kHeadDim>,
                       std::conditional_t<kHeadDim == 64, Config<64, 128, 32, 3>,
                                          std::conditional_t<kHeadDim == 128, Config<128, 128, 32, 2>,
                                                             Config<kHeadDim, 64, 16, 2>>>>;

struct Params {
  const void* q;        Strides3 q_strides;   // [B, Hq, Lq, D]
  const void* k;        Strides3 k_strides;   // [B, Hkv, L_max, D] | paged [P, Hkv, page, D]
  const void* v;        Strides3 v_strides;   // same shape as k
  const void* seqlens;                        // [B], i32 or i64
  const std::int32_t* block_table;            // [B, max_pages_per_seq], paged only
  std::int64_t block_table_stride;
  void* o;              Strides3 o_strides;   // [B, Hq, Lq, D]
  float* lse;                                 // [B, Hq, Lq] (may be null: not written)
  float* part_o;                              // [B * Hq * Lq, splits, D], splits > 1 only
  float* part_lse;                            // [B * Hq * Lq, splits] (log2 domain)
  std::int64_t num_pages;
  std::int64_t batch;
  int seqlen_i64;
  int heads_q, heads_kv, group, q_len;
  int rows;                                   // group * q_len
  int row_blocks;                             // ceil(rows / kMaxRowsPerCta)
  int max_keys;                               // clamp of seqlens
  int page_size;
  PageDivisor page_div;                       // j / page_size (decode_tuning.hpp)
  int num_splits, keys_per_split;
  float scale_log2;                           // scale * log2(e)
};

// Shared sm80 primitives: cp.async, ldmatrix, mma.sync, packing, exp2.
using namespace sm80;  // kernels/mma_sm80.cuh

constexpr float kNegInf = -__builtin_huge_valf();
constexpr float kLn2 = 0.693147180559945309f;

// Element offset (in units of 16 bytes) of chunk `c` of row `r` in a swizzled
// [rows, kChunks] tile: chunk c of row r lands in column c ^ (r % 8).
template <int kChunks>
__device__ __forceinline__ int swizzle(int r, int c) {
  return r * kChunks + (c ^ (r & 7));
}

// Stores columns [col, col + 4) of output row `row` (of G * q_len, in this KV
// head), and its LSE when col == 0: final O in T and LSE in natural log, or,
// with several splits, this split's f32 partial O and log2-sum-exp.
template <class T, int kHeadDim>
__device__ __forceinline__ void store_out4(const Params& p, std::int64_t b, int hkv, int split, int row, int col,
                                           float4 val, float lse2) {
  const int g = row / p.q_len;
  const int i = row - g * p.q_len;
  const int h = hkv * p.group + g;
  const std::int64_t prow = (b * p.heads_q + h) * p.q_len + i;
  if (p.num_splits > 1) {
    float* dst = p.part_o + (prow * p.num_splits + split) * kHeadDim + col;
    *reinterpret_cast<float4*>(dst) = val;
    if (col == 0) p.part_lse[prow * p.num_splits + split] = lse2;
  } else {
    T* dst = static_cast<T*>(p.o) + b * p.o_strides.batch + h * p.o_strides.head + i * p.o_strides.pos + col;
    uint2 packed;
    packed.x = pack2<T>(val.x, val.y);
    packed.y = pack2<T>(val.z, val.w);
    *reinterpret_cast<uint2*>(dst) = packed;
    if (col == 0 && p.lse != nullptr) p.lse[prow] = lse2 == kNegInf ? kNegInf : lse2 * kLn2;
  }
}

// One online-softmax step (base 2) of one row: x holds this thread's scores
// of the row (replaced by their exponentials), the row's other scores lie in
// the lanes lane ^ m for m = kLaneLo, 2 kLaneLo, ..., kLaneHi. Updates the
// running max and (this thread's partial) sum; returns the factor that
// rescales earlier sums and outputs (exactly 1 when the max did not move).
template <int kLaneLo, int kLaneHi, int kN>
__device__ __forceinline__ float online_softmax(float (&x)[kN][2], float& m_run, float& l_run) {
  float mx = fmaxf(x[0][0], x[0][1]);
#pragma unroll
  for (int i = 1; i < kN; ++i) mx = fmaxf(mx, fmaxf(x[i][0], x[i][1]));
#pragma unroll
  for (int m = kLaneLo; m <= kLaneHi; m *= 2) mx = fmaxf(mx, __shfl_xor_sync(0xffffffffu, mx, m));
  const float m_new = fmaxf(m_run, mx);
  const float m_use = m_new == kNegInf ? 0.f : m_new;
  const float alpha = fast_exp2(m_run - m_use);
  m_run = m_new;
  float sum = 0.f;
#pragma unroll
  for (int i = 0; i < kN; ++i) {
    x[i][0] = fast_exp2(x[i][0] - m_use);
    x[i][1] = fast_exp2(x[i][1] - m_use);
    sum += x[i][0] + x[i][1];
  }
  l_run = l_run * alpha + sum;
  return alpha;
}

// ----------------------------------------------------------- main kernel ----
template <class T, bool kPaged, class C, bool kNarrow>
__global__ void __launch_bounds__(kThreads, 2) attn_decode_kernel(const Params p) {
  constexpr int kHeadDim = C::kHeadDim;
  constexpr int kStages = C::kStages;
  constexpr int N = C::kTileKeys;
  constexpr int kChunks = C::kChunks;
  extern __shared__ __align__(128) unsigned char smem[];
  T* s_k = reinterpret_cast<T*>(smem);                               // K, V: [stages][N][D] swizzled
  T* s_q = reinterpret_cast<T*>(smem + C::template kv_bytes<T>());  // [row tiles * 16][D] swizzled

  const int tid = threadIdx.x;
  const int warp = tid >> 5;
  const int lane = tid & 31;

  // blockIdx.x = ((b * Hkv + hkv) * splits + split) * row_blocks + rb
  // (32-bit divisions: the launcher keeps the grid below 2^31 CTAs.)
  unsigned bid = blockIdx.x;
  const int rb = static_cast<int>(bid % static_cast<unsigned>(p.row_blocks));
  bid /= static_cast<unsigned>(p.row_blocks);
  const int split = static_cast<int>(bid % static_cast<unsigned>(p.num_splits));
  bid /= static_cast<unsigned>(p.num_splits);
  const int hkv = static_cast<int>(bid % static_cast<unsigned>(p.heads_kv));
  const std::int64_t b = bid / static_cast<unsigned>(p.heads_kv);

  const int row0 = rb * kMaxRowsPerCta;
  const int rows = min(kMaxRowsPerCta, p.rows - row0);
  const int mtiles = (rows + 15) >> 4;
  const int mtc = mtiles == 1 ? 1 : (mtiles == 2 ? 2 : 4);  // m16 tiles in smem (power of two)
  const int wk_count = kWarps / mtc;                         // warps sharing one m16 tile
  const int mt = warp % mtc;
  const int wk = warp / mtc;
  const bool warp_has_rows = mt < mtiles;
  unsigned char* s_valid = reinterpret_cast<unsigned char*>(s_q + mtc * 16 * kHeadDim);  // [stages][N], paged
  [[maybe_unused]] std::int32_t* s_bt = reinterpret_cast<std::int32_t*>(s_valid + kStages * N);  // [ring][slots]

#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 900
  // The split merge (a programmatic dependent launch) may start its launch
  // now; it waits for this grid's completion before reading anything.
  asm volatile("griddepcontrol.launch_dependents;\n" ::: "memory");
#endif

  // Loads that do not depend on the sample's length go first, so their
  // latency overlaps the length read: Q rows (zero-padded to mtc * 16, the
  // first cp.async group) and, paged, the block-table entries of the
  // prologue tiles.
  {
    const T* q = static_cast<const T*>(p.q);
    for (int idx = tid; idx < mtc * 16 * kChunks; idx += kThreads) {
      const int r = idx / kChunks;
      const int c = idx - r * kChunks;
      const bool ok = r < rows;
      const T* src = q;
      if (ok) {
        const int row = row0 + r;
        const int g = row / p.q_len;
        const int i = row - g * p.q_len;
        const int h = hkv * p.group + g;
        src = q + b * p.q_strides.batch + h * p.q_strides.head + i * p.q_strides.pos + c * 8;
      }
      cp_async_16(smem_addr(s_q + swizzle<kChunks>(r, c) * 8), src, ok ? 16u : 0u);
    }
  }

  const int kv_begin = split * p.keys_per_split;
  const int split_end = min(kv_begin + p.keys_per_split, p.max_keys);

  // ---- K/V tile loads: thread owns chunk `ld_c` of rows ld_r0 + pass * kRowsPerPass.
  const int ld_c = tid % kChunks;
  const int ld_r0 = tid / kChunks;
  const T* k_base = static_cast<const T*>(p.k);
  const T* v_base = static_cast<const T*>(p.v);
  const std::int64_t k_head_off = hkv * p.k_strides.head + ld_c * 8;
  const std::int64_t v_head_off = hkv * p.v_strides.head + ld_c * 8;
  [[maybe_unused]] const std::int32_t* bt_row = kPaged ? p.block_table + b * p.block_table_stride : nullptr;

  // Block-table slot of key j: a multiply-high instead of an integer divide.
  [[maybe_unused]] auto page_of = [&](int j) {
    return static_cast<int>(page_divide(static_cast<std::uint32_t>(j), p.page_div));
  };
  // Paged: page and in-page position of this thread's rows of tile t (page
  // -1: past the split), the page of block-table slot `slot` coming from
  // entry(slot, first slot of the tile). Slots stay below
  // max_pages_per_seq: j < max_keys.
  auto tile_pages = [&](int t, int (&id)[C::kPasses], int (&pos)[C::kPasses], auto entry) {
    if constexpr (kPaged) {
      const int j0 = kv_begin + t * N;
      const int first = page_of(j0);
#pragma unroll
      for (int ps = 0; ps < C::kPasses; ++ps) {
        const int j = j0 + ld_r0 + ps * C::kRowsPerPass;
        id[ps] = -1;
        pos[ps] = 0;
        if (j < split_end) {
          const int slot = page_of(j);
          pos[ps] = j - slot * p.page_size;
          id[ps] = entry(slot, first);
        }
      }
    }
  };
  // The prologue tiles read the block table directly, before the length.
  [[maybe_unused]] int pro_id[kStages - 1][C::kPasses];
  [[maybe_unused]] int pro_pos[kStages - 1][C::kPasses];
  if constexpr (kPaged) {
#pragma unroll
    for (int s = 0; s < kStages - 1; ++s)
      tile_pages(s, pro_id[s], pro_pos[s], [&](int slot, int) { return __ldg(bt_row + slot); });
  }
  // Later tiles: the block-table entries of tile y travel (cp.async, into
  // ring slot y % kBtRing) in the group of tile y - (kStages - 1), so they
  // have landed when tile y's loads are issued; a lookup never waits on a
  // global load (under a saturated memory system one waits behind the SM's
  // in-flight tile loads for several us).
  auto prefetch_entries = [&](int y) {
    if constexpr (kPaged) {
      const int j0 = kv_begin + y * N;
      if (j0 >= split_end) return;
      const int first = page_of(j0);
      const int count = page_of(min(j0 + N, split_end) - 1) - first + 1;
      std::int32_t* dst = s_bt + (y % C::kBtRing) * C::kBtSlots;
      for (int e = tid; e < count; e += kThreads) cp_async_4(smem_addr(dst + e), bt_row + first + e);
    }
  };
  auto ring_pages = [&](int y, int (&id)[C::kPasses], int (&pos)[C::kPasses]) {
    const std::int32_t* src = s_bt + (y % C::kBtRing) * C::kBtSlots;
    tile_pages(y, id, pos, [&](int slot, int first) { return src[slot - first]; });
  };

  // Shared-memory byte offset of this thread's chunk in pass `ps` of a stage.
  // Rows ld_r0 + ps * kRowsPerPass repeat their swizzle (row % 8) every
  // kSwizzlePeriod passes, so the offsets are kSwizzlePeriod registers plus
  // compile-time steps.
  constexpr int kSwizzlePeriod = C::kRowsPerPass % 8 == 0 ? 1 : 8 / C::kRowsPerPass;
  static_assert(C::kPasses % kSwizzlePeriod == 0);
  std::uint32_t ld_dst[kSwizzlePeriod];
#pragma unroll
  for (int q = 0; q < kSwizzlePeriod; ++q)
    ld_dst[q] = swizzle<kChunks>(ld_r0 + q * C::kRowsPerPass, ld_c) * 16;
  auto pass_dst = [&](int ps) {
    return ld_dst[ps % kSwizzlePeriod] +
           static_cast<std::uint32_t>((ps / kSwizzlePeriod) * kSwizzlePeriod * C::kRowsPerPass * kChunks * 16);
  };
  const std::uint32_t s_k_addr = smem_addr(s_k);
  constexpr std::uint32_t kTileBytes = C::template tile_bytes<T>();
  constexpr std::uint32_t kVOffset = C::template ring_bytes<T>();  // the V ring, from the K ring

  // Contiguous cache: this thread's pass-0 row of tile 0 and the step between
  // passes, so a full tile's addresses are one multiply and then adds; only
  // a split's last (partial) tile checks rows against the length.
  [[maybe_unused]] const T* k_row0 = nullptr;
  [[maybe_unused]] const T* v_row0 = nullptr;
  if constexpr (!kPaged) {
    const std::int64_t j0 = kv_begin + ld_r0;
    k_row0 = k_base + b * p.k_strides.batch + j0 * p.k_strides.pos + k_head_off;
    v_row0 = v_base + b * p.v_strides.batch + j0 * p.v_strides.pos + v_head_off;
  }

  // Issues tile t into ring slot `stage`, rows at or past `end` zero-filled.
  auto issue_tile = [&](int t, int stage, int end, const int (&id)[C::kPasses], const int (&pos)[C::kPasses]) {
    const std::uint32_t sk = s_k_addr + stage * kTileBytes;
    if constexpr (!kPaged) {
      if (kv_begin + (t + 1) * N <= end) {  // full tile
        const std::int64_t row = static_cast<std::int64_t>(t) * N;
        const T* kp = k_row0 + row * p.k_strides.pos;
        const T* vp = v_row0 + row * p.v_strides.pos;
        const std::int64_t k_step = C::kRowsPerPass * p.k_strides.pos;
        const std::int64_t v_step = C::kRowsPerPass * p.v_strides.pos;
#pragma unroll
        for (int ps = 0; ps < C::kPasses; ++ps) {
          cp_async_16(sk + pass_dst(ps), kp, 16u);
          cp_async_16(sk + kVOffset + pass_dst(ps), vp, 16u);
          kp += k_step;
          vp += v_step;
        }
        return;
      }
    }
#pragma unroll
    for (int ps = 0; ps < C::kPasses; ++ps) {
      const int r = ld_r0 + ps * C::kRowsPerPass;
      const int j = kv_begin + t * N + r;
      bool ok;
      std::int64_t k_off, v_off;
      if constexpr (kPaged) {
        const int page = id[ps];
        ok = j < end && page >= 0 && page < p.num_pages;
        k_off = static_cast<std::int64_t>(page) * p.k_strides.batch + pos[ps] * p.k_strides.pos + k_head_off;
        v_off = static_cast<std::int64_t>(page) * p.v_strides.batch + pos[ps] * p.v_strides.pos + v_head_off;
        if (ld_c == 0) s_valid[stage * N + r] = ok ? 1 : 0;
      } else {
        ok = j < end;
        k_off = b * p.k_strides.batch + static_cast<std::int64_t>(j) * p.k_strides.pos + k_head_off;
        v_off = b * p.v_strides.batch + static_cast<std::int64_t>(j) * p.v_strides.pos + v_head_off;
      }
      cp_async_16(sk + pass_dst(ps), ok ? k_base + k_off : k_base, ok ? 16u : 0u);
      cp_async_16(sk + kVOffset + pass_dst(ps), ok ? v_base + v_off : v_base, ok ? 16u : 0u);
    }
  };

  // Contiguous cache, first split: the prologue tiles go out before the
  // length is read (one global-load latency sooner), bounded by the split,
  // which lies within the cache's L_max rows. Rows past the length that a
  // partial one of them brings in are zeroed in shared memory before use (see
  // the loop). Later splits may lie wholly past the length (the split count
  // follows L_max): they wait for it, so no CTA reads more than kStages - 1
  // tiles it does not need.
  // The prologue: tiles 0 .. kStages - 2 of `count`, rows at or past `end`
  // zero-filled, one cp.async group per stage.
  auto issue_prologue = [&](int count, int end) {
#pragma unroll
    for (int s = 0; s < kStages - 1; ++s) {
      if (s < count) issue_tile(s, s, end, pro_id[s], pro_pos[s]);
      if (s + kStages - 1 < count) prefetch_entries(s + kStages - 1);
      cp_async_commit();
    }
  };
  const bool speculate = !kPaged && kv_begin == 0;
  const int spec_tiles = speculate ? min(kStages - 1, (split_end + N - 1) / N) : 0;
  if (speculate) issue_prologue(spec_tiles, split_end);

  std::int64_t seqlen64 = p.seqlen_i64 ? static_cast<const std::int64_t*>(p.seqlens)[b]
                                       : static_cast<const std::int32_t*>(p.seqlens)[b];
  seqlen64 = seqlen64 < 0 ? 0 : (seqlen64 > p.max_keys ? p.max_keys : seqlen64);
  const int seqlen = static_cast<int>(seqlen64);
  const int kv_end = min(split_end, seqlen);
  const int n_tiles = kv_end > kv_begin ? (kv_end - kv_begin + N - 1) / N : 0;

  if (n_tiles == 0) {  // nothing to read: an empty partial, or O = 0 / LSE = -inf
    cp_async_wait<0>();
    for (int idx = tid; idx < rows * (kHeadDim / 4); idx += kThreads) {
      const int r = idx / (kHeadDim / 4);
      const int col = (idx - r * (kHeadDim / 4)) * 4;
      if (p.num_splits > 1 && col != 0) continue;
      store_out4<T, kHeadDim>(p, b, hkv, split, row0 + r, col, make_float4(0.f, 0.f, 0.f, 0.f), kNegInf);
    }
    return;
  }

  if (!speculate) issue_prologue(n_tiles, kv_end);
  // The last tile, when it was issued before the length and ends past it.
  const int clear_tile = n_tiles <= spec_tiles && kv_end < kv_begin + n_tiles * N ? n_tiles - 1 : -1;

  // ---- per-warp state. Wide: S = Q K^T and O = P V with the rows as the
  // mma M (16 rows of m16 tile `mt`; this thread: rows g and g + 8). Narrow
  // (at most 8 rows): S^T = K Q^T and O^T = V^T P^T with the keys and head
  // dims as M and the rows as N = 8 (this thread: rows 2 tq and 2 tq + 1),
  // half the mma of 16 padded rows.
  const int g = lane >> 2;
  const int tq = lane & 3;
  // Wide: o_acc[n][e] is O[row g + 8 (e / 2)][8 n + 2 tq + e % 2].
  [[maybe_unused]] float o_acc[kNarrow ? 1 : kHeadDim / 8][4];
  // Narrow: o_t[n][e] is O[row 2 tq + e % 2][16 n + g + 8 (e / 2)].
  [[maybe_unused]] float o_t[kNarrow ? kHeadDim / 16 : 1][4];
  if constexpr (kNarrow) {
    zero_frags(o_t);
  } else {
    zero_frags(o_acc);
  }
  float m_run[2] = {kNegInf, kNegInf};
  float l_run[2] = {0.f, 0.f};
  // Last visible key of each of this thread's two rows (causal among the new tokens).
  int key_limit[2];
#pragma unroll
  for (int hh = 0; hh < 2; ++hh) {
    const int row = row0 + (kNarrow ? 2 * tq + hh : mt * 16 + g + 8 * hh);
    key_limit[hh] = seqlen - p.q_len + row % p.q_len;
  }
  const int strict_limit = seqlen - p.q_len;  // the smallest key_limit over all rows
  [[maybe_unused]] std::uint32_t q_frag[C::kQInRegs && !kNarrow ? kHeadDim / 16 : 1][4];
  [[maybe_unused]] std::uint32_t q_b[kNarrow ? kHeadDim / 16 : 1][2];  // Q^T as the B operand

  // ldmatrix lane roles (see the m16n8k16 fragment layouts): an A operand
  // from row-major rows (Q wide, K narrow), a B operand from key rows (K
  // wide) and a transposed one (V wide, V^T as the A operand narrow) take
  // the two lane patterns below.
  const int mi = lane >> 3;
  const int q_row = mt * 16 + (mi & 1) * 8 + (lane & 7);
  const int q_chunk = mi >> 1;
  const int a_row = (mi & 1) * 8 + (lane & 7), a_chunk = mi >> 1;
  const int b_row = (mi >> 1) * 8 + (lane & 7), b_chunk = mi & 1;
  const int k_row = kNarrow ? a_row : b_row;
  const int k_chunk = kNarrow ? a_chunk : b_chunk;
  const int v_row = kNarrow ? b_row : a_row;
  const int v_chunk = kNarrow ? b_chunk : a_chunk;
  // Byte offsets of this lane's ldmatrix rows: k-step kk of a row r reads
  // chunk (2 kk + c) ^ (r % 8) = 8 (kk / 4) + ((2 (kk % 4) + c) ^ (r % 8)),
  // so four offsets per operand plus compile-time steps cover every k-step,
  // and a sub-tile sc (16 rows, r % 8 unchanged) adds sc * kSubTileBytes.
  constexpr std::uint32_t kSubTileBytes = 16 * kChunks * 16;
  std::uint32_t k_ld[4], v_ld[4], q_ld[4];
#pragma unroll
  for (int u = 0; u < 4; ++u) {
    k_ld[u] = opaque(static_cast<std::uint32_t>(swizzle<kChunks>(k_row, 2 * u + k_chunk) * 16));
    v_ld[u] = opaque(static_cast<std::uint32_t>(swizzle<kChunks>(v_row, 2 * u + v_chunk) * 16));
    q_ld[u] = opaque(smem_addr(s_q) + swizzle<kChunks>(q_row, 2 * u + q_chunk) * 16);
  }
  auto ld_off = [](const std::uint32_t (&off)[4], int kk) {
    return off[kk % 4] + static_cast<std::uint32_t>((kk / 4) * 128);
  };
  int stage = 0;  // t % kStages

  for (int t = 0; t < n_tiles; ++t) {
    cp_async_wait<kStages - 2>();
    __syncthreads();
    {
      const int tn = t + kStages - 1;
      if (tn < n_tiles) {
        [[maybe_unused]] int page_id[C::kPasses], page_pos[C::kPasses];
        ring_pages(tn, page_id, page_pos);
        issue_tile(tn, stage == 0 ? kStages - 1 : stage - 1, kv_end, page_id, page_pos);  // tn % kStages
      }
      if (tn + kStages - 1 < n_tiles) prefetch_entries(tn + kStages - 1);
      cp_async_commit();
    }
    if (t == clear_tile) {
      // Its V rows past the length hold whatever the cache holds there (NaN
      // included): zero them, so their zero probabilities meet zero values.
      // (K rows there only feed scores that the mask sets to -inf.)
      const int first = kv_end - (kv_begin + t * N);
      unsigned char* slot = smem + kVOffset + stage * kTileBytes;
      for (int idx = first * kChunks + tid; idx < N * kChunks; idx += kThreads) {
        const int r = idx / kChunks;
        *reinterpret_cast<uint4*>(slot + swizzle<kChunks>(r, idx - r * kChunks) * 16) = make_uint4(0u, 0u, 0u, 0u);
      }
      __syncthreads();
    }
    if constexpr (kNarrow) {
      if (t == 0) {
        // Q^T fragments: lanes 8m..8m+7 address rows 0..7 of chunk 4j + m.
#pragma unroll
        for (int j = 0; j < kHeadDim / 32; ++j) {
          std::uint32_t r[4];
          ldsm_x4(smem_addr(s_q) + swizzle<kChunks>(lane & 7, 4 * j + (lane >> 3)) * 16, r);
          q_b[2 * j][0] = r[0];
          q_b[2 * j][1] = r[1];
          q_b[2 * j + 1][0] = r[2];
          q_b[2 * j + 1][1] = r[3];
        }
      }
    } else if constexpr (C::kQInRegs) {
      if (t == 0) {
#pragma unroll
        for (int kk = 0; kk < kHeadDim / 16; ++kk)
          ldsm_x4(ld_off(q_ld, kk), q_frag[kk]);
      }
    }
    const std::uint32_t sk = s_k_addr + stage * kTileBytes;
    const std::uint32_t sv = sk + kVOffset;
    const int tile_stage = stage;
    stage = stage == kStages - 1 ? 0 : stage + 1;
    if (!warp_has_rows) continue;
    // Whether key `col` of this tile is visible to this thread's row hh: within
    // the row's causal limit and, paged, not on a skipped page.
    auto key_visible = [&](int col, int hh) {
      bool visible = kv_begin + t * N + col <= key_limit[hh];
      if constexpr (kPaged) visible = visible && s_valid[tile_stage * N + col] != 0;
      return visible;
    };
    // This thread's scores of one sub-tile, s[f][e] (f < F): narrow, key
    // 16 f + g + 8 (e / 2) of row 2 tq + e % 2 (a row's keys span the 8 lanes
    // of one tq); wide, key 8 f + 2 tq + e % 2 of row g + 8 (e / 2) (the 4
    // lanes of one g). Element i of row hh within a fragment: narrow hh + 2 i,
    // wide 2 hh + i. Scales the scores of the sub-tile at column col0 (first
    // key key0), masks keys past a row's causal limit (and keys of skipped
    // pages) and takes one online-softmax step per row: s becomes P, alpha[hh]
    // the factor of row hh's earlier sums and outputs. Returns whether some
    // row's max moved in the warp (otherwise every alpha is exactly 1).
    auto softmax_step = [&](auto& s, int key0, int col0, float (&alpha)[2]) {
      constexpr int F = std::extent_v<std::remove_reference_t<decltype(s)>>;
#pragma unroll
      for (int f = 0; f < F; ++f)
#pragma unroll
        for (int e = 0; e < 4; ++e) s[f][e] *= p.scale_log2;
      if (kPaged || key0 + C::kSubKeys - 1 > strict_limit) {
#pragma unroll
        for (int f = 0; f < F; ++f)
#pragma unroll
          for (int e = 0; e < 4; ++e) {
            const int col = kNarrow ? col0 + f * 16 + g + 8 * (e >> 1) : col0 + f * 8 + 2 * tq + (e & 1);
            if (!key_visible(col, kNarrow ? (e & 1) : (e >> 1))) s[f][e] = kNegInf;
          }
      }
#pragma unroll
      for (int hh = 0; hh < 2; ++hh) {
        constexpr int kStep = kNarrow ? 2 : 1;  // element i of row hh: e0 + i * kStep
        constexpr int kLaneLo = kNarrow ? 4 : 1, kLaneHi = kNarrow ? 16 : 2;  // the lanes of a row's keys
        const int e0 = kNarrow ? hh : 2 * hh;
        float x[F][2];
#pragma unroll
        for (int f = 0; f < F; ++f) x[f][0] = s[f][e0], x[f][1] = s[f][e0 + kStep];
        alpha[hh] = online_softmax<kLaneLo, kLaneHi>(x, m_run[hh], l_run[hh]);
#pragma unroll
        for (int f = 0; f < F; ++f) s[f][e0] = x[f][0], s[f][e0 + kStep] = x[f][1];
      }
      return __any_sync(0xffffffffu, alpha[0] != 1.f || alpha[1] != 1.f);
    };
    // This warp's sub-tiles: those with (t * kSubTiles + sc) % wk_count == wk
    // (wk_count is 1, 2 or 4). One copy of the body: the warps of a CTA run
    // the same instructions.
#pragma unroll 1
    for (int sc = (wk - t * C::kSubTiles) & (wk_count - 1); sc < C::kSubTiles; sc += wk_count) {
      constexpr int KS = C::kKeySteps;
      const int key0 = kv_begin + t * N + sc * C::kSubKeys;
      if (key0 >= kv_end) break;
      if constexpr (kNarrow) {
        // S^T = K Q^T: 16 keys x 8 rows per key step; even and odd k-steps in
        // two chains.
        float s[KS][4], s_odd[KS][4];
        zero_frags(s);
        zero_frags(s_odd);
#pragma unroll
        for (int kk = 0; kk < kHeadDim / 16; ++kk) {
#pragma unroll
          for (int ks = 0; ks < KS; ++ks) {
            std::uint32_t ka[4];
            ldsm_x4(sk + ld_off(k_ld, kk) + (sc * KS + ks) * kSubTileBytes, ka);
            mma_16816<T>((kk & 1) ? s_odd[ks] : s[ks], ka, q_b[kk][0], q_b[kk][1]);
          }
        }
        add_frags(s, s_odd);
        float alpha[2];
        if (softmax_step(s, key0, sc * C::kSubKeys, alpha)) {
#pragma unroll
          for (int n = 0; n < kHeadDim / 16; ++n)
#pragma unroll
            for (int e = 0; e < 4; ++e) o_t[n][e] *= alpha[e & 1];
        }
        // O^T += V^T P^T: P^T (16 keys x 8 rows per key step) as the B
        // operand is the transpose of each 8x8 half of S^T's fragment.
        std::uint32_t pb[KS][2];
#pragma unroll
        for (int ks = 0; ks < KS; ++ks) {
          pb[ks][0] = movmatrix_trans(pack2<T>(s[ks][0], s[ks][1]));
          pb[ks][1] = movmatrix_trans(pack2<T>(s[ks][2], s[ks][3]));
        }
#pragma unroll
        for (int n = 0; n < kHeadDim / 16; ++n) {
#pragma unroll
          for (int ks = 0; ks < KS; ++ks) {
            std::uint32_t va[4];
            ldsm_x4_trans(sv + ld_off(v_ld, n) + (sc * KS + ks) * kSubTileBytes, va);
            mma_16816<T>(o_t[n], va, pb[ks][0], pb[ks][1]);
          }
        }
      } else {
        constexpr int NS = 2 * KS;  // n8 key columns of S
        // S = Q K^T for 16 rows x kSubKeys keys: with one 16-key step, even and
        // odd k-steps accumulate in two chains, summed at the end.
        float s[NS][4], s_odd[NS][4];
        zero_frags(s);
        zero_frags(s_odd);
#pragma unroll
        for (int kk = 0; kk < kHeadDim / 16; ++kk) {
          [[maybe_unused]] std::uint32_t qa[4];
          if constexpr (!C::kQInRegs) ldsm_x4(ld_off(q_ld, kk), qa);
          const std::uint32_t (&qf)[4] = C::kQInRegs ? q_frag[kk] : qa;
#pragma unroll
          for (int ks = 0; ks < KS; ++ks) {
            std::uint32_t kb[4];
            ldsm_x4(sk + ld_off(k_ld, kk) + (sc * KS + ks) * kSubTileBytes, kb);
            float (&acc)[NS][4] = (KS == 1 && (kk & 1)) ? s_odd : s;
            mma_16816<T>(acc[2 * ks], qf, kb[0], kb[1]);
            mma_16816<T>(acc[2 * ks + 1], qf, kb[2], kb[3]);
          }
        }
        if constexpr (KS == 1) add_frags(s, s_odd);
        // Rescale O only where some row's running max moved: alpha = 1 exactly
        // otherwise (2^0), so skipping the multiply changes no bit, and past
        // the first tiles the max rarely moves (64 FMULs per lane saved).
        float alpha[2];
        if (softmax_step(s, key0, sc * C::kSubKeys, alpha)) {
#pragma unroll
          for (int n = 0; n < kHeadDim / 8; ++n) {
            o_acc[n][0] *= alpha[0];
            o_acc[n][1] *= alpha[0];
            o_acc[n][2] *= alpha[1];
            o_acc[n][3] *= alpha[1];
          }
        }

        // O += P V: P (16 x 16 keys per step) is the A operand straight from registers.
        std::uint32_t pa[KS][4];
#pragma unroll
        for (int ks = 0; ks < KS; ++ks) {
          pa[ks][0] = pack2<T>(s[2 * ks][0], s[2 * ks][1]);
          pa[ks][1] = pack2<T>(s[2 * ks][2], s[2 * ks][3]);
          pa[ks][2] = pack2<T>(s[2 * ks + 1][0], s[2 * ks + 1][1]);
          pa[ks][3] = pack2<T>(s[2 * ks + 1][2], s[2 * ks + 1][3]);
        }
#pragma unroll
        for (int np = 0; np < kHeadDim / 16; ++np) {
#pragma unroll
          for (int ks = 0; ks < KS; ++ks) {
            std::uint32_t vb[4];
            ldsm_x4_trans(sv + ld_off(v_ld, np) + (sc * KS + ks) * kSubTileBytes, vb);
            mma_16816<T>(o_acc[2 * np], pa[ks], vb[0], vb[1]);
            mma_16816<T>(o_acc[2 * np + 1], pa[ks], vb[2], vb[3]);
          }
        }
      }
    }
  }

  // ---- merge the warps of each m16 tile (fixed order), then store.
  cp_async_wait<0>();
  __syncthreads();  // every warp is done with the K/V ring: reuse it as f32 scratch
  float* s_o = reinterpret_cast<float*>(smem);                               // [warps][16][D + 8]
  float* s_m = s_o + kWarps * 16 * C::kScratchStride;                        // [warps][16]
  float* s_l = s_m + kWarps * 16;                                            // [warps][16]
  if (warp_has_rows) {
    float* dst = s_o + warp * 16 * C::kScratchStride;
    if constexpr (kNarrow) {
      // A row's partial sums are spread over the 8 lanes of one tq.
#pragma unroll
      for (int hh = 0; hh < 2; ++hh)
#pragma unroll
        for (int off = 4; off < 32; off <<= 1) l_run[hh] += __shfl_xor_sync(0xffffffffu, l_run[hh], off);
#pragma unroll
      for (int n = 0; n < kHeadDim / 16; ++n)
#pragma unroll
        for (int e = 0; e < 4; ++e) dst[(2 * tq + (e & 1)) * C::kScratchStride + 16 * n + g + 8 * (e >> 1)] = o_t[n][e];
      if (g == 0) {
        s_m[warp * 16 + 2 * tq] = m_run[0];
        s_m[warp * 16 + 2 * tq + 1] = m_run[1];
        s_l[warp * 16 + 2 * tq] = l_run[0];
        s_l[warp * 16 + 2 * tq + 1] = l_run[1];
      }
    } else {
#pragma unroll
      for (int hh = 0; hh < 2; ++hh) {
        l_run[hh] += __shfl_xor_sync(0xffffffffu, l_run[hh], 1);
        l_run[hh] += __shfl_xor_sync(0xffffffffu, l_run[hh], 2);
      }
#pragma unroll
      for (int n = 0; n < kHeadDim / 8; ++n) {
        *reinterpret_cast<float2*>(dst + g * C::kScratchStride + n * 8 + 2 * tq) =
            make_float2(o_acc[n][0], o_acc[n][1]);
        *reinterpret_cast<float2*>(dst + (g + 8) * C::kScratchStride + n * 8 + 2 * tq) =
            make_float2(o_acc[n][2], o_acc[n][3]);
      }
      if (tq == 0) {
        s_m[warp * 16 + g] = m_run[0];
        s_m[warp * 16 + g + 8] = m_run[1];
        s_l[warp * 16 + g] = l_run[0];
        s_l[warp * 16 + g + 8] = l_run[1];
      }
    }
  }
  __syncthreads();

  for (int idx = tid; idx < rows * (kHeadDim / 4); idx += kThreads) {
    const int r = idx / (kHeadDim / 4);
    const int col = (idx - r * (kHeadDim / 4)) * 4;
    const int tile = r >> 4;
    const int rr = r & 15;
    float m_tot = kNegInf;
    for (int w = 0; w < wk_count; ++w) m_tot = fmaxf(m_tot, s_m[(tile + w * mtc) * 16 + rr]);
    float4 acc = make_float4(0.f, 0.f, 0.f, 0.f);
    float l_tot = 0.f;
    if (m_tot != kNegInf) {
      for (int w = 0; w < wk_count; ++w) {
        const int src = (tile + w * mtc) * 16 + rr;
        const float weight = fast_exp2(s_m[src] - m_tot);
        l_tot += weight * s_l[src];
        const float4 part = *reinterpret_cast<const float4*>(s_o + src * C::kScratchStride + col);
        acc.x += weight * part.x;
        acc.y += weight * part.y;
        acc.z += weight * part.z;
        acc.w += weight * part.w;
      }
    }
    float lse2 = kNegInf;
    if (l_tot > 0.f) {
      const float inv = 1.f / l_tot;
      acc.x *= inv;
      acc.y *= inv;
      acc.z *= inv;
      acc.w *= inv;
      lse2 = m_tot + __log2f(l_tot);
    } else {
      acc = make_float4(0.f, 0.f, 0.f, 0.f);
    }
    store_out4<T, kHeadDim>(p, b, hkv, split, row0 + r, col, acc, lse2);
  }
}

// -------------------------------------------------------- combine kernel ----
// One warp per output row (b, h, i): merges the splits' partials in split
// order. Lane l owns columns [l * kVec, l * kVec + kVec). Partial rows are
// loaded kBatch at a time before any is used, so the loads overlap.
template <class T, int kHeadDim>
__global__ void __launch_bounds__(kThreads) attn_decode_combine_kernel(const Params p) {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 900
  // Launched as a programmatic dependent of the split kernel: wait for its
  // completion (and the visibility of its writes) before reading partials.
  asm volatile("griddepcontrol.wait;\n" ::: "memory");
#endif
  constexpr int kVec = kHeadDim / 32;
  constexpr int kBatch = kVec <= 4 ? 16 : 8;
  static_assert(kVec % 2 == 0 && 32 % kBatch == 0);
  const int lane = threadIdx.x & 31;
  const std::int64_t row = static_cast<std::int64_t>(blockIdx.x) * kWarps + (threadIdx.x >> 5);
  if (row >= p.batch * p.heads_q * p.q_len) return;
  const std::int64_t per_sample = static_cast<std::int64_t>(p.heads_q) * p.q_len;
  const std::int64_t b = row / per_sample;
  const int h = static_cast<int>((row - b * per_sample) / p.q_len);
  const int i = static_cast<int>(row - b * per_sample - static_cast<std::int64_t>(h) * p.q_len);

  const int S = p.num_splits;
  const float* lse_row = p.part_lse + row * S;
  float m = kNegInf;
  for (int s0 = 0; s0 < S; s0 += 32) {
    const float v = s0 + lane < S ? lse_row[s0 + lane] : kNegInf;
    m = fmaxf(m, v);
  }
#pragma unroll
  for (int off = 16; off > 0; off >>= 1) m = fmaxf(m, __shfl_xor_sync(0xffffffffu, m, off));

  float acc[kVec];
#pragma unroll
  for (int e = 0; e < kVec; ++e) acc[e] = 0.f;
  float l = 0.f;
  if (m != kNegInf) {
    const float* po = p.part_o + row * S * kHeadDim + lane * kVec;
    for (int s0 = 0; s0 < S; s0 += 32) {
      const float ls = s0 + lane < S ? lse_row[s0 + lane] : kNegInf;
      const float w_lane = ls == kNegInf ? 0.f : fast_exp2(ls - m);  // 0: empty split
      const int count = min(32, S - s0);
      for (int j0 = 0; j0 < count; j0 += kBatch) {
        float x[kBatch][kVec];
#pragma unroll
        for (int u = 0; u < kBatch; ++u) {
#pragma unroll
          for (int e = 0; e < kVec; ++e) x[u][e] = 0.f;
          if (j0 + u < count) {
            const float* src = po + static_cast<std::int64_t>(s0 + j0 + u) * kHeadDim;
#pragma unroll
            for (int e = 0; e < kVec; e += 2) {
              const float2 v = *reinterpret_cast<const float2*>(src + e);
              x[u][e] = v.x;
              x[u][e + 1] = v.y;
            }
          }
        }
#pragma unroll
        for (int u = 0; u < kBatch; ++u) {
          const float w = __shfl_sync(0xffffffffu, w_lane, j0 + u);
          // An empty split wrote no partial O: skip it (never multiply unwritten memory).
          if (j0 + u < count && w != 0.f) {
            l += w;
#pragma unroll
            for (int e = 0; e < kVec; ++e) acc[e] += w * x[u][e];
          }
        }
      }
    }
  }
  float lse = kNegInf;
  if (l > 0.f) {
    const float inv = 1.f / l;
#pragma unroll
    for (int e = 0; e < kVec; ++e) acc[e] *= inv;
    lse = (m + __log2f(l)) * kLn2;
  }
  T* dst = static_cast<T*>(p.o) + b * p.o_strides.batch + static_cast<std::int64_t>(h) * p.o_strides.head +
           static_cast<std::int64_t>(i) * p.o_strides.pos + lane * kVec;
  std::uint32_t packed[kVec / 2];
#pragma unroll
  for (int e = 0; e < kVec; e += 2) packed[e / 2] = pack2<T>(acc[e], acc[e + 1]);
  if constexpr (kVec == 2) {
    *reinterpret_cast<std::uint32_t*>(dst) = packed[0];
  } else if constexpr (kVec == 4) {
    *reinterpret_cast<uint2*>(dst) = make_uint2(packed[0], packed[1]);
  } else {
    *reinterpret_cast<uint4*>(dst) = make_uint4(packed[0], packed[1], packed[2], packed[3]);
  }
  if (lane == 0 && p.lse != nullptr) p.lse[row] = lse;
}

}  // namespace decode_sm80

// Launches the decode kernel (and the split merge) for one descriptor.
// C (a decode_sm80::Config) is the tile shape; SKUs use SkuConfig.
template <class T, bool kPaged, class C>
Status launch_attn_decode(const DecodeDesc& d, const DecodeArgs& a, const DecodeSplit& split, void* workspace,
                          std::size_t workspace_bytes, cudaStream_t stream) {
  using namespace decode_sm80;
  constexpr int kHeadDim = C::kHeadDim;
  const std::int64_t max_keys = kPaged ? d.max_pages_per_seq * d.page_size : d.max_len;
  if (max_keys > kMaxKeys)
    return Status::error(StatusCode::not_supported,
                         "max keys per sequence = " + std::to_string(max_keys) + ": the decode kernel supports up to " +
                             std::to_string(kMaxKeys));
  if (d.q_len < 1 || d.q_len > kDecodeMaxQueryLen)
    return Status::invalid("q_len = " + std::to_string(d.q_len) + ": must be in [1, " +
                           std::to_string(kDecodeMaxQueryLen) + "]");
  if (d.heads_kv < 1 || d.heads_q % d.heads_kv != 0)
    return Status::invalid("heads_q = " + std::to_string(d.heads_q) + ": must be a multiple of heads_kv = " +
                           std::to_string(d.heads_kv));
  if (kPaged && (d.page_size < 1 || d.page_size > 256))
    return Status::invalid("page_size = " + std::to_string(d.page_size) + ": must be in [1, 256]");
  const std::size_t need = decode_workspace_bytes(d.batch, d.heads_q, d.q_len, kHeadDim, split);
  if (workspace_bytes < need || (need > 0 && workspace == nullptr))
    return Status::error(StatusCode::workspace_too_small,
                         "workspace = " + std::to_string(workspace_bytes) + " bytes: decode needs " +
                             std::to_string(need));

  Params p{};
  p.q = a.q;
  p.q_strides = a.q_strides;
  p.k = a.k_cache;
  p.k_strides = a.k_cache_strides;
  p.v = a.v_cache;
  p.v_strides = a.v_cache_strides;
  p.seqlens = a.seqlens;
  p.block_table = a.block_table;
  p.block_table_stride = a.block_table_stride;
  p.o = a.o;
  p.o_strides = a.o_strides;
  p.lse = a.lse;
  p.part_o = need > 0 ? static_cast<float*>(workspace) : nullptr;
  p.part_lse = need > 0 ? reinterpret_cast<float*>(static_cast<unsigned char*>(workspace) +
                                                   decode_workspace_lse_offset(d.batch, d.heads_q, d.q_len,
                                                                               kHeadDim, split))
                        : nullptr;
  p.num_pages = kPaged ? d.num_pages : 0;
  p.batch = d.batch;
  p.seqlen_i64 = d.seqlen_element == Element::i64 ? 1 : 0;
  p.heads_q = static_cast<int>(d.heads_q);
  p.heads_kv = static_cast<int>(d.heads_kv);
  p.group = static_cast<int>(d.heads_q / d.heads_kv);
  p.q_len = static_cast<int>(d.q_len);
  p.rows = p.group * p.q_len;
  p.row_blocks = (p.rows + kMaxRowsPerCta - 1) / kMaxRowsPerCta;
  p.max_keys = static_cast<int>(max_keys);
  p.page_size = kPaged ? static_cast<int>(d.page_size) : 1;
  p.page_div = page_divisor(p.page_size);
  p.num_splits = split.num_splits;
  p.keys_per_split = static_cast<int>(split.keys_per_split);
  p.scale_log2 = effective_scale(d) * 1.4426950408889634f;

  const std::int64_t ctas = d.batch * d.heads_kv * split.num_splits * p.row_blocks;
  if (ctas > 0x7fffffff)
    return Status::error(StatusCode::not_supported,
                         "batch * heads_kv * splits = " + std::to_string(ctas) + ": exceeds the grid limit");
  // Q tile rows: the largest power-of-two m16 tile count any row block uses.
  const int first_block_rows = p.rows < kMaxRowsPerCta ? p.rows : kMaxRowsPerCta;
  const int mtiles = (first_block_rows + 15) / 16;
  const int mtc = mtiles == 1 ? 1 : (mtiles == 2 ? 2 : 4);
  std::size_t smem = C::template kv_bytes<T>() + std::size_t{16} * mtc * kHeadDim * sizeof(T) +
                     (kPaged ? C::paged_bytes() : 0);
  if (smem < C::scratch_bytes()) smem = C::scratch_bytes();

  // At most 8 rows per CTA: the narrow (swapped-operand) kernel.
  auto kernel = p.rows <= 8 ? attn_decode_kernel<T, kPaged, C, true> : attn_decode_kernel<T, kPaged, C, false>;
  if (Status st = set_smem_limit(kernel, smem, "attn_decode_kernel"); !st.ok()) return st;
  kernel<<<static_cast<unsigned>(ctas), kThreads, smem, stream>>>(p);
  if (Status st = check_launch("attn_decode_kernel"); !st.ok()) return st;
  if (split.num_splits > 1) {
    const std::int64_t rows_out = d.batch * d.heads_q * d.q_len;
    const std::int64_t blocks = (rows_out + kWarps - 1) / kWarps;
    if (blocks > 0x7fffffff)
      return Status::error(StatusCode::not_supported,
                           "batch * heads_q * q_len = " + std::to_string(rows_out) + ": exceeds the grid limit");
    // A programmatic dependent launch on cc >= 9.0: the merge launches while
    // the split kernel's last CTAs run, and waits in-kernel for its results.
    int device = 0, cc_major = 0;
    if (Status st = cuda_status(cudaGetDevice(&device), "cudaGetDevice"); !st.ok()) return st;
    if (Status st = cuda_status(cudaDeviceGetAttribute(&cc_major, cudaDevAttrComputeCapabilityMajor, device),
                                "cudaDeviceGetAttribute");
        !st.ok())
      return st;
    cudaLaunchAttribute attr[1];
    attr[0].id = cudaLaunchAttributeProgrammaticStreamSerialization;
    attr[0].val.programmaticStreamSerializationAllowed = 1;
    cudaLaunchConfig_t cfg{};
    cfg.gridDim = dim3(static_cast<unsigned>(blocks));
    cfg.blockDim = dim3(kThreads);
    cfg.dynamicSmemBytes = 0;
    cfg.stream = stream;
    cfg.attrs = attr;
    cfg.numAttrs = cc_major >= 9 ? 1 : 0;
    if (Status st = cuda_status(cudaLaunchKernelEx(&cfg, attn_decode_combine_kernel<T, kHeadDim>, p),
                                "attn_decode_combine_kernel");
        !st.ok())
      return st;
    if (Status st = check_launch("attn_decode_combine_kernel"); !st.ok()) return st;
  }
  return Status::success();
}

// SKU entry: T in {__half, __nv_bfloat16}, kHeadDim in {64, 128, 256}.
template <class T, int kHeadDim, bool kPaged, bool kFixedSplit>
Status attn_decode_sm80(const LaunchContext& ctx) {
  const auto& d = *static_cast<const DecodeDesc*>(ctx.desc);
  const auto& a = *static_cast<const DecodeArgs*>(ctx.args);
  if (d.head_dim != kHeadDim)
    return Status::invalid("head_dim = " + std::to_string(d.head_dim) + ": this kernel is compiled for " +
                           std::to_string(kHeadDim));
  if (d.paged != kPaged)
    return Status::invalid(std::string("paged = ") + (d.paged ? "true" : "false") + ": this kernel is compiled for " +
                           (kPaged ? "a paged" : "a contiguous") + " cache");
  const std::int64_t max_keys = kPaged ? d.max_pages_per_seq * d.page_size : d.max_len;
  const DecodeSplit split = decode_split(d.batch, d.heads_kv, max_keys, ctx.sm_count, kFixedSplit, kPaged);
  return launch_attn_decode<T, kPaged, decode_sm80::SkuConfig<kHeadDim, kPaged, kFixedSplit>>(
      d, a, split, ctx.workspace, ctx.workspace_bytes, ctx.stream);
}

}  // namespace baracuda::kernels
