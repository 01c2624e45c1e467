// Host reference for attention (prefill forward, and decode through the
// per-sample key counts), in double precision. Shared by every attention test.
//
// Semantics (runtime/include/baracuda/ops/attn_fwd.hpp and ops/decode.hpp):
//   s_ij       = scale * q_i . k_j
//   O[b,h,i,:] = sum_j softmax_j(s_ij) V[b,h/G,j,:],   LSE[b,h,i] = log sum_j exp(s_ij)
// over the keys j the row sees: j < Sk_b, and with causal masking aligned to
// the bottom-right corner, j <= i + Sk_b - Sq. G = Hq / Hkv. A row that sees
// no key gets O = 0 and LSE = -inf.
//
// Arithmetic: the dot products q.k and p.v and the sum of exponentials are
// compensated (Ogita-Rump-Oishi Dot2: error-free products and sums, as if
// carried in twice the double precision, then rounded once); the softmax is
// two-pass (exact row max first). The remaining error is a few double
// roundings of each logit, exp and log: ~1e-15 relative, far below the
// tightest bound of any SKU it judges (f64 accumulators: ~3e-14). Needs IEEE
// arithmetic: never compile it with -ffast-math.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <numeric>
#include <stdexcept>
#include <string>
#include <vector>

namespace bk_ref {

struct AttentionShape {
  std::int64_t batch = 1;
  std::int64_t heads_q = 1;
  std::int64_t heads_kv = 1;     // divides heads_q
  std::int64_t seq_q = 1;
  std::int64_t seq_k = 1;        // keys per sample in the K/V arrays (the cache length for decode)
  std::int64_t head_dim_qk = 1;
  std::int64_t head_dim_v = 1;
  bool causal = false;
  double scale = 0.0;            // the scale the kernel applies, already resolved (no 0 default here)
};

struct AttentionResult {
  std::vector<std::int64_t> rows;  // query rows computed, the same for every (b, h)
  std::vector<double> o;           // [B, Hq, rows.size(), Dv]
  std::vector<double> lse;         // [B, Hq, rows.size()]; -inf where the row sees no key
  std::size_t o_index(std::int64_t b, std::int64_t h, std::size_t r, std::int64_t d, const AttentionShape& s) const {
    return static_cast<std::size_t>(((b * s.heads_q + h) * static_cast<std::int64_t>(rows.size()) +
                                     static_cast<std::int64_t>(r)) * s.head_dim_v + d);
  }
  std::size_t lse_index(std::int64_t b, std::int64_t h, std::size_t r, const AttentionShape& s) const {
    return static_cast<std::size_t>((b * s.heads_q + h) * static_cast<std::int64_t>(rows.size()) +
                                    static_cast<std::int64_t>(r));
  }
};

// Number of keys (a prefix 0 .. n-1) query row i of a sample with `keys`
// valid keys sees.
inline std::int64_t visible_keys(bool causal, std::int64_t seq_q, std::int64_t keys, std::int64_t i) {
  if (keys <= 0) return 0;
  if (!causal) return keys;
  return std::clamp<std::int64_t>(i + keys - seq_q + 1, 0, keys);
}

namespace detail {

// Error-free transformations: a + b = s + e and a * b = p + e exactly.
// The product uses Dekker's splitting rather than fma: no library call where
// the compiler targets a CPU without FMA, and immune to fp contraction (every
// partial product of the halves is exact).
inline void two_sum(double a, double b, double& s, double& e) {
  s = a + b;
  const double bb = s - a;
  e = (a - (s - bb)) + (b - bb);
}
inline void split(double a, double& hi, double& lo) {
  const double c = 134217729.0 * a;  // 2^27 + 1
  hi = c - (c - a);
  lo = a - hi;
}
inline void two_prod(double a, double ah, double al, double b, double& p, double& e) {
  double bh, bl;
  split(b, bh, bl);
  p = a * b;
  e = al * bl - (((p - ah * bh) - al * bh) - ah * bl);
}

// Dot2: sum_d x[d] * y[d], as accurate as if carried in twice the working
// precision, rounded once at the end. x comes split (xh + xl = x). Four
// independent lanes (more throughput), merged with error-free sums.
inline double dot2(const double* x, const double* xh, const double* xl, const double* y, std::int64_t n) {
  constexpr int kLanes = 4;
  double s[kLanes] = {}, c[kLanes] = {};
  std::int64_t d = 0;
  auto step = [&](int lane, std::int64_t i) {
    double p, ep, es;
    two_prod(x[i], xh[i], xl[i], y[i], p, ep);
    two_sum(s[lane], p, s[lane], es);
    c[lane] += ep + es;
  };
  for (; d + kLanes <= n; d += kLanes)
    for (int lane = 0; lane < kLanes; ++lane) step(lane, d + lane);
  for (; d < n; ++d) step(0, d);
  double total = s[0], comp = c[0];
  for (int lane = 1; lane < kLanes; ++lane) {
    double e;
    two_sum(total, s[lane], total, e);
    comp += c[lane] + e;
  }
  return total + comp;
}

inline double sum2(const std::vector<double>& x) {
  double s = 0.0, c = 0.0;
  for (double v : x) {
    double e;
    two_sum(s, v, s, e);
    c += e;
  }
  return s + c;
}

inline void check_shape(const AttentionShape& s, std::size_t nq, std::size_t nk, std::size_t nv) {
  if (s.batch < 1 || s.heads_q < 1 || s.heads_kv < 1 || s.seq_q < 1 || s.seq_k < 0 || s.head_dim_qk < 1 ||
      s.head_dim_v < 1 || s.heads_q % s.heads_kv != 0)
    throw std::invalid_argument("bk_ref::attention: invalid shape");
  const auto want_q = static_cast<std::size_t>(s.batch * s.heads_q * s.seq_q * s.head_dim_qk);
  const auto want_k = static_cast<std::size_t>(s.batch * s.heads_kv * s.seq_k * s.head_dim_qk);
  const auto want_v = static_cast<std::size_t>(s.batch * s.heads_kv * s.seq_k * s.head_dim_v);
  if (nq != want_q || nk != want_k || nv != want_v)
    throw std::invalid_argument("bk_ref::attention: Q/K/V sizes do not match the shape (" + std::to_string(nq) +
                                "/" + std::to_string(want_q) + ", " + std::to_string(nk) + "/" +
                                std::to_string(want_k) + ", " + std::to_string(nv) + "/" + std::to_string(want_v) +
                                ")");
}

}  // namespace detail

// Attention with a per-sample key count: sample b uses keys 0 .. keys[b]-1 of
// its K/V rows (values outside [0, seq_k] are clamped, as the decode kernels
// do), causal alignment relative to keys[b]. Q, K, V are dense, logical
// order: Q [B, Hq, Sq, Dqk], K [B, Hkv, Sk, Dqk], V [B, Hkv, Sk, Dv].
// `rows` selects the query rows to compute (empty: all).
inline AttentionResult attention_varlen(const AttentionShape& s, const std::vector<double>& q,
                                        const std::vector<double>& k, const std::vector<double>& v,
                                        const std::vector<std::int64_t>& keys_per_sample,
                                        std::vector<std::int64_t> rows = {}) {
  detail::check_shape(s, q.size(), k.size(), v.size());
  if (keys_per_sample.size() != static_cast<std::size_t>(s.batch))
    throw std::invalid_argument("bk_ref::attention_varlen: one key count per sample");
  if (rows.empty()) {
    rows.resize(static_cast<std::size_t>(s.seq_q));
    std::iota(rows.begin(), rows.end(), std::int64_t{0});
  }
  for (std::int64_t i : rows)
    if (i < 0 || i >= s.seq_q) throw std::invalid_argument("bk_ref::attention_varlen: row out of range");

  const std::int64_t group = s.heads_q / s.heads_kv;
  const std::int64_t nr = static_cast<std::int64_t>(rows.size());
  AttentionResult out;
  out.rows = rows;
  out.o.assign(static_cast<std::size_t>(s.batch * s.heads_q * nr * s.head_dim_v), 0.0);
  out.lse.assign(static_cast<std::size_t>(s.batch * s.heads_q * nr), -std::numeric_limits<double>::infinity());

  std::vector<double> logits, p, acc_s, acc_c, q_hi, q_lo;
  for (std::int64_t b = 0; b < s.batch; ++b) {
    const std::int64_t keys = std::clamp<std::int64_t>(keys_per_sample[static_cast<std::size_t>(b)], 0, s.seq_k);
    for (std::int64_t h = 0; h < s.heads_q; ++h) {
      const std::int64_t hk = h / group;
      const double* kb = k.data() + (b * s.heads_kv + hk) * s.seq_k * s.head_dim_qk;
      const double* vb = v.data() + (b * s.heads_kv + hk) * s.seq_k * s.head_dim_v;
      for (std::int64_t r = 0; r < nr; ++r) {
        const std::int64_t i = rows[static_cast<std::size_t>(r)];
        const std::int64_t n = visible_keys(s.causal, s.seq_q, keys, i);
        if (n == 0) continue;  // O = 0, LSE = -inf (already there)
        const double* qi = q.data() + ((b * s.heads_q + h) * s.seq_q + i) * s.head_dim_qk;
        q_hi.resize(static_cast<std::size_t>(s.head_dim_qk));
        q_lo.resize(static_cast<std::size_t>(s.head_dim_qk));
        for (std::int64_t d = 0; d < s.head_dim_qk; ++d)
          detail::split(qi[d], q_hi[static_cast<std::size_t>(d)], q_lo[static_cast<std::size_t>(d)]);
        logits.resize(static_cast<std::size_t>(n));
        double m = -std::numeric_limits<double>::infinity();
        for (std::int64_t j = 0; j < n; ++j) {
          const double x =
              s.scale * detail::dot2(qi, q_hi.data(), q_lo.data(), kb + j * s.head_dim_qk, s.head_dim_qk);
          logits[static_cast<std::size_t>(j)] = x;
          m = std::max(m, x);
        }
        p.resize(static_cast<std::size_t>(n));
        for (std::int64_t j = 0; j < n; ++j) p[static_cast<std::size_t>(j)] = std::exp(logits[static_cast<std::size_t>(j)] - m);
        const double l = detail::sum2(p);
        // sum_j p_j V[j, :], compensated per column, keys in order.
        acc_s.assign(static_cast<std::size_t>(s.head_dim_v), 0.0);
        acc_c.assign(static_cast<std::size_t>(s.head_dim_v), 0.0);
        for (std::int64_t j = 0; j < n; ++j) {
          const double pj = p[static_cast<std::size_t>(j)];
          double pj_hi, pj_lo;
          detail::split(pj, pj_hi, pj_lo);
          const double* vj = vb + j * s.head_dim_v;
          for (std::int64_t d = 0; d < s.head_dim_v; ++d) {
            double prod, ep, es;
            detail::two_prod(pj, pj_hi, pj_lo, vj[d], prod, ep);
            detail::two_sum(acc_s[static_cast<std::size_t>(d)], prod, acc_s[static_cast<std::size_t>(d)], es);
            acc_c[static_cast<std::size_t>(d)] += ep + es;
          }
        }
        double* orow = out.o.data() + out.o_index(b, h, static_cast<std::size_t>(r), 0, s);
        for (std::int64_t d = 0; d < s.head_dim_v; ++d)
          orow[d] = (acc_s[static_cast<std::size_t>(d)] + acc_c[static_cast<std::size_t>(d)]) / l;
        out.lse[out.lse_index(b, h, static_cast<std::size_t>(r), s)] = m + std::log(l);
      }
    }
  }
  return out;
}

// Attention forward: every sample sees all seq_k keys (ops/attn_fwd.hpp).
inline AttentionResult attention_forward(const AttentionShape& s, const std::vector<double>& q,
                                         const std::vector<double>& k, const std::vector<double>& v,
                                         std::vector<std::int64_t> rows = {}) {
  return attention_varlen(s, q, k, v, std::vector<std::int64_t>(static_cast<std::size_t>(std::max<std::int64_t>(s.batch, 0)), s.seq_k),
                          std::move(rows));
}

}  // namespace bk_ref
