// Q5_0: blocks of 32 weights, x = (q - 16) * d with q in [0, 31], 5.5 bits
// per weight. The low 4 bits of q are packed like Q4_0, the fifth bit of
// element j is bit j of the little-endian 32-bit qh.
#include "common/fp16.hpp"
#include "formats/block_rows.hpp"
#include "formats/blocks.hpp"
#include "formats/formats.hpp"

#include <cstring>

namespace lb::formats {

void quantize_row_q5_0(const float *x, void *dst, int64_t n, const float *imatrix, const SearchKernels &k) {
    block_q5_0 *y = static_cast<block_q5_0 *>(dst);
    quantize_symmetric_row<QK5_0, -16, 15, 16>(
        x, n, imatrix, k.q5_0, [y](int64_t b, float d, const uint8_t *q) {
            y[b].d = scale_bits(d);
            for (int j = 0; j < QK5_0 / 2; ++j)
                y[b].qs[j] = static_cast<uint8_t>((q[j] & 0x0f) | ((q[j + QK5_0 / 2] & 0x0f) << 4));
            pack_high_bits(q, y[b].qh);
        });
}

void dequantize_row_q5_0(const void *src, float *y, int64_t n) {
    const block_q5_0 *x = static_cast<const block_q5_0 *>(src);
    for (int64_t b = 0; b < n / QK5_0; ++b) {
        const float d = fp16_to_fp32(x[b].d);
        uint32_t qh;
        std::memcpy(&qh, x[b].qh, sizeof qh);
        float *yb = y + b * QK5_0;
        for (int j = 0; j < QK5_0 / 2; ++j) {
            const int h = static_cast<int>((qh >> j) & 1u) << 4;
            yb[j] = static_cast<float>(((x[b].qs[j] & 0x0f) | h) - 16) * d;
        }
        for (int j = 0; j < QK5_0 / 2; ++j) {
            const int h = static_cast<int>((qh >> (j + QK5_0 / 2)) & 1u) << 4;
            yb[j + QK5_0 / 2] = static_cast<float>(((x[b].qs[j] >> 4) | h) - 16) * d;
        }
    }
}

// sum over blocks of d_w d_a sum((q - 16) q8)
float vec_dot_q5_0_q8_0(int64_t n, const void *w, const void *a) {
    const block_q5_0 *x = static_cast<const block_q5_0 *>(w);
    const block_q8_0 *y = static_cast<const block_q8_0 *>(a);
    float sum = 0.0f;
    for (int64_t b = 0; b < n / QK5_0; ++b) {
        uint32_t qh;
        std::memcpy(&qh, x[b].qh, sizeof qh);
        int32_t s = 0;
        for (int j = 0; j < QK5_0 / 2; ++j) {
            const int lo = (x[b].qs[j] & 0x0f) | static_cast<int>(((qh >> j) & 1u) << 4);
            const int hi = (x[b].qs[j] >> 4) | static_cast<int>(((qh >> (j + QK5_0 / 2)) & 1u) << 4);
            s += (lo - 16) * y[b].qs[j] + (hi - 16) * y[b].qs[j + QK5_0 / 2];
        }
        sum += static_cast<float>(s) * fp16_to_fp32(x[b].d) * fp16_to_fp32(y[b].d);
    }
    return sum;
}

} // namespace lb::formats
