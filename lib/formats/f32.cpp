// F32: IEEE binary32, stored as is.
#include "formats/formats.hpp"

#include <cstring>

namespace lb::formats {

void quantize_row_f32(const float *x, void *y, int64_t n, const float *, const SearchKernels &) {
    std::memcpy(y, x, static_cast<size_t>(n) * sizeof(float));
}

void dequantize_row_f32(const void *x, float *y, int64_t n) {
    std::memcpy(y, x, static_cast<size_t>(n) * sizeof(float));
}

// products in float, summed in double (as ggml's reference)
float vec_dot_f32_f32(int64_t n, const void *w, const void *a) {
    const float *x = static_cast<const float *>(w), *y = static_cast<const float *>(a);
    double sum = 0.0;
    for (int64_t i = 0; i < n; ++i) sum += static_cast<double>(x[i] * y[i]);
    return static_cast<float>(sum);
}

void quantize_row_f32_activations(const float *x, void *y, int64_t n) {
    std::memcpy(y, x, static_cast<size_t>(n) * sizeof(float));
}

} // namespace lb::formats
