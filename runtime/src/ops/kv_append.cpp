// KV-cache append: descriptor and argument checks (kernels/kv_append.cuh).
#include "baracuda/plan.hpp"
#include "checks.hpp"
#include "kv_append_checks.hpp"

namespace baracuda {

namespace kv_append_detail {

Status validate_append(const KvAppendDesc& d) {
  using namespace checks;
  BK_TRY(one_of_elements("element", d.element, {Element::f16, Element::bf16, Element::f32, Element::f64}));
  BK_TRY(at_least("batch", d.batch, 0));
  BK_TRY(at_least("heads", d.heads, 0));
  BK_TRY(at_least("new_len", d.new_len, 0));
  BK_TRY(at_least("head_dim_k", d.head_dim_k, 1));
  BK_TRY(at_least("head_dim_v", d.head_dim_v, 1));
  if (!d.paged) return at_least("max_len", d.max_len, 1);
  BK_TRY(in_range("page_size", d.page_size, 1, 256));
  BK_TRY(at_least("num_pages", d.num_pages, 1));
  return at_least("max_pages_per_seq", d.max_pages_per_seq, 1);
}

Status check_append_args(const KvAppendDesc& d, const KvAppendArgs& a, const KernelSku& sku) {
  using namespace checks;
  const std::size_t align = alignment(sku, d.element);
  const std::int64_t mult = stride_multiple(sku, d.element);
  const std::int64_t cache_b = d.paged ? d.num_pages : d.batch;
  const std::int64_t cache_l = d.paged ? d.page_size : d.max_len;
  BK_TRY(pointer("k_new", a.k_new, align));
  BK_TRY(pointer("v_new", a.v_new, align));
  BK_TRY(pointer("k_cache", a.k_cache, align));
  BK_TRY(pointer("v_cache", a.v_cache, align));
  BK_TRY(pointer("offsets", a.offsets, alignof(std::int64_t)));
  BK_TRY(strides("k_new_strides", a.k_new_strides, d.batch, d.heads, d.new_len, d.head_dim_k, mult, false));
  BK_TRY(strides("v_new_strides", a.v_new_strides, d.batch, d.heads, d.new_len, d.head_dim_v, mult, false));
  BK_TRY(strides("k_cache_strides", a.k_cache_strides, cache_b, d.heads, cache_l, d.head_dim_k, mult, true));
  BK_TRY(strides("v_cache_strides", a.v_cache_strides, cache_b, d.heads, cache_l, d.head_dim_v, mult, true));
  if (a.k_cache == a.v_cache)
    return Status::invalid("v_cache: same address as k_cache; the two caches must not alias");
  if (!d.paged) return Status::success();
  return block_table(a.block_table, a.block_table_stride, d.max_pages_per_seq);
}

}  // namespace kv_append_detail

ProblemKey KvAppendOp::key(const KvAppendDesc& d) {
  return {OpKind::kv_append, d.element, Element::none, static_cast<int>(d.head_dim_k),
          static_cast<int>(d.head_dim_v), d.paged ? kVariantPaged : kVariantNone};
}

Status KvAppendOp::validate(const KvAppendDesc& d) { return kv_append_detail::validate_append(d); }

void KvAppendOp::check(const void*, const KernelSku&, const Target&, Reason&) {}

std::size_t KvAppendOp::workspace(const void*, const KernelSku&, const Target&) { return 0; }

bool KvAppendOp::empty(const KvAppendDesc& d) { return d.batch == 0 || d.heads == 0 || d.new_len == 0; }

Status KvAppendOp::check_args(const KvAppendDesc& d, const KvAppendArgs& a, const KernelSku& sku) {
  return kv_append_detail::check_append_args(d, a, sku);
}

}  // namespace baracuda
