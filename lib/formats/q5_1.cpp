// Q5_1: blocks of 32 weights, x = q * d + m with q in [0, 31], 6 bits per
// weight; bits packed as in Q5_0.
#include "common/fp16.hpp"
#include "formats/blocks.hpp"
#include "formats/formats.hpp"
#include "formats/scale_search.hpp"

#include <cstring>

namespace lb::formats {

void quantize_row_q5_1(const float *x, void *dst, int64_t n, const float *imatrix) {
    block_q5_1 *y = static_cast<block_q5_1 *>(dst);
    const Effort effort = imatrix != nullptr ? Effort::kThorough : Effort::kFast;
    for (int64_t b = 0; b < n / QK5_1; ++b) {
        const float *xb = x + b * QK5_1;
        const float *wb = imatrix != nullptr ? imatrix + b * QK5_1 : nullptr;
        float d, m;
        affine_search<QK5_1, 31>(xb, wb, effort, &d, &m);
        int l[QK5_1];
        affine_levels<QK5_1, 31>(xb, d, m, l);
        y[b].d = fp32_to_fp16(d);
        y[b].m = fp32_to_fp16(m);
        uint32_t qh = 0;
        for (int j = 0; j < QK5_1 / 2; ++j) {
            const int q0 = l[j], q1 = l[j + QK5_1 / 2];
            y[b].qs[j] = static_cast<uint8_t>((q0 & 0x0f) | ((q1 & 0x0f) << 4));
            qh |= static_cast<uint32_t>(q0 >> 4) << j;
            qh |= static_cast<uint32_t>(q1 >> 4) << (j + QK5_1 / 2);
        }
        std::memcpy(y[b].qh, &qh, sizeof qh);
    }
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
            const int h0 = static_cast<int>((qh >> j) & 1u) << 4;
            const int h1 = static_cast<int>((qh >> (j + QK5_1 / 2)) & 1u) << 4;
            yb[j] = static_cast<float>((x[b].qs[j] & 0x0f) | h0) * d + m;
            yb[j + QK5_1 / 2] = static_cast<float>((x[b].qs[j] >> 4) | h1) * d + m;
        }
    }
}

} // namespace lb::formats
