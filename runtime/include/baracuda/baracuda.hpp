// Umbrella header of baracuda-kernels.
#pragma once

#include "baracuda/catalog.hpp"
#include "baracuda/plan.hpp"
#include "baracuda/tensor.hpp"
#include "baracuda/types.hpp"
