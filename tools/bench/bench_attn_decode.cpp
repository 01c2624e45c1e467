// Benchmark: decode attention over the KV cache (op attn_decode) through the
// public Plan API, every bf16 decode SKU of the head dim forced in turn.
// Problems: Hq = 32, Hkv = 8, one new token, every sample at the full length
// L; D = 128 with (B, L) in {(1, 32768), (16, 8192), (64, 4096), (128, 2048),
// (32, 32768)}, and D = 64 and 256 with (B, L) in {(1, 32768), (16, 8192),
// (128, 2048)}; contiguous cache [B, Hkv, L, D] and paged cache (page 16,
// shuffled block table). Bandwidth = K + V bytes read / median time.
// Peer: tools/bench/peer_attn_decode.py (same config strings).
//
// Output: one JSON object per line, prefixed "BENCH ", keys bench, config,
// impl, median_us, gbps, plus cache, splits, workspace_bytes, copy_gbps (a
// device-to-device copy measured in the same run: bytes read + written) and
// frac_copy (gbps / copy_gbps).
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <numeric>
#include <random>
#include <string>
#include <vector>

#include "baracuda/baracuda.hpp"
#include "baracuda/decode_tuning.hpp"
#include "bench_common.hpp"

namespace {

using namespace baracuda;

constexpr int kHeadsQ = 32;
constexpr int kHeadsKv = 8;
constexpr int kPageSize = 16;
constexpr int kWarmup = 5;
constexpr int kReps = 30;

struct Shape {
  int batch;
  int len;
};

void bench_shape(const Shape& s, int dim, bool paged, std::mt19937_64& rng, double copy, std::size_t l2_bytes,
                 const Target& target) {
  const std::int64_t cache_elems = std::int64_t{s.batch} * kHeadsKv * s.len * dim;
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
  d.head_dim = dim;
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
    std::unique_ptr<bench::RandomBuffer> q, k, v;
    std::unique_ptr<bench::DeviceArray<std::int32_t>> bt;
  };
  std::vector<Set> in(static_cast<std::size_t>(sets));
  for (std::size_t i = 0; i < in.size(); ++i) {
    Set& set = in[i];
    set.q = std::make_unique<bench::RandomBuffer>(static_cast<std::size_t>(s.batch) * kHeadsQ * dim * 2, 3 * i + 1);
    set.k = std::make_unique<bench::RandomBuffer>(static_cast<std::size_t>(cache_elems) * 2, 3 * i + 2);
    set.v = std::make_unique<bench::RandomBuffer>(static_cast<std::size_t>(cache_elems) * 2, 3 * i + 3);
    if (paged) {
      std::vector<std::int32_t> table(static_cast<std::size_t>(d.num_pages));
      std::iota(table.begin(), table.end(), 0);
      std::shuffle(table.begin(), table.end(), rng);
      set.bt = std::make_unique<bench::DeviceArray<std::int32_t>>(table);
    }
  }
  const bench::DeviceArray<std::int32_t> seqlens(std::vector<std::int32_t>(static_cast<std::size_t>(s.batch), s.len));
  const bench::DeviceArray<std::uint16_t> o(static_cast<std::size_t>(s.batch) * kHeadsQ * dim);
  const bench::DeviceArray<float> lse(static_cast<std::size_t>(s.batch) * kHeadsQ);

  const std::string config = "bf16 B=" + std::to_string(s.batch) + " L=" + std::to_string(s.len) +
                             " Hq=" + std::to_string(kHeadsQ) + " Hkv=" + std::to_string(kHeadsKv) +
                             " D=" + std::to_string(dim);
  SkuFilter filter;
  filter.op = OpKind::attn_decode;
  filter.element = Element::bf16;
  filter.head_dim = dim;
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
    if (plan->workspace_size() > 0) BENCH_CHECK(cudaMalloc(&ws, plan->workspace_size()));
    std::vector<DecodeArgs> args(in.size());
    for (std::size_t i = 0; i < in.size(); ++i) {
      DecodeArgs& a = args[i];
      a.q = in[i].q->get();
      a.q_strides = strides_bhld(kHeadsQ, 1, dim);
      a.k_cache = in[i].k->get();
      a.v_cache = in[i].v->get();
      a.k_cache_strides = paged ? strides_bhld(kHeadsKv, kPageSize, dim) : strides_bhld(kHeadsKv, s.len, dim);
      a.v_cache_strides = a.k_cache_strides;
      a.seqlens = seqlens.get();
      a.block_table = paged ? in[i].bt->get() : nullptr;
      a.block_table_stride = pages_per_seq;
      a.o = o.get();
      a.o_strides = strides_bhld(kHeadsQ, 1, dim);
      a.lse = lse.get();
    }
    // Events between back-to-back runs: the queue stays full, so each gap is
    // device time (host-side validation overlaps the previous run). A failed
    // run stops the launches and skips the SKU.
    bool failed = false;
    const std::vector<double> us = bench::launch_us(
        [&](int r) {
          if (failed) return;
          const Status st = plan->run(nullptr, Workspace{ws, plan->workspace_size()},
                                      args[static_cast<std::size_t>(r) % args.size()]);
          if (!st.ok()) {
            std::fprintf(stderr, "%s: %s\n", sku->name, st.message().c_str());
            failed = true;
          }
        },
        kReps, kWarmup);
    if (ws) cudaFree(ws);
    if (failed) continue;
    const double t = bench::median(us, bench::Middle::mean);
    const double gbps = kv_bytes / (t * 1e3);
    const DecodeSplit split = decode_split(d.batch, d.heads_kv, paged ? pages_per_seq * kPageSize : s.len,
                                           target.sm_count, (sku->variant & kVariantFixedSplit) != 0, paged);
    bench::emit_row("attn_decode", config, sku->name,
                    bench::format("\"cache\": \"%s\", \"median_us\": %.2f, \"gbps\": %.1f, \"splits\": %d, "
                                  "\"workspace_bytes\": %zu, \"copy_gbps\": %.1f, \"frac_copy\": %.3f",
                                  paged ? "paged16" : "contiguous", t, gbps, split.num_splits, plan->workspace_size(),
                                  copy, gbps / copy));
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
  BENCH_CHECK(cudaGetDeviceProperties(&prop, 0));
  std::printf("device: %s, %d SMs, L2 %d MB\n", prop.name, prop.multiProcessorCount, prop.l2CacheSize >> 20);

  std::mt19937_64 rng(20240611);  // block-table shuffles
  // Copy ceiling: 2 GiB device-to-device copies, median of 10.
  const double copy = bench::copy_gbps(std::size_t{2} << 30, bench::Middle::mean);
  std::printf("copy bandwidth (read + write): %.1f GB/s\n", copy);
  const auto l2 = static_cast<std::size_t>(prop.l2CacheSize);
  const Shape shapes[] = {{1, 32768}, {16, 8192}, {64, 4096}, {128, 2048}, {32, 32768}};
  for (const Shape& s : shapes) {
    bench_shape(s, 128, false, rng, copy, l2, target.value());
    bench_shape(s, 128, true, rng, copy, l2, target.value());
  }
  // The other head dims: split-KV, one wave, several waves.
  const Shape other_shapes[] = {{1, 32768}, {16, 8192}, {128, 2048}};
  for (const int dim : {64, 256}) {
    for (const Shape& s : other_shapes) {
      bench_shape(s, dim, false, rng, copy, l2, target.value());
      bench_shape(s, dim, true, rng, copy, l2, target.value());
    }
  }
  return 0;
}
