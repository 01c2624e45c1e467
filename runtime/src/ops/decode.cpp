// Decode attention: descriptor and argument checks, split-KV workspace
// (kernels/attn_decode_sm80.cuh; split choice in baracuda/decode_tuning.hpp).
#include "baracuda/decode_tuning.hpp"
#include "baracuda/plan.hpp"
#include "checks.hpp"

namespace baracuda {
namespace {

std::int64_t max_keys(const DecodeDesc& d) { return d.paged ? d.max_pages_per_seq * d.page_size : d.max_len; }

}  // namespace

ProblemKey DecodeOp::key(const DecodeDesc& d) {
  return {OpKind::attn_decode, d.element, Element::none, static_cast<int>(d.head_dim), static_cast<int>(d.head_dim),
          d.paged ? kVariantPaged : kVariantNone};
}

Status DecodeOp::validate(const DecodeDesc& d) {
  using namespace checks;
  BK_TRY(one_of_elements("element", d.element, {Element::f16, Element::bf16}));
  BK_TRY(one_of_elements("seqlen_element", d.seqlen_element, {Element::i32, Element::i64}));
  BK_TRY(at_least("batch", d.batch, 1));
  BK_TRY(at_least("heads_q", d.heads_q, 1));
  BK_TRY(at_least("heads_kv", d.heads_kv, 1));
  BK_TRY(in_range("q_len", d.q_len, 1, kDecodeMaxQueryLen));
  BK_TRY(at_least("head_dim", d.head_dim, 1));
  if (d.heads_q % d.heads_kv != 0)
    return Status::invalid("heads_q = " + str(d.heads_q) + ": must be a multiple of heads_kv = " + str(d.heads_kv));
  if (d.paged) {
    BK_TRY(in_range("page_size", d.page_size, 1, 256));
    BK_TRY(at_least("num_pages", d.num_pages, 1));
    BK_TRY(at_least("max_pages_per_seq", d.max_pages_per_seq, 1));
  } else {
    BK_TRY(at_least("max_len", d.max_len, 1));
  }
  return finite("scale", d.scale);
}

void DecodeOp::check(const void*, const KernelSku&, const Target&, Reason&) {}

std::size_t DecodeOp::workspace(const void* desc, const KernelSku& sku, const Target& target) {
  const auto& d = *static_cast<const DecodeDesc*>(desc);
  const DecodeSplit split = decode_split(d.batch, d.heads_kv, max_keys(d), target.sm_count,
                                         (sku.variant & kVariantFixedSplit) != 0, d.paged);
  return decode_workspace_bytes(d.batch, d.heads_q, d.q_len, d.head_dim, split);
}

bool DecodeOp::empty(const DecodeDesc&) { return false; }

Status DecodeOp::check_args(const DecodeDesc& d, const DecodeArgs& a, const KernelSku& sku) {
  using namespace checks;
  const std::size_t align = alignment(sku, d.element);
  const std::int64_t mult = stride_multiple(sku, d.element);
  const std::int64_t cache_b = d.paged ? d.num_pages : d.batch;
  const std::int64_t cache_l = d.paged ? d.page_size : d.max_len;
  BK_TRY(pointer("q", a.q, align));
  BK_TRY(pointer("k_cache", a.k_cache, align));
  BK_TRY(pointer("v_cache", a.v_cache, align));
  BK_TRY(pointer("seqlens", a.seqlens, element_size(d.seqlen_element)));
  BK_TRY(pointer("o", a.o, align));
  BK_TRY(pointer("lse", a.lse, alignof(float)));
  BK_TRY(strides("q_strides", a.q_strides, d.batch, d.heads_q, d.q_len, d.head_dim, mult, false));
  BK_TRY(strides("k_cache_strides", a.k_cache_strides, cache_b, d.heads_kv, cache_l, d.head_dim, mult, false));
  BK_TRY(strides("v_cache_strides", a.v_cache_strides, cache_b, d.heads_kv, cache_l, d.head_dim, mult, false));
  BK_TRY(strides("o_strides", a.o_strides, d.batch, d.heads_q, d.q_len, d.head_dim, mult, true));
  if (!d.paged) return Status::success();
  return block_table(a.block_table, a.block_table_stride, d.max_pages_per_seq);
}

}  // namespace baracuda
