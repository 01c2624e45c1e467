// Benchmark: KV-cache append through the public Plan API (the fastest plan
// for each problem). Prefill: B=8, H=8, L_new=2048, D=128, bf16 into a
// [B, H, 4096, D] cache; decode: B=64, H=8, L_new=1, D=128; both also into
// a paged cache of 16-token pages ([B * 256, H, 16, D], each sample's block
// table a shuffled set of pages). Inputs rotate over several buffer sets so
// prefill runs from DRAM, not L2.
// Bytes = read K_new + V_new, write the same into the cache; gbps over that.
// The card's device-to-device copy bandwidth is measured in the same run.
// Peer: tools/bench/peer_kv_append.py (torch index_put_, same configs).
#include <memory>

#include "baracuda/baracuda.hpp"
#include "bench_common.hpp"

using namespace baracuda;

namespace {

struct Problem {
  const char* name;
  std::int64_t batch, heads, new_len, max_len, dim;
  std::int64_t page_size = 0;  // 0: contiguous cache [B, H, max_len, D]; else pages covering max_len
};

void run(const Problem& p, double copy) {
  KvAppendDesc desc{Element::bf16, p.batch, p.heads, p.new_len, p.max_len, p.dim, p.dim};
  // Paged: every sample owns max_len / page_size pages, spread over the pool
  // in a shuffled order (a fixed permutation, so runs are comparable).
  const auto table = p.page_size > 0 ? bench::make_paged(desc, p.page_size) : nullptr;
  auto plan = KvAppendPlan::select(desc);
  if (!plan) {
    std::fprintf(stderr, "kv_append %s: %s\n", p.name, plan.status().message().c_str());
    return;
  }
  const std::size_t new_bytes = static_cast<std::size_t>(p.batch * p.heads * p.new_len * p.dim) * 2;
  const std::size_t cache_bytes = static_cast<std::size_t>(p.batch * p.heads * p.max_len * p.dim) * 2;
  // Enough sets that one pass over them exceeds the 50 MB L2 several times.
  const int sets = static_cast<int>(std::clamp<std::size_t>((256u << 20) / (2 * (new_bytes + cache_bytes)), 1, 32));
  struct Set {
    std::unique_ptr<bench::RandomBuffer> k, v, kc, vc, off;
    KvAppendArgs args;
  };
  std::vector<Set> s(static_cast<std::size_t>(sets));
  std::vector<std::int64_t> offsets(static_cast<std::size_t>(p.batch));
  for (std::int64_t b = 0; b < p.batch; ++b) offsets[static_cast<std::size_t>(b)] = (b * 37) % (p.max_len - p.new_len + 1);
  for (int i = 0; i < sets; ++i) {
    Set& x = s[static_cast<std::size_t>(i)];
    x.k = std::make_unique<bench::RandomBuffer>(new_bytes, 4 * i + 1);
    x.v = std::make_unique<bench::RandomBuffer>(new_bytes, 4 * i + 2);
    x.kc = std::make_unique<bench::RandomBuffer>(cache_bytes, 4 * i + 3);
    x.vc = std::make_unique<bench::RandomBuffer>(cache_bytes, 4 * i + 4);
    x.off = std::make_unique<bench::RandomBuffer>(offsets.size() * 8, 0);
    BENCH_CHECK(cudaMemcpy(x.off->get(), offsets.data(), offsets.size() * 8, cudaMemcpyHostToDevice));
    x.args.k_new = x.k->get();
    x.args.v_new = x.v->get();
    x.args.k_cache = x.kc->get();
    x.args.v_cache = x.vc->get();
    x.args.k_new_strides = x.args.v_new_strides = strides_bhld(p.heads, p.new_len, p.dim);
    x.args.k_cache_strides = x.args.v_cache_strides =
        p.page_size > 0 ? strides_bhld(p.heads, p.page_size, p.dim) : strides_bhld(p.heads, p.max_len, p.dim);
    if (table) {
      x.args.block_table = table->get();
      x.args.block_table_stride = desc.max_pages_per_seq;
    }
    x.args.offsets = static_cast<const std::int64_t*>(x.off->get());
  }
  if (Status st = plan->can_implement(s[0].args); !st.ok()) {
    std::fprintf(stderr, "kv_append %s: %s\n", p.name, st.message().c_str());
    return;
  }
  // Decode-size calls are timed 20 back to back (per-call throughput, as the peer).
  const int calls = p.new_len == 1 ? 20 : 1;
  const double us = bench::median_us(
      [&](int i) {
        const Status st = plan->run(nullptr, {}, s[static_cast<std::size_t>(i % sets)].args);
        if (!st.ok()) {
          std::fprintf(stderr, "%s\n", st.message().c_str());
          std::exit(1);
        }
      },
      30, calls);
  const double gbps = 4.0 * new_bytes / (us * 1e-6) / 1e9;
  char extra[160];
  std::snprintf(extra, sizeof(extra), "\"gbps\": %.1f, \"copy_gbps\": %.1f, \"frac_copy\": %.3f", gbps, copy,
                gbps / copy);
  char config[96];
  std::snprintf(config, sizeof(config), "bf16 B=%lld H=%lld L_new=%lld D=%lld %s", static_cast<long long>(p.batch),
                static_cast<long long>(p.heads), static_cast<long long>(p.new_len), static_cast<long long>(p.dim),
                p.name);
  bench::emit("kv_append", config, plan->sku().name, us, extra);
}

}  // namespace

int main() {
  const double copy = bench::copy_gbps();
  run({"prefill", 8, 8, 2048, 4096, 128}, copy);
  run({"decode", 64, 8, 1, 4096, 128}, copy);
  run({"prefill paged16", 8, 8, 2048, 4096, 128, 16}, copy);
  run({"decode paged16", 64, 8, 1, 4096, 128, 16}, copy);
  return 0;
}
