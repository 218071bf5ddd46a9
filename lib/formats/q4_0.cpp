// Q4_0: blocks of 32 weights, x = (q - 8) * d with q in [0, 15], 4.5 bits per
// weight. The scale is chosen as symmetric_blocks.hpp defines.
#include "common/fp16.hpp"
#include "formats/block_rows.hpp"
#include "formats/blocks.hpp"
#include "formats/formats.hpp"

#include <cstring>

namespace lb::formats {

void quantize_row_q4_0(const float *x, void *dst, int64_t n, const float *imatrix, const SearchKernels &k) {
    block_q4_0 *y = static_cast<block_q4_0 *>(dst);
    quantize_symmetric_row<QK4_0, -8, 7, 8>(x, n, imatrix, k.q4_0, [y](int64_t b, float d, const uint8_t *q) {
        y[b].d = scale_bits(d);
        for (int j = 0; j < QK4_0 / 2; ++j) y[b].qs[j] = static_cast<uint8_t>(q[j] | (q[j + QK4_0 / 2] << 4));
    });
}

void dequantize_row_q4_0(const void *src, float *y, int64_t n) {
    const block_q4_0 *x = static_cast<const block_q4_0 *>(src);
    for (int64_t b = 0; b < n / QK4_0; ++b) {
        const float d = fp16_to_fp32(x[b].d);
        float *yb = y + b * QK4_0;
        // a local copy of the codes: stores to y cannot alias them, so the loops vectorise
        uint8_t qs[QK4_0 / 2];
        std::memcpy(qs, x[b].qs, sizeof qs);
        for (int j = 0; j < QK4_0 / 2; ++j) yb[j] = static_cast<float>((qs[j] & 0x0f) - 8) * d;
        for (int j = 0; j < QK4_0 / 2; ++j) yb[j + QK4_0 / 2] = static_cast<float>((qs[j] >> 4) - 8) * d;
    }
}

// sum over blocks of d_w d_a sum((q - 8) q8), the integer sum exact
float vec_dot_q4_0_q8_0(int64_t n, const void *w, const void *a) {
    const block_q4_0 *x = static_cast<const block_q4_0 *>(w);
    const block_q8_0 *y = static_cast<const block_q8_0 *>(a);
    float sum = 0.0f;
    for (int64_t b = 0; b < n / QK4_0; ++b) {
        int32_t s = 0;
        for (int j = 0; j < QK4_0 / 2; ++j) {
            s += ((x[b].qs[j] & 0x0f) - 8) * y[b].qs[j];
            s += ((x[b].qs[j] >> 4) - 8) * y[b].qs[j + QK4_0 / 2];
        }
        sum += static_cast<float>(s) * fp16_to_fp32(x[b].d) * fp16_to_fp32(y[b].d);
    }
    return sum;
}

} // namespace lb::formats
