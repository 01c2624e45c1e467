// Helpers shared by the GPU doctest suites: device buffers, random inputs
// rounded to the element type, poisoning, conversions, error norms, and the
// registry walk. Every suite starts its cases with BK_REQUIRE_GPU().
#pragma once

#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <cuda_runtime_api.h>
#include <doctest/doctest.h>

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "baracuda/baracuda.hpp"

namespace bk_test {

// True when a CUDA device is usable; prints "skipped: no GPU" once otherwise.
inline bool gpu_available() {
  static const bool available = [] {
    int count = 0;
    const bool ok = cudaGetDeviceCount(&count) == cudaSuccess && count > 0;
    if (!ok) {
      cudaGetLastError();
      std::printf("skipped: no GPU\n");
    }
    return ok;
  }();
  return available;
}

#define BK_REQUIRE_GPU()                 \
  do {                                   \
    if (!::bk_test::gpu_available()) {   \
      MESSAGE("skipped: no GPU");        \
      return;                            \
    }                                    \
  } while (0)

#define BK_CUDA_OK(expr)                                                        \
  do {                                                                          \
    const cudaError_t bk_err_ = (expr);                                         \
    REQUIRE_MESSAGE(bk_err_ == cudaSuccess, #expr, ": ", cudaGetErrorString(bk_err_)); \
  } while (0)

#define BK_STATUS_OK(expr)                                          \
  do {                                                              \
    const ::baracuda::Status bk_st_ = (expr);                       \
    REQUIRE_MESSAGE(bk_st_.ok(), #expr, ": ", bk_st_.message());    \
  } while (0)

// ------------------------------------------------------- element types ----
template <class T> inline double to_double(T x) { return static_cast<double>(x); }
template <> inline double to_double(__half x) { return static_cast<double>(__half2float(x)); }
template <> inline double to_double(__nv_bfloat16 x) { return static_cast<double>(__bfloat162float(x)); }

template <class T> inline T from_double(double x) { return static_cast<T>(x); }
template <> inline __half from_double(double x) { return __float2half_rn(static_cast<float>(x)); }
template <> inline __nv_bfloat16 from_double(double x) { return __float2bfloat16_rn(static_cast<float>(x)); }

// Calls f.template operator()<T>() with the C++ type of `e`.
template <class F>
inline void dispatch_element(baracuda::Element e, F&& f) {
  using baracuda::Element;
  switch (e) {
    case Element::f16: f.template operator()<__half>(); return;
    case Element::bf16: f.template operator()<__nv_bfloat16>(); return;
    case Element::f32: f.template operator()<float>(); return;
    case Element::f64: f.template operator()<double>(); return;
    default: FAIL("no test type for element ", baracuda::to_string(e));
  }
}

// --------------------------------------------------------------- buffers ----
// Device memory owned by a test. Freed on scope exit.
template <class T>
class DeviceBuffer {
 public:
  DeviceBuffer() = default;
  explicit DeviceBuffer(std::size_t count) : count_(count) {
    if (count_ > 0) BK_CUDA_OK(cudaMalloc(reinterpret_cast<void**>(&ptr_), count_ * sizeof(T)));
  }
  explicit DeviceBuffer(const std::vector<T>& host) : DeviceBuffer(host.size()) { upload(host); }
  DeviceBuffer(const DeviceBuffer&) = delete;
  DeviceBuffer& operator=(const DeviceBuffer&) = delete;
  DeviceBuffer(DeviceBuffer&& o) noexcept : ptr_(o.ptr_), count_(o.count_) { o.ptr_ = nullptr; o.count_ = 0; }
  DeviceBuffer& operator=(DeviceBuffer&& o) noexcept {
    std::swap(ptr_, o.ptr_);
    std::swap(count_, o.count_);
    return *this;
  }
  ~DeviceBuffer() { if (ptr_) cudaFree(ptr_); }

  T* get() const { return ptr_; }
  std::size_t size() const { return count_; }
  std::size_t bytes() const { return count_ * sizeof(T); }

  void upload(const std::vector<T>& host) {
    REQUIRE(host.size() == count_);
    if (count_ > 0) BK_CUDA_OK(cudaMemcpy(ptr_, host.data(), bytes(), cudaMemcpyHostToDevice));
  }
  std::vector<T> download() const {
    std::vector<T> host(count_);
    if (count_ > 0) BK_CUDA_OK(cudaMemcpy(host.data(), ptr_, bytes(), cudaMemcpyDeviceToHost));
    return host;
  }
  // Fills every byte with `byte` (0xFF: NaN in every float type).
  void poison(unsigned char byte = 0xFF) {
    if (count_ > 0) BK_CUDA_OK(cudaMemset(ptr_, byte, bytes()));
  }

 private:
  T* ptr_ = nullptr;
  std::size_t count_ = 0;
};

// One fresh generator per test case, seeded from the case name and a counter,
// so failures reproduce while every case draws different inputs.
inline std::mt19937_64 rng_for(const std::string& name) {
  static std::uint64_t counter = 0;
  return std::mt19937_64(std::hash<std::string>{}(name) ^ (0x9E3779B97F4A7C15ull * ++counter));
}

// Random normal values, already rounded to T.
template <class T>
inline std::vector<T> random_normal(std::size_t n, std::mt19937_64& rng, double stddev = 1.0) {
  std::normal_distribution<double> dist(0.0, stddev);
  std::vector<T> out(n);
  for (auto& x : out) x = from_double<T>(dist(rng));
  return out;
}

// Random values rounded to T, for bit-exact ops (copies): normal values
// keep every byte pattern realistic and never zero.
template <class T>
inline std::vector<T> random_normal_bits(std::size_t n, std::mt19937_64& rng) {
  std::vector<T> out = random_normal<T>(n, rng, 3.0);
  for (auto& x : out)
    if (to_double(x) == 0.0) x = from_double<T>(1.0);
  return out;
}

template <class T>
inline std::vector<double> to_double_vector(const std::vector<T>& v) {
  std::vector<double> out(v.size());
  for (std::size_t i = 0; i < v.size(); ++i) out[i] = to_double(v[i]);
  return out;
}

template <class T>
inline bool bitwise_equal(const std::vector<T>& a, const std::vector<T>& b) {
  return a.size() == b.size() && (a.empty() || std::memcmp(a.data(), b.data(), a.size() * sizeof(T)) == 0);
}

// ||out - ref||_2 / ||ref||_2 (absolute when ref is 0); +inf if any value is not finite.
inline double rel_l2_error(const std::vector<double>& out, const std::vector<double>& ref) {
  REQUIRE(out.size() == ref.size());
  double num = 0.0, den = 0.0;
  for (std::size_t i = 0; i < out.size(); ++i) {
    if (!std::isfinite(out[i])) return INFINITY;
    const double d = out[i] - ref[i];
    num += d * d;
    den += ref[i] * ref[i];
  }
  return den > 0.0 ? std::sqrt(num / den) : std::sqrt(num);
}

// Index of the first non-finite value, or -1.
inline long first_non_finite(const std::vector<double>& v) {
  for (std::size_t i = 0; i < v.size(); ++i)
    if (!std::isfinite(v[i])) return static_cast<long>(i);
  return -1;
}

inline baracuda::Target current_target() {
  auto t = baracuda::Target::from_device(0);
  REQUIRE_MESSAGE(t.ok(), t.status().message());
  return t.value();
}

// The registry's SKUs of one op that this device can run.
inline std::vector<const baracuda::KernelSku*> skus_of(baracuda::OpKind op) {
  baracuda::SkuFilter filter;
  filter.op = op;
  std::vector<const baracuda::KernelSku*> out;
  const baracuda::Target target = current_target();
  for (const baracuda::KernelSku* sku : baracuda::Catalog::query(filter))
    if (baracuda::Catalog::has_code_for(*sku, target)) out.push_back(sku);
  return out;
}

inline baracuda::PlanPreference force(const baracuda::KernelSku& sku) {
  baracuda::PlanPreference pref;
  pref.force_sku = sku.name;
  return pref;
}

}  // namespace bk_test
