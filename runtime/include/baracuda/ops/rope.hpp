// Rotary position embedding, and RoPE fused with the KV-cache append.
//
// For token (b, l) at position p = positions[b, l] and pair i < rotary_dim/2:
//   angle = p * position_scale * theta_base^(-2i / rotary_dim)
// rotate-half (NeoX): pairs (x[i], x[i + rotary_dim/2]);
// interleaved (GPT-J): pairs (x[2i], x[2i + 1]);
//   (x0, x1) -> (x0 cos - x1 sin, x1 cos + x0 sin).
// Dims at and past rotary_dim are copied unchanged. Angles are computed in
// f32 (f64 for f64 tensors). In place when out == in (same strides).
#pragma once

#include <cstdint>

#include "baracuda/ops/kv_append.hpp"
#include "baracuda/tensor.hpp"
#include "baracuda/types.hpp"

namespace baracuda {

enum class RopeStyle : std::uint8_t { neox, gptj };

struct RopeParams {
  RopeStyle style = RopeStyle::neox;
  std::int64_t rotary_dim = 0;     // even, <= head_dim; 0: head_dim
  double theta_base = 10000.0;
  double position_scale = 1.0;     // linear position scaling (e.g. 0.25 for a 4x context)
};

struct RopeDesc {
  Element element = Element::none;
  std::int64_t batch = 0;
  std::int64_t seq_len = 0;
  std::int64_t heads_q = 0;   // 0: no Q tensor
  std::int64_t heads_k = 0;   // 0: no K tensor
  std::int64_t head_dim = 0;
  RopeParams rope;
};

struct RopeArgs {
  const void* q_in = nullptr;  Strides3 q_in_strides;   // [B, Hq, L, D]
  void* q_out = nullptr;       Strides3 q_out_strides;  // [B, Hq, L, D]; may equal q_in
  const void* k_in = nullptr;  Strides3 k_in_strides;   // [B, Hk, L, D]
  void* k_out = nullptr;       Strides3 k_out_strides;  // [B, Hk, L, D]; may equal k_in
  const std::int64_t* positions = nullptr;              // [B, L], contiguous, device
};

// RoPE on K_new (and optionally Q), then the KV append, in one pass:
// K_cache gets rope(K_new), V_cache gets V_new, Q is rotated like RopeArgs.
struct RopeKvAppendDesc {
  KvAppendDesc append;     // head_dim_k == head_dim_v == the rotated head dim
  std::int64_t heads_q = 0;  // 0: no Q tensor
  RopeParams rope;
};

struct RopeKvAppendArgs {
  KvAppendArgs append;
  const void* q_in = nullptr;  Strides3 q_in_strides;   // [B, Hq, L_new, D]
  void* q_out = nullptr;       Strides3 q_out_strides;
  const std::int64_t* positions = nullptr;              // [B, L_new], contiguous, device
};

}  // namespace baracuda
