// The AVX2 dot kernels of the lattice I-quants (dot_lattice_avx2.cpp), added
// to a kernel set by dot_avx2.cpp.
#pragma once

#include "kernels/dot_kernels.hpp"

namespace lb::kernels::avx2 {

// Sets the tiles and single dots of IQ2_XXS, IQ2_XS, IQ2_S, IQ3_XXS, IQ3_S,
// IQ1_S and IQ1_M in k (their activations stay k's Q8_K rows, the reference's bytes).
void use_lattice_dots(DotKernels &k);

} // namespace lb::kernels::avx2
