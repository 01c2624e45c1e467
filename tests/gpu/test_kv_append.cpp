// KV-cache append on the GPU: every compiled kv_append SKU, random shapes,
// ragged offsets (negative and past the end), both cache layouts, paged
// caches with shuffled and out-of-range block tables. Caches start filled
// with random bytes; the whole buffer must equal the host reference bit for
// bit, so a write outside the written cells fails the test.
#include <algorithm>

#include "gpu_common.hpp"
#include "kv_append.hpp"

using namespace baracuda;
using bk_test::DeviceBuffer;
using bk_test::random_normal_bits;

namespace {

struct Case {
  std::int64_t batch, heads, new_len, max_len, dim_k, dim_v;
  bool blhd;            // cache layout [B, L, H, D] (else [B, H, L, D])
  std::int64_t page_size;  // paged only
  std::int64_t elem_offset;  // base pointer offset in elements (generic SKUs: misaligned)
};

template <class T>
void run_case(const KernelSku& sku, const Case& c, std::mt19937_64& rng) {
  const bool paged = (sku.variant & kVariantPaged) != 0;
  KvAppendDesc d{sku.element, c.batch, c.heads, c.new_len, c.max_len, c.dim_k, c.dim_v};
  std::vector<std::int32_t> table;
  if (paged) {
    d.paged = true;
    d.page_size = c.page_size;
    d.max_pages_per_seq = (c.max_len + c.page_size - 1) / c.page_size;
    d.num_pages = c.batch * d.max_pages_per_seq + 3;
    d.max_len = 0;
    table.resize(static_cast<std::size_t>(c.batch * d.max_pages_per_seq));
    std::vector<std::int32_t> pages(static_cast<std::size_t>(d.num_pages));
    for (std::size_t i = 0; i < pages.size(); ++i) pages[i] = static_cast<std::int32_t>(i);
    std::shuffle(pages.begin(), pages.end(), rng);
    for (std::size_t i = 0; i < table.size(); ++i) table[i] = pages[i];
    // Some entries out of range: those cells are skipped, never written.
    if (table.size() > 2) {
      table[rng() % table.size()] = -1;
      table[rng() % table.size()] = static_cast<std::int32_t>(d.num_pages + 5);
    }
  }
  const std::int64_t cache_rows = paged ? d.num_pages : c.batch;
  const std::int64_t cache_len = paged ? d.page_size : c.max_len;
  auto cache_strides = [&](std::int64_t dim) {
    return c.blhd ? strides_blhd(c.heads, cache_len, dim) : strides_bhld(c.heads, cache_len, dim);
  };
  const Strides3 kc_s = cache_strides(c.dim_k), vc_s = cache_strides(c.dim_v);
  const Strides3 kn_s = strides_bhld(c.heads, c.new_len, c.dim_k), vn_s = strides_bhld(c.heads, c.new_len, c.dim_v);
  const std::size_t off = static_cast<std::size_t>(c.elem_offset);
  const std::size_t kc_n = static_cast<std::size_t>(cache_rows * c.heads * cache_len * c.dim_k) + off;
  const std::size_t vc_n = static_cast<std::size_t>(cache_rows * c.heads * cache_len * c.dim_v) + off;
  const std::size_t kn_n = static_cast<std::size_t>(c.batch * c.heads * c.new_len * c.dim_k) + off;
  const std::size_t vn_n = static_cast<std::size_t>(c.batch * c.heads * c.new_len * c.dim_v) + off;

  std::vector<std::int64_t> offsets(static_cast<std::size_t>(c.batch));
  const std::int64_t max_pos = paged ? d.max_pages_per_seq * d.page_size : c.max_len;
  std::uniform_int_distribution<std::int64_t> pick(-c.new_len - 2, max_pos + 2);
  for (auto& o : offsets) o = pick(rng);
  offsets[0] = 0;  // at least one sample fully (or mostly) in range

  // Random bytes everywhere, also in the cache: no zeros that hide misses.
  std::vector<T> k_new = random_normal_bits<T>(kn_n, rng), v_new = random_normal_bits<T>(vn_n, rng);
  std::vector<T> k_cache = random_normal_bits<T>(kc_n, rng), v_cache = random_normal_bits<T>(vc_n, rng);
  DeviceBuffer<T> dk_new(k_new), dv_new(v_new), dk_cache(k_cache), dv_cache(v_cache);
  DeviceBuffer<std::int64_t> d_off(offsets);
  DeviceBuffer<std::int32_t> d_table(table.empty() ? std::vector<std::int32_t>{0} : table);

  KvAppendArgs a;
  a.k_new = dk_new.get() + off;
  a.v_new = dv_new.get() + off;
  a.k_cache = dk_cache.get() + off;
  a.v_cache = dv_cache.get() + off;
  a.k_new_strides = kn_s;
  a.v_new_strides = vn_s;
  a.k_cache_strides = kc_s;
  a.v_cache_strides = vc_s;
  a.offsets = d_off.get();
  if (paged) {
    a.block_table = d_table.get();
    a.block_table_stride = d.max_pages_per_seq;
  }
  auto plan = KvAppendPlan::select(d, bk_test::force(sku), bk_test::current_target());
  REQUIRE_MESSAGE(plan.ok(), plan.status().message());
  BK_STATUS_OK(plan->can_implement(a));
  BK_STATUS_OK(plan->run(nullptr, {}, a));
  BK_CUDA_OK(cudaDeviceSynchronize());

  std::vector<T> k_ref(k_cache.begin() + off, k_cache.end()), v_ref(v_cache.begin() + off, v_cache.end());
  std::vector<T> k_src(k_new.begin() + off, k_new.end()), v_src(v_new.begin() + off, v_new.end());
  bk_ref::kv_append(d, c.dim_k, k_src, kn_s, k_ref, kc_s, offsets, table, d.max_pages_per_seq);
  bk_ref::kv_append(d, c.dim_v, v_src, vn_s, v_ref, vc_s, offsets, table, d.max_pages_per_seq);
  k_ref.insert(k_ref.begin(), k_cache.begin(), k_cache.begin() + off);
  v_ref.insert(v_ref.begin(), v_cache.begin(), v_cache.begin() + off);
  CHECK_MESSAGE(bk_test::bitwise_equal(dk_cache.download(), k_ref), "K cache differs from the reference");
  CHECK_MESSAGE(bk_test::bitwise_equal(dv_cache.download(), v_ref), "V cache differs from the reference");
}

}  // namespace

TEST_CASE("kv_append: every SKU bit-exact, nothing outside the written cells") {
  BK_REQUIRE_GPU();
  const auto skus = bk_test::skus_of(OpKind::kv_append);
  REQUIRE(!skus.empty());
  for (const KernelSku* sku : skus) {
    SUBCASE(sku->name) {
      auto rng = bk_test::rng_for(sku->name);
      const bool generic = sku->generic_head_dim();
      const bool paged = (sku->variant & kVariantPaged) != 0;
      std::vector<Case> cases;
      for (int i = 0; i < 6; ++i) {
        Case c{};
        c.batch = 1 + static_cast<std::int64_t>(rng() % 5);
        c.heads = 1 + static_cast<std::int64_t>(rng() % 4);
        c.new_len = 1 + static_cast<std::int64_t>(rng() % 40);
        c.max_len = 8 + static_cast<std::int64_t>(rng() % 120);
        c.dim_k = c.dim_v = sku->head_dim_qk;
        if (generic) {
          static constexpr std::int64_t kDims[] = {1, 13, 40, 72, 96, 200};
          c.dim_k = kDims[rng() % 6];
          c.dim_v = i % 2 ? kDims[rng() % 6] : c.dim_k;
          c.elem_offset = i % 3;  // element-aligned but not 16-byte aligned
        }
        c.blhd = i % 2 == 1;
        static constexpr std::int64_t kPages[] = {1, 16, 64, 256};
        c.page_size = paged ? kPages[i % 4] : 0;
        cases.push_back(c);
      }
      cases.push_back({1, 1, 1, 1, sku->generic_head_dim() ? 8 : sku->head_dim_qk,
                       sku->generic_head_dim() ? 8 : sku->head_dim_qk, false, paged ? 1 : 0, 0});
      bk_test::dispatch_element(sku->element, [&]<class T>() {
        for (const Case& c : cases) {
          CAPTURE(c.batch); CAPTURE(c.heads); CAPTURE(c.new_len); CAPTURE(c.max_len);
          CAPTURE(c.dim_k); CAPTURE(c.dim_v); CAPTURE(c.blhd); CAPTURE(c.page_size);
          run_case<T>(*sku, c, rng);
        }
      });
    }
  }
}

TEST_CASE("kv_append: a cache of more than 2^31 elements (64-bit indexing)") {
  BK_REQUIRE_GPU();
  const KernelSku* sku = Catalog::find("kv_append_bf16_hd128_sm80");
  if (!sku) {
    MESSAGE("skipped: kv_append_bf16_hd128_sm80 not compiled");
    return;
  }
  using T = __nv_bfloat16;
  const std::int64_t D = 128, L_max = (std::int64_t{1} << 24) + 64, L_new = 8;  // 2^31 + 8192 elements
  std::size_t free_bytes = 0, total = 0;
  BK_CUDA_OK(cudaMemGetInfo(&free_bytes, &total));
  const std::size_t cache_elems = static_cast<std::size_t>(L_max * D);
  if (free_bytes < 2 * cache_elems * sizeof(T) + (1u << 30)) {
    MESSAGE("skipped: needs " << 2 * cache_elems * sizeof(T) / (1 << 20) << " MiB of free device memory");
    return;
  }
  auto rng = bk_test::rng_for("kv_append_2g");
  KvAppendDesc d{Element::bf16, 1, 1, L_new, L_max, D, D};
  DeviceBuffer<T> k_cache(cache_elems), v_cache(cache_elems);
  k_cache.poison(0x3C);
  v_cache.poison(0x3C);
  std::vector<T> k_new = bk_test::random_normal<T>(static_cast<std::size_t>(L_new * D), rng);
  std::vector<T> v_new = bk_test::random_normal<T>(static_cast<std::size_t>(L_new * D), rng);
  DeviceBuffer<T> dk(k_new), dv(v_new);
  const std::vector<std::int64_t> offsets = {L_max - 5};  // the last 5 rows land, 3 fall past the end
  DeviceBuffer<std::int64_t> d_off(offsets);
  KvAppendArgs a;
  a.k_new = dk.get();
  a.v_new = dv.get();
  a.k_cache = k_cache.get();
  a.v_cache = v_cache.get();
  a.k_new_strides = a.v_new_strides = strides_bhld(1, L_new, D);
  a.k_cache_strides = a.v_cache_strides = strides_bhld(1, L_max, D);
  a.offsets = d_off.get();
  auto plan = KvAppendPlan::select(d, bk_test::force(*sku), bk_test::current_target());
  REQUIRE(plan.ok());
  BK_STATUS_OK(plan->run(nullptr, {}, a));
  BK_CUDA_OK(cudaDeviceSynchronize());
  // The tail: rows L_max-8 .. L_max-1; rows before L_max-5 keep the poison.
  const std::size_t tail_rows = 8;
  std::vector<T> tail(tail_rows * D);
  BK_CUDA_OK(cudaMemcpy(tail.data(), k_cache.get() + (L_max - 8) * D, tail.size() * sizeof(T), cudaMemcpyDeviceToHost));
  std::vector<T> expect(tail.size());
  std::memset(expect.data(), 0x3C, expect.size() * sizeof(T));
  for (std::int64_t l = 0; l < 5; ++l)
    std::copy_n(k_new.begin() + l * D, D, expect.begin() + (3 + l) * D);
  CHECK(bk_test::bitwise_equal(tail, expect));
}
