// The AVX2 set's kernel for the tiled layout Q8R16 (tiled_avx2.cpp).
#pragma once

#include "kernels/dot_kernels.hpp"

namespace lb::kernels::avx2 {

// Q8R16 weights x Q8_0 activations (DotKernels::tiled).
void tile_q8r16(const MatmulTile &t);

} // namespace lb::kernels::avx2
