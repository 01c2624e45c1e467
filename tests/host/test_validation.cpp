// Argument validation: every bad descriptor or argument is an error value
// whose message names the field and the value. Nothing here launches a kernel.
#include "host_common.hpp"

using namespace baracuda;
using bk_host::compiled;
using bk_host::contains;
using bk_host::kTarget;

namespace {

// Plausible device addresses: never dereferenced (validation fails or the
// problem is rejected before any launch).
void* fake(std::uintptr_t addr) { return reinterpret_cast<void*>(addr); }

template <class Op>
std::string select_error(const typename Op::Desc& d) {
  auto plan = Plan<Op>::select(d, {}, kTarget);
  if (plan.ok()) return "selected " + std::string(plan->sku().name);
  CHECK(plan.status().code() == StatusCode::invalid_argument);
  return plan.status().message();
}

KvAppendDesc kv_desc() { return {Element::bf16, 2, 4, 8, 64, 128, 128}; }

KvAppendArgs kv_args(const KvAppendDesc& d) {
  KvAppendArgs a;
  a.k_new = fake(0x10000);
  a.v_new = fake(0x20000);
  a.k_cache = fake(0x30000);
  a.v_cache = fake(0x40000);
  a.offsets = static_cast<const std::int64_t*>(fake(0x50000));
  a.k_new_strides = a.v_new_strides = strides_bhld(d.heads, d.new_len, d.head_dim_k);
  a.k_cache_strides = a.v_cache_strides = strides_blhd(d.heads, d.max_len, d.head_dim_k);
  return a;
}

}  // namespace

TEST_CASE("attn_fwd descriptors: each bad field is named with its value") {
  const AttnFwdDesc good{Element::bf16, 2, 16, 4, 128, 128, 128, 128, false};
  AttnFwdDesc d = good;
  d.heads_q = 12;
  d.heads_kv = 5;
  CHECK(select_error<AttnFwdOp>(d) == "heads_q = 12: must be a multiple of heads_kv = 5");
  d = good;
  d.seq_q = 0;
  CHECK(select_error<AttnFwdOp>(d) == "seq_q = 0: must be >= 1");
  d = good;
  d.batch = -3;
  CHECK(select_error<AttnFwdOp>(d) == "batch = -3: must be >= 1");
  d = good;
  d.head_dim_qk = 1024;
  CHECK(select_error<AttnFwdOp>(d) == "head_dim_qk = 1024: must be in [1, 512]");
  d = good;
  d.element = Element::fp8_e4m3;
  CHECK(select_error<AttnFwdOp>(d) == "element = fp8_e4m3: must be one of {f16, bf16, f32, f64}");
  d = good;
  d.scale = INFINITY;
  CHECK(contains(select_error<AttnFwdOp>(d), "scale = inf: must be finite"));
}

TEST_CASE("attn_fwd arguments: null, misaligned and overlapping pointers") {
  if (!compiled({"attn_fwd_bf16_hd128_sm80"})) return;
  const AttnFwdDesc d{Element::bf16, 2, 16, 4, 128, 128, 128, 128, false};
  auto plan = AttnFwdPlan::select(d, {}, kTarget);
  REQUIRE(plan.ok());
  AttnFwdArgs a;
  a.q = fake(0x100000);
  a.k = fake(0x200000);
  a.v = fake(0x300000);
  a.o = fake(0x400000);
  a.lse = static_cast<float*>(fake(0x500000));
  a.q_strides = a.o_strides = strides_bhld(16, 128, 128);
  a.k_strides = a.v_strides = strides_blhd(4, 128, 128);
  CHECK(plan->can_implement(a).ok());
  AttnFwdArgs bad = a;
  bad.v = nullptr;
  CHECK(plan->can_implement(bad).message() == "v: null pointer");
  bad = a;
  bad.q = fake(0x100002);
  CHECK(contains(plan->can_implement(bad).message(), "q = 0x100002: not 16-byte aligned"));
  bad = a;
  bad.k_strides.pos = 129;
  CHECK(plan->can_implement(bad).message() ==
        "k_strides.pos stride = 129: must be a multiple of 8 elements (16-byte rows)");
  bad = a;
  bad.o_strides.head = 64;
  CHECK(contains(plan->can_implement(bad).message(), "o_strides.head stride = 64: rows overlap"));
  bad = a;
  bad.q_strides.batch = -8;
  CHECK(plan->can_implement(bad).message() == "q_strides.batch stride = -8: must be >= 0");
}

TEST_CASE("kv_append: descriptor fields, pointers and an empty problem") {
  if (!compiled({"kv_append_bf16_hd128_sm80", "kv_append_bf16_hdany_sm80"})) return;
  KvAppendDesc d = kv_desc();
  d.max_len = 0;
  CHECK(select_error<KvAppendOp>(d) == "max_len = 0: must be >= 1");
  d = kv_desc();
  d.paged = true;
  d.page_size = 300;
  d.num_pages = 4;
  d.max_pages_per_seq = 4;
  CHECK(select_error<KvAppendOp>(d) == "page_size = 300: must be in [1, 256]");
  d = kv_desc();
  d.new_len = -1;
  CHECK(select_error<KvAppendOp>(d) == "new_len = -1: must be >= 0");

  d = kv_desc();
  auto plan = KvAppendPlan::select(d, {}, kTarget);
  REQUIRE(plan.ok());
  CHECK(plan->workspace_size() == 0);
  KvAppendArgs a = kv_args(d);
  CHECK(plan->can_implement(a).ok());
  KvAppendArgs bad = a;
  bad.offsets = nullptr;
  CHECK(plan->can_implement(bad).message() == "offsets: null pointer");
  bad = a;
  bad.v_cache = bad.k_cache;
  CHECK(contains(plan->can_implement(bad).message(), "v_cache: same address as k_cache"));
  bad = a;
  bad.k_cache_strides.pos = 64;  // rows of the output overlap
  CHECK(contains(plan->can_implement(bad).message(), "k_cache_strides.pos stride = 64: rows overlap"));

  // The generic SKU needs element alignment only.
  PlanPreference generic;
  generic.force_sku = "kv_append_bf16_hdany_sm80";
  auto any = KvAppendPlan::select(d, generic, kTarget);
  REQUIRE(any.ok());
  KvAppendArgs odd = a;
  odd.k_new = fake(0x10002);
  odd.k_new_strides.pos = 129;
  CHECK(any->can_implement(odd).ok());
  CHECK_FALSE(plan->can_implement(odd).ok());

  // An empty problem is a successful no-op, whatever the pointers.
  KvAppendDesc empty = kv_desc();
  empty.new_len = 0;
  auto noop = KvAppendPlan::select(empty, {}, kTarget);
  REQUIRE(noop.ok());
  CHECK(noop->can_implement(KvAppendArgs{}).ok());
  CHECK(noop->run(nullptr, {}, KvAppendArgs{}).ok());
}

TEST_CASE("paged kv_append needs a block table wide enough") {
  if (!compiled({"kv_append_bf16_hd128_paged_sm80"})) return;
  KvAppendDesc d = kv_desc();
  d.paged = true;
  d.page_size = 16;
  d.num_pages = 8;
  d.max_pages_per_seq = 4;
  auto plan = KvAppendPlan::select(d, {}, kTarget);
  REQUIRE(plan.ok());
  KvAppendArgs a = kv_args(d);
  a.k_cache_strides = a.v_cache_strides = strides_bhld(d.heads, d.page_size, d.head_dim_k);
  CHECK(plan->can_implement(a).message() == "block_table: null pointer");
  a.block_table = static_cast<const std::int32_t*>(fake(0x60000));
  a.block_table_stride = 3;
  CHECK(plan->can_implement(a).message() == "block_table_stride = 3: must be >= max_pages_per_seq (4)");
  a.block_table_stride = 4;
  CHECK(plan->can_implement(a).ok());
}

TEST_CASE("decode: descriptor fields and the workspace check before any launch") {
  DecodeDesc d{Element::bf16, Element::i32, 1, 32, 8, 1, 32768, 128};
  DecodeDesc bad = d;
  bad.q_len = 9;
  CHECK(select_error<DecodeOp>(bad) == "q_len = 9: must be in [1, 8]");
  bad = d;
  bad.seqlen_element = Element::f32;
  CHECK(select_error<DecodeOp>(bad) == "seqlen_element = f32: must be one of {i32, i64}");
  bad = d;
  bad.element = Element::f32;
  CHECK(select_error<DecodeOp>(bad) == "element = f32: must be one of {f16, bf16}");
  bad = d;
  bad.heads_kv = 5;
  CHECK(select_error<DecodeOp>(bad) == "heads_q = 32: must be a multiple of heads_kv = 5");
  if (!compiled({"attn_decode_bf16_hd128_sm80"})) return;
  auto plan = DecodePlan::select(d, {}, kTarget);
  REQUIRE(plan.ok());
  REQUIRE(plan->workspace_size() > 0);
  DecodeArgs a;
  a.q = fake(0x100000);
  a.k_cache = fake(0x200000);
  a.v_cache = fake(0x300000);
  a.seqlens = fake(0x400000);
  a.o = fake(0x500000);
  a.lse = static_cast<float*>(fake(0x600000));
  a.q_strides = a.o_strides = strides_bhld(32, 1, 128);
  a.k_cache_strides = a.v_cache_strides = strides_bhld(8, 32768, 128);
  CHECK(plan->can_implement(a).ok());
  const Status s = plan->run(nullptr, Workspace{fake(0x700000), plan->workspace_size() - 1}, a);
  CHECK(s.code() == StatusCode::workspace_too_small);
  CHECK(contains(s.message(), "needs " + std::to_string(plan->workspace_size())));
  CHECK(plan->run(nullptr, Workspace{nullptr, plan->workspace_size()}, a).code() == StatusCode::workspace_too_small);
}

TEST_CASE("rope: rotary dim, theta and in-place strides") {
  RopeDesc d{Element::bf16, 1, 64, 32, 8, 128};
  RopeDesc bad = d;
  bad.rope.rotary_dim = 33;
  CHECK(select_error<RopeOp>(bad) == "rope.rotary_dim = 33: must be even");
  bad = d;
  bad.rope.rotary_dim = 256;
  CHECK(select_error<RopeOp>(bad) == "rope.rotary_dim = 256: must be in [2, 128]");
  bad = d;
  bad.rope.theta_base = -1.0;
  CHECK(contains(select_error<RopeOp>(bad), "rope.theta_base = -1.000000: must be > 0"));
  if (!compiled({"rope_bf16_hd128_neox_sm80"})) return;
  auto plan = RopePlan::select(d, {}, kTarget);
  REQUIRE(plan.ok());
  RopeArgs a;
  a.q_in = a.q_out = fake(0x100000);
  a.k_in = a.k_out = fake(0x200000);
  a.q_in_strides = a.q_out_strides = strides_blhd(32, 64, 128);
  a.k_in_strides = a.k_out_strides = strides_blhd(8, 64, 128);
  a.positions = static_cast<const std::int64_t*>(fake(0x300000));
  CHECK(plan->can_implement(a).ok());
  RopeArgs b = a;
  b.q_out_strides = strides_bhld(32, 64, 128);
  CHECK(plan->can_implement(b).message() == "q_out: in place (same address as q_in) needs the same strides");
  b = a;
  b.positions = nullptr;
  CHECK(plan->can_implement(b).message() == "positions: null pointer");
  // K absent: its pointers are not needed.
  RopeDesc q_only = d;
  q_only.heads_k = 0;
  auto plan_q = RopePlan::select(q_only, {}, kTarget);
  REQUIRE(plan_q.ok());
  b = a;
  b.k_in = b.k_out = nullptr;
  CHECK(plan_q->can_implement(b).ok());
}

TEST_CASE("rope_kv_append: head dims must agree") {
  RopeKvAppendDesc d{kv_desc(), 32, {}};
  d.append.head_dim_v = 64;
  CHECK(select_error<RopeKvAppendOp>(d) == "append.head_dim_v = 64: must equal head_dim_k = 128 for the fused RoPE + append");
}

TEST_CASE("plans without a target need a GPU, and say so") {
  auto plan = KvAppendPlan::select(kv_desc());
  if (Target::from_device(0).ok()) {
    CHECK(plan.ok());
  } else {
    REQUIRE_FALSE(plan.ok());
    CHECK(contains(plan.status().message(), "Target::named"));
  }
}
