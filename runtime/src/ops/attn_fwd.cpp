// Attention forward: descriptor and argument checks (kernels/attn_fwd_sm80.cuh,
// kernels/attn_reference.cuh).
#include "baracuda/limits.hpp"
#include "baracuda/plan.hpp"
#include "checks.hpp"

namespace baracuda {

ProblemKey AttnFwdOp::key(const AttnFwdDesc& d) {
  return {OpKind::attn_fwd, d.element, Element::none, static_cast<int>(d.head_dim_qk),
          static_cast<int>(d.head_dim_v), d.causal ? kVariantCausal : kVariantNone};
}

Status AttnFwdOp::validate(const AttnFwdDesc& d) {
  using namespace checks;
  BK_TRY(one_of_elements("element", d.element, {Element::f16, Element::bf16, Element::f32, Element::f64}));
  BK_TRY(at_least("batch", d.batch, 1));
  BK_TRY(at_least("heads_q", d.heads_q, 1));
  BK_TRY(at_least("heads_kv", d.heads_kv, 1));
  BK_TRY(at_least("seq_q", d.seq_q, 1));
  BK_TRY(at_least("seq_k", d.seq_k, 1));
  BK_TRY(in_range("head_dim_qk", d.head_dim_qk, 1, kAttnReferenceMaxHeadDim));
  BK_TRY(in_range("head_dim_v", d.head_dim_v, 1, kAttnReferenceMaxHeadDim));
  if (d.heads_q % d.heads_kv != 0)
    return Status::invalid("heads_q = " + str(d.heads_q) + ": must be a multiple of heads_kv = " + str(d.heads_kv));
  return finite("scale", d.scale);
}

void AttnFwdOp::check(const void*, const KernelSku&, const Target&, Reason&) {}

std::size_t AttnFwdOp::workspace(const void*, const KernelSku&, const Target&) { return 0; }

bool AttnFwdOp::empty(const AttnFwdDesc&) { return false; }

Status AttnFwdOp::check_args(const AttnFwdDesc& d, const AttnFwdArgs& a, const KernelSku& sku) {
  using namespace checks;
  const std::size_t align = alignment(sku, d.element);
  const std::int64_t mult = stride_multiple(sku, d.element);
  BK_TRY(pointer("q", a.q, align));
  BK_TRY(pointer("k", a.k, align));
  BK_TRY(pointer("v", a.v, align));
  BK_TRY(pointer("o", a.o, align));
  BK_TRY(pointer("lse", a.lse, alignof(float)));
  BK_TRY(strides("q_strides", a.q_strides, d.batch, d.heads_q, d.seq_q, d.head_dim_qk, mult, false));
  BK_TRY(strides("k_strides", a.k_strides, d.batch, d.heads_kv, d.seq_k, d.head_dim_qk, mult, false));
  BK_TRY(strides("v_strides", a.v_strides, d.batch, d.heads_kv, d.seq_k, d.head_dim_v, mult, false));
  return strides("o_strides", a.o_strides, d.batch, d.heads_q, d.seq_q, d.head_dim_v, mult, true);
}

}  // namespace baracuda
