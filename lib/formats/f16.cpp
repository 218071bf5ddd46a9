// F16: IEEE binary16, rounded to nearest even.
#include "common/fp16.hpp"
#include "formats/formats.hpp"

namespace lb::formats {

void quantize_row_f16(const float *x, void *y, int64_t n, const float *, const SearchKernels &) {
    uint16_t *out = static_cast<uint16_t *>(y);
    for (int64_t i = 0; i < n; ++i) out[i] = fp32_to_fp16(x[i]);
}

void dequantize_row_f16(const void *x, float *y, int64_t n) {
    const uint16_t *in = static_cast<const uint16_t *>(x);
    for (int64_t i = 0; i < n; ++i) y[i] = fp16_to_fp32(in[i]);
}

// activations in binary16 too, as ggml pairs them; products in float,
// summed in double
float vec_dot_f16_f16(int64_t n, const void *w, const void *a) {
    const uint16_t *x = static_cast<const uint16_t *>(w), *y = static_cast<const uint16_t *>(a);
    double sum = 0.0;
    for (int64_t i = 0; i < n; ++i) sum += static_cast<double>(fp16_to_fp32(x[i]) * fp16_to_fp32(y[i]));
    return static_cast<float>(sum);
}

void quantize_row_f16_activations(const float *x, void *y, int64_t n) {
    uint16_t *out = static_cast<uint16_t *>(y);
    for (int64_t i = 0; i < n; ++i) out[i] = fp32_to_fp16(x[i]);
}

} // namespace lb::formats
