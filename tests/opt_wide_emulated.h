// opt kernels with the AVX-512 blocking, emulated on AVX2 (see opt_wide_emulated.cpp).
#pragma once

#include <span>

#include "kernels/registry.h"

namespace roofbench {
std::span<const Kernel> emulated_wide_kernels();
}
