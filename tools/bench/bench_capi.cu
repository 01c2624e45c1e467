// A C interface to decode plans for the peer benchmark (peer_attn_decode.py
// loads it with ctypes), so a baracuda SKU and PyTorch's backends run on the
// very same tensors in one process. The decode time of a bandwidth-bound
// kernel depends on where its buffers lie in device memory (H100 at 2b826d4,
// B=16 L=8192: 178.0-181.4 us for ours and 178.1-181.0 for cuDNN's over four
// K/V placements, tools/bench/results/h100-2b826d4-bench.md), so comparing
// kernels on separately allocated buffers mixes that spread into the ratio.
//
// Problem: bf16, contiguous cache [B, Hkv, L, D], Q and O [B, Hq, 1, D], LSE
// f32 [B, Hq], seqlens i32 [B]. Errors go to `err` (NUL-terminated). Also the
// streaming-read floor (read_loop.cuh) on the same K and V, so the kernels'
// distance from the card's limit is measured where they read.
#include <cstdio>
#include <string>
#include <utility>

#include "baracuda/baracuda.hpp"
#include "read_loop.cuh"

namespace {

struct DecodeHandle {
  baracuda::DecodeDesc desc;
  baracuda::DecodePlan plan;
};

void put(char* err, int err_len, const std::string& message) {
  if (err != nullptr && err_len > 0) std::snprintf(err, static_cast<std::size_t>(err_len), "%s", message.c_str());
}

}  // namespace

extern "C" {

// A plan forced to `sku` for the problem, or null; *workspace_bytes is the
// workspace each run needs.
void* baracuda_bench_decode_plan(long long batch, int heads_q, int heads_kv, long long len, int head_dim,
                                 const char* sku, std::size_t* workspace_bytes, char* err, int err_len) {
  using namespace baracuda;
  const Result<Target> target = Target::from_device(0);
  if (!target.ok()) {
    put(err, err_len, target.status().message());
    return nullptr;
  }
  DecodeDesc d;
  d.element = Element::bf16;
  d.seqlen_element = Element::i32;
  d.batch = batch;
  d.heads_q = heads_q;
  d.heads_kv = heads_kv;
  d.q_len = 1;
  d.head_dim = head_dim;
  d.max_len = len;
  PlanPreference pref;
  pref.force_sku = sku;
  Result<DecodePlan> plan = DecodePlan::select(d, pref, target.value());
  if (!plan.ok()) {
    put(err, err_len, plan.status().message());
    return nullptr;
  }
  auto* handle = new DecodeHandle{d, std::move(plan.value())};
  *workspace_bytes = handle->plan.workspace_size();
  return handle;
}

// Runs the plan on `stream`; 0 on success.
int baracuda_bench_decode_run(void* handle, void* stream, void* workspace, std::size_t workspace_bytes, const void* q,
                              const void* k, const void* v, const void* seqlens, void* o, float* lse, char* err,
                              int err_len) {
  using namespace baracuda;
  const auto* h = static_cast<const DecodeHandle*>(handle);
  const DecodeDesc& d = h->desc;
  DecodeArgs a;
  a.q = q;
  a.q_strides = strides_bhld(d.heads_q, 1, d.head_dim);
  a.k_cache = k;
  a.v_cache = v;
  a.k_cache_strides = strides_bhld(d.heads_kv, d.max_len, d.head_dim);
  a.v_cache_strides = a.k_cache_strides;
  a.seqlens = seqlens;
  a.o = o;
  a.o_strides = strides_bhld(d.heads_q, 1, d.head_dim);
  a.lse = lse;
  const Status st = h->plan.run(static_cast<cudaStream_t>(stream), Workspace{workspace, workspace_bytes}, a);
  if (!st.ok()) {
    put(err, err_len, st.message());
    return 1;
  }
  return 0;
}

void baracuda_bench_decode_free(void* handle) { delete static_cast<DecodeHandle*>(handle); }

// Reads `half_bytes` of K and as many of V (multiples of 64 KB) with `ctas`
// CTAs of the read loop on `stream`, through the 32 KB x 3 ring (ring 0) or
// the 64 KB x 2 ring (ring 1); 0 on success.
int baracuda_bench_read_floor_run(void* stream, const void* k, const void* v, long long half_bytes, int ctas, int ring,
                                  char* err, int err_len) {
  namespace rf = bench::read_floor;
  if (half_bytes <= 0 || half_bytes % rf::kGranule != 0 || ctas <= 0 || ring < 0 || ring > 1) {
    put(err, err_len, "read floor: half_bytes " + std::to_string(half_bytes) + " (a positive multiple of " +
                          std::to_string(rf::kGranule) + "), ctas " + std::to_string(ctas) + " (>= 1) or ring " +
                          std::to_string(ring) + " (0 or 1) out of range");
    return 1;
  }
  static int* sink = nullptr;  // the loop's keep-alive word, allocated once
  cudaError_t e = sink == nullptr ? cudaMalloc(&sink, sizeof(int)) : cudaSuccess;
  if (e == cudaSuccess)
    e = rf::launch(ring == 0 ? rf::Ring::small3x32k : rf::Ring::large2x64k, k, v, half_bytes, ctas, sink,
                   static_cast<cudaStream_t>(stream));
  if (e != cudaSuccess) {
    put(err, err_len, std::string("read floor: ") + cudaGetErrorString(e));
    return 1;
  }
  return 0;
}

}  // extern "C"
