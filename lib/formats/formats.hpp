// The scalar reference implementation of every format lowbit reads or
// writes. Each format lives in its own file (q4_0.cpp, f16.cpp, ...); these
// functions define the formats' behaviour, and faster kernels must produce
// the same bytes.
#pragma once

#include "formats/search_kernels.hpp"

#include <cstdint>

namespace lb::formats {

// Weight quantizers: one row of n floats (n a multiple of the block size);
// imatrix is NULL or holds n importance weights.
void quantize_row_f32(const float *x, void *y, int64_t n, const float *imatrix, const SearchKernels &k);
void quantize_row_f16(const float *x, void *y, int64_t n, const float *imatrix, const SearchKernels &k);
void quantize_row_bf16(const float *x, void *y, int64_t n, const float *imatrix, const SearchKernels &k);
void quantize_row_q4_0(const float *x, void *y, int64_t n, const float *imatrix, const SearchKernels &k);
void quantize_row_q4_1(const float *x, void *y, int64_t n, const float *imatrix, const SearchKernels &k);
void quantize_row_q5_0(const float *x, void *y, int64_t n, const float *imatrix, const SearchKernels &k);
void quantize_row_q5_1(const float *x, void *y, int64_t n, const float *imatrix, const SearchKernels &k);
void quantize_row_q8_0(const float *x, void *y, int64_t n, const float *imatrix, const SearchKernels &k);
void quantize_row_q2_K(const float *x, void *y, int64_t n, const float *imatrix, const SearchKernels &k);
void quantize_row_q3_K(const float *x, void *y, int64_t n, const float *imatrix, const SearchKernels &k);
void quantize_row_q4_K(const float *x, void *y, int64_t n, const float *imatrix, const SearchKernels &k);
void quantize_row_q5_K(const float *x, void *y, int64_t n, const float *imatrix, const SearchKernels &k);
void quantize_row_q6_K(const float *x, void *y, int64_t n, const float *imatrix, const SearchKernels &k);
void quantize_row_iq4_nl(const float *x, void *y, int64_t n, const float *imatrix, const SearchKernels &k);
void quantize_row_iq4_xs(const float *x, void *y, int64_t n, const float *imatrix, const SearchKernels &k);
void quantize_row_tq1_0(const float *x, void *y, int64_t n, const float *imatrix, const SearchKernels &k);
void quantize_row_tq2_0(const float *x, void *y, int64_t n, const float *imatrix, const SearchKernels &k);
void quantize_row_mxfp4(const float *x, void *y, int64_t n, const float *imatrix, const SearchKernels &k);
void quantize_row_nvfp4(const float *x, void *y, int64_t n, const float *imatrix, const SearchKernels &k);
void quantize_row_q1_0(const float *x, void *y, int64_t n, const float *imatrix, const SearchKernels &k);
void quantize_row_q2_0(const float *x, void *y, int64_t n, const float *imatrix, const SearchKernels &k);
void quantize_row_iq2_xxs(const float *x, void *y, int64_t n, const float *imatrix, const SearchKernels &k);
void quantize_row_iq2_xs(const float *x, void *y, int64_t n, const float *imatrix, const SearchKernels &k);
void quantize_row_iq3_xxs(const float *x, void *y, int64_t n, const float *imatrix, const SearchKernels &k);
void quantize_row_iq3_s(const float *x, void *y, int64_t n, const float *imatrix, const SearchKernels &k);
void quantize_row_iq2_s(const float *x, void *y, int64_t n, const float *imatrix, const SearchKernels &k);
void quantize_row_iq1_s(const float *x, void *y, int64_t n, const float *imatrix, const SearchKernels &k);
void quantize_row_iq1_m(const float *x, void *y, int64_t n, const float *imatrix, const SearchKernels &k);

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
void dequantize_row_iq4_nl(const void *x, float *y, int64_t n);
void dequantize_row_iq4_xs(const void *x, float *y, int64_t n);
void dequantize_row_tq1_0(const void *x, float *y, int64_t n);
void dequantize_row_tq2_0(const void *x, float *y, int64_t n);
void dequantize_row_mxfp4(const void *x, float *y, int64_t n);
void dequantize_row_nvfp4(const void *x, float *y, int64_t n);
void dequantize_row_q1_0(const void *x, float *y, int64_t n);
void dequantize_row_q2_0(const void *x, float *y, int64_t n);
void dequantize_row_iq2_xxs(const void *x, float *y, int64_t n);
void dequantize_row_iq2_xs(const void *x, float *y, int64_t n);
void dequantize_row_iq3_xxs(const void *x, float *y, int64_t n);
void dequantize_row_iq2_s(const void *x, float *y, int64_t n);
void dequantize_row_iq3_s(const void *x, float *y, int64_t n);
void dequantize_row_iq1_s(const void *x, float *y, int64_t n);
void dequantize_row_iq1_m(const void *x, float *y, int64_t n);

// Dot products of one weight row with one activation row of n values, the
// activations quantized to the type llama.cpp's CPU backend pairs with the
// weight type (its vec_dot_type): the scalar reference. Integer sums are
// exact; the float steps are those of ggml's reference code.
float vec_dot_f32_f32(int64_t n, const void *w, const void *a);
float vec_dot_f16_f16(int64_t n, const void *w, const void *a);
float vec_dot_bf16_bf16(int64_t n, const void *w, const void *a);
float vec_dot_q4_0_q8_0(int64_t n, const void *w, const void *a);
float vec_dot_q4_1_q8_1(int64_t n, const void *w, const void *a);
float vec_dot_q5_0_q8_0(int64_t n, const void *w, const void *a);
float vec_dot_q5_1_q8_1(int64_t n, const void *w, const void *a);
float vec_dot_q8_0_q8_0(int64_t n, const void *w, const void *a);
float vec_dot_q2_K_q8_K(int64_t n, const void *w, const void *a);
float vec_dot_q3_K_q8_K(int64_t n, const void *w, const void *a);
float vec_dot_q4_K_q8_K(int64_t n, const void *w, const void *a);
float vec_dot_q5_K_q8_K(int64_t n, const void *w, const void *a);
float vec_dot_q6_K_q8_K(int64_t n, const void *w, const void *a);
float vec_dot_iq4_nl_q8_0(int64_t n, const void *w, const void *a);
float vec_dot_iq4_xs_q8_K(int64_t n, const void *w, const void *a);
float vec_dot_tq1_0_q8_K(int64_t n, const void *w, const void *a);
float vec_dot_tq2_0_q8_K(int64_t n, const void *w, const void *a);
float vec_dot_mxfp4_q8_0(int64_t n, const void *w, const void *a);
float vec_dot_nvfp4_q8_0(int64_t n, const void *w, const void *a);
float vec_dot_q1_0_q8_0(int64_t n, const void *w, const void *a);
float vec_dot_q2_0_q8_0(int64_t n, const void *w, const void *a);
float vec_dot_iq2_xxs_q8_K(int64_t n, const void *w, const void *a);
float vec_dot_iq2_xs_q8_K(int64_t n, const void *w, const void *a);
float vec_dot_iq3_xxs_q8_K(int64_t n, const void *w, const void *a);
float vec_dot_iq2_s_q8_K(int64_t n, const void *w, const void *a);
float vec_dot_iq3_s_q8_K(int64_t n, const void *w, const void *a);
float vec_dot_iq1_s_q8_K(int64_t n, const void *w, const void *a);
float vec_dot_iq1_m_q8_K(int64_t n, const void *w, const void *a);

// Activation quantizers for the float pairings: F32 is a copy, F16 and BF16
// round to nearest even (ggml's fp32_to_fp16 / fp32_to_bf16).
void quantize_row_f32_activations(const float *x, void *y, int64_t n);
void quantize_row_f16_activations(const float *x, void *y, int64_t n);
void quantize_row_bf16_activations(const float *x, void *y, int64_t n);

} // namespace lb::formats
