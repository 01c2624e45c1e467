// Benchmark: decode attention over the KV cache (op attn_decode) through the
// public Plan API, every bf16 head-dim-128 decode SKU forced in turn.
// Problems: Hq = 32, Hkv = 8, D = 128, one new token, every sample at the full
// length L; (B, L) in {(1, 32768), (16, 8192), (64, 4096), (128, 2048),
// (32, 32768)}, contiguous cache [B, Hkv, L, D] and paged cache (page 16,
// shuffled block table). Bandwidth = K + V bytes read / median time.
// Peer: tools/bench/peer_attn_decode.py (same config strings).
//
// Output: one JSON object per line, prefixed "BENCH ", keys bench, config,
// impl, median_us, gbps, plus cache, splits, workspace_bytes, copy_gbps (a
// device-to-device copy measured in the same run: bytes read + written) and
// frac_copy (gbps / copy_gbps).
#include <cuda_runtime_api.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <numeric>
#include <random>
#include <string>
#include <vector>

#include "baracuda/baracuda.hpp"
#include "baracuda/decode_tuning.hpp"

namespace {

using namespace baracuda;

#define BENCH_CUDA(expr)                                                                     \
  do {                                                                                       \
    const cudaError_t err_ = (expr);                                                         \
    if (err_ != cudaSuccess) {                                                               \
      std::fprintf(stderr, "%s:%d: %s: %s\n", __FILE__, __LINE__, #expr, cudaGetErrorString(err_)); \
      std::exit(1);                                                                          \
    }                                                                                        \
  } while (0)

constexpr int kHeadsQ = 32;
constexpr int kHeadsKv = 8;
constexpr int kDim = 128;
constexpr int kPageSize = 16;
constexpr int kWarmup = 5;
constexpr int kReps = 30;

// bf16 bits of a float (round to nearest even); finite inputs only.
std::uint16_t to_bf16_bits(float x) {
  std::uint32_t u;
  std::memcpy(&u, &x, sizeof(u));
  u += 0x7fffu + ((u >> 16) & 1u);
  return static_cast<std::uint16_t>(u >> 16);
}

// Device buffer of `count` bf16 values drawn from N(0, 1): a 16 Mi-element
// random block, copied over the whole buffer (never zeros).
struct Bf16Buffer {
  void* ptr = nullptr;
  std::size_t count = 0;
  Bf16Buffer(std::size_t n, const std::vector<std::uint16_t>& block) : count(n) {
    BENCH_CUDA(cudaMalloc(&ptr, n * 2));
    for (std::size_t off = 0; off < n; off += block.size()) {
      const std::size_t len = std::min(block.size(), n - off);
      BENCH_CUDA(cudaMemcpy(static_cast<std::uint16_t*>(ptr) + off, block.data(), len * 2, cudaMemcpyHostToDevice));
    }
  }
  Bf16Buffer(const Bf16Buffer&) = delete;
  Bf16Buffer& operator=(const Bf16Buffer&) = delete;
  ~Bf16Buffer() { cudaFree(ptr); }
};

template <class T>
struct DeviceArray {
  T* ptr = nullptr;
  explicit DeviceArray(const std::vector<T>& host) {
    BENCH_CUDA(cudaMalloc(reinterpret_cast<void**>(&ptr), std::max<std::size_t>(host.size(), 1) * sizeof(T)));
    if (!host.empty()) BENCH_CUDA(cudaMemcpy(ptr, host.data(), host.size() * sizeof(T), cudaMemcpyHostToDevice));
  }
  explicit DeviceArray(std::size_t n) {
    BENCH_CUDA(cudaMalloc(reinterpret_cast<void**>(&ptr), std::max<std::size_t>(n, 1) * sizeof(T)));
  }
  DeviceArray(const DeviceArray&) = delete;
  DeviceArray& operator=(const DeviceArray&) = delete;
  ~DeviceArray() { cudaFree(ptr); }
};

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const std::size_t n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

// Device-to-device copy bandwidth (bytes read + written), the ceiling.
double copy_gbps() {
  const std::size_t bytes = std::size_t{2} << 30;
  void *a = nullptr, *b = nullptr;
  BENCH_CUDA(cudaMalloc(&a, bytes));
  BENCH_CUDA(cudaMalloc(&b, bytes));
  BENCH_CUDA(cudaMemset(a, 1, bytes));
  cudaEvent_t e0, e1;
  BENCH_CUDA(cudaEventCreate(&e0));
  BENCH_CUDA(cudaEventCreate(&e1));
  std::vector<double> us;
  for (int r = 0; r < kWarmup + 10; ++r) {
    BENCH_CUDA(cudaEventRecord(e0));
    BENCH_CUDA(cudaMemcpyAsync(b, a, bytes, cudaMemcpyDeviceToDevice));
    BENCH_CUDA(cudaEventRecord(e1));
    BENCH_CUDA(cudaEventSynchronize(e1));
    float ms = 0.f;
    BENCH_CUDA(cudaEventElapsedTime(&ms, e0, e1));
    if (r >= kWarmup) us.push_back(ms * 1e3);
  }
  cudaEventDestroy(e0);
  cudaEventDestroy(e1);
  cudaFree(a);
  cudaFree(b);
  return 2.0 * static_cast<double>(bytes) / (median(us) * 1e3);
}

struct Shape {
  int batch;
  int len;
};

void bench_shape(const Shape& s, bool paged, const std::vector<std::uint16_t>& block, std::mt19937_64& rng,
                 double copy, std::size_t l2_bytes, const Target& target) {
  const std::int64_t cache_elems = std::int64_t{s.batch} * kHeadsKv * s.len * kDim;
  const double kv_bytes = 2.0 * static_cast<double>(cache_elems) * 2.0;
  // Rotate input sets while one set would sit in L2 (4x its size in total).
  const int sets = static_cast<int>(std::max<double>(1.0, std::ceil(4.0 * static_cast<double>(l2_bytes) / kv_bytes)));

  DecodeDesc d;
  d.element = Element::bf16;
  d.seqlen_element = Element::i32;
  d.batch = s.batch;
  d.heads_q = kHeadsQ;
  d.heads_kv = kHeadsKv;
  d.q_len = 1;
  d.head_dim = kDim;
  d.paged = paged;
  std::int64_t pages_per_seq = 0;
  if (paged) {
    pages_per_seq = s.len / kPageSize;
    d.page_size = kPageSize;
    d.max_pages_per_seq = pages_per_seq;
    d.num_pages = s.batch * pages_per_seq;
  } else {
    d.max_len = s.len;
  }

  struct Set {
    std::unique_ptr<Bf16Buffer> q, k, v;
    std::unique_ptr<DeviceArray<std::int32_t>> bt;
  };
  std::vector<Set> in(static_cast<std::size_t>(sets));
  for (Set& set : in) {
    set.q = std::make_unique<Bf16Buffer>(static_cast<std::size_t>(s.batch) * kHeadsQ * kDim, block);
    set.k = std::make_unique<Bf16Buffer>(static_cast<std::size_t>(cache_elems), block);
    set.v = std::make_unique<Bf16Buffer>(static_cast<std::size_t>(cache_elems), block);
    if (paged) {
      std::vector<std::int32_t> table(static_cast<std::size_t>(d.num_pages));
      std::iota(table.begin(), table.end(), 0);
      std::shuffle(table.begin(), table.end(), rng);
      set.bt = std::make_unique<DeviceArray<std::int32_t>>(table);
    }
  }
  DeviceArray<std::int32_t> seqlens(std::vector<std::int32_t>(static_cast<std::size_t>(s.batch), s.len));
  DeviceArray<std::uint16_t> o(static_cast<std::size_t>(s.batch) * kHeadsQ * kDim);
  DeviceArray<float> lse(static_cast<std::size_t>(s.batch) * kHeadsQ);

  const std::string config = "bf16 B=" + std::to_string(s.batch) + " L=" + std::to_string(s.len) +
                             " Hq=" + std::to_string(kHeadsQ) + " Hkv=" + std::to_string(kHeadsKv) +
                             " D=" + std::to_string(kDim);
  SkuFilter filter;
  filter.op = OpKind::attn_decode;
  filter.element = Element::bf16;
  filter.head_dim = kDim;
  for (const KernelSku* sku : Catalog::query(filter)) {
    if (((sku->variant & kVariantPaged) != 0) != paged || !Catalog::has_code_for(*sku, target)) continue;
    PlanPreference pref;
    pref.force_sku = sku->name;
    auto plan = DecodePlan::select(d, pref, target);
    if (!plan.ok()) {
      std::fprintf(stderr, "%s: %s\n", sku->name, plan.status().message().c_str());
      continue;
    }
    void* ws = nullptr;
    if (plan->workspace_size() > 0) BENCH_CUDA(cudaMalloc(&ws, plan->workspace_size()));
    std::vector<DecodeArgs> args(in.size());
    for (std::size_t i = 0; i < in.size(); ++i) {
      DecodeArgs& a = args[i];
      a.q = in[i].q->ptr;
      a.q_strides = strides_bhld(kHeadsQ, 1, kDim);
      a.k_cache = in[i].k->ptr;
      a.v_cache = in[i].v->ptr;
      a.k_cache_strides = paged ? strides_bhld(kHeadsKv, kPageSize, kDim) : strides_bhld(kHeadsKv, s.len, kDim);
      a.v_cache_strides = a.k_cache_strides;
      a.seqlens = seqlens.ptr;
      a.block_table = paged ? in[i].bt->ptr : nullptr;
      a.block_table_stride = pages_per_seq;
      a.o = o.ptr;
      a.o_strides = strides_bhld(kHeadsQ, 1, kDim);
      a.lse = lse.ptr;
    }
    // Events between back-to-back runs: the queue stays full, so each gap is
    // device time (host-side validation overlaps the previous run).
    const int total = kWarmup + kReps;
    std::vector<cudaEvent_t> ev(static_cast<std::size_t>(total) + 1);
    for (auto& e : ev) BENCH_CUDA(cudaEventCreate(&e));
    bool failed = false;
    BENCH_CUDA(cudaEventRecord(ev[0]));
    for (int r = 0; r < total; ++r) {
      const Status st = plan->run(nullptr, Workspace{ws, plan->workspace_size()}, args[static_cast<std::size_t>(r) % args.size()]);
      if (!st.ok()) {
        std::fprintf(stderr, "%s: %s\n", sku->name, st.message().c_str());
        failed = true;
        break;
      }
      BENCH_CUDA(cudaEventRecord(ev[static_cast<std::size_t>(r) + 1]));
    }
    BENCH_CUDA(cudaDeviceSynchronize());
    std::vector<double> us;
    for (int r = kWarmup; r < total && !failed; ++r) {
      float ms = 0.f;
      BENCH_CUDA(cudaEventElapsedTime(&ms, ev[static_cast<std::size_t>(r)], ev[static_cast<std::size_t>(r) + 1]));
      us.push_back(ms * 1e3);
    }
    for (auto& e : ev) cudaEventDestroy(e);
    if (ws) cudaFree(ws);
    if (failed) continue;
    const double t = median(us);
    const double gbps = kv_bytes / (t * 1e3);
    const DecodeSplit split = decode_split(d.batch, d.heads_kv, paged ? pages_per_seq * kPageSize : s.len,
                                           target.sm_count, (sku->variant & kVariantFixedSplit) != 0);
    std::printf(
        "BENCH {\"bench\": \"attn_decode\", \"config\": \"%s\", \"impl\": \"%s\", \"cache\": \"%s\", "
        "\"median_us\": %.2f, \"gbps\": %.1f, \"splits\": %d, \"workspace_bytes\": %zu, \"copy_gbps\": %.1f, "
        "\"frac_copy\": %.3f}\n",
        config.c_str(), sku->name, paged ? "paged16" : "contiguous", t, gbps, split.num_splits,
        plan->workspace_size(), copy, gbps / copy);
    std::fflush(stdout);
  }
}

}  // namespace

int main() {
  auto target = Target::from_device(0);
  if (!target.ok()) {
    std::printf("skipped: no GPU (%s)\n", target.status().message().c_str());
    return 0;
  }
  cudaDeviceProp prop{};
  BENCH_CUDA(cudaGetDeviceProperties(&prop, 0));
  std::printf("device: %s, %d SMs, L2 %d MB\n", prop.name, prop.multiProcessorCount, prop.l2CacheSize >> 20);

  std::mt19937_64 rng(20240611);
  std::normal_distribution<float> normal(0.f, 1.f);
  std::vector<std::uint16_t> block(std::size_t{1} << 24);
  for (auto& x : block) x = to_bf16_bits(normal(rng));

  const double copy = copy_gbps();
  std::printf("copy bandwidth (read + write): %.1f GB/s\n", copy);
  const Shape shapes[] = {{1, 32768}, {16, 8192}, {64, 4096}, {128, 2048}, {32, 32768}};
  for (const Shape& s : shapes) {
    bench_shape(s, false, block, rng, copy, static_cast<std::size_t>(prop.l2CacheSize), target.value());
    bench_shape(s, true, block, rng, copy, static_cast<std::size_t>(prop.l2CacheSize), target.value());
  }
  return 0;
}
