// Q8_0: blocks of 32 weights, x = q * d with q in [-127, 127], 8.5 bits per
// weight. Weights get the scale symmetric_blocks.hpp defines; activations (the other side of a dot
// product) get llama.cpp's plain max-abs scale, byte for byte.
#include "common/fp16.hpp"
#include "formats/block_rows.hpp"
#include "formats/blocks.hpp"
#include "formats/formats.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>

namespace lb::formats {

void quantize_row_q8_0(const float *x, void *dst, int64_t n, const float *imatrix, const SearchKernels &k) {
    block_q8_0 *y = static_cast<block_q8_0 *>(dst);
    quantize_symmetric_row<QK8_0, -127, 127, 0>(x, n, imatrix, k.q8_0,
                                                [y](int64_t b, float d, const uint8_t *q) {
                                                    y[b].d = scale_bits(d);
                                                    std::memcpy(y[b].qs, q, QK8_0); // two's complement
                                                });
}

void quantize_row_q8_0_activations(const float *x, void *dst, int64_t n) {
    block_q8_0 *y = static_cast<block_q8_0 *>(dst);
    for (int64_t b = 0; b < n / QK8_0; ++b) {
        const float *xb = x + b * QK8_0;
        float amax = 0.0f;
        for (int j = 0; j < QK8_0; ++j) amax = std::max(amax, std::fabs(xb[j]));
        const float d = amax / 127.0f;
        const float id = d != 0.0f ? 1.0f / d : 0.0f;
        y[b].d = fp32_to_fp16(d);
        for (int j = 0; j < QK8_0; ++j) y[b].qs[j] = static_cast<int8_t>(std::round(xb[j] * id));
    }
}

void dequantize_row_q8_0(const void *src, float *y, int64_t n) {
    const block_q8_0 *x = static_cast<const block_q8_0 *>(src);
    for (int64_t b = 0; b < n / QK8_0; ++b) {
        const float d = fp16_to_fp32(x[b].d);
        // a local copy of the codes: stores to y cannot alias them, so the loops vectorise
        int8_t qs[QK8_0];
        std::memcpy(qs, x[b].qs, sizeof qs);
        for (int j = 0; j < QK8_0; ++j) y[b * QK8_0 + j] = static_cast<float>(qs[j]) * d;
    }
}

float vec_dot_q8_0_q8_0(int64_t n, const void *w, const void *a) {
    const block_q8_0 *x = static_cast<const block_q8_0 *>(w);
    const block_q8_0 *y = static_cast<const block_q8_0 *>(a);
    float sum = 0.0f;
    for (int64_t b = 0; b < n / QK8_0; ++b) {
        int32_t s = 0;
        for (int j = 0; j < QK8_0; ++j) s += x[b].qs[j] * y[b].qs[j];
        sum += static_cast<float>(s) * fp16_to_fp32(x[b].d) * fp16_to_fp32(y[b].d);
    }
    return sum;
}

} // namespace lb::formats
