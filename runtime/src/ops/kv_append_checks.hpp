// KV-append checks shared with the fused RoPE + append op.
#pragma once

#include "baracuda/ops/kv_append.hpp"
#include "baracuda/types.hpp"

namespace baracuda::kv_append_detail {
Status validate_append(const KvAppendDesc&);
Status check_append_args(const KvAppendDesc&, const KvAppendArgs&, const KernelSku&);
}  // namespace baracuda::kv_append_detail
