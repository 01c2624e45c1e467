// GPU conformance of every rope and rope_kv_append SKU in the registry.
//
// rope: both styles, full and partial rotary (including rotary widths whose
// NeoX partner offset is not a whole 16-byte vector), position scaling,
// several theta bases, in place and out of place, Q only / K only / both,
// padded strides, positions drawn in [-1e5, 1e5]. Each output is checked
// against the f64 reference (tests/reference/rope.hpp) with
// ||out - ref||_2 / ||ref||_2 <= guarantee.max_rel_error, NaN never passing;
// the bytes of the output buffers outside the tensor (stride padding) must
// be unchanged, and a second run must give the same bits (the guarantee
// claims determinism and bit stability).
//
// rope_kv_append: the fused result must be bit-equal to RopePlan followed by
// KvAppendPlan with the same SKU family (Q out, K cache, V cache), for a
// contiguous cache in [B, H, L_max, D] and [B, L_max, H, D] layouts and for a
// paged cache with page sizes 1, 16, 64 and 256 and shuffled block tables.
// Offsets put some cells out of range (past the end, negative, wrapping past
// INT64_MAX) and block tables hold invalid entries: those cells are skipped,
// and every cache byte outside the written cells keeps its value. The
// written K cells are also checked against the reference, V cells for exact
// copies.
#include <cuda_runtime.h>  // before gpu_common.hpp: the typed cudaMalloc overloads it relies on

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <limits>
#include <numeric>
#include <string>
#include <vector>

#include "gpu_common.hpp"
#include "rope.hpp"

using namespace baracuda;

namespace {

using bk_test::DeviceBuffer;

constexpr std::uint32_t kStyleBits = kVariantRopeNeox | kVariantRopeGptj;

bool is_neox(const KernelSku& sku) { return (sku.variant & kVariantRopeNeox) != 0; }
RopeStyle style_of(const KernelSku& sku) { return is_neox(sku) ? RopeStyle::neox : RopeStyle::gptj; }

// A strided [B, H, L, D] tensor in a buffer of `count` elements.
struct Layout {
  std::int64_t b, h, l, d;
  Strides3 s;
  std::size_t count;
  std::size_t offset(std::int64_t bi, std::int64_t hi, std::int64_t li) const {
    return static_cast<std::size_t>(bi * s.batch + hi * s.head + li * s.pos);
  }
};

enum class Order { bhld, blhd, padded };

// `pad` elements after every row (padded order; keeps 16-byte rows when it
// is a multiple of the SKU's stride multiple).
Layout make_layout(std::int64_t b, std::int64_t h, std::int64_t l, std::int64_t d, Order order, std::int64_t pad) {
  Layout t{b, h, l, d, {}, 0};
  switch (order) {
    case Order::bhld: t.s = strides_bhld(h, l, d); break;
    case Order::blhd: t.s = strides_blhd(h, l, d); break;
    case Order::padded: {
      const std::int64_t row = d + pad;
      t.s = {h * l * row + pad, l * row, row};  // batch stride padded too
      break;
    }
  }
  t.count = static_cast<std::size_t>((b - 1) * t.s.batch + (h - 1) * t.s.head + (l - 1) * t.s.pos + d);
  return t;
}

// Logical [B, H, L, D] values placed into a buffer whose other elements are `fill`.
template <class T>
std::vector<T> pack(const std::vector<T>& logical, const Layout& t, const std::vector<T>& fill) {
  std::vector<T> buf = fill;
  for (std::int64_t bi = 0; bi < t.b; ++bi)
    for (std::int64_t hi = 0; hi < t.h; ++hi)
      for (std::int64_t li = 0; li < t.l; ++li)
        std::memcpy(&buf[t.offset(bi, hi, li)], &logical[static_cast<std::size_t>(((bi * t.h + hi) * t.l + li) * t.d)],
                    static_cast<std::size_t>(t.d) * sizeof(T));
  return buf;
}

template <class T>
std::vector<T> unpack(const std::vector<T>& buf, const Layout& t) {
  std::vector<T> logical(static_cast<std::size_t>(t.b * t.h * t.l * t.d));
  for (std::int64_t bi = 0; bi < t.b; ++bi)
    for (std::int64_t hi = 0; hi < t.h; ++hi)
      for (std::int64_t li = 0; li < t.l; ++li)
        std::memcpy(&logical[static_cast<std::size_t>(((bi * t.h + hi) * t.l + li) * t.d)], &buf[t.offset(bi, hi, li)],
                    static_cast<std::size_t>(t.d) * sizeof(T));
  return logical;
}

// True where the buffer element belongs to the tensor.
std::vector<bool> covered(const Layout& t) {
  std::vector<bool> in(t.count, false);
  for (std::int64_t bi = 0; bi < t.b; ++bi)
    for (std::int64_t hi = 0; hi < t.h; ++hi)
      for (std::int64_t li = 0; li < t.l; ++li)
        for (std::int64_t di = 0; di < t.d; ++di) in[t.offset(bi, hi, li) + static_cast<std::size_t>(di)] = true;
  return in;
}

// Every element outside the tensor still holds its old bits.
template <class T>
bool padding_unchanged(const std::vector<T>& after, const std::vector<T>& before, const Layout& t) {
  const std::vector<bool> in = covered(t);
  for (std::size_t i = 0; i < t.count; ++i)
    if (!in[i] && std::memcmp(&after[i], &before[i], sizeof(T)) != 0) return false;
  return true;
}

template <class T>
std::vector<T> poison_values(std::size_t n) {
  std::vector<T> v(n);
  std::memset(static_cast<void*>(v.data()), 0xFF, n * sizeof(T));  // NaN in every float type
  return v;
}

std::vector<std::int64_t> random_positions(std::size_t n, std::int64_t lo, std::int64_t hi, std::mt19937_64& rng) {
  std::uniform_int_distribution<std::int64_t> dist(lo, hi);
  std::vector<std::int64_t> p(n);
  for (auto& x : p) x = dist(rng);
  return p;
}

std::int64_t vec_elems(const KernelSku& sku) {
  return sku.generic_head_dim() ? 1 : static_cast<std::int64_t>(16 / element_size(sku.element));
}

// --------------------------------------------------------------- rope ----
struct RopeCase {
  const char* what;
  std::int64_t batch, len, heads_q, heads_k, head_dim, rotary_dim;
  double theta, scale;
  bool in_place;
  Order in_order, out_order;
  std::int64_t pos_lo, pos_hi;
};

// The cases a SKU is run at: its own head dim, or several for a generic SKU
// (including an odd one with rows that are only element-aligned).
std::vector<RopeCase> rope_cases(const KernelSku& sku) {
  const bool generic = sku.generic_head_dim();
  const std::int64_t d = generic ? 72 : sku.head_dim_qk;
  const std::int64_t d_odd = generic ? 37 : d;  // rotary d_odd - 3 is even for 37
  const std::int64_t r_edge = generic ? d_odd - 3 : d - 2;
  const std::int64_t d_wide = generic ? 130 : d;
  // r = d - 2: r/2 is not a multiple of the vector width (NeoX scalar path;
  // a GPT-J vector straddles the rotary edge).
  return {
      {"full rotary, in place, [B,L,H,D]", 2, 33, 5, 3, d, 0, 10000.0, 1.0, true, Order::blhd, Order::blhd, 0, 4096},
      {"half rotary, out of place, padded out, scaled, +-1e5", 3, 17, 4, 2, d, d / 2, 500000.0, 0.5, false,
       Order::bhld, Order::padded, -100000, 100000},
      {"rotary at a vector edge, K only, padded in and out", 1, 40, 0, 4, d_odd, r_edge, 10000.0, 1.0, false,
       Order::padded, Order::padded, 0, 100000},
      {"rotary 2, Q only, in place, large positions", 2, 9, 6, 0, d_wide, 2, 1000000.0, 0.25, true, Order::bhld,
       Order::bhld, 90000, 100000},
  };
}

// Largest error seen per SKU, printed once per SKU as evidence next to its bound.
double g_max_err = 0.0;

template <class T>
void run_rope_case(const KernelSku& sku, const RopeCase& c, std::mt19937_64& rng) {
  const std::string what = c.what;
  CAPTURE(what);
  CAPTURE(c.head_dim);
  CAPTURE(c.rotary_dim);
  const std::int64_t pad = vec_elems(sku);
  const std::int64_t heads[2] = {c.heads_q, c.heads_k};
  const std::vector<std::int64_t> positions =
      random_positions(static_cast<std::size_t>(c.batch * c.len), c.pos_lo, c.pos_hi, rng);
  DeviceBuffer<std::int64_t> d_pos(positions);

  Layout in_l[2], out_l[2];
  std::vector<T> logical_in[2], in_buf[2], out_before[2];
  DeviceBuffer<T> d_in[2], d_out[2];
  for (int t = 0; t < 2; ++t) {
    if (heads[t] == 0) continue;
    in_l[t] = make_layout(c.batch, heads[t], c.len, c.head_dim, c.in_order, pad);
    out_l[t] = c.in_place ? in_l[t] : make_layout(c.batch, heads[t], c.len, c.head_dim, c.out_order, pad);
    logical_in[t] = bk_test::random_normal<T>(static_cast<std::size_t>(c.batch * heads[t] * c.len * c.head_dim), rng);
    in_buf[t] = pack(logical_in[t], in_l[t], bk_test::random_normal<T>(in_l[t].count, rng));
    d_in[t] = DeviceBuffer<T>(in_buf[t]);
    if (!c.in_place) {
      out_before[t] = poison_values<T>(out_l[t].count);
      d_out[t] = DeviceBuffer<T>(out_before[t]);
    } else {
      out_before[t] = in_buf[t];
    }
  }

  RopeDesc desc;
  desc.element = sku.element;
  desc.batch = c.batch;
  desc.seq_len = c.len;
  desc.heads_q = c.heads_q;
  desc.heads_k = c.heads_k;
  desc.head_dim = c.head_dim;
  desc.rope = {style_of(sku), c.rotary_dim, c.theta, c.scale};
  auto plan = RopePlan::select(desc, bk_test::force(sku));
  REQUIRE_MESSAGE(plan.ok(), plan.status().message());
  REQUIRE(plan->workspace_size() == 0);

  RopeArgs args;
  args.positions = d_pos.get();
  auto bind = [&](int t, const void*& in, Strides3& in_s, void*& out, Strides3& out_s) {
    if (heads[t] == 0) return;
    in = d_in[t].get();
    in_s = in_l[t].s;
    out = c.in_place ? static_cast<void*>(d_in[t].get()) : static_cast<void*>(d_out[t].get());
    out_s = out_l[t].s;
  };
  bind(0, args.q_in, args.q_in_strides, args.q_out, args.q_out_strides);
  bind(1, args.k_in, args.k_in_strides, args.k_out, args.k_out_strides);
  BK_STATUS_OK(plan->run(nullptr, Workspace{}, args));
  BK_CUDA_OK(cudaDeviceSynchronize());

  const bk_ref::RopeSpec spec{is_neox(sku), c.rotary_dim, c.theta, c.scale};
  for (int t = 0; t < 2; ++t) {
    if (heads[t] == 0) continue;
    CAPTURE(t == 0 ? "Q" : "K");
    const std::vector<T> out_buf = c.in_place ? d_in[t].download() : d_out[t].download();
    const std::vector<double> out = bk_test::to_double_vector(unpack(out_buf, out_l[t]));
    const std::vector<double> ref = bk_ref::rope_tensor(bk_test::to_double_vector(logical_in[t]), c.batch, heads[t],
                                                        c.len, c.head_dim, spec, positions);
    CHECK(bk_test::first_non_finite(out) == -1);
    const double err = bk_test::rel_l2_error(out, ref);
    CAPTURE(err);
    CHECK(err <= sku.guarantee.max_rel_error);
    g_max_err = std::max(g_max_err, err);
    CHECK(padding_unchanged(out_buf, out_before[t], out_l[t]));
    if (!c.in_place) {  // determinism: the same inputs give the same bits
      BK_STATUS_OK(plan->run(nullptr, Workspace{}, args));
      BK_CUDA_OK(cudaDeviceSynchronize());
      CHECK(bk_test::bitwise_equal(d_out[t].download(), out_buf));
    }
  }
}

// ----------------------------------------------------- rope_kv_append ----
enum class CacheKind { bhld, blhd, paged };

struct FusedCase {
  CacheKind cache;
  std::int64_t page_size;     // paged only
  bool partial_rotary;        // rotary_dim < head_dim (tail dims copied)
  std::int64_t heads_q = 4;
  std::int64_t heads_kv = 2;
};

const KernelSku* find_sku(OpKind op, Element e, int head_dim, std::uint32_t variant_mask, std::uint32_t variant) {
  SkuFilter f;
  f.op = op;
  f.element = e;
  f.head_dim = head_dim;
  for (const KernelSku* s : bk_test::skus_of(op))
    if (f.matches(*s) && (s->variant & variant_mask) == variant) return s;
  return nullptr;
}

template <class T>
void run_fused_case(const KernelSku& fused, const KernelSku& rope_sku, const KernelSku& append_sku,
                    const FusedCase& c, std::mt19937_64& rng) {
  const bool paged = c.cache == CacheKind::paged;
  CAPTURE(static_cast<int>(c.cache));
  CAPTURE(c.page_size);
  CAPTURE(c.partial_rotary);
  CAPTURE(c.heads_q);
  CAPTURE(c.heads_kv);
  const std::int64_t B = 5, L = 7, Hq = c.heads_q, H = c.heads_kv;
  const std::int64_t D = fused.generic_head_dim() ? 40 : fused.head_dim_qk;
  const std::int64_t rotary = c.partial_rotary ? D - 6 : D;
  const std::int64_t L_max = 24;                                  // contiguous
  const std::int64_t page = paged ? c.page_size : 0;
  const std::int64_t max_pages = paged ? std::max<std::int64_t>(2, (L + page - 1) / page) : 0;
  const std::int64_t capacity = paged ? max_pages * page : L_max;  // positions per sequence
  const std::int64_t num_pages = paged ? B * max_pages + 3 : 0;
  const std::int64_t bt_stride = max_pages + 1;

  // Offsets: in range; running past the end; starting negative; wrapping
  // past INT64_MAX; in range again.
  const std::vector<std::int64_t> offsets = {0, capacity - L / 2, -(L / 2), std::numeric_limits<std::int64_t>::max() - 2,
                                             capacity > L ? capacity - L : 0};
  const std::vector<std::int64_t> positions =
      random_positions(static_cast<std::size_t>(B * L), -100000, 100000, rng);

  // Block table: a shuffled permutation of the pages, with invalid entries.
  std::vector<std::int32_t> block_table(static_cast<std::size_t>(paged ? B * bt_stride : 1), -7);
  if (paged) {
    std::vector<std::int32_t> pages(static_cast<std::size_t>(num_pages));
    std::iota(pages.begin(), pages.end(), 0);
    std::shuffle(pages.begin(), pages.end(), rng);
    std::size_t next = 0;
    for (std::int64_t b = 0; b < B; ++b)
      for (std::int64_t p = 0; p < max_pages; ++p) block_table[static_cast<std::size_t>(b * bt_stride + p)] = pages[next++];
    block_table[static_cast<std::size_t>(0 * bt_stride + max_pages - 1)] = -1;                           // negative
    block_table[static_cast<std::size_t>(4 * bt_stride + 0)] = static_cast<std::int32_t>(num_pages + 5);  // past the end
  }

  // Host model of the cache slot of (b, l): the documented semantics.
  auto slot_of = [&](std::int64_t b, std::int64_t l, std::int64_t& dim0, std::int64_t& dim2) {
    const std::int64_t pos =
        static_cast<std::int64_t>(static_cast<std::uint64_t>(offsets[static_cast<std::size_t>(b)]) +
                                  static_cast<std::uint64_t>(l));
    if (pos < 0 || pos >= capacity) return false;
    if (!paged) {
      dim0 = b;
      dim2 = pos;
      return true;
    }
    const std::int32_t e = block_table[static_cast<std::size_t>(b * bt_stride + pos / page)];
    if (e < 0 || e >= num_pages) return false;
    dim0 = e;
    dim2 = pos % page;
    return true;
  };

  const Layout q_l = make_layout(B, Hq, L, D, Order::blhd, 0);
  const Layout new_l = make_layout(B, H, L, D, Order::bhld, 0);
  Layout cache_l;
  if (paged) cache_l = make_layout(num_pages, H, page, D, Order::bhld, 0);
  else cache_l = make_layout(B, H, L_max, D, c.cache == CacheKind::bhld ? Order::bhld : Order::blhd, 0);

  const std::vector<T> q = bk_test::random_normal<T>(q_l.count, rng);
  const std::vector<T> k_new = bk_test::random_normal<T>(new_l.count, rng);
  const std::vector<T> v_new = bk_test::random_normal<T>(new_l.count, rng);
  const std::vector<T> k_cache0 = bk_test::random_normal<T>(cache_l.count, rng);
  const std::vector<T> v_cache0 = bk_test::random_normal<T>(cache_l.count, rng);

  DeviceBuffer<std::int64_t> d_pos(positions), d_off(offsets);
  DeviceBuffer<std::int32_t> d_bt(block_table);
  DeviceBuffer<T> d_q(q), d_k(k_new), d_v(v_new);
  DeviceBuffer<T> d_q_fused(poison_values<T>(q_l.count)), d_q_two(poison_values<T>(q_l.count));
  DeviceBuffer<T> d_k_rot(poison_values<T>(new_l.count));
  DeviceBuffer<T> d_kc_fused(k_cache0), d_vc_fused(v_cache0), d_kc_two(k_cache0), d_vc_two(v_cache0);

  KvAppendDesc ad;
  ad.element = fused.element;
  ad.batch = B;
  ad.heads = H;
  ad.new_len = L;
  ad.max_len = paged ? 0 : L_max;
  ad.head_dim_k = ad.head_dim_v = D;
  ad.paged = paged;
  ad.page_size = page;
  ad.num_pages = num_pages;
  ad.max_pages_per_seq = max_pages;
  const RopeParams rp{style_of(fused), rotary, 10000.0, 0.75};

  auto append_args = [&](const T* k_src, T* kc, T* vc) {
    KvAppendArgs a;
    a.k_new = k_src;
    a.k_new_strides = new_l.s;
    a.v_new = d_v.get();
    a.v_new_strides = new_l.s;
    a.k_cache = kc;
    a.k_cache_strides = cache_l.s;
    a.v_cache = vc;
    a.v_cache_strides = cache_l.s;
    a.offsets = d_off.get();
    if (paged) {
      a.block_table = d_bt.get();
      a.block_table_stride = bt_stride;
    }
    return a;
  };

  // Fused.
  RopeKvAppendDesc fd;
  fd.append = ad;
  fd.heads_q = Hq;
  fd.rope = rp;
  auto fplan = RopeKvAppendPlan::select(fd, bk_test::force(fused));
  REQUIRE_MESSAGE(fplan.ok(), fplan.status().message());
  RopeKvAppendArgs fa;
  fa.append = append_args(d_k.get(), d_kc_fused.get(), d_vc_fused.get());
  fa.q_in = d_q.get();
  fa.q_in_strides = q_l.s;
  fa.q_out = d_q_fused.get();
  fa.q_out_strides = q_l.s;
  fa.positions = d_pos.get();
  BK_STATUS_OK(fplan->run(nullptr, Workspace{}, fa));

  // RoPE, then the plain append.
  RopeDesc rd;
  rd.element = fused.element;
  rd.batch = B;
  rd.seq_len = L;
  rd.heads_q = Hq;
  rd.heads_k = H;
  rd.head_dim = D;
  rd.rope = rp;
  auto rplan = RopePlan::select(rd, bk_test::force(rope_sku));
  REQUIRE_MESSAGE(rplan.ok(), rplan.status().message());
  RopeArgs ra;
  ra.q_in = d_q.get();
  ra.q_in_strides = q_l.s;
  ra.q_out = d_q_two.get();
  ra.q_out_strides = q_l.s;
  ra.k_in = d_k.get();
  ra.k_in_strides = new_l.s;
  ra.k_out = d_k_rot.get();
  ra.k_out_strides = new_l.s;
  ra.positions = d_pos.get();
  BK_STATUS_OK(rplan->run(nullptr, Workspace{}, ra));
  auto aplan = KvAppendPlan::select(ad, bk_test::force(append_sku));
  REQUIRE_MESSAGE(aplan.ok(), aplan.status().message());
  BK_STATUS_OK(aplan->run(nullptr, Workspace{}, append_args(d_k_rot.get(), d_kc_two.get(), d_vc_two.get())));
  BK_CUDA_OK(cudaDeviceSynchronize());

  const std::vector<T> q_fused = d_q_fused.download(), kc_fused = d_kc_fused.download(),
                       vc_fused = d_vc_fused.download();
  CHECK(bk_test::bitwise_equal(q_fused, d_q_two.download()));
  CHECK(bk_test::bitwise_equal(kc_fused, d_kc_two.download()));
  CHECK(bk_test::bitwise_equal(vc_fused, d_vc_two.download()));

  // Against the reference and the slot model.
  const bk_ref::RopeSpec spec{is_neox(fused), rotary, rp.theta_base, rp.position_scale};
  const std::vector<double> q_ref =
      bk_ref::rope_tensor(bk_test::to_double_vector(unpack(q, q_l)), B, Hq, L, D, spec, positions);
  const std::vector<double> k_ref =
      bk_ref::rope_tensor(bk_test::to_double_vector(unpack(k_new, new_l)), B, H, L, D, spec, positions);
  const std::vector<double> q_out = bk_test::to_double_vector(unpack(q_fused, q_l));
  CHECK(bk_test::first_non_finite(q_out) == -1);
  const double q_err = bk_test::rel_l2_error(q_out, q_ref);
  CAPTURE(q_err);
  CHECK(q_err <= fused.guarantee.max_rel_error);
  g_max_err = std::max(g_max_err, q_err);

  std::vector<bool> written(cache_l.count, false);
  std::vector<double> k_got, k_want;
  std::int64_t cells = 0;
  bool v_exact = true;
  for (std::int64_t b = 0; b < B; ++b)
    for (std::int64_t l = 0; l < L; ++l) {
      std::int64_t dim0 = 0, dim2 = 0;
      if (!slot_of(b, l, dim0, dim2)) continue;
      ++cells;
      for (std::int64_t h = 0; h < H; ++h) {
        const std::size_t dst = cache_l.offset(dim0, h, dim2);
        const std::size_t src = new_l.offset(b, h, l);
        for (std::int64_t d = 0; d < D; ++d) {
          written[dst + static_cast<std::size_t>(d)] = true;
          k_got.push_back(bk_test::to_double(kc_fused[dst + static_cast<std::size_t>(d)]));
          k_want.push_back(k_ref[static_cast<std::size_t>(((b * H + h) * L + l) * D + d)]);
          v_exact = v_exact && std::memcmp(&vc_fused[dst + static_cast<std::size_t>(d)],
                                           &v_new[src + static_cast<std::size_t>(d)], sizeof(T)) == 0;
        }
      }
    }
  CAPTURE(cells);
  CHECK(cells > 0);
  CHECK(cells < B * L);  // some cells were skipped
  CHECK(v_exact);
  CHECK(bk_test::first_non_finite(k_got) == -1);
  const double k_err = bk_test::rel_l2_error(k_got, k_want);
  CAPTURE(k_err);
  CHECK(k_err <= fused.guarantee.max_rel_error);
  g_max_err = std::max(g_max_err, k_err);
  bool untouched = true;
  for (std::size_t i = 0; i < cache_l.count; ++i)
    if (!written[i])
      untouched = untouched && std::memcmp(&kc_fused[i], &k_cache0[i], sizeof(T)) == 0 &&
                  std::memcmp(&vc_fused[i], &v_cache0[i], sizeof(T)) == 0;
  CHECK(untouched);
}

}  // namespace

TEST_CASE("rope: every SKU against the f64 reference") {
  BK_REQUIRE_GPU();
  const auto skus = bk_test::skus_of(OpKind::rope);
  if (skus.empty()) MESSAGE("no rope SKU compiled for this device");
  for (const KernelSku* sku : skus) {
    SUBCASE(sku->name) {
      auto rng = bk_test::rng_for(sku->name);
      g_max_err = 0.0;
      for (const RopeCase& c : rope_cases(*sku)) {
        bk_test::dispatch_element(sku->element, [&]<class T>() { run_rope_case<T>(*sku, c, rng); });
      }
      std::printf("rope error %-40s max %.3e  bound %.3e\n", sku->name, g_max_err, sku->guarantee.max_rel_error);
    }
  }
}

TEST_CASE("rope_kv_append: bit-equal to rope then kv_append, out-of-range cells skipped") {
  BK_REQUIRE_GPU();
  const auto skus = bk_test::skus_of(OpKind::rope_kv_append);
  if (skus.empty()) MESSAGE("no rope_kv_append SKU compiled for this device");
  for (const KernelSku* sku : skus) {
    SUBCASE(sku->name) {
      const bool paged = (sku->variant & kVariantPaged) != 0;
      const KernelSku* rope_sku =
          find_sku(OpKind::rope, sku->element, sku->head_dim_qk, kStyleBits, sku->variant & kStyleBits);
      const KernelSku* append_sku = find_sku(OpKind::kv_append, sku->element, sku->head_dim_qk, kVariantPaged,
                                             paged ? kVariantPaged : kVariantNone);
      if (rope_sku == nullptr || append_sku == nullptr) {
        MESSAGE("skipped ", std::string(sku->name), ": the matching rope / kv_append SKU is not compiled");
        continue;
      }
      auto rng = bk_test::rng_for(sku->name);
      std::vector<FusedCase> cases;
      // Head counts (Q + K + V rows a token; the full-rotary kernel's block
      // holds 32 rows at bf16 D=128): 4 + 2 + 2, 32 + 8 + 8, 7 + 1 + 1,
      // 40 + 24 + 24 (a token over three blocks, rows of all three kinds).
      if (paged) {
        for (std::int64_t page : {1, 16, 64, 256}) cases.push_back({CacheKind::paged, page, page == 16});
        cases.push_back({CacheKind::paged, 16, false, 32, 8});
      } else {
        cases = {{CacheKind::bhld, 0, false}, {CacheKind::blhd, 0, true}, {CacheKind::bhld, 0, false, 32, 8},
                 {CacheKind::blhd, 0, false, 7, 1}, {CacheKind::bhld, 0, false, 40, 24}};
      }
      g_max_err = 0.0;
      for (const FusedCase& c : cases) {
        bk_test::dispatch_element(sku->element,
                                  [&]<class T>() { run_fused_case<T>(*sku, *rope_sku, *append_sku, c, rng); });
      }
      std::printf("rope error %-40s max %.3e  bound %.3e  (bit-equal to %s + %s checked)\n", sku->name, g_max_err,
                  sku->guarantee.max_rel_error, rope_sku->name, append_sku->name);
    }
  }
}
