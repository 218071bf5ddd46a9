// Q4_1: blocks of 32 weights, x = q * d + m with q in [0, 15], 5 bits per
// weight. Scale and offset are searched (scale_search.hpp).
#include "common/fp16.hpp"
#include "formats/blocks.hpp"
#include "formats/formats.hpp"
#include "formats/scale_search.hpp"

namespace lb::formats {

void quantize_row_q4_1(const float *x, void *dst, int64_t n, const float *imatrix) {
    block_q4_1 *y = static_cast<block_q4_1 *>(dst);
    const Effort effort = imatrix != nullptr ? Effort::kThorough : Effort::kFast;
    for (int64_t b = 0; b < n / QK4_1; ++b) {
        const float *xb = x + b * QK4_1;
        const float *wb = imatrix != nullptr ? imatrix + b * QK4_1 : nullptr;
        float d, m;
        affine_search<QK4_1, 15>(xb, wb, effort, &d, &m);
        int l[QK4_1];
        affine_levels<QK4_1, 15>(xb, d, m, l);
        y[b].d = fp32_to_fp16(d);
        y[b].m = fp32_to_fp16(m);
        for (int j = 0; j < QK4_1 / 2; ++j) y[b].qs[j] = static_cast<uint8_t>(l[j] | (l[j + QK4_1 / 2] << 4));
    }
}

void dequantize_row_q4_1(const void *src, float *y, int64_t n) {
    const block_q4_1 *x = static_cast<const block_q4_1 *>(src);
    for (int64_t b = 0; b < n / QK4_1; ++b) {
        const float d = fp16_to_fp32(x[b].d);
        const float m = fp16_to_fp32(x[b].m);
        float *yb = y + b * QK4_1;
        for (int j = 0; j < QK4_1 / 2; ++j) {
            yb[j] = static_cast<float>(x[b].qs[j] & 0x0f) * d + m;
            yb[j + QK4_1 / 2] = static_cast<float>(x[b].qs[j] >> 4) * d + m;
        }
    }
}

} // namespace lb::formats
