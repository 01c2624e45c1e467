// GPU conformance of every compiled attn_fwd SKU (flash and reference
// backends) against the f64 host reference (tests/reference/attention.hpp).
//
// For each SKU of the registry (one SUBCASE, named by the SKU), every case of
// kCases runs through AttnFwdPlan with the SKU forced:
//   - inputs: fresh N(0, sigma^2) values rounded to the element type; the
//     reference sees the same rounded values. sigma = 1 (logits ~ N(0, 1)) or
//     sqrt(8) (logits ~ N(0, 64), reaching about +-30);
//   - shapes: S in {1, 17, 127, 1000, 4097}, Sq < Sk and Sq > Sk (causal
//     SKUs then have rows that see no key), GQA groups 1, 2, 3, 4, 5, 7, 8, 16,
//     layouts [B,H,S,D], [B,S,H,D] and a padded one (element-aligned base
//     pointers and odd strides for generic SKUs; 16-byte ones otherwise);
//   - head dims: a specialized SKU runs every case at its own head dims; a
//     generic SKU runs each case at the case's dims (1 .. 512, Dqk != Dv);
//   - O, LSE and the guard/padding elements around them are poisoned with
//     0xFF bytes (NaN in every float type) before each run: every logical
//     element must be written, and nothing outside them;
//   - rows that see no key: O exactly 0, LSE exactly -inf;
//   - ||O - ref||_2 / ||ref||_2 <= guarantee.max_rel_error (a NaN never
//     passes); LSE (stored in f32) within max_rel_error + 2^-23 in the same
//     norm, with ||ref|| floored at 1 per row (an absolute LSE error e is a
//     relative error e of every softmax weight);
//   - inputs carry NaN in padding and guards: reading any of it poisons O;
//   - bit_stable / deterministic: a second run is bitwise identical;
//   - batch_invariant: a sample computed alone equals, bitwise, the same
//     sample inside a batch of three.
// Long problems compare a sample of rows (first, last, evenly spaced and the
// causal boundary) against the reference; every row is still checked for
// being written, finite, and exactly empty where it sees no key.
#include <cuda_runtime.h>  // before gpu_common.hpp: the typed cudaMalloc overloads its buffers use
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

#include "baracuda/baracuda.hpp"
#include "gpu_common.hpp"
#include "reference/attention.hpp"

namespace {

using baracuda::AttnFwdArgs;
using baracuda::AttnFwdDesc;
using baracuda::AttnFwdPlan;
using baracuda::KernelSku;
using baracuda::Strides3;

enum class Layout { bhld, blhd, padded };

const char* layout_name(Layout l) {
  switch (l) {
    case Layout::bhld: return "bhld";
    case Layout::blhd: return "blhd";
    case Layout::padded: return "padded";
  }
  return "?";
}

struct AttnCase {
  const char* name;
  std::int64_t batch, heads_q, heads_kv, seq_q, seq_k;
  int generic_dqk, generic_dv;  // head dims a generic SKU runs; specialized SKUs use their own
  Layout layout;
  double sigma;                 // std of the Q and K entries (V is N(0, 1))
  float scale = 0.0f;           // 0: the default 1 / sqrt(Dqk)
};

const double kLarge = std::sqrt(8.0);  // logits ~ N(0, 64): about +-30 over a few thousand keys

// Every SKU runs all of these at its causal flag. For causal SKUs, Sq > Sk
// leaves rows 0 .. Sq - Sk - 1 without keys.
const AttnCase kCases[] = {
    {"q1_k1_g1", 1, 1, 1, 1, 1, 40, 40, Layout::bhld, 1.0},
    {"q17_k127_g2", 2, 4, 2, 17, 127, 72, 72, Layout::blhd, 1.0},
    {"q127_k17_g3_large", 1, 6, 2, 127, 17, 160, 160, Layout::bhld, kLarge},
    {"q17_k1_g5", 1, 5, 1, 17, 1, 3, 1, Layout::padded, 1.0},
    {"q1000_k1000_g8", 1, 8, 1, 1000, 1000, 64, 128, Layout::blhd, 1.0},
    {"q1000_k127_g4_large", 1, 4, 1, 1000, 127, 128, 64, Layout::padded, kLarge},
    {"q17_k4097_g1_large", 1, 1, 1, 17, 4097, 512, 512, Layout::blhd, kLarge},
    {"q4097_k4097_g1", 1, 1, 1, 4097, 4097, 96, 96, Layout::padded, 1.0},
    {"q127_k1000_g7_scale", 1, 7, 1, 127, 1000, 33, 80, Layout::bhld, 1.0, 0.3f},
    {"q127_k127_g16", 1, 16, 1, 127, 127, 256, 256, Layout::blhd, 1.0},
    {"q1_k4097_g2", 3, 4, 2, 1, 4097, 72, 40, Layout::bhld, 1.0},
};

constexpr std::int64_t kMaxCheckedRows = 32;  // rows per (b, h) compared with the reference
constexpr std::int64_t kGuard = 37;           // poisoned elements after each buffer

// ------------------------------------------------------------ layouts ----
struct TensorLayout {
  Strides3 strides;
  std::int64_t front = 0;  // poisoned elements before element (0, 0, 0, 0)
  std::size_t total = 0;   // elements of the allocation
  std::int64_t b = 0, h = 0, s = 0, d = 0;
  std::int64_t offset(std::int64_t bi, std::int64_t hi, std::int64_t si, std::int64_t di) const {
    return front + bi * strides.batch + hi * strides.head + si * strides.pos + di;
  }
};

// `align` is the element multiple the SKU needs for base pointers and strides
// (16 bytes / element for specialized SKUs, 1 for generic ones). The padded
// layout is [B, S, H, D] with `pad` extra elements after each row, each
// position and each sample: odd for generic SKUs, a multiple of `align`
// otherwise. The front guard keeps (or, for generic SKUs, breaks) 16-byte
// alignment of the base pointer.
TensorLayout make_layout(Layout kind, std::int64_t b, std::int64_t h, std::int64_t s, std::int64_t d,
                         std::int64_t align) {
  TensorLayout t;
  t.b = b; t.h = h; t.s = s; t.d = d;
  const std::int64_t pad = align == 1 ? 3 : align;
  switch (kind) {
    case Layout::bhld: t.strides = baracuda::strides_bhld(h, s, d); break;
    case Layout::blhd: t.strides = baracuda::strides_blhd(h, s, d); break;
    case Layout::padded: {
      const std::int64_t head = d + pad;
      const std::int64_t pos = h * head + pad;
      t.strides = {s * pos + pad, head, pos};
      break;
    }
  }
  t.front = align == 1 ? 1 : align;
  const std::int64_t last = t.offset(b - 1, h - 1, s - 1, d - 1);
  t.total = static_cast<std::size_t>(last + 1 + kGuard);
  return t;
}

template <class T>
void fill_poison(std::vector<T>& v) {
  std::memset(static_cast<void*>(v.data()), 0xFF, v.size() * sizeof(T));
}

// Logical [B, H, S, D] values into a poisoned allocation of layout `t`.
template <class T>
std::vector<T> pack(const std::vector<T>& logical, const TensorLayout& t) {
  std::vector<T> out(t.total);
  fill_poison(out);
  std::size_t i = 0;
  for (std::int64_t b = 0; b < t.b; ++b)
    for (std::int64_t h = 0; h < t.h; ++h)
      for (std::int64_t s = 0; s < t.s; ++s)
        for (std::int64_t d = 0; d < t.d; ++d) out[static_cast<std::size_t>(t.offset(b, h, s, d))] = logical[i++];
  return out;
}

template <class T>
bool is_poison(const T& x) {
  unsigned char bytes[sizeof(T)];
  std::memcpy(bytes, &x, sizeof(T));
  return std::all_of(bytes, bytes + sizeof(T), [](unsigned char c) { return c == 0xFF; });
}

// Elements of the allocation that are not part of the logical tensor and
// lost their poison (the kernel wrote outside the tensor).
template <class T>
std::int64_t count_written_outside(const std::vector<T>& alloc, const TensorLayout& t) {
  std::vector<char> logical(alloc.size(), 0);
  for (std::int64_t b = 0; b < t.b; ++b)
    for (std::int64_t h = 0; h < t.h; ++h)
      for (std::int64_t s = 0; s < t.s; ++s)
        for (std::int64_t d = 0; d < t.d; ++d) logical[static_cast<std::size_t>(t.offset(b, h, s, d))] = 1;
  std::int64_t n = 0;
  for (std::size_t i = 0; i < alloc.size(); ++i) n += !logical[i] && !is_poison(alloc[i]);
  return n;
}

// Rows compared with the reference: all of them for short problems; else the
// first and last 8, evenly spaced ones, and the rows around the causal
// boundary (the first row that sees a key).
std::vector<std::int64_t> checked_rows(std::int64_t seq_q, std::int64_t seq_k, bool causal) {
  std::vector<std::int64_t> rows;
  if (seq_q <= kMaxCheckedRows) {
    for (std::int64_t i = 0; i < seq_q; ++i) rows.push_back(i);
    return rows;
  }
  for (std::int64_t i = 0; i < 8; ++i) {
    rows.push_back(i);
    rows.push_back(seq_q - 1 - i);
  }
  const std::int64_t spaced = kMaxCheckedRows - 16 - 3;
  for (std::int64_t i = 1; i <= spaced; ++i) rows.push_back(i * (seq_q - 1) / (spaced + 1));
  if (causal && seq_q > seq_k) {
    const std::int64_t first = seq_q - seq_k;
    for (std::int64_t i = first - 1; i <= first + 1; ++i)
      if (i >= 0 && i < seq_q) rows.push_back(i);
  }
  std::sort(rows.begin(), rows.end());
  rows.erase(std::unique(rows.begin(), rows.end()), rows.end());
  return rows;
}

// ------------------------------------------------------ one problem ----
// Device buffers of one problem in its layouts.
template <class T>
struct Problem {
  AttnFwdDesc desc;
  TensorLayout lq, lk, lv, lo;
  std::vector<T> q, k, v;            // logical [B, H, S, D], rounded to T
  bk_test::DeviceBuffer<T> dq, dk, dv, dout;
  bk_test::DeviceBuffer<float> dlse; // [B, Hq, Sq] after a front guard of 1
  std::size_t lse_count() const { return static_cast<std::size_t>(desc.batch * desc.heads_q * desc.seq_q); }

  AttnFwdArgs args() const {
    AttnFwdArgs a;
    a.q = dq.get() + lq.front;    a.q_strides = lq.strides;
    a.k = dk.get() + lk.front;    a.k_strides = lk.strides;
    a.v = dv.get() + lv.front;    a.v_strides = lv.strides;
    a.o = dout.get() + lo.front;  a.o_strides = lo.strides;
    a.lse = dlse.get() + 1;
    return a;
  }
};

template <class T>
Problem<T> make_problem(const KernelSku& sku, const AttnCase& c, std::int64_t batch, std::mt19937_64& rng) {
  Problem<T> p;
  const bool generic = sku.generic_head_dim();
  AttnFwdDesc& d = p.desc;
  d.element = sku.element;
  d.batch = batch;
  d.heads_q = c.heads_q;
  d.heads_kv = c.heads_kv;
  d.seq_q = c.seq_q;
  d.seq_k = c.seq_k;
  d.head_dim_qk = generic ? c.generic_dqk : sku.head_dim_qk;
  d.head_dim_v = generic ? c.generic_dv : sku.head_dim_v;
  d.causal = (sku.variant & baracuda::kVariantCausal) != 0;
  d.scale = c.scale;

  const bool element_aligned = generic || sku.backend == baracuda::Backend::reference;
  const std::int64_t align = element_aligned ? 1 : static_cast<std::int64_t>(16 / sizeof(T));
  p.lq = make_layout(c.layout, batch, d.heads_q, d.seq_q, d.head_dim_qk, align);
  p.lk = make_layout(c.layout, batch, d.heads_kv, d.seq_k, d.head_dim_qk, align);
  p.lv = make_layout(c.layout, batch, d.heads_kv, d.seq_k, d.head_dim_v, align);
  p.lo = make_layout(c.layout, batch, d.heads_q, d.seq_q, d.head_dim_v, align);

  auto count = [](const TensorLayout& t) { return static_cast<std::size_t>(t.b * t.h * t.s * t.d); };
  p.q = bk_test::random_normal<T>(count(p.lq), rng, c.sigma);
  p.k = bk_test::random_normal<T>(count(p.lk), rng, c.sigma);
  p.v = bk_test::random_normal<T>(count(p.lv), rng, 1.0);
  p.dq = bk_test::DeviceBuffer<T>(pack(p.q, p.lq));
  p.dk = bk_test::DeviceBuffer<T>(pack(p.k, p.lk));
  p.dv = bk_test::DeviceBuffer<T>(pack(p.v, p.lv));
  p.dout = bk_test::DeviceBuffer<T>(p.lo.total);
  p.dlse = bk_test::DeviceBuffer<float>(p.lse_count() + 1 + static_cast<std::size_t>(kGuard));
  return p;
}

// Poisons O and LSE, runs `desc` through AttnFwdPlan with the SKU forced, waits.
template <class T>
void run_forced(const KernelSku& sku, const AttnFwdDesc& desc, bk_test::DeviceBuffer<T>& out,
                bk_test::DeviceBuffer<float>& lse, const AttnFwdArgs& args) {
  auto plan = AttnFwdPlan::select(desc, bk_test::force(sku));
  REQUIRE_MESSAGE(plan.ok(), "select ", std::string(sku.name), ": ", plan.status().message());
  BK_STATUS_OK(plan->can_implement(args));
  bk_test::DeviceBuffer<unsigned char> workspace(plan->workspace_size());
  out.poison();
  lse.poison();
  BK_STATUS_OK(plan->run(nullptr, baracuda::Workspace{workspace.get(), workspace.bytes()}, args));
  BK_CUDA_OK(cudaGetLastError());
  BK_CUDA_OK(cudaDeviceSynchronize());
}

double lse_bound(const KernelSku& sku) { return sku.guarantee.max_rel_error + std::ldexp(1.0, -23); }

// ------------------------------------------------ the checks of a case ----
template <class T>
void check_case(const KernelSku& sku, const AttnCase& c) {
  auto rng = bk_test::rng_for(std::string(sku.name) + "/" + c.name);
  Problem<T> p = make_problem<T>(sku, c, c.batch, rng);
  const AttnFwdDesc& d = p.desc;
  INFO("case ", std::string(c.name), " (B=", d.batch, " Hq=", d.heads_q, " Hkv=", d.heads_kv, " Sq=", d.seq_q, " Sk=", d.seq_k,
       " Dqk=", d.head_dim_qk, " Dv=", d.head_dim_v, " causal=", d.causal, " layout=", layout_name(c.layout),
       " sigma=", c.sigma, ")");

  const AttnFwdArgs args = p.args();
  run_forced(sku, p.desc, p.dout, p.dlse, args);
  const std::vector<T> o_alloc = p.dout.download();
  const std::vector<float> lse_alloc = p.dlse.download();

  // Nothing written outside the logical O and LSE.
  CHECK_MESSAGE(count_written_outside(o_alloc, p.lo) == 0, "O elements written outside the tensor");
  bool lse_guards = is_poison(lse_alloc[0]);
  for (std::size_t i = 1 + p.lse_count(); i < lse_alloc.size(); ++i) lse_guards = lse_guards && is_poison(lse_alloc[i]);
  CHECK_MESSAGE(lse_guards, "LSE guard elements written");

  // Every row: written; empty rows exactly O = 0, LSE = -inf; others finite.
  std::int64_t unwritten_or_nan = 0, bad_empty = 0, non_finite = 0;
  for (std::int64_t b = 0; b < d.batch; ++b)
    for (std::int64_t h = 0; h < d.heads_q; ++h)
      for (std::int64_t i = 0; i < d.seq_q; ++i) {
        const bool empty = bk_ref::visible_keys(d.causal, d.seq_q, d.seq_k, i) == 0;
        const float lse = lse_alloc[static_cast<std::size_t>(1 + (b * d.heads_q + h) * d.seq_q + i)];
        if (std::isnan(lse)) ++unwritten_or_nan;
        else if (empty && !(std::isinf(lse) && lse < 0)) ++bad_empty;
        else if (!empty && !std::isfinite(lse)) ++non_finite;
        for (std::int64_t x = 0; x < d.head_dim_v; ++x) {
          const double o = bk_test::to_double(o_alloc[static_cast<std::size_t>(p.lo.offset(b, h, i, x))]);
          if (std::isnan(o)) ++unwritten_or_nan;
          else if (empty && o != 0.0) ++bad_empty;
          else if (!std::isfinite(o)) ++non_finite;
        }
      }
  CHECK_MESSAGE(unwritten_or_nan == 0, unwritten_or_nan, " O/LSE elements unwritten or NaN");
  CHECK_MESSAGE(bad_empty == 0, bad_empty, " elements of rows without keys are not O = 0 / LSE = -inf");
  CHECK_MESSAGE(non_finite == 0, non_finite, " O/LSE elements are infinite");

  // Accuracy against the f64 reference on the checked rows.
  bk_ref::AttentionShape shape;
  shape.batch = d.batch;
  shape.heads_q = d.heads_q;
  shape.heads_kv = d.heads_kv;
  shape.seq_q = d.seq_q;
  shape.seq_k = d.seq_k;
  shape.head_dim_qk = d.head_dim_qk;
  shape.head_dim_v = d.head_dim_v;
  shape.causal = d.causal;
  shape.scale = static_cast<double>(baracuda::effective_scale(d));
  const std::vector<std::int64_t> rows = checked_rows(d.seq_q, d.seq_k, d.causal);
  const bk_ref::AttentionResult ref = bk_ref::attention_forward(
      shape, bk_test::to_double_vector(p.q), bk_test::to_double_vector(p.k), bk_test::to_double_vector(p.v), rows);

  std::vector<double> out(ref.o.size());
  double lse_err2 = 0.0, lse_ref2 = 0.0;
  std::int64_t lse_mismatch = 0;
  for (std::int64_t b = 0; b < d.batch; ++b)
    for (std::int64_t h = 0; h < d.heads_q; ++h)
      for (std::size_t r = 0; r < rows.size(); ++r) {
        const std::int64_t i = rows[r];
        for (std::int64_t x = 0; x < d.head_dim_v; ++x)
          out[ref.o_index(b, h, r, x, shape)] =
              bk_test::to_double(o_alloc[static_cast<std::size_t>(p.lo.offset(b, h, i, x))]);
        const double want = ref.lse[ref.lse_index(b, h, r, shape)];
        const double got = lse_alloc[static_cast<std::size_t>(1 + (b * d.heads_q + h) * d.seq_q + i)];
        if (std::isinf(want)) {
          lse_mismatch += !(std::isinf(got) && got < 0);
          continue;
        }
        if (!std::isfinite(got)) {
          ++lse_mismatch;
          continue;
        }
        lse_err2 += (got - want) * (got - want);
        lse_ref2 += std::max(want * want, 1.0);
      }
  const double err = bk_test::rel_l2_error(out, ref.o);
  INFO("||O - ref|| / ||ref|| = ", err, ", bound ", sku.guarantee.max_rel_error);
  CHECK(err <= sku.guarantee.max_rel_error);
  const double lse_err = lse_ref2 > 0.0 ? std::sqrt(lse_err2 / lse_ref2) : 0.0;
  INFO("LSE error = ", lse_err, ", bound ", lse_bound(sku));
  CHECK(lse_mismatch == 0);
  CHECK(lse_err <= lse_bound(sku));

  // Run-to-run: bitwise identical output and LSE.
  if (sku.guarantee.bit_stable || sku.guarantee.deterministic) {
    run_forced(sku, p.desc, p.dout, p.dlse, args);
    CHECK_MESSAGE(bk_test::bitwise_equal(p.dout.download(), o_alloc), "second run: O differs");
    CHECK_MESSAGE(bk_test::bitwise_equal(p.dlse.download(), lse_alloc), "second run: LSE differs");
  }
}

// A sample computed alone equals, bitwise, the same sample inside a batch.
template <class T>
void check_batch_invariance(const KernelSku& sku) {
  const AttnCase c{"batch3_q127_k1000_g2", 3, 4, 2, 127, 1000, 64, 64, Layout::blhd, 1.0};
  auto rng = bk_test::rng_for(std::string(sku.name) + "/" + c.name);
  Problem<T> p = make_problem<T>(sku, c, c.batch, rng);
  run_forced(sku, p.desc, p.dout, p.dlse, p.args());
  const std::vector<T> o_batch = p.dout.download();
  const std::vector<float> lse_batch = p.dlse.download();

  for (std::int64_t sample : {std::int64_t{0}, std::int64_t{1}, c.batch - 1}) {
    INFO("sample ", sample, " of ", c.batch);
    // The sample alone: a batch of one at the sample's pointers, written to
    // fresh buffers at the same offsets as in the batch.
    AttnFwdDesc alone = p.desc;
    alone.batch = 1;
    bk_test::DeviceBuffer<T> out1(p.lo.total);
    bk_test::DeviceBuffer<float> lse1(p.lse_count() + 1 + static_cast<std::size_t>(kGuard));
    AttnFwdArgs a = p.args();
    a.q = static_cast<const T*>(a.q) + sample * p.lq.strides.batch;
    a.k = static_cast<const T*>(a.k) + sample * p.lk.strides.batch;
    a.v = static_cast<const T*>(a.v) + sample * p.lv.strides.batch;
    a.o = out1.get() + p.lo.front + sample * p.lo.strides.batch;
    a.lse = lse1.get() + 1 + sample * p.desc.heads_q * p.desc.seq_q;
    run_forced(sku, alone, out1, lse1, a);
    const std::vector<T> o_alone = out1.download();
    const std::vector<float> lse_alone = lse1.download();

    std::int64_t differ = 0;
    const AttnFwdDesc& d = p.desc;
    for (std::int64_t h = 0; h < d.heads_q; ++h)
      for (std::int64_t i = 0; i < d.seq_q; ++i) {
        for (std::int64_t x = 0; x < d.head_dim_v; ++x) {
          const auto at = static_cast<std::size_t>(p.lo.offset(sample, h, i, x));
          differ += std::memcmp(&o_alone[at], &o_batch[at], sizeof(T)) != 0;
        }
        const auto at = static_cast<std::size_t>(1 + (sample * d.heads_q + h) * d.seq_q + i);
        differ += std::memcmp(&lse_alone[at], &lse_batch[at], sizeof(float)) != 0;
      }
    CHECK_MESSAGE(differ == 0, differ, " elements of the sample differ between alone and in the batch");
    TensorLayout sample_o = p.lo;
    sample_o.b = 1;
    sample_o.front = p.lo.front + sample * p.lo.strides.batch;
    CHECK_MESSAGE(count_written_outside(o_alone, sample_o) == 0, "the batch of one wrote outside its sample");
  }
}

}  // namespace

TEST_CASE("attn_fwd: every SKU against the f64 reference (shapes, GQA, layouts, poison, bit stability)") {
  BK_REQUIRE_GPU();
  const auto skus = bk_test::skus_of(baracuda::OpKind::attn_fwd);
  if (skus.empty()) MESSAGE("skipped: no attn_fwd SKU compiled for this device");
  for (const KernelSku* sku : skus) {
    SUBCASE(sku->name) {
      bk_test::dispatch_element(sku->element, [&]<class T>() {
        for (const AttnCase& c : kCases) check_case<T>(*sku, c);
      });
    }
  }
}

TEST_CASE("attn_fwd: batch invariance where claimed") {
  BK_REQUIRE_GPU();
  for (const KernelSku* sku : bk_test::skus_of(baracuda::OpKind::attn_fwd)) {
    if (!sku->guarantee.batch_invariant) continue;
    SUBCASE(sku->name) {
      bk_test::dispatch_element(sku->element, [&]<class T>() { check_batch_invariance<T>(*sku); });
    }
  }
}
