// The AVX2 dot kernels of IQ4_NL, MXFP4, IQ4_XS and TQ2_0
// (dot_nonlinear_avx2.cpp), added to a kernel set by dot_avx2.cpp.
#pragma once

#include "kernels/dot_kernels.hpp"

namespace lb::kernels::avx2 {

// Sets those four types' tiles and single dots in k (their activations stay
// what k has: Q8_0 and Q8_K rows, the reference's bytes).
void use_nonlinear_dots(DotKernels &k);

} // namespace lb::kernels::avx2
