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
//                    L_new=2048), Hq=32, Hkv=8 (prefill also 4 and 16),
//                    D=128, bf16, cache [B, Hkv, 4096, D] (Hkv=8 also
//                    paged, 16-token pages under a shuffled block table;
//                    prefill also [B, 4096, Hkv, D]: a token's K rows then
//                    land in one 2 KB run); the fused SKU vs RopePlan then
//                    KvAppendPlan back to back. gbps = bytes read + written
//                    of Q, K, V.
//                    The fused row also reports saved_us (sequence - fused),
//                    saved_pass_us (the K_new write + re-read the fusion
//                    skips, 4 B per K_new element, at the copy rate) and
//                    parts_alone_us (RoPE alone + append alone, each timed
//                    on its own: back to back, the append finds part of the
//                    K_new RoPE just wrote still in the L2), frac_copy (a
//                    cudaMemcpy of the fused call's bytes / the fused time)
//                    and saved_ceiling_us (sequence - that copy: the most a
//                    fused kernel could save). bench-rope-floor times the
//                    fused kernel's access pattern without its math.
//   copy ceiling:    a device-to-device cudaMemcpy of the rope tensor, counted
//                    the same way (read + write), for the fraction of ceiling.
//
// Timing: CUDA events around each launch after warm-up, median of 50 reps;
// decode shapes (working set far below the 50 MB L2) rotate 16 input sets.
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "baracuda/baracuda.hpp"
#include "bench_common.hpp"

using namespace baracuda;

namespace {

void status_ok(const Status& s, const char* what) {
  if (!s.ok()) {
    std::fprintf(stderr, "bench_rope: %s: %s\n", what, s.message().c_str());
    std::exit(1);
  }
}

constexpr int kWarmup = 10;
constexpr int kReps = 50;

// Median time in microseconds of launch(rep) over kReps reps, each launch
// timed on its own, after kWarmup warm-up launches and a synchronize.
double median_us(const std::function<void(int)>& launch) {
  return bench::median(bench::launch_us(launch, kReps, kWarmup, /*drain_warmup=*/true));
}

// Neox RoPE over [B, L, H, D] bf16 tensors.
RopeDesc rope_desc(std::int64_t B, std::int64_t L, std::int64_t Hq, std::int64_t Hk, std::int64_t D) {
  return RopeDesc{Element::bf16, B, L, Hq, Hk, D, RopeParams{RopeStyle::neox}};
}

// One BENCH row with gbps = bytes / time, then `extra` (", "-led JSON fields).
void print(const char* name, const std::string& config, const std::string& impl, double us, double bytes,
           const std::string& extra = "") {
  bench::emit(name, config, impl, us, bench::format("\"gbps\": %.1f", bytes / (us * 1e-6) / 1e9) + extra);
}

// ------------------------------------------------------------- rope ----
// Returns the copy rate (GB/s, bytes read + written) for bench_fused's saved-pass figure.
double bench_rope() {
  const std::int64_t B = 1, L = 16384, H = 32, D = 128;
  const std::string config = "rope_neox_bf16_B1_L16384_H32_D128_inplace";
  const std::size_t n = static_cast<std::size_t>(B * L * H * D);
  const double bytes = 2.0 * static_cast<double>(n) * 2.0;
  bench::RandomBuffer q(n * 2, 1);
  std::vector<std::int64_t> pos(static_cast<std::size_t>(B * L));
  for (std::size_t i = 0; i < pos.size(); ++i) pos[i] = static_cast<std::int64_t>(i);
  const bench::DeviceArray<std::int64_t> d_pos(pos);

  // Copy ceiling: the same bytes moved by the copy engine path.
  const bench::DeviceArray<std::uint16_t> scratch(n);
  const double copy_us = median_us(
      [&](int) { BENCH_CHECK(cudaMemcpyAsync(scratch.get(), q.get(), n * 2, cudaMemcpyDeviceToDevice, nullptr)); });
  print("rope", config, "cudaMemcpy_d2d", copy_us, bytes);

  const RopeDesc desc = rope_desc(B, L, H, 0, D);
  RopeArgs args;
  args.q_in = q.get();
  args.q_out = q.get();
  args.q_in_strides = args.q_out_strides = strides_blhd(H, L, D);
  args.positions = d_pos.get();

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
    print("rope", config, sku->name, us, bytes, bench::format(", \"frac_copy\": %.3f", copy_us / us));
  }
  return bytes / (copy_us * 1e-6) / 1e9;
}

// --------------------------------------------------- rope + append ----
// The KV cache bench_fused writes: [B, H, L_max, D], [B, L_max, H, D], or
// pages of 16 tokens [B * L_max / 16, H, 16, D] under a shuffled block table.
enum class Cache { bhld, blhd, paged16 };

void bench_fused(std::int64_t B, std::int64_t L, std::int64_t H, const std::string& config, double copy_gbps,
                 Cache cache = Cache::bhld) {
  const std::int64_t Hq = 32, D = 128, L_max = 4096;
  const bench::RopeAppendInputs in(B, L, Hq, H, D, L_max);
  const double bytes = in.fused_bytes();

  KvAppendDesc ad{Element::bf16, B, H, L, L_max, D, D};
  constexpr std::int64_t kPage = 16;
  const auto table = cache == Cache::paged16 ? bench::make_paged(ad, kPage) : nullptr;
  auto append_args = [&](const bench::RopeAppendSet& s) {
    KvAppendArgs a;
    a.k_new = s.k->get();
    a.v_new = s.v->get();
    a.k_new_strides = a.v_new_strides = strides_blhd(H, L, D);
    a.k_cache = in.k_cache.get();
    a.v_cache = in.v_cache.get();
    a.k_cache_strides = a.v_cache_strides = cache == Cache::blhd      ? strides_blhd(H, L_max, D)
                                            : cache == Cache::paged16 ? strides_bhld(H, kPage, D)
                                                                      : strides_bhld(H, L_max, D);
    a.offsets = s.off->get();
    if (table) {
      a.block_table = table->get();
      a.block_table_stride = ad.max_pages_per_seq;
    }
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
  for (const bench::RopeAppendSet& s : in.sets) {
    RopeKvAppendArgs a;
    a.append = append_args(s);
    a.q_in = s.q->get();
    a.q_out = s.q->get();
    a.q_in_strides = a.q_out_strides = strides_blhd(Hq, L, D);
    a.positions = s.pos->get();
    fargs.push_back(a);
  }
  const double fused_us = median_us([&](int i) {
    status_ok(fplan->run(nullptr, Workspace{}, fargs[static_cast<std::size_t>(i) % fargs.size()]), "rope_kv_append");
  });

  // RoPE (Q and K_new in place), then the plain append.
  auto rplan = RopePlan::select(rope_desc(B, L, Hq, H, D));
  status_ok(rplan.ok() ? Status::success() : rplan.status(), "select rope");
  auto aplan = KvAppendPlan::select(ad);
  status_ok(aplan.ok() ? Status::success() : aplan.status(), "select kv_append");
  std::vector<RopeArgs> rargs;
  for (const bench::RopeAppendSet& s : in.sets) {
    RopeArgs a;
    a.q_in = a.q_out = s.q->get();
    a.q_in_strides = a.q_out_strides = strides_blhd(Hq, L, D);
    a.k_in = a.k_out = s.k->get();
    a.k_in_strides = a.k_out_strides = strides_blhd(H, L, D);
    a.positions = s.pos->get();
    rargs.push_back(a);
  }
  const double two_us = median_us([&](int i) {
    status_ok(rplan->run(nullptr, Workspace{}, rargs[static_cast<std::size_t>(i) % rargs.size()]), "rope");
    status_ok(aplan->run(nullptr, Workspace{}, append_args(in.set(i))), "kv_append");
  });
  // Each part alone (input sets rotate, so the append does not read the
  // K_new that RoPE just wrote): back to back, the append re-reads part of
  // K_new from the L2, so the sequence does not pay the whole saved pass.
  const double rope_us = median_us([&](int i) {
    status_ok(rplan->run(nullptr, Workspace{}, rargs[static_cast<std::size_t>(i) % rargs.size()]), "rope");
  });
  const double append_us = median_us([&](int i) {
    status_ok(aplan->run(nullptr, Workspace{}, append_args(in.set(i))), "kv_append");
  });
  // The saved pass: RoPE's K_new write and the append's re-read of it, at the copy rate.
  const double pass_us = 2.0 * 2.0 * static_cast<double>(in.kv_elems) / (copy_gbps * 1e9) * 1e6;
  // The fused call's bytes through cudaMemcpy (half read, half written): a
  // kernel that moves them cannot be expected to run faster, so the sequence
  // minus this copy is the most any fused kernel could save.
  const std::size_t fused_elems = in.q_elems + 2 * in.kv_elems;
  const bench::DeviceArray<std::uint16_t> copy_src(fused_elems), copy_dst(fused_elems);
  const double copy_us = median_us([&](int) {
    BENCH_CHECK(cudaMemcpyAsync(copy_dst.get(), copy_src.get(), fused_elems * 2, cudaMemcpyDeviceToDevice, nullptr));
  });
  print("rope_kv_append", config, fplan->sku().name, fused_us, bytes,
        bench::format(", \"frac_copy\": %.3f, \"saved_us\": %.2f, \"saved_pass_us\": %.2f, "
                      "\"saved_ceiling_us\": %.2f, \"parts_alone_us\": %.2f",
                      copy_us / fused_us, two_us - fused_us, pass_us, two_us - copy_us, rope_us + append_us));
  const std::string impl = std::string(rplan->sku().name) + "+" + aplan->sku().name;
  print("rope_kv_append", config, impl, two_us, bytes,
        bench::format(", \"fused_speedup\": %.3f, \"rope_alone_us\": %.2f, \"append_alone_us\": %.2f",
                      two_us / fused_us, rope_us, append_us));
}

}  // namespace

int main() {
  cudaDeviceProp prop{};
  if (!bench::device0(prop)) return 0;
  std::printf("device: %s, %d SMs\n", prop.name, prop.multiProcessorCount);
  const double copy_gbps = bench_rope();
  bench_fused(64, 1, 8, "rope_kv_append_neox_bf16_B64_L1_Hq32_Hkv8_D128_Lmax4096", copy_gbps);
  bench_fused(4, 2048, 8, "rope_kv_append_neox_bf16_B4_L2048_Hq32_Hkv8_D128_Lmax4096", copy_gbps);
  bench_fused(4, 2048, 8, "rope_kv_append_neox_bf16_B4_L2048_Hq32_Hkv8_D128_Lmax4096_cacheBLHD", copy_gbps, Cache::blhd);
  bench_fused(4, 2048, 8, "rope_kv_append_neox_bf16_B4_L2048_Hq32_Hkv8_D128_Lmax4096_paged16", copy_gbps,
              Cache::paged16);
  bench_fused(64, 1, 8, "rope_kv_append_neox_bf16_B64_L1_Hq32_Hkv8_D128_Lmax4096_paged16", copy_gbps, Cache::paged16);
  bench_fused(4, 2048, 4, "rope_kv_append_neox_bf16_B4_L2048_Hq32_Hkv4_D128_Lmax4096", copy_gbps);
  bench_fused(4, 2048, 16, "rope_kv_append_neox_bf16_B4_L2048_Hq32_Hkv16_D128_Lmax4096", copy_gbps);
  return 0;
}
