// The AVX-512 set's BF16 tile for CPUs with AVX512-BF16 (bf16_avx512.cpp).
#pragma once

#include "kernels/dot_kernels.hpp"

namespace lb::kernels::avx512 {

// Whether this CPU has AVX512-BF16 (dispatch.cpp reads it with cpuid).
bool has_bf16();

// BF16 weights x BF16 activations (formats' quantize_row_bf16_activations).
void tile_bf16(const MatmulTile &t);

} // namespace lb::kernels::avx512
