// Shared pieces of the benchmark programs: CUDA checks, the device-0 check,
// random device buffers and typed uploads, event timing (samples of
// back-to-back calls, or one sample per launch) with medians, the measured
// copy ceiling, and the "BENCH {json}" output line that
// tools/bench/summarize.py reads.
#pragma once

#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <cuda_runtime_api.h>

#include <algorithm>
#include <cstdarg>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <memory>
#include <numeric>
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

// Properties of device 0; false, after printing "skipped: no GPU", where
// there is no device.
inline bool device0(cudaDeviceProp& prop) {
  int count = 0;
  if (cudaGetDeviceCount(&count) != cudaSuccess || count == 0) {
    std::printf("skipped: no GPU\n");
    return false;
  }
  BENCH_CHECK(cudaGetDeviceProperties(&prop, 0));
  return true;
}

// Device array of T: a copy of a host vector, or `n` uninitialized elements;
// freed on scope exit (at least one element is allocated).
template <class T>
class DeviceArray {
 public:
  explicit DeviceArray(std::size_t n) : size_(n) {
    BENCH_CHECK(cudaMalloc(reinterpret_cast<void**>(&ptr_), std::max<std::size_t>(n, 1) * sizeof(T)));
  }
  explicit DeviceArray(const std::vector<T>& host) : DeviceArray(host.size()) {
    if (!host.empty()) BENCH_CHECK(cudaMemcpy(ptr_, host.data(), host.size() * sizeof(T), cudaMemcpyHostToDevice));
  }
  DeviceArray(const DeviceArray&) = delete;
  DeviceArray& operator=(const DeviceArray&) = delete;
  ~DeviceArray() { cudaFree(ptr_); }
  T* get() const { return ptr_; }
  std::size_t size() const { return size_; }

 private:
  T* ptr_ = nullptr;
  std::size_t size_;
};

// The 16-bit element a RandomBuffer holds.
enum class Bits16 { bf16, f16 };

// Device memory filled with N(0, 1) values rounded to bf16 or f16 (never
// zero): a random block of up to 4 Mi values repeated over the buffer; freed
// on scope exit.
class RandomBuffer {
 public:
  RandomBuffer(std::size_t bytes, std::uint64_t seed, Bits16 kind = Bits16::bf16) : mem_(bytes) {
    std::vector<std::uint16_t> block(std::min<std::size_t>(bytes / 2, std::size_t{1} << 22));
    std::mt19937_64 rng(seed);
    std::normal_distribution<float> dist(0.0f, 1.0f);
    for (auto& x : block) {
      const float f = dist(rng);
      if (kind == Bits16::bf16) {
        const __nv_bfloat16 h = __float2bfloat16_rn(f);
        std::memcpy(&x, &h, 2);
      } else {
        const __half h = __float2half_rn(f);
        std::memcpy(&x, &h, 2);
      }
      if ((x & 0x7fff) == 0) x = kind == Bits16::bf16 ? 0x3f80 : 0x3c00;  // 1.0
    }
    for (std::size_t at = 0; at < bytes; at += block.size() * 2)
      BENCH_CHECK(cudaMemcpy(mem_.get() + at, block.data(), std::min(bytes - at, block.size() * 2),
                             cudaMemcpyHostToDevice));
  }
  void* get() const { return mem_.get(); }
  std::size_t bytes() const { return mem_.size(); }

 private:
  DeviceArray<char> mem_;
};

// Which value the median of an even number of samples is: the upper of the
// two middle ones, or their mean.
enum class Middle { upper, mean };

// A paged KV cache's block table: the pages 0 .. n - 1 in a fixed shuffled
// order (row b of a [B, n / B] table then names n / B scattered pages).
inline std::vector<std::int32_t> shuffled_pages(std::int64_t n, std::uint64_t seed = 0x9e3779b97f4a7c15ull) {
  std::vector<std::int32_t> pages(static_cast<std::size_t>(n));
  std::iota(pages.begin(), pages.end(), 0);
  std::shuffle(pages.begin(), pages.end(), std::mt19937_64(seed));
  return pages;
}

// Makes the cache of `desc` (a KvAppendDesc) paged: page_size-token pages
// covering desc.max_len positions per sample, desc.batch * max_len /
// page_size of them, under a shuffled_pages block table, returned for the
// args (block_table_stride = desc.max_pages_per_seq).
template <class Desc>
std::unique_ptr<DeviceArray<std::int32_t>> make_paged(Desc& desc, std::int64_t page_size) {
  desc.paged = true;
  desc.page_size = page_size;
  desc.max_pages_per_seq = desc.max_len / page_size;
  desc.num_pages = desc.batch * desc.max_pages_per_seq;
  return std::make_unique<DeviceArray<std::int32_t>>(shuffled_pages(desc.num_pages));
}

// One input set of a RoPE + KV-append problem (bench-rope, bench-rope-floor):
// Q [B, L, Hq, D], K_new and V_new [B, L, Hkv, D] (bf16), sample b's cache
// offset and its tokens' positions (offset + l).
struct RopeAppendSet {
  std::unique_ptr<RandomBuffer> q, k, v;
  std::unique_ptr<DeviceArray<std::int64_t>> pos, off;
};

// bench-rope's fused RoPE + append problem, bf16, Q / K_new / V_new
// [B, L, H, D]: enough input sets to exceed the L2 several times over (at
// most 16; set s puts sample b at a different cache offset, decode-like L = 1
// spreads them over the whole cache), and the K and V caches they append to
// (B * Hkv * L_max * D elements each, in whichever layout the caller strides).
class RopeAppendInputs {
 public:
  RopeAppendInputs(std::int64_t B, std::int64_t L, std::int64_t Hq, std::int64_t Hkv, std::int64_t D,
                   std::int64_t L_max)
      : q_elems(static_cast<std::size_t>(B * L * Hq * D)),
        kv_elems(static_cast<std::size_t>(B * L * Hkv * D)),
        sets(make_sets(B, L, L_max, q_elems, kv_elems)),
        k_cache(static_cast<std::size_t>(B * Hkv * L_max * D) * 2, 7),
        v_cache(static_cast<std::size_t>(B * Hkv * L_max * D) * 2, 8) {}

  const std::size_t q_elems;   // Q, per set
  const std::size_t kv_elems;  // K_new, and V_new, per set
  const std::vector<RopeAppendSet> sets;
  const RandomBuffer k_cache, v_cache;

  // The set timed call `call` uses (the sets rotate).
  const RopeAppendSet& set(int call) const { return sets[static_cast<std::size_t>(call) % sets.size()]; }
  // Bytes the fused call reads and writes: Q in place, K_new and V_new into the cache.
  double fused_bytes() const { return 2.0 * 2.0 * static_cast<double>(q_elems + 2 * kv_elems); }

 private:
  static std::vector<RopeAppendSet> make_sets(std::int64_t B, std::int64_t L, std::int64_t L_max, std::size_t nq,
                                              std::size_t nk) {
    const int sets = std::clamp(static_cast<int>(200e6 / (2.0 * static_cast<double>(nq + 2 * nk))), 1, 16);
    std::vector<RopeAppendSet> in(static_cast<std::size_t>(sets));
    for (int s = 0; s < sets; ++s) {
      std::vector<std::int64_t> off(static_cast<std::size_t>(B)), pos(static_cast<std::size_t>(B * L));
      for (std::int64_t b = 0; b < B; ++b) {
        off[static_cast<std::size_t>(b)] = L == 1 ? (b * 997 + s * 131) % (L_max - 1) : (b * 64 + s) % (L_max - L);
        for (std::int64_t l = 0; l < L; ++l) pos[static_cast<std::size_t>(b * L + l)] = off[static_cast<std::size_t>(b)] + l;
      }
      RopeAppendSet& x = in[static_cast<std::size_t>(s)];
      x.q = std::make_unique<RandomBuffer>(nq * 2, 10 + s);
      x.k = std::make_unique<RandomBuffer>(nk * 2, 100 + s);
      x.v = std::make_unique<RandomBuffer>(nk * 2, 1000 + s);
      x.pos = std::make_unique<DeviceArray<std::int64_t>>(pos);
      x.off = std::make_unique<DeviceArray<std::int64_t>>(off);
    }
    return in;
  }
};

inline double median(std::vector<double> v, Middle middle = Middle::upper) {
  std::sort(v.begin(), v.end());
  const std::size_t n = v.size();
  return n % 2 == 0 && middle == Middle::mean ? 0.5 * (v[n / 2 - 1] + v[n / 2]) : v[n / 2];
}

// Samples, in microseconds per call, of `fn(call)` timed with events over
// `calls_per_sample` back-to-back calls, each sample waited for before the
// next starts; after `warmup` untimed calls fn(0), fn(1), ... and a device
// synchronize. The timed calls count again from 0.
inline std::vector<double> sample_us(const std::function<void(int)>& fn, int samples, int calls_per_sample = 1,
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
  return us;
}

// Median microseconds per call of `fn(rep)`, timed as sample_us does.
inline double median_us(const std::function<void(int)>& fn, int samples = 30, int calls_per_sample = 1,
                        int warmup = 5) {
  return median(sample_us(fn, samples, calls_per_sample, warmup));
}

// One sample per launch, in microseconds: fn(0), fn(1), ... fn(warmup + reps
// - 1) are issued back to back on the default stream (indices run on through
// the warm-up, so fn can rotate input sets by index), with an event before the
// first timed call and after each one. Nothing waits for the device between
// launches, so the queue stays full and each gap between events is one call's
// device time (host-side work overlaps the previous call). `drain_warmup`
// synchronizes the device after the warm-up calls.
inline std::vector<double> launch_us(const std::function<void(int)>& fn, int reps, int warmup,
                                     bool drain_warmup = false) {
  for (int i = 0; i < warmup; ++i) fn(i);
  if (drain_warmup) BENCH_CHECK(cudaDeviceSynchronize());
  std::vector<cudaEvent_t> ev(static_cast<std::size_t>(reps) + 1);
  for (auto& e : ev) BENCH_CHECK(cudaEventCreate(&e));
  BENCH_CHECK(cudaEventRecord(ev[0]));
  for (int r = 0; r < reps; ++r) {
    fn(warmup + r);
    BENCH_CHECK(cudaEventRecord(ev[static_cast<std::size_t>(r) + 1]));
  }
  BENCH_CHECK(cudaDeviceSynchronize());
  std::vector<double> us(static_cast<std::size_t>(reps));
  for (std::size_t r = 0; r < us.size(); ++r) {
    float ms = 0;
    BENCH_CHECK(cudaEventElapsedTime(&ms, ev[r], ev[r + 1]));
    us[r] = 1000.0 * ms;
  }
  for (auto& e : ev) cudaEventDestroy(e);
  return us;
}

// The card's measured device-to-device copy bandwidth, GB/s counting bytes
// read plus bytes written: median of 10 copies of `bytes`, timed as sample_us
// does.
inline double copy_gbps(std::size_t bytes = std::size_t{1} << 30, Middle middle = Middle::upper) {
  void *a = nullptr, *b = nullptr;
  BENCH_CHECK(cudaMalloc(&a, bytes));
  BENCH_CHECK(cudaMalloc(&b, bytes));
  BENCH_CHECK(cudaMemset(a, 1, bytes));
  const double us = median(
      sample_us([&](int) { BENCH_CHECK(cudaMemcpyAsync(b, a, bytes, cudaMemcpyDeviceToDevice)); }, 10), middle);
  cudaFree(a);
  cudaFree(b);
  return 2.0 * bytes / (us * 1e-6) / 1e9;
}

// printf into a std::string.
#if defined(__GNUC__)
__attribute__((format(printf, 1, 2)))
#endif
inline std::string format(const char* fmt, ...) {
  va_list args;
  va_start(args, fmt);
  va_list again;
  va_copy(again, args);
  const int n = std::vsnprintf(nullptr, 0, fmt, args);
  va_end(args);
  std::string s(n > 0 ? static_cast<std::size_t>(n) : 0, '\0');
  if (n > 0) std::vsnprintf(s.data(), s.size() + 1, fmt, again);
  va_end(again);
  return s;
}

// One result row with its own fields after the first three:
// BENCH {"bench": ..., "config": ..., "impl": ..., fields}
inline void emit_row(const std::string& bench, const std::string& config, const std::string& impl,
                     const std::string& fields) {
  std::printf("BENCH {\"bench\": \"%s\", \"config\": \"%s\", \"impl\": \"%s\", %s}\n", bench.c_str(), config.c_str(),
              impl.c_str(), fields.c_str());
  std::fflush(stdout);
}

// One result row: BENCH {"bench": ..., "config": ..., "impl": ..., "median_us": ..., extra...}
inline void emit(const std::string& bench, const std::string& config, const std::string& impl, double us,
                 const std::string& extra_json) {
  emit_row(bench, config, impl, format("\"median_us\": %.3f", us) + (extra_json.empty() ? "" : ", ") + extra_json);
}

}  // namespace bench
