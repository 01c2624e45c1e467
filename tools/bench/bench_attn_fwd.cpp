// Benchmark: attention forward (op attn_fwd) through the public Plan API.
//
// Problems (FlashAttention's benchmark convention): hidden 2048, so
// H = 2048 / D heads (rounded down), batch * seq = 16384; S in {1024, 4096,
// 16384}, D in {64, 128, 256} (--D: any other), causal and full, bf16 and
// f16; Sq = Sk = S, Hq = Hkv, inputs in [B, S, H, D] memory, as the peer's
// tensors.
// TFLOP/s = 4 * B * H * S^2 * D / time, halved for causal.
// Peer: tools/bench/peer_attn_fwd.py (same config strings).
//
// Usage: bench_attn_fwd [--quick] [--sku NAME]... [--dtype bf16|f16] [--S N] [--D N]
//                       [--causal | --full] [--reps N]
//   default: the SKU AttnFwdPlan::select picks as fastest for each problem;
//   --sku NAME: that SKU forced (PlanPreference::force_sku), once per NAME; a
//   NAME this build did not compile is skipped with a message;
//   --quick: bf16, S = 4096 only.
//
// Output: one JSON object per line, prefixed "BENCH ", keys bench, config,
// impl (SKU name), median_us, tflops, plus arch, reps and sets (input sets
// rotated; 1 when a set is larger than twice the L2).
#include <cuda_runtime_api.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "baracuda/baracuda.hpp"
#include "bench_common.hpp"

namespace {

using namespace baracuda;

constexpr int kHidden = 2048;
constexpr std::int64_t kTokens = 16384;  // batch * seq
constexpr int kWarmup = 5;

struct Options {
  bool quick = false;
  std::vector<std::string> skus;  // empty: the fastest SKU per problem
  std::string dtype;              // empty: both
  int seq = 0;                    // 0: all
  int dim = 0;                    // 0: all
  int causal = -1;                // -1: both
  int reps = 30;
};

struct Problem {
  Element element;
  int seq;
  int dim;
  bool causal;
  std::int64_t batch() const { return kTokens / seq; }
  std::int64_t heads() const { return kHidden / dim; }
  std::string config() const {
    return std::string(element == Element::bf16 ? "bf16" : "f16") + " B=" + std::to_string(batch()) +
           " H=" + std::to_string(heads()) + " S=" + std::to_string(seq) + " D=" + std::to_string(dim) +
           (causal ? " causal" : " full");
  }
  double flops() const {
    const double f = 4.0 * static_cast<double>(batch()) * static_cast<double>(heads()) * seq * static_cast<double>(seq) * dim;
    return causal ? f / 2 : f;
  }
};

// Times one plan over `sets` rotating input sets; returns the median in
// microseconds (bench::launch_us: an event after every run and nothing waits
// between runs, so the host stays ahead and launch overhead is not timed).
double time_plan(const AttnFwdPlan& plan, const std::vector<AttnFwdArgs>& sets, void* workspace, int reps) {
  const Workspace ws{workspace, plan.workspace_size()};
  auto launch = [&](int r) {
    const Status s = plan.run(nullptr, ws, sets[static_cast<std::size_t>(r) % sets.size()]);
    if (!s.ok()) {
      std::fprintf(stderr, "run %s: %s\n", plan.sku().name, s.message().c_str());
      std::exit(1);
    }
  };
  return bench::median(bench::launch_us(launch, reps, kWarmup), bench::Middle::mean);
}

void bench_problem(const Problem& pb, const Options& opt, std::size_t l2_bytes, std::mt19937_64& rng) {
  const std::int64_t B = pb.batch(), H = pb.heads(), S = pb.seq, D = pb.dim;
  const std::size_t elems = static_cast<std::size_t>(B * S * H * D);
  const double set_bytes = 4.0 * static_cast<double>(elems) * 2.0;  // q, k, v, o
  // Rotate input sets while one set would stay in L2 (about 4x L2 in total).
  const int sets_n = set_bytes > 2.0 * static_cast<double>(l2_bytes)
                         ? 1
                         : static_cast<int>(std::min(8.0, std::ceil(4.0 * static_cast<double>(l2_bytes) / set_bytes)));

  AttnFwdDesc desc;
  desc.element = pb.element;
  desc.batch = B;
  desc.heads_q = H;
  desc.heads_kv = H;
  desc.seq_q = S;
  desc.seq_k = S;
  desc.head_dim_qk = D;
  desc.head_dim_v = D;
  desc.causal = pb.causal;
  desc.scale = 0.0f;

  // Plans first: nothing is allocated for a problem no SKU can run.
  std::vector<AttnFwdPlan> plans;
  if (opt.skus.empty()) {
    auto plan = AttnFwdPlan::select(desc);
    if (!plan.ok()) {
      std::printf("# %s: no SKU: %s\n", pb.config().c_str(), plan.status().message().c_str());
      return;
    }
    plans.push_back(plan.value());
  } else {
    for (const std::string& name : opt.skus) {
      if (Catalog::find(name) == nullptr) {
        std::printf("# %s: skip %s: not compiled in this build\n", pb.config().c_str(), name.c_str());
        continue;
      }
      PlanPreference pref;
      pref.force_sku = name;
      auto plan = AttnFwdPlan::select(desc, pref);
      if (!plan.ok()) {
        std::printf("# %s: skip %s: %s\n", pb.config().c_str(), name.c_str(), plan.status().message().c_str());
        continue;
      }
      plans.push_back(plan.value());
    }
  }
  if (plans.empty()) return;

  std::vector<std::unique_ptr<bench::RandomBuffer>> inputs;
  std::vector<void*> outputs;  // o and lse of every set
  std::vector<AttnFwdArgs> sets;
  const Strides3 st = strides_blhd(H, S, D);  // [B, S, H, D] memory
  for (int i = 0; i < sets_n; ++i) {
    AttnFwdArgs a;
    const bench::Bits16 kind = pb.element == Element::bf16 ? bench::Bits16::bf16 : bench::Bits16::f16;
    for (int t = 0; t < 3; ++t) inputs.push_back(std::make_unique<bench::RandomBuffer>(elems * 2, rng(), kind));
    a.q = inputs[inputs.size() - 3]->get();
    a.k = inputs[inputs.size() - 2]->get();
    a.v = inputs[inputs.size() - 1]->get();
    a.q_strides = a.k_strides = a.v_strides = a.o_strides = st;
    void* o = nullptr;
    void* lse = nullptr;
    BENCH_CHECK(cudaMalloc(&o, elems * 2));
    BENCH_CHECK(cudaMalloc(&lse, static_cast<std::size_t>(B * H * S) * sizeof(float)));
    outputs.push_back(o);
    outputs.push_back(lse);
    a.o = o;
    a.lse = static_cast<float*>(lse);
    sets.push_back(a);
  }

  for (const AttnFwdPlan& plan : plans) {
    if (const Status s = plan.can_implement(sets.front()); !s.ok()) {
      std::printf("# %s: skip %s: %s\n", pb.config().c_str(), plan.sku().name, s.message().c_str());
      continue;
    }
    void* workspace = nullptr;
    if (plan.workspace_size() > 0) BENCH_CHECK(cudaMalloc(&workspace, plan.workspace_size()));
    const double us = time_plan(plan, sets, workspace, opt.reps);
    if (workspace != nullptr) BENCH_CHECK(cudaFree(workspace));
    std::printf(
        "BENCH {\"bench\": \"attn_fwd\", \"config\": \"%s\", \"impl\": \"%s\", \"median_us\": %.2f, "
        "\"tflops\": %.1f, \"arch\": \"%s\", \"reps\": %d, \"sets\": %d}\n",
        pb.config().c_str(), plan.sku().name, us, pb.flops() / (us * 1e6),
        std::string(to_string(plan.sku().arch)).c_str(), opt.reps, sets_n);
    std::fflush(stdout);
  }
  for (void* o : outputs) BENCH_CHECK(cudaFree(o));
}

Options parse(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "%s needs a value\n", a.c_str());
        std::exit(2);
      }
      return argv[++i];
    };
    if (a == "--quick") {
      o.quick = true;
    } else if (a == "--sku") {
      o.skus.push_back(value());
    } else if (a == "--dtype") {
      o.dtype = value();
    } else if (a == "--S") {
      o.seq = std::atoi(value().c_str());
    } else if (a == "--D") {
      o.dim = std::atoi(value().c_str());
    } else if (a == "--causal") {
      o.causal = 1;
    } else if (a == "--full") {
      o.causal = 0;
    } else if (a == "--reps") {
      o.reps = std::max(20, std::atoi(value().c_str()));
    } else {
      const bool help = a == "--help" || a == "-h";
      std::fprintf(help ? stdout : stderr,
                   "usage: %s [--quick] [--sku NAME]... [--dtype bf16|f16] [--S N] [--D N] [--causal|--full] "
                   "[--reps N>=20]\n",
                   argv[0]);
      std::exit(help ? 0 : 2);
    }
  }
  if (o.quick) {
    if (o.dtype.empty()) o.dtype = "bf16";
    if (o.seq == 0) o.seq = 4096;
  }
  return o;
}

}  // namespace

int main(int argc, char** argv) {
  const Options opt = parse(argc, argv);
  int count = 0;
  if (cudaGetDeviceCount(&count) != cudaSuccess || count == 0) {
    std::printf("skipped: no GPU\n");
    return 0;
  }
  cudaDeviceProp prop{};
  BENCH_CHECK(cudaGetDeviceProperties(&prop, 0));
  std::printf("# device: %s, %d SMs, L2 %d MB\n", prop.name, prop.multiProcessorCount, prop.l2CacheSize >> 20);
  std::mt19937_64 rng(20240611);

  for (const Element e : {Element::bf16, Element::f16}) {
    if (!opt.dtype.empty() && opt.dtype != (e == Element::bf16 ? "bf16" : "f16")) continue;
    for (const bool causal : {false, true}) {
      if (opt.causal >= 0 && causal != (opt.causal == 1)) continue;
      for (const int seq : {1024, 4096, 16384}) {
        if (opt.seq != 0 && seq != opt.seq) continue;
        // --D names any head dim (a catalog SKU must exist for it); default 64, 128, 256.
        const std::vector<int> dims = opt.dim != 0 ? std::vector<int>{opt.dim} : std::vector<int>{64, 128, 256};
        for (const int dim : dims) {
          bench_problem(Problem{e, seq, dim, causal}, opt, static_cast<std::size_t>(prop.l2CacheSize), rng);
        }
      }
    }
  }
  return 0;
}
