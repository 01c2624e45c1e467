// Plans: select -> can_implement -> workspace_size -> run(stream, workspace, args).
// A plan binds one SKU to one descriptor. Plans never own device memory;
// the caller passes the workspace, so a plan is safe inside graph capture.
#pragma once

#include <cstddef>
#include <optional>

#include "baracuda/catalog.hpp"
#include "baracuda/ops/attn_fwd.hpp"
#include "baracuda/ops/decode.hpp"
#include "baracuda/ops/kv_append.hpp"
#include "baracuda/ops/rope.hpp"
#include "baracuda/types.hpp"

namespace baracuda {

// Per-op host logic (runtime/src/ops/*.cpp). Each op defines:
//   key(desc)                      -> ProblemKey
//   validate(desc)                 -> Status      descriptor-only checks
//   check(desc, sku, target, why)                 SKU-specific can-implement
//   workspace(desc, sku, target)   -> bytes
//   empty(desc)                    -> bool        a no-op problem (where the op allows one)
//   check_args(desc, args, sku)    -> Status      pointers, strides, alignment
#define BARACUDA_DECLARE_OP(OpName, DescT, ArgsT)                                          \
  struct OpName {                                                                          \
    using Desc = DescT;                                                                    \
    using Args = ArgsT;                                                                    \
    static ProblemKey key(const Desc&);                                                    \
    static Status validate(const Desc&);                                                   \
    static void check(const void* desc, const KernelSku&, const Target&, Reason& why);     \
    static std::size_t workspace(const void* desc, const KernelSku&, const Target&);       \
    static bool empty(const Desc&);                                                       \
    static Status check_args(const Desc&, const Args&, const KernelSku&);                  \
  };

BARACUDA_DECLARE_OP(KvAppendOp, KvAppendDesc, KvAppendArgs)
BARACUDA_DECLARE_OP(AttnFwdOp, AttnFwdDesc, AttnFwdArgs)
BARACUDA_DECLARE_OP(DecodeOp, DecodeDesc, DecodeArgs)
BARACUDA_DECLARE_OP(RopeOp, RopeDesc, RopeArgs)
BARACUDA_DECLARE_OP(RopeKvAppendOp, RopeKvAppendDesc, RopeKvAppendArgs)
#undef BARACUDA_DECLARE_OP

template <class Op>
class Plan {
 public:
  using Desc = typename Op::Desc;
  using Args = typename Op::Args;

  // Chooses a SKU for `desc`. Without a target, the current CUDA device.
  static Result<Plan> select(const Desc& desc, const PlanPreference& pref = {},
                             std::optional<Target> target = std::nullopt);
  // Every candidate SKU and the first check it failed.
  static Result<Explanation> explain(const Desc& desc, const PlanPreference& pref = {},
                                     std::optional<Target> target = std::nullopt);

  // Checks pointers, strides and alignment of `args` against the descriptor.
  Status can_implement(const Args& args) const;
  std::size_t workspace_size() const { return workspace_bytes_; }
  // Validates `args` and the workspace, then launches on `stream`.
  Status run(cudaStream_t stream, Workspace workspace, const Args& args) const;

  const KernelSku& sku() const { return *sku_; }
  const Desc& desc() const { return desc_; }
  const Target& target() const { return target_; }

 private:
  Plan(const Desc& desc, const KernelSku* sku, Target target, std::size_t ws)
      : desc_(desc), sku_(sku), target_(target), workspace_bytes_(ws) {}
  Desc desc_;
  const KernelSku* sku_;
  Target target_;
  std::size_t workspace_bytes_;
};

using KvAppendPlan = Plan<KvAppendOp>;
using AttnFwdPlan = Plan<AttnFwdOp>;
using DecodePlan = Plan<DecodeOp>;
using RopePlan = Plan<RopeOp>;
using RopeKvAppendPlan = Plan<RopeKvAppendOp>;

extern template class Plan<KvAppendOp>;
extern template class Plan<AttnFwdOp>;
extern template class Plan<DecodeOp>;
extern template class Plan<RopeOp>;
extern template class Plan<RopeKvAppendOp>;

}  // namespace baracuda
