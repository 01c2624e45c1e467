// Benchmark: the card's streaming-read floor for the decode benchmark's
// problems. A plain read loop, no attention math: each CTA (the decode
// kernel's 128 threads) streams its share of K and of V through the decode
// kernel's default cp.async ring (Config<128>: 3 stages of 32 KB, the paged
// and fixed-split SKUs' shape), the same load pattern, and touches one word
// per thread per stage. No decode kernel can read the same bytes faster than
// this loop with the same load instructions, so it tells how far from the
// card's limit baracuda and its peers are on each problem.
//
// Rows: bench "attn_decode", the decode configs' strings, impl
// "cuda_read_floor_<n>cta" (n = SMs and 2 x SMs), median_us, gbps (K + V
// bytes / time); timed like bench-attn-decode (back-to-back launches,
// rotating input sets larger than L2).
#include <cuda_runtime_api.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include "bench_common.hpp"
#include "kernels/attn_decode_sm80.cuh"
#include "kernels/mma_sm80.cuh"

namespace {

// The decode kernel's ring at the benchmark's head dim (bf16, D = 128): its
// CTA size, stage count and stage size (K and V of one tile).
using Ring = baracuda::kernels::decode_sm80::Config<128>;
constexpr int kThreads = baracuda::kernels::decode_sm80::kThreads;
constexpr int kStages = Ring::kStages;
constexpr int kHalf = Ring::kTileElems * 2;  // bytes of K (or V) per stage
constexpr int kStageBytes = 2 * kHalf;

using namespace baracuda::kernels::sm80;  // smem_addr, cp.async: the decode kernel's load primitives

__global__ void __launch_bounds__(kThreads) read_loop(const char* k, const char* v, long long tiles_total,
                                                      int* sink) {
  extern __shared__ __align__(128) char smem[];
  const int tid = threadIdx.x;
  const long long first = tiles_total * blockIdx.x / gridDim.x;
  const int tiles = static_cast<int>(tiles_total * (blockIdx.x + 1) / gridDim.x - first);
  const char* kb = k + first * kHalf;
  const char* vb = v + first * kHalf;
  auto issue = [&](int t) {
    if (t < tiles) {
      char* dk = smem + (t % kStages) * kStageBytes;
      for (int i = tid; i < kHalf / 16; i += kThreads) {
        cp_async_16(smem_addr(dk + i * 16), kb + static_cast<long long>(t) * kHalf + i * 16, 16u);
        cp_async_16(smem_addr(dk + kHalf + i * 16), vb + static_cast<long long>(t) * kHalf + i * 16, 16u);
      }
    }
    cp_async_commit();
  };
  for (int s = 0; s < kStages - 1; ++s) issue(s);
  int acc = 0;
  for (int t = 0; t < tiles; ++t) {
    cp_async_wait<kStages - 2>();
    __syncthreads();
    issue(t + kStages - 1);
    acc += reinterpret_cast<const int*>(smem + (t % kStages) * kStageBytes)[tid * 64];
  }
  if (acc == 0x12345678) *sink = acc;  // keeps the reads alive
}

}  // namespace

int main() {
  cudaDeviceProp prop{};
  if (!bench::device0(prop)) return 0;
  std::printf("device: %s, %d SMs, L2 %d MB\n", prop.name, prop.multiProcessorCount, prop.l2CacheSize >> 20);
  BENCH_CHECK(cudaFuncSetAttribute(read_loop, cudaFuncAttributeMaxDynamicSharedMemorySize, kStages * kStageBytes));
  int* sink = nullptr;
  BENCH_CHECK(cudaMalloc(&sink, sizeof(int)));

  struct Shape {
    int batch, len;
  };
  const Shape shapes[] = {{1, 32768}, {16, 8192}, {64, 4096}, {128, 2048}, {32, 32768}};
  for (const Shape& s : shapes) {
    const long long half_bytes = 1LL * s.batch * 8 * s.len * 128 * 2;  // K (or V) of Hkv=8, D=128, bf16
    const int sets =
        static_cast<int>(std::max(1.0, std::ceil(4.0 * prop.l2CacheSize / (2.0 * static_cast<double>(half_bytes)))));
    char* buf = nullptr;
    BENCH_CHECK(cudaMalloc(&buf, static_cast<std::size_t>(2 * half_bytes * sets)));
    BENCH_CHECK(cudaMemset(buf, 1, static_cast<std::size_t>(2 * half_bytes * sets)));
    const std::string config =
        "bf16 B=" + std::to_string(s.batch) + " L=" + std::to_string(s.len) + " Hq=32 Hkv=8 D=128";
    for (const int per_sm : {1, 2}) {
      const int ctas = per_sm * prop.multiProcessorCount;
      const std::vector<double> us = bench::launch_us(
          [&](int r) {
            const char* k = buf + static_cast<long long>(r % sets) * 2 * half_bytes;
            read_loop<<<ctas, kThreads, kStages * kStageBytes>>>(k, k + half_bytes, half_bytes / kHalf, sink);
          },
          30, 5);
      BENCH_CHECK(cudaGetLastError());
      const double t = bench::median(us, bench::Middle::mean);
      bench::emit("attn_decode", config, "cuda_read_floor_" + std::to_string(ctas) + "cta", t,
                  bench::format("\"gbps\": %.1f", 2.0 * static_cast<double>(half_bytes) / (t * 1e3)));
    }
    cudaFree(buf);
  }
  cudaFree(sink);
  return 0;
}
