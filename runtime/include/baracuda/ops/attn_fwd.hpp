// Attention forward (prefill).
//
//   O[b, h] = softmax(scale * Q[b, h] K[b, h / G]^T + mask) V[b, h / G],
//   LSE[b, h, i] = log(sum_j exp(scale * q_i . k_j + mask_ij))  (natural log)
// with G = heads_q / heads_kv (GQA / MQA). Causal masking is aligned to the
// bottom-right corner when seq_q != seq_k (FlashAttention 2 convention):
// query i sees key j iff j <= i + seq_k - seq_q. A row that sees no key gets
// O = 0 and LSE = -inf.
#pragma once

#include <cmath>
#include <cstdint>

#include "baracuda/tensor.hpp"
#include "baracuda/types.hpp"

namespace baracuda {

struct AttnFwdDesc {
  Element element = Element::none;
  std::int64_t batch = 0;
  std::int64_t heads_q = 0;
  std::int64_t heads_kv = 0;   // divides heads_q
  std::int64_t seq_q = 0;
  std::int64_t seq_k = 0;
  std::int64_t head_dim_qk = 0;
  std::int64_t head_dim_v = 0;
  bool causal = false;
  float scale = 0.0f;          // 0: 1 / sqrt(head_dim_qk)
};

struct AttnFwdArgs {
  const void* q = nullptr;  Strides3 q_strides;  // [B, Hq, Sq, Dqk]
  const void* k = nullptr;  Strides3 k_strides;  // [B, Hkv, Sk, Dqk]
  const void* v = nullptr;  Strides3 v_strides;  // [B, Hkv, Sk, Dv]
  void* o = nullptr;        Strides3 o_strides;  // [B, Hq, Sq, Dv]
  float* lse = nullptr;                          // [B, Hq, Sq], contiguous
};

// The scale a descriptor asks for (resolves the 0 default).
inline float effective_scale(const AttnFwdDesc& d) {
  return d.scale != 0.0f ? d.scale : 1.0f / std::sqrt(static_cast<float>(d.head_dim_qk));
}

}  // namespace baracuda
