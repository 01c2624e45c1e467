// Decode attention (op attn_decode): every SKU of the registry, through
// DecodePlan with force_sku, against the f64 reference (tests/reference/
// attention.hpp). A decode problem is attention over the keys a sample holds,
// causal among its q_len new tokens (bottom-right aligned); keys of skipped
// pages (block-table entries outside [0, num_pages)) are dropped from the
// reference, so each query row sees a prefix of the remaining keys.
//
// Covered: random lengths including 0, L_max and out-of-range values (the
// kernel clamps them), ragged batches, GQA groups 1/2/4/5/7/8/16, q_len 1..8,
// both contiguous layouts ([B, Hkv, L, D] and [B, L, Hkv, D]), paged caches
// with page sizes 1/7/16/48/64/256, shuffled block tables and out-of-range entries,
// i32 and i64 lengths, one and several splits (the split count follows the
// SM count: each problem runs planned for this GPU and for a 3-SM target,
// which picks other counts). Outputs are poisoned before
// each run and a guard after O must stay untouched. Checked: relative L2 error
// of O <= guarantee.max_rel_error (cache rows past a sample's length hold
// NaN and must not reach it), LSE (f32 logits: |err| <= 2^-13 (1 + |lse|),
// -inf exactly where a row sees no key), no NaN, bit-stability (two runs), and
// batch invariance where the SKU claims it (one sample alone vs inside a batch
// of 64, bitwise).
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <numeric>
#include <random>
#include <string>
#include <vector>

#include "attention.hpp"
#include "baracuda/decode_tuning.hpp"
#include "gpu_common.hpp"

namespace {

using namespace baracuda;

enum class CacheLayout { bhld, blhd };

struct DecodeCase {
  int batch;
  int heads_q;
  int heads_kv;
  int q_len;
  int max_len;           // contiguous L_max; paged: keys per sequence before rounding up to pages
  CacheLayout k_layout;  // contiguous only
  CacheLayout v_layout;
  int page_size;         // paged only
  int bad_entries;       // paged only: block-table entries set outside [0, num_pages)
  bool seqlen_i64;
  float scale;           // 0: the 1/sqrt(D) default
};

// Host copy of one problem's inputs and its layout.
template <class T>
struct DecodeProblem {
  DecodeDesc desc;
  std::int64_t max_keys = 0;
  std::vector<T> q, k, v;                 // q [B, Hq, Lq, D]; caches in their layout
  Strides3 q_strides, k_strides, v_strides, o_strides;
  std::vector<std::int64_t> seqlens_raw;  // as uploaded (may be out of range)
  std::vector<std::int32_t> block_table;  // [B, bt_stride]
  std::int64_t bt_stride = 0;

  // Where sample b's cache position j lives: its slab (sample, or page) and
  // row; false for a key of a skipped page (entry outside [0, num_pages)).
  bool locate(std::int64_t b, std::int64_t j, std::int64_t& slab, std::int64_t& row) const {
    slab = b;
    row = j;
    if (!desc.paged) return true;
    const std::int32_t page = block_table[static_cast<std::size_t>(b * bt_stride + j / desc.page_size)];
    if (page < 0 || page >= desc.num_pages) return false;
    slab = page;
    row = j % desc.page_size;
    return true;
  }
  std::int64_t seqlen(std::int64_t b) const {  // as the kernel clamps it
    return std::clamp<std::int64_t>(seqlens_raw[static_cast<std::size_t>(b)], 0, max_keys);
  }
};

// Unit-variance uniform values in [-sqrt(3), sqrt(3)], rounded to T: two per
// 64-bit draw, so the large caches fill fast.
template <class T>
std::vector<T> random_cache(std::size_t n, std::mt19937_64& rng) {
  std::vector<T> out(n);
  const double half_width = std::sqrt(3.0);
  for (std::size_t i = 0; i < n; i += 2) {
    const std::uint64_t bits = rng();
    out[i] = bk_test::from_double<T>(half_width * (static_cast<double>(bits & 0xffffffffu) / 2147483648.0 - 1.0));
    if (i + 1 < n) out[i + 1] = bk_test::from_double<T>(half_width * (static_cast<double>(bits >> 32) / 2147483648.0 - 1.0));
  }
  return out;
}

Strides3 layout_strides(CacheLayout layout, std::int64_t heads, std::int64_t len, std::int64_t dim) {
  return layout == CacheLayout::bhld ? strides_bhld(heads, len, dim) : strides_blhd(heads, len, dim);
}

template <class T>
DecodeProblem<T> make_problem(const KernelSku& sku, const DecodeCase& c, std::mt19937_64& rng) {
  const bool paged = (sku.variant & kVariantPaged) != 0;
  const std::int64_t dim = sku.head_dim_qk;
  DecodeProblem<T> p;
  DecodeDesc& d = p.desc;
  d.element = sku.element;
  d.seqlen_element = c.seqlen_i64 ? Element::i64 : Element::i32;
  d.batch = c.batch;
  d.heads_q = c.heads_q;
  d.heads_kv = c.heads_kv;
  d.q_len = c.q_len;
  d.head_dim = dim;
  d.paged = paged;
  d.scale = c.scale;
  p.q_strides = strides_bhld(c.heads_q, c.q_len, dim);
  p.o_strides = p.q_strides;
  p.q = bk_test::random_normal<T>(static_cast<std::size_t>(c.batch) * c.heads_q * c.q_len * dim, rng);

  std::int64_t cache_elems = 0;
  if (paged) {
    d.page_size = c.page_size;
    d.max_pages_per_seq = (c.max_len + c.page_size - 1) / c.page_size;
    d.num_pages = c.batch * d.max_pages_per_seq + 3;  // a few pages no sample owns
    p.max_keys = d.max_pages_per_seq * d.page_size;
    p.k_strides = strides_bhld(c.heads_kv, c.page_size, dim);
    p.v_strides = p.k_strides;
    cache_elems = d.num_pages * c.heads_kv * c.page_size * dim;
    // Shuffled pool: sample b's pages are a random subset, in random order.
    std::vector<std::int32_t> pool(static_cast<std::size_t>(d.num_pages));
    std::iota(pool.begin(), pool.end(), 0);
    std::shuffle(pool.begin(), pool.end(), rng);
    p.bt_stride = d.max_pages_per_seq + 2;  // a padded row: stride > max_pages_per_seq
    p.block_table.assign(static_cast<std::size_t>(c.batch * p.bt_stride), 0);
    for (std::int64_t b = 0; b < c.batch; ++b)
      for (std::int64_t s = 0; s < d.max_pages_per_seq; ++s)
        p.block_table[static_cast<std::size_t>(b * p.bt_stride + s)] =
            pool[static_cast<std::size_t>(b * d.max_pages_per_seq + s)];
    const std::int32_t bad_values[4] = {-1, static_cast<std::int32_t>(d.num_pages),
                                        static_cast<std::int32_t>(d.num_pages) + 1000,
                                        std::numeric_limits<std::int32_t>::min()};
    std::uniform_int_distribution<std::int64_t> pick_b(0, c.batch - 1), pick_s(0, d.max_pages_per_seq - 1);
    for (int e = 0; e < c.bad_entries; ++e)
      p.block_table[static_cast<std::size_t>(pick_b(rng) * p.bt_stride + pick_s(rng))] = bad_values[e % 4];
  } else {
    d.max_len = c.max_len;
    p.max_keys = c.max_len;
    p.k_strides = layout_strides(c.k_layout, c.heads_kv, c.max_len, dim);
    p.v_strides = layout_strides(c.v_layout, c.heads_kv, c.max_len, dim);
    cache_elems = static_cast<std::int64_t>(c.batch) * c.heads_kv * c.max_len * dim;
  }
  p.k = random_cache<T>(static_cast<std::size_t>(cache_elems), rng);
  p.v = random_cache<T>(static_cast<std::size_t>(cache_elems), rng);

  // Ragged lengths: 0 and max_keys always present (batch >= 2), out-of-range
  // values (clamped by the kernel) now and then, the rest uniform.
  std::uniform_int_distribution<std::int64_t> len(0, p.max_keys);
  p.seqlens_raw.resize(static_cast<std::size_t>(c.batch));
  for (std::int64_t b = 0; b < c.batch; ++b) p.seqlens_raw[static_cast<std::size_t>(b)] = len(rng);
  p.seqlens_raw[0] = p.max_keys;
  if (c.batch >= 2) p.seqlens_raw[1] = 0;
  if (c.batch >= 4) p.seqlens_raw[3] = -7;               // clamps to 0
  if (c.batch >= 5) p.seqlens_raw[4] = p.max_keys + 99;  // clamps to max_keys

  // Cache rows past a sample's length hold NaN: a kernel that reads them may
  // not let them reach an output (a zero probability times NaN is NaN).
  const T nan = bk_test::from_double<T>(std::numeric_limits<double>::quiet_NaN());
  for (std::int64_t b = 0; b < c.batch; ++b) {
    for (std::int64_t j = p.seqlen(b); j < p.max_keys; ++j) {
      std::int64_t slab, row;
      if (!p.locate(b, j, slab, row)) continue;
      for (std::int64_t h = 0; h < c.heads_kv; ++h)
        for (std::int64_t e = 0; e < dim; ++e) {
          p.k[static_cast<std::size_t>(slab * p.k_strides.batch + h * p.k_strides.head + row * p.k_strides.pos + e)] = nan;
          p.v[static_cast<std::size_t>(slab * p.v_strides.batch + h * p.v_strides.head + row * p.v_strides.pos + e)] = nan;
        }
    }
  }
  return p;
}

// f64 reference: O [B, Hq, Lq, D] and LSE [B, Hq, Lq].
template <class T>
void reference(const DecodeProblem<T>& p, std::vector<double>& o_ref, std::vector<double>& lse_ref) {
  const DecodeDesc& d = p.desc;
  const std::int64_t dim = d.head_dim;
  o_ref.assign(static_cast<std::size_t>(d.batch * d.heads_q * d.q_len * dim), 0.0);
  lse_ref.assign(static_cast<std::size_t>(d.batch * d.heads_q * d.q_len), -INFINITY);
  const double scale = effective_scale(d);
  for (std::int64_t b = 0; b < d.batch; ++b) {
    const std::int64_t seqlen = p.seqlen(b);
    // Cache positions this sample holds, in order, with their element offsets.
    std::vector<std::int64_t> pos, k_off, v_off;
    for (std::int64_t j = 0; j < seqlen; ++j) {
      std::int64_t slab, row;
      if (!p.locate(b, j, slab, row)) continue;  // skipped page: masked keys
      pos.push_back(j);
      k_off.push_back(slab * p.k_strides.batch + row * p.k_strides.pos);
      v_off.push_back(slab * p.v_strides.batch + row * p.v_strides.pos);
    }
    const std::int64_t n = static_cast<std::int64_t>(pos.size());
    std::vector<double> kc(static_cast<std::size_t>(d.heads_kv * n * dim)), vc(kc.size());
    for (std::int64_t h = 0; h < d.heads_kv; ++h)
      for (std::int64_t jj = 0; jj < n; ++jj)
        for (std::int64_t e = 0; e < dim; ++e) {
          const auto dst = static_cast<std::size_t>((h * n + jj) * dim + e);
          kc[dst] = bk_test::to_double(p.k[static_cast<std::size_t>(k_off[jj] + h * p.k_strides.head + e)]);
          vc[dst] = bk_test::to_double(p.v[static_cast<std::size_t>(v_off[jj] + h * p.v_strides.head + e)]);
        }
    std::vector<double> qb(static_cast<std::size_t>(d.heads_q * d.q_len * dim));
    for (std::size_t e = 0; e < qb.size(); ++e)
      qb[e] = bk_test::to_double(p.q[static_cast<std::size_t>(b * p.q_strides.batch) + e]);

    bk_ref::AttentionShape shape;
    shape.batch = 1;
    shape.heads_q = d.heads_q;
    shape.heads_kv = d.heads_kv;
    shape.seq_q = d.q_len;
    shape.seq_k = n;
    shape.head_dim_qk = dim;
    shape.head_dim_v = dim;
    shape.causal = false;
    shape.scale = scale;
    for (std::int64_t i = 0; i < d.q_len; ++i) {
      // Row i sees positions j <= seqlen - q_len + i: a prefix of the kept keys.
      const std::int64_t limit = seqlen - d.q_len + i;
      const std::int64_t visible = std::upper_bound(pos.begin(), pos.end(), limit) - pos.begin();
      const bk_ref::AttentionResult r = bk_ref::attention_varlen(shape, qb, kc, vc, {visible}, {i});
      for (std::int64_t h = 0; h < d.heads_q; ++h) {
        const std::size_t row = static_cast<std::size_t>((b * d.heads_q + h) * d.q_len + i);
        lse_ref[row] = r.lse[r.lse_index(0, h, 0, shape)];
        for (std::int64_t e = 0; e < dim; ++e)
          o_ref[row * static_cast<std::size_t>(dim) + static_cast<std::size_t>(e)] = r.o[r.o_index(0, h, 0, e, shape)];
      }
    }
  }
}

// Device copies of a problem plus its outputs (O with a guard after it).
template <class T>
struct DeviceProblem {
  static constexpr std::size_t kGuard = 256;
  bk_test::DeviceBuffer<T> q, k, v, o;
  bk_test::DeviceBuffer<std::int32_t> seqlens32, block_table;
  bk_test::DeviceBuffer<std::int64_t> seqlens64;
  bk_test::DeviceBuffer<float> lse;
  std::size_t o_count = 0;

  explicit DeviceProblem(const DecodeProblem<T>& p)
      : q(p.q), k(p.k), v(p.v),
        o(static_cast<std::size_t>(p.desc.batch * p.desc.heads_q * p.desc.q_len * p.desc.head_dim) + kGuard),
        lse(static_cast<std::size_t>(p.desc.batch * p.desc.heads_q * p.desc.q_len)),
        o_count(o.size() - kGuard) {
    if (p.desc.seqlen_element == Element::i64) {
      seqlens64 = bk_test::DeviceBuffer<std::int64_t>(p.seqlens_raw);
    } else {
      std::vector<std::int32_t> s32(p.seqlens_raw.begin(), p.seqlens_raw.end());
      seqlens32 = bk_test::DeviceBuffer<std::int32_t>(s32);
    }
    if (p.desc.paged) block_table = bk_test::DeviceBuffer<std::int32_t>(p.block_table);
  }

  DecodeArgs args(const DecodeProblem<T>& p) const {
    DecodeArgs a;
    a.q = q.get();
    a.q_strides = p.q_strides;
    a.k_cache = k.get();
    a.k_cache_strides = p.k_strides;
    a.v_cache = v.get();
    a.v_cache_strides = p.v_strides;
    a.seqlens = p.desc.seqlen_element == Element::i64 ? static_cast<const void*>(seqlens64.get())
                                                      : static_cast<const void*>(seqlens32.get());
    a.block_table = p.desc.paged ? block_table.get() : nullptr;
    a.block_table_stride = p.bt_stride;
    a.o = o.get();
    a.o_strides = p.o_strides;
    a.lse = lse.get();
    return a;
  }
};

// Poisons the outputs, runs the plan, returns O (with guard) and LSE.
template <class T>
void run_plan(const DecodePlan& plan, DeviceProblem<T>& dev, const DecodeArgs& args, std::vector<T>& o,
              std::vector<float>& lse) {
  dev.o.poison();
  dev.lse.poison();
  bk_test::DeviceBuffer<unsigned char> ws(plan.workspace_size());
  ws.poison();
  BK_STATUS_OK(plan.run(nullptr, Workspace{ws.get(), ws.bytes()}, args));
  BK_CUDA_OK(cudaDeviceSynchronize());
  o = dev.o.download();
  lse = dev.lse.download();
}

const std::vector<DecodeCase>& decode_cases() {
  using L = CacheLayout;
  // {B, Hq, Hkv, Lq, max_len, k_layout, v_layout, page, bad, i64, scale}
  static const std::vector<DecodeCase> cases = {
      {3, 2, 2, 1, 700, L::bhld, L::bhld, 16, 0, false, 0.f},      // G=1
      {4, 4, 2, 3, 300, L::blhd, L::blhd, 1, 0, true, 0.f},        // G=2, page 1
      {2, 8, 2, 2, 1300, L::bhld, L::blhd, 64, 0, false, 0.3f},    // G=4, several splits
      {5, 5, 1, 4, 520, L::blhd, L::bhld, 256, 0, false, 0.f},     // G=5, page 256
      {2, 14, 2, 5, 200, L::bhld, L::bhld, 16, 3, true, 0.f},      // G=7, skipped pages
      {5, 8, 1, 8, 257, L::blhd, L::blhd, 64, 2, false, 0.f},      // G=8 x 8 tokens: 64 rows
      {2, 16, 1, 8, 150, L::bhld, L::bhld, 1, 5, false, 0.2f},     // G=16 x 8: two row blocks
      {6, 4, 2, 1, 2100, L::bhld, L::bhld, 16, 0, true, 0.f},      // fixed split: 3 splits
      {1, 7, 1, 6, 9, L::blhd, L::blhd, 256, 0, false, 0.f},       // tiny cache, q_len near length
      {3, 16, 2, 7, 600, L::bhld, L::blhd, 64, 1, false, 0.f},     // G=8 x 7: 56 rows
      {3, 8, 2, 1, 500, L::bhld, L::bhld, 48, 1, false, 0.f},      // page 48: not a power of two
      {2, 4, 1, 2, 100, L::blhd, L::bhld, 7, 0, true, 0.f},        // page 7: pages shorter than a load pass
  };
  return cases;
}

std::string case_name(const DecodeCase& c) {
  return "B=" + std::to_string(c.batch) + " Hq=" + std::to_string(c.heads_q) + " Hkv=" + std::to_string(c.heads_kv) +
         " Lq=" + std::to_string(c.q_len) + " L=" + std::to_string(c.max_len) + " page=" + std::to_string(c.page_size) +
         " bad=" + std::to_string(c.bad_entries);
}

template <class T>
void check_sku_against_reference(const KernelSku& sku) {
  auto rng = bk_test::rng_for(sku.name);
  const double lse_tol = std::ldexp(1.0, -13);
  // The split count depends on the SM count: plan for this GPU and for a
  // 3-SM target, which splits the same problems differently.
  auto device = Target::from_device(0);
  REQUIRE_MESSAGE(device.ok(), device.status().message());
  Target few = device.value();
  few.sm_count = 3;
  for (const DecodeCase& c : decode_cases()) {
    CAPTURE(case_name(c));
    const DecodeProblem<T> p = make_problem<T>(sku, c, rng);
    std::vector<double> o_ref, lse_ref;
    reference(p, o_ref, lse_ref);
    DeviceProblem<T> dev(p);
    const DecodeArgs args = dev.args(p);
    for (const Target& target : {device.value(), few}) {
      CAPTURE(target.sm_count);
      auto plan = DecodePlan::select(p.desc, bk_test::force(sku), target);
      REQUIRE_MESSAGE(plan.ok(), plan.status().message());
      BK_STATUS_OK(plan->can_implement(args));

      std::vector<T> o1, o2;
      std::vector<float> lse1, lse2;
      run_plan(plan.value(), dev, args, o1, lse1);

      // The guard after O is still poison: nothing was written past the end.
      bool guard_intact = true;
      for (std::size_t e = dev.o_count; e < o1.size(); ++e) {
        const auto* bytes = reinterpret_cast<const unsigned char*>(&o1[e]);
        for (std::size_t k = 0; k < sizeof(T); ++k) guard_intact = guard_intact && bytes[k] == 0xFF;
      }
      CHECK_MESSAGE(guard_intact, "a write landed after the end of O");

      std::vector<double> o_out(dev.o_count);
      for (std::size_t e = 0; e < dev.o_count; ++e) o_out[e] = bk_test::to_double(o1[e]);
      const long bad = bk_test::first_non_finite(o_out);
      CHECK_MESSAGE(bad < 0, "non-finite O at flat index ", bad);
      const double err = bk_test::rel_l2_error(o_out, o_ref);
      CHECK_MESSAGE(err <= sku.guarantee.max_rel_error, "rel L2 error ", err, " > bound ",
                    sku.guarantee.max_rel_error);

      std::size_t lse_bad = 0;
      double lse_worst = 0.0;
      for (std::size_t r = 0; r < lse_ref.size(); ++r) {
        const double got = lse1[r];
        if (std::isinf(lse_ref[r])) {
          if (!(std::isinf(got) && got < 0)) ++lse_bad;
          continue;
        }
        const double diff = std::isfinite(got) ? std::fabs(got - lse_ref[r]) : INFINITY;
        lse_worst = std::max(lse_worst, diff / (1.0 + std::fabs(lse_ref[r])));
        if (!(diff <= lse_tol * (1.0 + std::fabs(lse_ref[r])))) ++lse_bad;
      }
      CHECK_MESSAGE(lse_bad == 0, lse_bad, " LSE values off (worst scaled error ", lse_worst, ")");

      if (sku.guarantee.bit_stable || sku.guarantee.deterministic) {
        run_plan(plan.value(), dev, args, o2, lse2);
        CHECK_MESSAGE(bk_test::bitwise_equal(o1, o2), "O differs between two identical runs");
        CHECK_MESSAGE(bk_test::bitwise_equal(lse1, lse2), "LSE differs between two identical runs");
      }
    }
  }
}

// One sample alone (batch 1, pointers offset to its slice) against the same
// sample inside a batch of 64: bitwise equal O and LSE.
template <class T>
void check_batch_invariance(const KernelSku& sku) {
  auto rng = bk_test::rng_for(std::string(sku.name) + "/batch");
  // Just over one fixed split: long samples take two splits, so the merge runs too.
  const int max_len = static_cast<int>(kDecodeFixedSplitKeys) + 76;
  const DecodeCase c{64, 4, 1, 2, max_len, CacheLayout::bhld, CacheLayout::bhld, 16, 0, false, 0.f};
  const DecodeProblem<T> p = make_problem<T>(sku, c, rng);
  DeviceProblem<T> dev(p);
  auto big = DecodePlan::select(p.desc, bk_test::force(sku));
  REQUIRE_MESSAGE(big.ok(), big.status().message());
  std::vector<T> o_all;
  std::vector<float> lse_all;
  run_plan(big.value(), dev, dev.args(p), o_all, lse_all);

  DecodeDesc one = p.desc;
  one.batch = 1;
  auto small = DecodePlan::select(one, bk_test::force(sku));
  REQUIRE_MESSAGE(small.ok(), small.status().message());
  const std::int64_t rows = p.desc.heads_q * p.desc.q_len;
  const std::int64_t o_row = rows * p.desc.head_dim;
  for (const std::int64_t b : {std::int64_t{0}, std::int64_t{5}, std::int64_t{37}, std::int64_t{63}}) {
    CAPTURE(b);
    bk_test::DeviceBuffer<T> o1(static_cast<std::size_t>(o_row));
    bk_test::DeviceBuffer<float> l1(static_cast<std::size_t>(rows));
    DecodeArgs a = dev.args(p);
    a.q = static_cast<const T*>(a.q) + b * p.q_strides.batch;
    if (!p.desc.paged) {
      a.k_cache = static_cast<const T*>(a.k_cache) + b * p.k_strides.batch;
      a.v_cache = static_cast<const T*>(a.v_cache) + b * p.v_strides.batch;
    } else {
      a.block_table = a.block_table + b * p.bt_stride;
    }
    a.seqlens = p.desc.seqlen_element == Element::i64 ? static_cast<const void*>(dev.seqlens64.get() + b)
                                                      : static_cast<const void*>(dev.seqlens32.get() + b);
    a.o = o1.get();
    a.lse = l1.get();
    o1.poison();
    l1.poison();
    bk_test::DeviceBuffer<unsigned char> ws(small->workspace_size());
    BK_STATUS_OK(small->run(nullptr, Workspace{ws.get(), ws.bytes()}, a));
    BK_CUDA_OK(cudaDeviceSynchronize());
    const std::vector<T> o_one = o1.download();
    const std::vector<float> lse_one = l1.download();
    const std::vector<T> o_slice(o_all.begin() + b * o_row, o_all.begin() + (b + 1) * o_row);
    const std::vector<float> lse_slice(lse_all.begin() + b * rows, lse_all.begin() + (b + 1) * rows);
    CHECK_MESSAGE(bk_test::bitwise_equal(o_one, o_slice), "O of sample ", b, " depends on the batch");
    CHECK_MESSAGE(bk_test::bitwise_equal(lse_one, lse_slice), "LSE of sample ", b, " depends on the batch");
  }
}

// Runs check<T>(sku) for every decode SKU of the registry that `wanted`
// accepts, one subcase each; T is the SKU's element (f16 or bf16).
template <class Check>
void for_each_decode_sku(bool (*wanted)(const KernelSku&), Check check) {
  for (const KernelSku* sku : bk_test::skus_of(OpKind::attn_decode)) {
    if (!wanted(*sku)) continue;
    SUBCASE(sku->name) {
      bk_test::dispatch_element(sku->element, [&]<class T>() {
        if constexpr (std::is_same_v<T, __half> || std::is_same_v<T, __nv_bfloat16>) {
          check.template operator()<T>(*sku);
        } else {
          FAIL("decode SKU with element ", to_string(sku->element));
        }
      });
    }
  }
}

}  // namespace

TEST_CASE("attn_decode: every SKU against the f64 reference") {
  BK_REQUIRE_GPU();
  for_each_decode_sku([](const KernelSku&) { return true; },
                      []<class T>(const KernelSku& sku) { check_sku_against_reference<T>(sku); });
}

TEST_CASE("attn_decode: batch-invariant SKUs give a sample the same bits alone and in a batch of 64") {
  BK_REQUIRE_GPU();
  for_each_decode_sku([](const KernelSku& sku) { return sku.guarantee.batch_invariant; },
                      []<class T>(const KernelSku& sku) { check_batch_invariance<T>(sku); });
}
