// Shared pieces of the benchmark programs: CUDA checks, random device
// buffers, event timing with medians, the measured copy ceiling, and the
// "BENCH {json}" output line that tools/bench/summarize.py reads.
#pragma once

#include <cuda_runtime_api.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <random>
#include <string>
#include <vector>

namespace bench {

#define BENCH_CHECK(expr)                                                                            \
  do {                                                                                               \
    const cudaError_t bench_err_ = (expr);                                                           \
    if (bench_err_ != cudaSuccess) {                                                                 \
      std::fprintf(stderr, "%s:%d: %s: %s\n", __FILE__, __LINE__, #expr, cudaGetErrorString(bench_err_)); \
      std::exit(1);                                                                                  \
    }                                                                                                \
  } while (0)

// Device memory filled with random 16-bit patterns of normal values (bf16 or
// f16 bits, never zero), freed on scope exit.
class RandomBuffer {
 public:
  RandomBuffer(std::size_t bytes, std::uint64_t seed) : bytes_(bytes) {
    BENCH_CHECK(cudaMalloc(&ptr_, bytes));
    std::vector<std::uint16_t> block(std::min<std::size_t>(bytes / 2, std::size_t{1} << 22));
    std::mt19937_64 rng(seed);
    std::normal_distribution<float> dist(0.0f, 1.0f);
    for (auto& x : block) {
      float f = dist(rng);
      std::uint32_t u;
      std::memcpy(&u, &f, 4);
      x = static_cast<std::uint16_t>((u + 0x7fffu + ((u >> 16) & 1u)) >> 16);  // bf16 rounding
      if ((x & 0x7fff) == 0) x = 0x3f80;
    }
    for (std::size_t at = 0; at < bytes; at += block.size() * 2)
      BENCH_CHECK(cudaMemcpy(static_cast<char*>(ptr_) + at, block.data(),
                             std::min(bytes - at, block.size() * 2), cudaMemcpyHostToDevice));
  }
  RandomBuffer(const RandomBuffer&) = delete;
  RandomBuffer& operator=(const RandomBuffer&) = delete;
  ~RandomBuffer() { cudaFree(ptr_); }
  void* get() const { return ptr_; }
  std::size_t bytes() const { return bytes_; }

 private:
  void* ptr_ = nullptr;
  std::size_t bytes_;
};

// Median microseconds per call of `fn(rep)`, timed with events over
// `calls_per_sample` back-to-back calls, after warm-up.
inline double median_us(const std::function<void(int)>& fn, int samples = 30, int calls_per_sample = 1,
                        int warmup = 5) {
  for (int i = 0; i < warmup; ++i) fn(i);
  BENCH_CHECK(cudaDeviceSynchronize());
  cudaEvent_t start, stop;
  BENCH_CHECK(cudaEventCreate(&start));
  BENCH_CHECK(cudaEventCreate(&stop));
  std::vector<double> us;
  int call = 0;
  for (int s = 0; s < samples; ++s) {
    BENCH_CHECK(cudaEventRecord(start));
    for (int c = 0; c < calls_per_sample; ++c) fn(call++);
    BENCH_CHECK(cudaEventRecord(stop));
    BENCH_CHECK(cudaEventSynchronize(stop));
    float ms = 0;
    BENCH_CHECK(cudaEventElapsedTime(&ms, start, stop));
    us.push_back(1000.0 * ms / calls_per_sample);
  }
  BENCH_CHECK(cudaGetLastError());
  cudaEventDestroy(start);
  cudaEventDestroy(stop);
  std::sort(us.begin(), us.end());
  return us[us.size() / 2];
}

// The card's measured device-to-device copy bandwidth, GB/s counting bytes
// read plus bytes written (1 GiB copies).
inline double copy_gbps() {
  const std::size_t bytes = std::size_t{1} << 30;
  void *a = nullptr, *b = nullptr;
  BENCH_CHECK(cudaMalloc(&a, bytes));
  BENCH_CHECK(cudaMalloc(&b, bytes));
  BENCH_CHECK(cudaMemset(a, 1, bytes));
  const double us = median_us([&](int) { BENCH_CHECK(cudaMemcpyAsync(b, a, bytes, cudaMemcpyDeviceToDevice)); }, 10);
  cudaFree(a);
  cudaFree(b);
  return 2.0 * bytes / (us * 1e-6) / 1e9;
}

// One result row: BENCH {"bench": ..., "config": ..., "impl": ..., "median_us": ..., extra...}
inline void emit(const std::string& bench, const std::string& config, const std::string& impl, double us,
                 const std::string& extra_json) {
  std::printf("BENCH {\"bench\": \"%s\", \"config\": \"%s\", \"impl\": \"%s\", \"median_us\": %.3f%s%s}\n",
              bench.c_str(), config.c_str(), impl.c_str(), us, extra_json.empty() ? "" : ", ", extra_json.c_str());
  std::fflush(stdout);
}

}  // namespace bench
