// Q5_1: blocks of 32 weights, x = q * d + m with q in [0, 31], 6 bits per
// weight; bits packed as in Q5_0.
#include "common/fp16.hpp"
#include "formats/block_rows.hpp"
#include "formats/blocks.hpp"
#include "formats/formats.hpp"

#include <cstring>

namespace lb::formats {

void quantize_row_q5_1(const float *x, void *dst, int64_t n, const float *imatrix, const SearchKernels &k) {
    block_q5_1 *y = static_cast<block_q5_1 *>(dst);
    quantize_affine_row<QK5_1, 31>(x, n, imatrix, k.q5_1, [y](int64_t b, float d, float m, const uint8_t *q) {
        y[b].d = scale_bits(d);
        y[b].m = scale_bits(m);
        for (int j = 0; j < QK5_1 / 2; ++j)
            y[b].qs[j] = static_cast<uint8_t>((q[j] & 0x0f) | ((q[j + QK5_1 / 2] & 0x0f) << 4));
        pack_high_bits(q, y[b].qh);
    });
}

void dequantize_row_q5_1(const void *src, float *y, int64_t n) {
    const block_q5_1 *x = static_cast<const block_q5_1 *>(src);
    for (int64_t b = 0; b < n / QK5_1; ++b) {
        const float d = fp16_to_fp32(x[b].d);
        const float m = fp16_to_fp32(x[b].m);
        uint32_t qh;
        std::memcpy(&qh, x[b].qh, sizeof qh);
        float *yb = y + b * QK5_1;
        for (int j = 0; j < QK5_1 / 2; ++j) {
            const int h = static_cast<int>((qh >> j) & 1u) << 4;
            yb[j] = static_cast<float>((x[b].qs[j] & 0x0f) | h) * d + m;
        }
        for (int j = 0; j < QK5_1 / 2; ++j) {
            const int h = static_cast<int>((qh >> (j + QK5_1 / 2)) & 1u) << 4;
            yb[j + QK5_1 / 2] = static_cast<float>((x[b].qs[j] >> 4) | h) * d + m;
        }
    }
}

float vec_dot_q5_1_q8_1(int64_t n, const void *w, const void *a) {
    const block_q5_1 *x = static_cast<const block_q5_1 *>(w);
    const block_q8_1 *y = static_cast<const block_q8_1 *>(a);
    float sum = 0.0f;
    for (int64_t b = 0; b < n / QK5_1; ++b) {
        uint32_t qh;
        std::memcpy(&qh, x[b].qh, sizeof qh);
        int32_t s = 0;
        for (int j = 0; j < QK5_1 / 2; ++j) {
            const int lo = (x[b].qs[j] & 0x0f) | static_cast<int>(((qh >> j) & 1u) << 4);
            const int hi = (x[b].qs[j] >> 4) | static_cast<int>(((qh >> (j + QK5_1 / 2)) & 1u) << 4);
            s += lo * y[b].qs[j] + hi * y[b].qs[j + QK5_1 / 2];
        }
        sum += fp16_to_fp32(x[b].d) * fp16_to_fp32(y[b].d) * static_cast<float>(s) +
               fp16_to_fp32(x[b].m) * fp16_to_fp32(y[b].s);
    }
    return sum;
}

} // namespace lb::formats
