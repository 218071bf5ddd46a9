// The AVX2 dot kernels of the newer formats but TQ1_0 (dot_newer_avx2.cpp),
// added to a kernel set by dot_avx2.cpp.
#pragma once

#include "kernels/dot_kernels.hpp"

namespace lb::kernels::avx2 {

// Sets those types' tiles and single dots in k (their activations stay what
// k has: Q8_0 and Q8_K rows, the reference's bytes).
void use_newer_format_dots(DotKernels &k);

} // namespace lb::kernels::avx2
