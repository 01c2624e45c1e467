// Benchmark of the rope and rope_kv_append SKUs through the public Plan API.
//
// Prints one JSON object per line prefixed by "BENCH " (keys: bench, config,
// impl, median_us, gbps, plus extras); tools/bench/peer_rope.py prints the
// PyTorch peers with the same config strings.
//
//   rope:            rotate-half, B=1, L=16384, H=32, D=128, bf16, Q only, in
//                    place, [B, L, H, D]: gbps = 2 * tensor bytes / time.
//                    Every compiled SKU that can run it (specialized, generic).
//   rope_kv_append:  decode-like (B=64, L_new=1) and prefill-like (B=4,
//                    L_new=2048), Hq=32, Hkv=8, D=128, bf16, cache
//                    [B, Hkv, 4096, D]; the fused SKU vs RopePlan then
//                    KvAppendPlan. gbps = bytes read + written of Q, K, V.
//   copy ceiling:    a device-to-device cudaMemcpy of the rope tensor, counted
//                    the same way (read + write), for the fraction of ceiling.
//
// Timing: CUDA events around each launch after warm-up, median of 50 reps;
// decode shapes (working set far below the 50 MB L2) rotate 16 input sets.
#include <cuda_runtime.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <string>
#include <vector>

#include "baracuda/baracuda.hpp"

using namespace baracuda;

namespace {

void die(const std::string& what) {
  std::fprintf(stderr, "bench_rope: %s\n", what.c_str());
  std::exit(1);
}
void cuda_ok(cudaError_t e, const char* what) {
  if (e != cudaSuccess) die(std::string(what) + ": " + cudaGetErrorString(e));
}
void status_ok(const Status& s, const char* what) {
  if (!s.ok()) die(std::string(what) + ": " + s.message());
}

constexpr int kWarmup = 10;
constexpr int kReps = 50;

// Median time in microseconds of launch(rep) over kReps reps, after warm-up.
double median_us(const std::function<void(int)>& launch) {
  for (int i = 0; i < kWarmup; ++i) launch(i);
  cuda_ok(cudaDeviceSynchronize(), "warm-up");
  std::vector<cudaEvent_t> ev(2 * kReps);
  for (auto& e : ev) cuda_ok(cudaEventCreate(&e), "cudaEventCreate");
  for (int i = 0; i < kReps; ++i) {
    cuda_ok(cudaEventRecord(ev[2 * i], nullptr), "cudaEventRecord");
    launch(kWarmup + i);
    cuda_ok(cudaEventRecord(ev[2 * i + 1], nullptr), "cudaEventRecord");
  }
  cuda_ok(cudaDeviceSynchronize(), "timed reps");
  std::vector<double> us(kReps);
  for (int i = 0; i < kReps; ++i) {
    float ms = 0.f;
    cuda_ok(cudaEventElapsedTime(&ms, ev[2 * i], ev[2 * i + 1]), "cudaEventElapsedTime");
    us[i] = 1000.0 * ms;
  }
  for (auto& e : ev) cudaEventDestroy(e);
  std::sort(us.begin(), us.end());
  return us[kReps / 2];
}

// Device bf16 buffer of n random values in [-1, 1) (never zeros).
void* random_bf16(std::size_t n, std::uint64_t seed) {
  std::vector<std::uint16_t> host(n);
  std::uint64_t x = seed * 0x9E3779B97F4A7C15ull + 1;
  for (auto& h : host) {
    x = x * 6364136223846793005ull + 1442695040888963407ull;
    const float f = static_cast<float>(static_cast<std::int32_t>(x >> 32)) * (1.0f / 2147483648.0f);
    std::uint32_t bits;
    std::memcpy(&bits, &f, 4);
    h = static_cast<std::uint16_t>((bits + 0x7FFFu + ((bits >> 16) & 1u)) >> 16);  // round to nearest even
  }
  void* d = nullptr;
  cuda_ok(cudaMalloc(&d, n * 2), "cudaMalloc");
  cuda_ok(cudaMemcpy(d, host.data(), n * 2, cudaMemcpyHostToDevice), "cudaMemcpy");
  return d;
}

template <class T>
T* upload(const std::vector<T>& v) {
  T* d = nullptr;
  cuda_ok(cudaMalloc(&d, v.size() * sizeof(T)), "cudaMalloc");
  cuda_ok(cudaMemcpy(d, v.data(), v.size() * sizeof(T), cudaMemcpyHostToDevice), "cudaMemcpy");
  return d;
}

void print(const char* bench, const std::string& config, const std::string& impl, double us, double bytes,
           const std::string& extra = "") {
  std::printf("BENCH {\"bench\": \"%s\", \"config\": \"%s\", \"impl\": \"%s\", \"median_us\": %.3f, \"gbps\": %.1f%s}\n",
              bench, config.c_str(), impl.c_str(), us, bytes / (us * 1e-6) / 1e9, extra.c_str());
  std::fflush(stdout);
}

// ------------------------------------------------------------- rope ----
void bench_rope() {
  const std::int64_t B = 1, L = 16384, H = 32, D = 128;
  const std::string config = "rope_neox_bf16_B1_L16384_H32_D128_inplace";
  const std::size_t n = static_cast<std::size_t>(B * L * H * D);
  const double bytes = 2.0 * static_cast<double>(n) * 2.0;
  void* q = random_bf16(n, 1);
  std::vector<std::int64_t> pos(static_cast<std::size_t>(B * L));
  for (std::size_t i = 0; i < pos.size(); ++i) pos[i] = static_cast<std::int64_t>(i);
  std::int64_t* d_pos = upload(pos);

  // Copy ceiling: the same bytes moved by the copy engine path.
  void* scratch = nullptr;
  cuda_ok(cudaMalloc(&scratch, n * 2), "cudaMalloc");
  const double copy_us = median_us([&](int) { cuda_ok(cudaMemcpyAsync(scratch, q, n * 2, cudaMemcpyDeviceToDevice, nullptr), "copy"); });
  print("rope", config, "cudaMemcpy_d2d", copy_us, bytes);

  RopeDesc desc;
  desc.element = Element::bf16;
  desc.batch = B;
  desc.seq_len = L;
  desc.heads_q = H;
  desc.heads_k = 0;
  desc.head_dim = D;
  desc.rope.style = RopeStyle::neox;
  RopeArgs args;
  args.q_in = q;
  args.q_out = q;
  args.q_in_strides = args.q_out_strides = strides_blhd(H, L, D);
  args.positions = d_pos;

  SkuFilter filter;
  filter.op = OpKind::rope;
  filter.element = Element::bf16;
  for (const KernelSku* sku : Catalog::query(filter)) {
    if (!(sku->variant & kVariantRopeNeox) || (sku->head_dim_qk != D && !sku->generic_head_dim())) continue;
    PlanPreference pref;
    pref.force_sku = sku->name;
    auto plan = RopePlan::select(desc, pref);
    if (!plan.ok()) continue;  // not runnable on this device
    const double us = median_us([&](int) { status_ok(plan->run(nullptr, Workspace{}, args), sku->name); });
    char extra[96];
    std::snprintf(extra, sizeof(extra), ", \"frac_of_copy\": %.3f", copy_us / us);
    print("rope", config, sku->name, us, bytes, extra);
  }
  cudaFree(scratch);
  cudaFree(q);
  cudaFree(d_pos);
}

// --------------------------------------------------- rope + append ----
void bench_fused(std::int64_t B, std::int64_t L, const std::string& config) {
  const std::int64_t Hq = 32, H = 8, D = 128, L_max = 4096;
  const std::size_t nq = static_cast<std::size_t>(B * L * Hq * D), nk = static_cast<std::size_t>(B * L * H * D);
  const double bytes = 2.0 * 2.0 * static_cast<double>(nq + 2 * nk);  // read + write, 2-byte elements
  // Input sets: enough to exceed the L2 several times over.
  const double set_bytes = 2.0 * static_cast<double>(nq + 2 * nk);
  const int sets = std::clamp(static_cast<int>(200e6 / set_bytes), 1, 16);

  struct Set { void *q, *k, *v; std::int64_t *pos, *off; };
  std::vector<Set> in(static_cast<std::size_t>(sets));
  for (int s = 0; s < sets; ++s) {
    std::vector<std::int64_t> off(static_cast<std::size_t>(B)), pos(static_cast<std::size_t>(B * L));
    for (std::int64_t b = 0; b < B; ++b) {
      off[static_cast<std::size_t>(b)] = L == 1 ? (b * 997 + s * 131) % (L_max - 1) : (b * 64 + s) % (L_max - L);
      for (std::int64_t l = 0; l < L; ++l) pos[static_cast<std::size_t>(b * L + l)] = off[static_cast<std::size_t>(b)] + l;
    }
    in[static_cast<std::size_t>(s)] = {random_bf16(nq, 10 + s), random_bf16(nk, 100 + s), random_bf16(nk, 1000 + s),
                                       upload(pos), upload(off)};
  }
  const std::size_t ncache = static_cast<std::size_t>(B * H * L_max * D);
  void* k_cache = random_bf16(ncache, 7);
  void* v_cache = random_bf16(ncache, 8);

  KvAppendDesc ad;
  ad.element = Element::bf16;
  ad.batch = B;
  ad.heads = H;
  ad.new_len = L;
  ad.max_len = L_max;
  ad.head_dim_k = ad.head_dim_v = D;
  auto append_args = [&](const Set& s) {
    KvAppendArgs a;
    a.k_new = s.k;
    a.v_new = s.v;
    a.k_new_strides = a.v_new_strides = strides_blhd(H, L, D);
    a.k_cache = k_cache;
    a.v_cache = v_cache;
    a.k_cache_strides = a.v_cache_strides = strides_bhld(H, L_max, D);
    a.offsets = s.off;
    return a;
  };

  // Fused.
  RopeKvAppendDesc fd;
  fd.append = ad;
  fd.heads_q = Hq;
  fd.rope.style = RopeStyle::neox;
  auto fplan = RopeKvAppendPlan::select(fd);
  status_ok(fplan.ok() ? Status::success() : fplan.status(), "select rope_kv_append");
  std::vector<RopeKvAppendArgs> fargs;
  for (const Set& s : in) {
    RopeKvAppendArgs a;
    a.append = append_args(s);
    a.q_in = s.q;
    a.q_out = s.q;
    a.q_in_strides = a.q_out_strides = strides_blhd(Hq, L, D);
    a.positions = s.pos;
    fargs.push_back(a);
  }
  const double fused_us = median_us([&](int i) {
    status_ok(fplan->run(nullptr, Workspace{}, fargs[static_cast<std::size_t>(i % sets)]), "rope_kv_append");
  });
  print("rope_kv_append", config, fplan->sku().name, fused_us, bytes);

  // RoPE (Q and K_new in place), then the plain append.
  RopeDesc rd;
  rd.element = Element::bf16;
  rd.batch = B;
  rd.seq_len = L;
  rd.heads_q = Hq;
  rd.heads_k = H;
  rd.head_dim = D;
  rd.rope.style = RopeStyle::neox;
  auto rplan = RopePlan::select(rd);
  status_ok(rplan.ok() ? Status::success() : rplan.status(), "select rope");
  auto aplan = KvAppendPlan::select(ad);
  status_ok(aplan.ok() ? Status::success() : aplan.status(), "select kv_append");
  std::vector<RopeArgs> rargs;
  for (const Set& s : in) {
    RopeArgs a;
    a.q_in = a.q_out = s.q;
    a.q_in_strides = a.q_out_strides = strides_blhd(Hq, L, D);
    a.k_in = a.k_out = s.k;
    a.k_in_strides = a.k_out_strides = strides_blhd(H, L, D);
    a.positions = s.pos;
    rargs.push_back(a);
  }
  const double two_us = median_us([&](int i) {
    const std::size_t s = static_cast<std::size_t>(i % sets);
    status_ok(rplan->run(nullptr, Workspace{}, rargs[s]), "rope");
    status_ok(aplan->run(nullptr, Workspace{}, append_args(in[s])), "kv_append");
  });
  const std::string impl = std::string(rplan->sku().name) + "+" + aplan->sku().name;
  char extra[96];
  std::snprintf(extra, sizeof(extra), ", \"fused_speedup\": %.3f", two_us / fused_us);
  print("rope_kv_append", config, impl, two_us, bytes, extra);

  for (Set& s : in) {
    cudaFree(s.q);
    cudaFree(s.k);
    cudaFree(s.v);
    cudaFree(s.pos);
    cudaFree(s.off);
  }
  cudaFree(k_cache);
  cudaFree(v_cache);
}

}  // namespace

int main() {
  int count = 0;
  if (cudaGetDeviceCount(&count) != cudaSuccess || count == 0) {
    std::printf("skipped: no GPU\n");
    return 0;
  }
  cudaDeviceProp prop{};
  cuda_ok(cudaGetDeviceProperties(&prop, 0), "cudaGetDeviceProperties");
  std::printf("device: %s, %d SMs\n", prop.name, prop.multiProcessorCount);
  bench_rope();
  bench_fused(64, 1, "rope_kv_append_neox_bf16_B64_L1_Hq32_Hkv8_D128_Lmax4096");
  bench_fused(4, 2048, "rope_kv_append_neox_bf16_B4_L2048_Hq32_Hkv8_D128_Lmax4096");
  return 0;
}
