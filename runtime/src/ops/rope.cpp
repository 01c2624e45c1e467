// RoPE and fused RoPE + KV append: descriptor and argument checks
// (kernels/rope.cuh).
#include "baracuda/plan.hpp"
#include "checks.hpp"
#include "kv_append_checks.hpp"

namespace baracuda {

namespace {

std::uint32_t style_bit(RopeStyle s) { return s == RopeStyle::neox ? kVariantRopeNeox : kVariantRopeGptj; }

Status validate_rope(const RopeParams& r, std::int64_t head_dim) {
  using namespace checks;
  const std::int64_t rotary = r.rotary_dim == 0 ? head_dim : r.rotary_dim;
  BK_TRY(in_range("rope.rotary_dim", rotary, 2, head_dim));
  if (rotary % 2 != 0) return Status::invalid("rope.rotary_dim = " + str(rotary) + ": must be even");
  BK_TRY(finite("rope.theta_base", r.theta_base));
  if (r.theta_base <= 0.0)
    return Status::invalid("rope.theta_base = " + std::to_string(r.theta_base) + ": must be > 0");
  return finite("rope.position_scale", r.position_scale);
}

// One rotated tensor (Q or K): present iff heads > 0.
Status check_rotated(const char* in_name, const void* in, const Strides3& in_s, const char* out_name, void* out,
                     const Strides3& out_s, std::int64_t batch, std::int64_t heads, std::int64_t len,
                     std::int64_t dim, std::size_t align, std::int64_t mult) {
  using namespace checks;
  if (heads == 0) return Status::success();
  BK_TRY(pointer(in_name, in, align));
  BK_TRY(pointer(out_name, out, align));
  BK_TRY(strides(in_name, in_s, batch, heads, len, dim, mult, false));
  BK_TRY(strides(out_name, out_s, batch, heads, len, dim, mult, true));
  if (in == out && (in_s.batch != out_s.batch || in_s.head != out_s.head || in_s.pos != out_s.pos))
    return Status::invalid(std::string(out_name) + ": in place (same address as " + in_name +
                           ") needs the same strides");
  return Status::success();
}

}  // namespace

// ------------------------------------------------------------------ RoPE ----
ProblemKey RopeOp::key(const RopeDesc& d) {
  return {OpKind::rope, d.element, Element::none, static_cast<int>(d.head_dim), static_cast<int>(d.head_dim),
          style_bit(d.rope.style)};
}

Status RopeOp::validate(const RopeDesc& d) {
  using namespace checks;
  BK_TRY(one_of_elements("element", d.element, {Element::f16, Element::bf16, Element::f32, Element::f64}));
  BK_TRY(at_least("batch", d.batch, 0));
  BK_TRY(at_least("seq_len", d.seq_len, 0));
  BK_TRY(at_least("heads_q", d.heads_q, 0));
  BK_TRY(at_least("heads_k", d.heads_k, 0));
  BK_TRY(at_least("head_dim", d.head_dim, 2));
  return validate_rope(d.rope, d.head_dim);
}

void RopeOp::check(const void*, const KernelSku&, const Target&, Reason&) {}

std::size_t RopeOp::workspace(const void*, const KernelSku&, const Target&) { return 0; }

bool RopeOp::empty(const RopeDesc& d) { return d.batch == 0 || d.seq_len == 0 || d.heads_q + d.heads_k == 0; }

Status RopeOp::check_args(const RopeDesc& d, const RopeArgs& a, const KernelSku& sku) {
  using namespace checks;
  const std::size_t align = alignment(sku, d.element);
  const std::int64_t mult = stride_multiple(sku, d.element);
  BK_TRY(check_rotated("q_in", a.q_in, a.q_in_strides, "q_out", a.q_out, a.q_out_strides, d.batch, d.heads_q,
                       d.seq_len, d.head_dim, align, mult));
  BK_TRY(check_rotated("k_in", a.k_in, a.k_in_strides, "k_out", a.k_out, a.k_out_strides, d.batch, d.heads_k,
                       d.seq_len, d.head_dim, align, mult));
  return pointer("positions", a.positions, alignof(std::int64_t));
}

// ------------------------------------------------------ RoPE + KV append ----
ProblemKey RopeKvAppendOp::key(const RopeKvAppendDesc& d) {
  return {OpKind::rope_kv_append, d.append.element, Element::none, static_cast<int>(d.append.head_dim_k),
          static_cast<int>(d.append.head_dim_v),
          style_bit(d.rope.style) | (d.append.paged ? kVariantPaged : kVariantNone)};
}

Status RopeKvAppendOp::validate(const RopeKvAppendDesc& d) {
  using namespace checks;
  BK_TRY(kv_append_detail::validate_append(d.append));
  if (d.append.head_dim_k != d.append.head_dim_v)
    return Status::invalid("append.head_dim_v = " + str(d.append.head_dim_v) + ": must equal head_dim_k = " +
                           str(d.append.head_dim_k) + " for the fused RoPE + append");
  BK_TRY(at_least("append.head_dim_k", d.append.head_dim_k, 2));
  BK_TRY(at_least("heads_q", d.heads_q, 0));
  return validate_rope(d.rope, d.append.head_dim_k);
}

void RopeKvAppendOp::check(const void*, const KernelSku&, const Target&, Reason&) {}

std::size_t RopeKvAppendOp::workspace(const void*, const KernelSku&, const Target&) { return 0; }

bool RopeKvAppendOp::empty(const RopeKvAppendDesc& d) { return KvAppendOp::empty(d.append); }

Status RopeKvAppendOp::check_args(const RopeKvAppendDesc& d, const RopeKvAppendArgs& a, const KernelSku& sku) {
  using namespace checks;
  BK_TRY(kv_append_detail::check_append_args(d.append, a.append, sku));
  BK_TRY(check_rotated("q_in", a.q_in, a.q_in_strides, "q_out", a.q_out, a.q_out_strides, d.append.batch, d.heads_q,
                       d.append.new_len, d.append.head_dim_k, alignment(sku, d.append.element),
                       stride_multiple(sku, d.append.element)));
  return pointer("positions", a.positions, alignof(std::int64_t));
}

}  // namespace baracuda
