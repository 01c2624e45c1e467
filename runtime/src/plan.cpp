// Plan<Op>: the select -> can_implement -> workspace_size -> run sequence,
// shared by every op; the op-specific checks live in ops/*.cpp.
#include "baracuda/plan.hpp"

#include <string>

namespace baracuda {
namespace {

Result<Target> resolve_target(const std::optional<Target>& target) {
  if (target) return *target;
  int device = 0;
  const cudaError_t err = cudaGetDevice(&device);
  if (err != cudaSuccess) {
    cudaGetLastError();
    return Status::error(StatusCode::cuda_error,
                         std::string("target: no current CUDA device (") + cudaGetErrorString(err) +
                             "); pass a target, e.g. Target::named(90)");
  }
  return Target::from_device(device);
}

}  // namespace

template <class Op>
Result<Plan<Op>> Plan<Op>::select(const Desc& desc, const PlanPreference& pref, std::optional<Target> target) {
  Result<Target> t = resolve_target(target);
  if (!t) return t.status();
  if (Status s = Op::validate(desc); !s.ok()) return s;
  const OpHooks hooks{&desc, &Op::check, &Op::workspace};
  Result<const KernelSku*> chosen = Catalog::select(Op::key(desc), pref, t.value(), hooks);
  if (!chosen) return chosen.status();
  return Plan(desc, chosen.value(), t.value(), Op::workspace(&desc, *chosen.value(), t.value()));
}

template <class Op>
Result<Explanation> Plan<Op>::explain(const Desc& desc, const PlanPreference& pref, std::optional<Target> target) {
  Result<Target> t = resolve_target(target);
  if (!t) return t.status();
  if (Status s = Op::validate(desc); !s.ok()) return s;
  const OpHooks hooks{&desc, &Op::check, &Op::workspace};
  return Catalog::explain(Op::key(desc), pref, t.value(), hooks);
}

template <class Op>
Status Plan<Op>::can_implement(const Args& args) const {
  if (Op::empty(desc_)) return Status::success();
  return Op::check_args(desc_, args, *sku_);
}

template <class Op>
Status Plan<Op>::run(cudaStream_t stream, Workspace workspace, const Args& args) const {
  if (Op::empty(desc_)) return Status::success();
  if (Status s = Op::check_args(desc_, args, *sku_); !s.ok()) return s;
  if (workspace.bytes < workspace_bytes_ || (workspace_bytes_ > 0 && workspace.data == nullptr))
    return Status::error(StatusCode::workspace_too_small,
                         "workspace: " + std::to_string(workspace.bytes) + " bytes at " +
                             (workspace.data ? "a device pointer" : "nullptr") + ", plan " + sku_->name + " needs " +
                             std::to_string(workspace_bytes_));
  const LaunchContext ctx{&desc_, &args, workspace.data, workspace.bytes, stream, target_.sm_count};
  return sku_->entry(ctx);
}

template class Plan<KvAppendOp>;
template class Plan<AttnFwdOp>;
template class Plan<DecodeOp>;
template class Plan<RopeOp>;
template class Plan<RopeKvAppendOp>;

}  // namespace baracuda
