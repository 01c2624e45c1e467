// The streaming-read floor of the decode problems: a plain read loop, no
// attention math. Each CTA (the decode kernel's 128 threads) streams an equal
// share of K and of V through a cp.async ring of one of the decode kernel's
// shapes, with its load pattern, and touches one word per thread per stage.
// Two rings: Config<128> (3 stages of 32 KB, the paged and fixed-split SKUs')
// and SkuConfig<128, contiguous, adaptive> (2 stages of 64 KB, the SKU of the
// benchmark's problems). No decode kernel can read the same bytes much
// faster than the faster of the two loops. Used by bench_read_floor.cu (its
// own buffers) and bench_capi.cu (the peer benchmark's tensors).
#pragma once

#include <cuda_runtime_api.h>

#include <type_traits>

#include "kernels/attn_decode_sm80.cuh"
#include "kernels/mma_sm80.cuh"

namespace bench::read_floor {

namespace decode = baracuda::kernels::decode_sm80;
inline constexpr int kThreads = decode::kThreads;

enum class Ring { small3x32k, large2x64k };

// Ring shape (bf16, D = 128): stages and bytes of K (or V) per stage.
template <Ring kRing>
struct Shape {
  using C = std::conditional_t<kRing == Ring::small3x32k, decode::Config<128>, decode::SkuConfig<128, false, false>>;
  static constexpr int kStages = C::kStages;
  static constexpr int kHalf = C::kTileElems * 2;
  static constexpr int kStageBytes = 2 * kHalf;
  static constexpr int kSmemBytes = kStages * kStageBytes;
};
// K and V bytes must be a multiple of this (both rings' K or V stage).
inline constexpr long long kGranule = Shape<Ring::large2x64k>::kHalf;
static_assert(kGranule % Shape<Ring::small3x32k>::kHalf == 0);

template <Ring kRing>
__global__ void __launch_bounds__(kThreads) read_loop(const char* k, const char* v, long long tiles_total, int* sink) {
  using namespace baracuda::kernels::sm80;  // smem_addr, cp.async: the decode kernel's load primitives
  using S = Shape<kRing>;
  extern __shared__ __align__(128) char smem[];
  const int tid = threadIdx.x;
  const long long first = tiles_total * blockIdx.x / gridDim.x;
  const int tiles = static_cast<int>(tiles_total * (blockIdx.x + 1) / gridDim.x - first);
  const char* kb = k + first * S::kHalf;
  const char* vb = v + first * S::kHalf;
  auto issue = [&](int t) {
    if (t < tiles) {
      char* dk = smem + (t % S::kStages) * S::kStageBytes;
      for (int i = tid; i < S::kHalf / 16; i += kThreads) {
        cp_async_16(smem_addr(dk + i * 16), kb + static_cast<long long>(t) * S::kHalf + i * 16, 16u);
        cp_async_16(smem_addr(dk + S::kHalf + i * 16), vb + static_cast<long long>(t) * S::kHalf + i * 16, 16u);
      }
    }
    cp_async_commit();
  };
  for (int s = 0; s < S::kStages - 1; ++s) issue(s);
  int acc = 0;
  for (int t = 0; t < tiles; ++t) {
    cp_async_wait<S::kStages - 2>();
    __syncthreads();
    issue(t + S::kStages - 1);
    acc += reinterpret_cast<const int*>(smem + (t % S::kStages) * S::kStageBytes)[tid * 64];
  }
  if (acc == 0x12345678) *sink = acc;  // keeps the reads alive
}

// Reads `half_bytes` of K and as many of V (each a multiple of kGranule) with
// `ctas` CTAs on `stream`.
template <Ring kRing>
cudaError_t launch(const void* k, const void* v, long long half_bytes, int ctas, int* sink, cudaStream_t stream) {
  using S = Shape<kRing>;
  static const cudaError_t attr =
      cudaFuncSetAttribute(read_loop<kRing>, cudaFuncAttributeMaxDynamicSharedMemorySize, S::kSmemBytes);
  if (attr != cudaSuccess) return attr;
  const auto* kb = static_cast<const char*>(k);
  const auto* vb = static_cast<const char*>(v);
  read_loop<kRing><<<ctas, kThreads, S::kSmemBytes, stream>>>(kb, vb, half_bytes / S::kHalf, sink);
  return cudaGetLastError();
}

inline cudaError_t launch(Ring ring, const void* k, const void* v, long long half_bytes, int ctas, int* sink,
                          cudaStream_t stream) {
  return ring == Ring::small3x32k ? launch<Ring::small3x32k>(k, v, half_bytes, ctas, sink, stream)
                                  : launch<Ring::large2x64k>(k, v, half_bytes, ctas, sink, stream);
}

}  // namespace bench::read_floor
