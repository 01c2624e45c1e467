// Benchmark: the card's streaming-read floor for the decode benchmark's
// problems (read_loop.cuh: a plain cp.async read of K and V with the decode
// kernel's load pattern), on buffers of its own. It tells how far from the
// card's limit baracuda and its peers are on each problem.
//
// Rows: bench "attn_decode", the decode configs' strings, impl
// "cuda_read_floor_<n>cta" (the 32 KB x 3 ring; n = SMs and 2 x SMs) and
// "cuda_read_floor_<SMs>cta_64k" (the 64 KB x 2 ring), median_us, gbps (K + V
// bytes / time); timed like bench-attn-decode (back-to-back launches,
// rotating input sets larger than L2).
#include <cuda_runtime_api.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <string>
#include <utility>
#include <vector>

#include "bench_common.hpp"
#include "read_loop.cuh"

int main() {
  cudaDeviceProp prop{};
  if (!bench::device0(prop)) return 0;
  std::printf("device: %s, %d SMs, L2 %d MB\n", prop.name, prop.multiProcessorCount, prop.l2CacheSize >> 20);
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
    // The 32 KB x 3 ring at one and two CTAs per SM, the 64 KB x 2 ring at one.
    using bench::read_floor::Ring;
    for (const auto& [ring, per_sm] : {std::pair{Ring::small3x32k, 1}, {Ring::small3x32k, 2}, {Ring::large2x64k, 1}}) {
      const int ctas = per_sm * prop.multiProcessorCount;
      const std::vector<double> us = bench::launch_us(
          [&](int r) {
            const char* k = buf + static_cast<long long>(r % sets) * 2 * half_bytes;
            BENCH_CHECK(bench::read_floor::launch(ring, k, k + half_bytes, half_bytes, ctas, sink, nullptr));
          },
          30, 5);
      BENCH_CHECK(cudaGetLastError());
      const double t = bench::median(us, bench::Middle::mean);
      const std::string impl = "cuda_read_floor_" + std::to_string(ctas) + "cta" +
                               (ring == Ring::large2x64k ? "_64k" : "");
      bench::emit("attn_decode", config, impl, t,
                  bench::format("\"gbps\": %.1f", 2.0 * static_cast<double>(half_bytes) / (t * 1e3)));
    }
    cudaFree(buf);
  }
  cudaFree(sink);
  return 0;
}
