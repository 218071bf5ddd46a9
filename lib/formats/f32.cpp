// F32: IEEE binary32, stored as is.
#include "formats/formats.hpp"

#include <cstring>

namespace lb::formats {

void quantize_row_f32(const float *x, void *y, int64_t n, const float *) {
    std::memcpy(y, x, static_cast<size_t>(n) * sizeof(float));
}

void dequantize_row_f32(const void *x, float *y, int64_t n) {
    std::memcpy(y, x, static_cast<size_t>(n) * sizeof(float));
}

} // namespace lb::formats
