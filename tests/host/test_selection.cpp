// Selection and explain over descriptor x preference cases. Runs on any
// build: cases whose SKUs a build left out report themselves skipped.
#include <atomic>
#include <cstdlib>
#include <new>
#include <random>
#include <thread>

#include "baracuda/decode_tuning.hpp"
#include "baracuda/rope_tuning.hpp"
#include "host_common.hpp"

using namespace baracuda;
using bk_host::compiled;
using bk_host::contains;
using bk_host::kTarget;

// Counts heap allocations while armed: select must not allocate once warm.
static std::atomic<bool> g_count_allocs{false};
static std::atomic<long> g_allocs{0};
void* operator new(std::size_t n) {
  if (g_count_allocs.load(std::memory_order_relaxed)) g_allocs.fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(n ? n : 1)) return p;
  throw std::bad_alloc();
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }

namespace {

KvAppendDesc kv_desc(Element e, std::int64_t hd) { return {e, 4, 8, 16, 1024, hd, hd}; }

AttnFwdDesc attn_desc(Element e, std::int64_t hd, bool causal, std::int64_t hd_v = 0) {
  return {e, 2, 16, 4, 512, 512, hd, hd_v ? hd_v : hd, causal};
}

DecodeDesc decode_desc(std::int64_t batch, std::int64_t len, bool paged = false) {
  DecodeDesc d{Element::bf16, Element::i32, batch, 32, 8, 1, len, 128};
  if (paged) {
    d.paged = true;
    d.page_size = 16;
    d.max_pages_per_seq = len / 16;
    d.num_pages = batch * d.max_pages_per_seq;
  }
  return d;
}

template <class Op>
std::string chosen(const typename Op::Desc& d, const PlanPreference& p = {}, Target t = kTarget) {
  auto plan = Plan<Op>::select(d, p, t);
  return plan ? std::string(plan->sku().name) : "error: " + plan.status().message();
}

}  // namespace

TEST_CASE("kv_append: specialized head dim beats generic; generic serves the rest") {
  if (!compiled({"kv_append_bf16_hd128_sm80", "kv_append_bf16_hdany_sm80"})) return;
  CHECK(chosen<KvAppendOp>(kv_desc(Element::bf16, 128)) == "kv_append_bf16_hd128_sm80");
  CHECK(chosen<KvAppendOp>(kv_desc(Element::bf16, 96)) == "kv_append_bf16_hdany_sm80");
  KvAppendDesc split = kv_desc(Element::bf16, 128);
  split.head_dim_v = 64;
  CHECK(chosen<KvAppendOp>(split) == "kv_append_bf16_hdany_sm80");
  const auto ex = KvAppendPlan::explain(kv_desc(Element::bf16, 96), {}, kTarget);
  REQUIRE(ex.ok());
  CHECK(contains(ex->to_text(), "kv_append_bf16_hd128_sm80: rejected: head dim 128, problem is 96"));
  CHECK(contains(ex->to_text(), "chosen: kv_append_bf16_hdany_sm80"));
}

TEST_CASE("kv_append: paged problems choose paged SKUs") {
  if (!compiled({"kv_append_bf16_hd128_paged_sm80"})) return;
  KvAppendDesc d = kv_desc(Element::bf16, 128);
  d.paged = true;
  d.page_size = 16;
  d.num_pages = 64;
  d.max_pages_per_seq = 16;
  CHECK(chosen<KvAppendOp>(d) == "kv_append_bf16_hd128_paged_sm80");
}

TEST_CASE("forced SKUs: chosen when they fit, an error (never a fallback) when not") {
  if (!compiled({"kv_append_bf16_hd128_sm80", "kv_append_bf16_hdany_sm80"})) return;
  PlanPreference p;
  p.force_sku = "kv_append_bf16_hdany_sm80";
  CHECK(chosen<KvAppendOp>(kv_desc(Element::bf16, 128), p) == "kv_append_bf16_hdany_sm80");
  p.force_sku = "kv_append_bf16_hd128_sm80";
  const std::string r = chosen<KvAppendOp>(kv_desc(Element::bf16, 96), p);
  CHECK(r.starts_with("error: "));
  CHECK(contains(r, "kv_append_bf16_hd128_sm80: rejected: head dim 128, problem is 96"));
  CHECK(contains(r, "kv_append_bf16_hdany_sm80: rejected: preference forces SKU kv_append_bf16_hd128_sm80"));
  p.force_sku = "kv_append_bf16_hd4096_sm80";
  CHECK(contains(chosen<KvAppendOp>(kv_desc(Element::bf16, 96), p), "not in this build's catalog"));
}

TEST_CASE("exclusions, backends and arch classes filter; no candidate lists every reason") {
  if (!compiled({"kv_append_bf16_hd128_sm80", "kv_append_bf16_hdany_sm80"})) return;
  PlanPreference p;
  p.exclude_skus = {"kv_append_bf16_hd128_sm80"};
  CHECK(chosen<KvAppendOp>(kv_desc(Element::bf16, 128), p) == "kv_append_bf16_hdany_sm80");
  PlanPreference hopper_only;
  hopper_only.allowed_arch_classes = {ArchClass::sm90a};
  const std::string r = chosen<KvAppendOp>(kv_desc(Element::bf16, 128), hopper_only);
  CHECK(contains(r, "no SKU implements kv_append bf16 head dim 128"));
  CHECK(contains(r, "kv_append_bf16_hd128_sm80: rejected: arch class sm80 not allowed by preference"));
  CHECK(contains(r, "kv_append_bf16_hdany_sm80: rejected: arch class sm80 not allowed by preference"));
  CHECK(contains(r, "kv_append_f"));  // SKUs of other elements are listed too, with their reason
  PlanPreference ref_only;
  ref_only.allowed_backends = {Backend::reference};
  CHECK(contains(chosen<KvAppendOp>(kv_desc(Element::bf16, 128), ref_only), "backend bespoke not allowed"));
}

TEST_CASE("targets: old GPUs and missing machine code are rejected with the reason") {
  if (!compiled({"kv_append_bf16_hd128_sm80"})) return;
  CHECK(contains(chosen<KvAppendOp>(kv_desc(Element::bf16, 128), {}, Target::named(75)),
                 "needs compute capability >= 8.0, target is 7.5"));
  CHECK(contains(chosen<KvAppendOp>(kv_desc(Element::bf16, 128), {}, Target::named(120)),
                 "binary has no code for sm_120"));
}

TEST_CASE("attn_fwd: flash when it fits, reference otherwise, most precise picks f64") {
  if (!compiled({"attn_fwd_bf16_hd128_causal_sm80", "attn_fwd_bf16_hdany_causal_sm80_ref_f32acc",
                 "attn_fwd_bf16_hdany_causal_sm80_ref_f64acc", "attn_fwd_bf16_hdany_sm80_ref_f32acc"}))
    return;
  CHECK(chosen<AttnFwdOp>(attn_desc(Element::bf16, 128, true)) == "attn_fwd_bf16_hd128_causal_sm80");
  PlanPreference precise;
  precise.objective = Objective::most_precise;
  CHECK(chosen<AttnFwdOp>(attn_desc(Element::bf16, 128, true), precise) ==
        "attn_fwd_bf16_hdany_causal_sm80_ref_f64acc");
  PlanPreference f64acc;
  f64acc.min_accumulator = Element::f64;
  CHECK(chosen<AttnFwdOp>(attn_desc(Element::bf16, 128, true), f64acc) ==
        "attn_fwd_bf16_hdany_causal_sm80_ref_f64acc");
  PlanPreference f32math;
  f32math.min_math_precision = MathPrecision::f32;
  CHECK(chosen<AttnFwdOp>(attn_desc(Element::bf16, 128, true), f32math) ==
        "attn_fwd_bf16_hdany_causal_sm80_ref_f32acc");
  // Head dim 72 has no flash SKU: the reference serves it, and explain says why.
  CHECK(chosen<AttnFwdOp>(attn_desc(Element::bf16, 72, false)) == "attn_fwd_bf16_hdany_sm80_ref_f32acc");
  const auto ex = AttnFwdPlan::explain(attn_desc(Element::bf16, 72, false), {}, kTarget);
  REQUIRE(ex.ok());
  CHECK(contains(ex->to_text(), "attn_fwd_bf16_hd128_sm80: rejected: head dim 128, problem is 72"));
  CHECK(contains(ex->to_text(), "attn_fwd_bf16_hd128_causal_sm80: rejected: head dim 128, problem is 72"));
  // Dqk != Dv: only the reference.
  CHECK(chosen<AttnFwdOp>(attn_desc(Element::bf16, 64, true, 128)) == "attn_fwd_bf16_hdany_causal_sm80_ref_f32acc");
  // Causal and non-causal never mix.
  CHECK(contains(ex->to_text(), "attn_fwd_bf16_hdany_causal_sm80_ref_f32acc: rejected: variant causal, problem is none"));
}

TEST_CASE("attn_fwd: f32 and f64 problems run on the reference") {
  if (!compiled({"attn_fwd_f32_hdany_sm80_ref_f32acc", "attn_fwd_f32_hdany_sm80_ref_f64acc"})) return;
  CHECK(chosen<AttnFwdOp>(attn_desc(Element::f32, 128, false)) == "attn_fwd_f32_hdany_sm80_ref_f32acc");
  PlanPreference precise;
  precise.objective = Objective::most_precise;
  CHECK(chosen<AttnFwdOp>(attn_desc(Element::f32, 128, false), precise) == "attn_fwd_f32_hdany_sm80_ref_f64acc");
}

TEST_CASE("decode: adaptive split when fastest, fixed split when batch invariance is required") {
  if (!compiled({"attn_decode_bf16_hd128_sm80", "attn_decode_bf16_hd128_fixedsplit_sm80",
                 "attn_decode_bf16_hd128_paged_sm80"}))
    return;
  CHECK(chosen<DecodeOp>(decode_desc(16, 8192)) == "attn_decode_bf16_hd128_sm80");
  PlanPreference inv;
  inv.require_batch_invariant = true;
  CHECK(chosen<DecodeOp>(decode_desc(16, 8192), inv) == "attn_decode_bf16_hd128_fixedsplit_sm80");
  const auto ex = DecodePlan::explain(decode_desc(16, 8192), inv, kTarget);
  REQUIRE(ex.ok());
  CHECK(contains(ex->to_text(), "attn_decode_bf16_hd128_sm80: rejected: not batch invariant (required)"));
  CHECK(chosen<DecodeOp>(decode_desc(4, 4096, true)) == "attn_decode_bf16_hd128_paged_sm80");
}

TEST_CASE("decode: the page-size divisor equals integer division for every page size and key index") {
  std::mt19937_64 rng(7);
  std::uniform_int_distribution<std::int64_t> key(0, (std::int64_t{1} << 31) - 1);
  for (std::int64_t d = 1; d <= 256; ++d) {
    CAPTURE(d);
    const PageDivisor div = page_divisor(d);
    auto exact = [&](std::int64_t j) { return std::int64_t{page_divide(static_cast<std::uint32_t>(j), div)} == j / d; };
    bool ok = true;
    for (std::int64_t j = 0; j < 70000 && ok; ++j) ok = exact(j);
    for (std::int64_t j = (std::int64_t{1} << 31) - 70000; j < (std::int64_t{1} << 31) && ok; ++j) ok = exact(j);
    for (int r = 0; r < 20000 && ok; ++r) ok = exact(key(rng));
    CHECK(ok);
  }
}

TEST_CASE("decode: the workspace limit is honoured") {
  if (!compiled({"attn_decode_bf16_hd128_sm80"})) return;
  auto plan = DecodePlan::select(decode_desc(1, 32768), {}, kTarget);
  REQUIRE(plan.ok());
  const std::size_t need = plan->workspace_size();
  CHECK(need > 0);  // one long sequence is split across the GPU
  PlanPreference p;
  p.max_workspace_bytes = need - 1;
  p.exclude_skus = {"attn_decode_bf16_hd128_fixedsplit_sm80"};
  const std::string r = chosen<DecodeOp>(decode_desc(1, 32768), p);
  CHECK(contains(r, "workspace bytes, preference allows " + std::to_string(need - 1)));
  p.max_workspace_bytes = need;
  CHECK(chosen<DecodeOp>(decode_desc(1, 32768), p) == "attn_decode_bf16_hd128_sm80");
}

TEST_CASE("decode: split counts fill one CTA per SM (contiguous) or two (paged)") {
  // The rule of baracuda/decode_tuning.hpp on a 132-SM card, Hkv = 8; every
  // split a multiple of 128 keys; the workspace follows the split.
  struct Case {
    std::int64_t batch, len;
    int contiguous, paged;
  };
  for (const Case& c : {Case{1, 32768, 16, 32}, Case{2, 16384, 8, 16}, Case{4, 8192, 4, 8}, Case{8, 2048, 2, 4},
                        Case{16, 8192, 1, 2}, Case{64, 4096, 1, 1}, Case{128, 2048, 1, 1}}) {
    CAPTURE(c.batch);
    CAPTURE(c.len);
    const DecodeSplit sc = decode_split(c.batch, 8, c.len, 132, false, false);
    const DecodeSplit sp = decode_split(c.batch, 8, c.len, 132, false, true);
    CHECK(sc.num_splits == c.contiguous);
    CHECK(sp.num_splits == c.paged);
    for (const DecodeSplit& s : {sc, sp}) {
      CHECK(s.keys_per_split % kDecodeSplitGranule == 0);
      CHECK(s.num_splits * s.keys_per_split >= c.len);
      CHECK((s.num_splits - 1) * s.keys_per_split < c.len);
      CHECK((decode_workspace_bytes(c.batch, 32, 1, 128, s) == 0) == (s.num_splits == 1));
    }
  }
  // The fixed split ignores the batch and the card: 1024-key splits.
  const DecodeSplit f = decode_split(3, 8, 5000, 132, true, false);
  CHECK(f.num_splits == 5);
  CHECK(f.keys_per_split == kDecodeFixedSplitKeys);
  CHECK(decode_split(64, 8, 5000, 7, true, true).num_splits == 5);
}

TEST_CASE("rope: tails of at most a quarter block pack 2^shift tokens a block") {
  // bf16 / f16 at D = 128: 32 rows a block, (cos, sin) for 4 tokens.
  CHECK(rope_tok_pack_shift(40 - 32, 32, 4) == 2);  // rope(), Hq=32 Hk=8; fused, Hkv=4 (4 K + 4 V rows)
  CHECK(rope_tok_pack_shift(36 - 32, 32, 4) == 2);  // rope(), Hk=4: 8 would fit, 4 tokens' (cos, sin) do
  CHECK(rope_tok_pack_shift(48 - 32, 32, 4) == -1);  // fused, Hkv=8: half a block stays one token's
  CHECK(rope_tok_pack_shift(0, 32, 4) == -1);        // Q only: whole blocks
  CHECK(rope_tok_pack_shift(9, 64, 8) == 2);         // D = 64 (64 rows), 7 + 1 + 1 fused rows: 4 tokens
  CHECK(rope_tok_pack_shift(4, 16, 2) == 1);         // D = 256 (16 rows, 2 tokens' (cos, sin))
  CHECK(rope_tok_pack_shift(5, 16, 2) == -1);
  for (int rows : {16, 32, 64})
    for (int max_pack : {2, 4, 8})
      for (std::int64_t tail = 1; tail <= rows; ++tail) {
        const int shift = rope_tok_pack_shift(tail, rows, max_pack);
        if (4 * tail > rows) {
          CHECK(shift == -1);
          continue;
        }
        REQUIRE(shift >= 1);
        CHECK((std::int64_t{1} << shift) * tail <= rows);
        CHECK((1 << shift) <= max_pack);
        CHECK(((std::int64_t{2} << shift) * tail > rows || (2 << shift) > max_pack));
      }
}

TEST_CASE("rope: the style is part of the problem") {
  if (!compiled({"rope_bf16_hd128_neox_sm80", "rope_bf16_hd128_gptj_sm80"})) return;
  RopeDesc d{Element::bf16, 1, 64, 32, 8, 128};
  CHECK(chosen<RopeOp>(d) == "rope_bf16_hd128_neox_sm80");
  d.rope.style = RopeStyle::gptj;
  CHECK(chosen<RopeOp>(d) == "rope_bf16_hd128_gptj_sm80");
}

TEST_CASE("rope_kv_append: paged and contiguous variants") {
  if (!compiled({"rope_kv_append_bf16_hd128_neox_sm80", "rope_kv_append_bf16_hd128_neox_paged_sm80"})) return;
  RopeKvAppendDesc d{kv_desc(Element::bf16, 128), 32, {}};
  CHECK(chosen<RopeKvAppendOp>(d) == "rope_kv_append_bf16_hd128_neox_sm80");
  d.append.paged = true;
  d.append.page_size = 64;
  d.append.num_pages = 64;
  d.append.max_pages_per_seq = 16;
  CHECK(chosen<RopeKvAppendOp>(d) == "rope_kv_append_bf16_hd128_neox_paged_sm80");
}

TEST_CASE("select makes no heap allocation once warm") {
  if (!compiled({"kv_append_bf16_hd128_sm80"})) return;
  const KvAppendDesc d = kv_desc(Element::bf16, 128);
  const PlanPreference p;
  REQUIRE(KvAppendPlan::select(d, p, kTarget).ok());  // warm-up
  g_allocs = 0;
  g_count_allocs = true;
  bool ok = true;
  for (int i = 0; i < 100; ++i) ok = ok && KvAppendPlan::select(d, p, kTarget).ok();
  g_count_allocs = false;
  CHECK(ok);
  CHECK(g_allocs.load() == 0);
}

TEST_CASE("selection is thread-safe and gives every thread the same answer") {
  const auto all = Catalog::all();
  REQUIRE(!all.empty());
  const KernelSku& target_sku = all[0];
  std::atomic<int> mismatches{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t)
    threads.emplace_back([&] {
      for (int i = 0; i < 200; ++i) {
        SkuFilter f;
        f.op = target_sku.op;
        if (Catalog::query(f).empty() || Catalog::find(target_sku.name) != &target_sku) ++mismatches;
        const std::string a = chosen<KvAppendOp>(kv_desc(Element::bf16, 128));
        const std::string b = chosen<KvAppendOp>(kv_desc(Element::bf16, 128));
        if (a != b) ++mismatches;
      }
    });
  for (auto& th : threads) th.join();
  CHECK(mismatches.load() == 0);
}
