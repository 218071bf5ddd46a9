// The scalar reference implementation of every format lowbit reads or
// writes. Each format lives in its own file (q4_0.cpp, f16.cpp, ...); these
// functions define the formats' behaviour, and faster kernels must produce
// the same bytes.
#pragma once

#include <cstdint>

namespace lb::formats {

// Weight quantizers: one row of n floats (n a multiple of the block size);
// imatrix is NULL or holds n importance weights.
void quantize_row_f32(const float *x, void *y, int64_t n, const float *imatrix);
void quantize_row_f16(const float *x, void *y, int64_t n, const float *imatrix);
void quantize_row_bf16(const float *x, void *y, int64_t n, const float *imatrix);
void quantize_row_q4_0(const float *x, void *y, int64_t n, const float *imatrix);
void quantize_row_q4_1(const float *x, void *y, int64_t n, const float *imatrix);
void quantize_row_q5_0(const float *x, void *y, int64_t n, const float *imatrix);
void quantize_row_q5_1(const float *x, void *y, int64_t n, const float *imatrix);
void quantize_row_q8_0(const float *x, void *y, int64_t n, const float *imatrix);
void quantize_row_q2_K(const float *x, void *y, int64_t n, const float *imatrix);
void quantize_row_q3_K(const float *x, void *y, int64_t n, const float *imatrix);
void quantize_row_q4_K(const float *x, void *y, int64_t n, const float *imatrix);
void quantize_row_q5_K(const float *x, void *y, int64_t n, const float *imatrix);
void quantize_row_q6_K(const float *x, void *y, int64_t n, const float *imatrix);

// Activation quantizers (the right-hand side of dot products): fast, and
// byte-identical to llama.cpp's quantize_row_q8_0_ref / _q8_1_ref.
void quantize_row_q8_0_activations(const float *x, void *y, int64_t n);
void quantize_row_q8_1_activations(const float *x, void *y, int64_t n);
void quantize_row_q8_K_activations(const float *x, void *y, int64_t n);

// Dequantizers: one row of n elements.
void dequantize_row_f32(const void *x, float *y, int64_t n);
void dequantize_row_f16(const void *x, float *y, int64_t n);
void dequantize_row_bf16(const void *x, float *y, int64_t n);
void dequantize_row_q4_0(const void *x, float *y, int64_t n);
void dequantize_row_q4_1(const void *x, float *y, int64_t n);
void dequantize_row_q5_0(const void *x, float *y, int64_t n);
void dequantize_row_q5_1(const void *x, float *y, int64_t n);
void dequantize_row_q8_0(const void *x, float *y, int64_t n);
void dequantize_row_q8_1(const void *x, float *y, int64_t n);
void dequantize_row_q2_K(const void *x, float *y, int64_t n);
void dequantize_row_q3_K(const void *x, float *y, int64_t n);
void dequantize_row_q4_K(const void *x, float *y, int64_t n);
void dequantize_row_q5_K(const void *x, float *y, int64_t n);
void dequantize_row_q6_K(const void *x, float *y, int64_t n);
void dequantize_row_q8_K(const void *x, float *y, int64_t n);

} // namespace lb::formats
