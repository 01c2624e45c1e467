// Shared device helpers for the hand-written kernel templates: element
// traits, CUDA error to Status, launch checks. Included by every kernel
// header; the generated SKU files include only the kernel headers.
#pragma once

#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <cuda_runtime.h>

#include <cstdint>
#include <cstdio>
#include <string>

#include "baracuda/types.hpp"

namespace baracuda::kernels {

inline Status cuda_status(cudaError_t err, const char* what) {
  if (err == cudaSuccess) return Status::success();
  return Status::error(StatusCode::cuda_error,
                       std::string(what) + ": " + cudaGetErrorName(err) + " (" + cudaGetErrorString(err) + ")");
}

// Call after every launch: reports a launch-configuration error by kernel name.
inline Status check_launch(const char* kernel_name) {
  return cuda_status(cudaGetLastError(), kernel_name);
}

// Raises the dynamic shared-memory limit of `kernel` when it needs > 48 KiB.
template <class Kernel>
inline Status set_smem_limit(Kernel kernel, std::size_t bytes, const char* kernel_name) {
  if (bytes <= 48 * 1024) return Status::success();
  return cuda_status(cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize,
                                          static_cast<int>(bytes)),
                     kernel_name);
}

template <class T>
struct ElementTraits;
template <>
struct ElementTraits<__half> {
  static __device__ __forceinline__ float to_float(__half x) { return __half2float(x); }
  static __device__ __forceinline__ __half from_float(float x) { return __float2half_rn(x); }
};
template <>
struct ElementTraits<__nv_bfloat16> {
  static __device__ __forceinline__ float to_float(__nv_bfloat16 x) { return __bfloat162float(x); }
  static __device__ __forceinline__ __nv_bfloat16 from_float(float x) { return __float2bfloat16_rn(x); }
};
template <>
struct ElementTraits<float> {
  static __device__ __forceinline__ float to_float(float x) { return x; }
  static __device__ __forceinline__ float from_float(float x) { return x; }
};
template <>
struct ElementTraits<double> {
  static __device__ __forceinline__ double to_float(double x) { return x; }
  static __device__ __forceinline__ double from_float(double x) { return x; }
};

// Element <-> any arithmetic type (float or double), for generic kernels.
template <class To, class From>
__device__ __forceinline__ To convert(From x) {
  if constexpr (std::is_same_v<From, __half> || std::is_same_v<From, __nv_bfloat16>) {
    return static_cast<To>(ElementTraits<From>::to_float(x));
  } else if constexpr (std::is_same_v<To, __half> || std::is_same_v<To, __nv_bfloat16>) {
    return ElementTraits<To>::from_float(static_cast<float>(x));
  } else {
    return static_cast<To>(x);
  }
}

constexpr std::int64_t ceil_div(std::int64_t a, std::int64_t b) { return (a + b - 1) / b; }

}  // namespace baracuda::kernels
