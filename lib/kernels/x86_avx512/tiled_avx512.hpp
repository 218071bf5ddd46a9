// The AVX-512 set's kernels for the tiled layouts (tiled_avx512.cpp).
#pragma once

#include "kernels/dot_kernels.hpp"

namespace lb::kernels::avx512 {

// Q8R16 weights x Q8_0 activations (DotKernels::tiled).
void tile_q8r16(const MatmulTile &t);
// Q4_K_4 weights x Q8_K activations.
void tile_q4_k_4(const MatmulTile &t);

} // namespace lb::kernels::avx512
