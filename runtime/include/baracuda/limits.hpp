// Limits of the generic kernels, visible to host code without CUDA.
#pragma once

namespace baracuda {
inline constexpr int kAttnReferenceMaxHeadDim = 512;
}  // namespace baracuda
