// Q4_1: blocks of 32 weights, x = q * d + m with q in [0, 15], 5 bits per
// weight. Scale and offset are chosen as affine_blocks.hpp defines.
#include "common/fp16.hpp"
#include "formats/block_rows.hpp"
#include "formats/blocks.hpp"
#include "formats/formats.hpp"

#include <cstring>

namespace lb::formats {

void quantize_row_q4_1(const float *x, void *dst, int64_t n, const float *imatrix, const SearchKernels &k) {
    block_q4_1 *y = static_cast<block_q4_1 *>(dst);
    quantize_affine_row<QK4_1, 15>(x, n, imatrix, k.q4_1, [y](int64_t b, float d, float m, const uint8_t *q) {
        y[b].d = scale_bits(d);
        y[b].m = scale_bits(m);
        for (int j = 0; j < QK4_1 / 2; ++j) y[b].qs[j] = static_cast<uint8_t>(q[j] | (q[j + QK4_1 / 2] << 4));
    });
}

void dequantize_row_q4_1(const void *src, float *y, int64_t n) {
    const block_q4_1 *x = static_cast<const block_q4_1 *>(src);
    for (int64_t b = 0; b < n / QK4_1; ++b) {
        const float d = fp16_to_fp32(x[b].d);
        const float m = fp16_to_fp32(x[b].m);
        float *yb = y + b * QK4_1;
        // a local copy of the codes: stores to y cannot alias them, so the loops vectorise
        uint8_t qs[QK4_1 / 2];
        std::memcpy(qs, x[b].qs, sizeof qs);
        for (int j = 0; j < QK4_1 / 2; ++j) yb[j] = static_cast<float>(qs[j] & 0x0f) * d + m;
        for (int j = 0; j < QK4_1 / 2; ++j) yb[j + QK4_1 / 2] = static_cast<float>(qs[j] >> 4) * d + m;
    }
}

// sum over blocks of d_w d_a sum(q q8) + m_w s_a, where s_a = d_a sum(q8)
float vec_dot_q4_1_q8_1(int64_t n, const void *w, const void *a) {
    const block_q4_1 *x = static_cast<const block_q4_1 *>(w);
    const block_q8_1 *y = static_cast<const block_q8_1 *>(a);
    float sum = 0.0f;
    for (int64_t b = 0; b < n / QK4_1; ++b) {
        int32_t s = 0;
        for (int j = 0; j < QK4_1 / 2; ++j)
            s += (x[b].qs[j] & 0x0f) * y[b].qs[j] + (x[b].qs[j] >> 4) * y[b].qs[j + QK4_1 / 2];
        sum += fp16_to_fp32(x[b].d) * fp16_to_fp32(y[b].d) * static_cast<float>(s) +
               fp16_to_fp32(x[b].m) * fp16_to_fp32(y[b].s);
    }
    return sum;
}

} // namespace lb::formats
