// The AVX2 set's activation quantizers (activations_avx2.cpp): each writes
// the bytes of the format's reference (formats::traits(type).quantize_activations).
#pragma once

#include <cstdint>

namespace lb::kernels::avx2 {

void quantize_q8_0_activations(const float *x, void *dst, int64_t n);
void quantize_q8_1_activations(const float *x, void *dst, int64_t n);
void quantize_q8_K_activations(const float *x, void *dst, int64_t n);

} // namespace lb::kernels::avx2
