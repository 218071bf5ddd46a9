// Q1_0: blocks of 128 weights, x = +-d, 1.125 bits per weight. The scale is
// chosen as sign_blocks.hpp defines: sum w |x| / sum w, the least-squares
// scale (llama.cpp's mean |x| when there are no importance weights), its
// binary16 rounding checked against its neighbours.
#include "common/fp16.hpp"
#include "formats/blocks.hpp"
#include "formats/formats.hpp"
#include "formats/sign_blocks.hpp"

namespace lb::formats {

void quantize_row_q1_0(const float *x, void *dst, int64_t n, const float *imatrix, const SearchKernels &) {
    block_q1_0 *y = static_cast<block_q1_0 *>(dst);
    for (int64_t b = 0; b < n / QK1_0; ++b) {
        float w[QK1_0];
        block_weights(imatrix != nullptr ? imatrix + b * QK1_0 : nullptr, QK1_0, w);
        int8_t t[QK1_0];
        y[b].d = sign_block(x + b * QK1_0, w, QK1_0, false, t);
        for (int k = 0; k < QK1_0 / 8; ++k) {
            unsigned v = 0;
            for (int i = 0; i < 8; ++i) v |= (t[8 * k + i] > 0 ? 1u : 0u) << i;
            y[b].qs[k] = static_cast<uint8_t>(v);
        }
    }
}

void dequantize_row_q1_0(const void *src, float *y, int64_t n) {
    const block_q1_0 *x = static_cast<const block_q1_0 *>(src);
    for (int64_t b = 0; b < n / QK1_0; ++b) {
        const float d = fp16_to_fp32(x[b].d);
        float *out = y + b * QK1_0;
        // bit i of byte k is element 8 k + i: +d if set, else -d
        for (int i = 0; i < 8; ++i)
            for (int k = 0; k < QK1_0 / 8; ++k) out[8 * k + i] = (x[b].qs[k] >> i) & 1 ? d : -d;
    }
}

// Each 128-block spans four Q8_0 blocks: sum over blocks of
// d_w sum over Q8_0 blocks of d_a sum(+-q8), the integer sums exact.
float vec_dot_q1_0_q8_0(int64_t n, const void *w, const void *a) {
    const block_q1_0 *x = static_cast<const block_q1_0 *>(w);
    const block_q8_0 *y = static_cast<const block_q8_0 *>(a);
    float sum = 0.0f;
    for (int64_t b = 0; b < n / QK1_0; ++b) {
        float sb = 0.0f;
        for (int k = 0; k < QK1_0 / QK8_0; ++k) {
            const block_q8_0 &yb = y[b * (QK1_0 / QK8_0) + k];
            int32_t s = 0;
            for (int j = 0; j < QK8_0; ++j) {
                const int e = QK8_0 * k + j;
                s += (x[b].qs[e / 8] >> (e % 8)) & 1 ? yb.qs[j] : -yb.qs[j];
            }
            sb += fp16_to_fp32(yb.d) * static_cast<float>(s);
        }
        sum += fp16_to_fp32(x[b].d) * sb;
    }
    return sum;
}

} // namespace lb::formats
