// TQ2_0: ternary super-blocks of 256 weights, x = (q - 1) * d with q in
// [0, 2] in 2 bits each, 2.0625 bits per weight. The scale and levels are
// chosen as sign_blocks.hpp defines (code 3, +2d, is never written).
#include "common/fp16.hpp"
#include "formats/blocks.hpp"
#include "formats/formats.hpp"
#include "formats/sign_blocks.hpp"

namespace lb::formats {

namespace {

// Element j of a block: byte 32 (j / 128) + j % 32, bits 2 ((j / 32) % 4).
int code_at(const block_tq2_0 &b, int j) {
    return (b.qs[32 * (j / 128) + j % 32] >> (2 * ((j / 32) % 4))) & 3;
}

} // namespace

void quantize_row_tq2_0(const float *x, void *dst, int64_t n, const float *imatrix, const SearchKernels &) {
    block_tq2_0 *y = static_cast<block_tq2_0 *>(dst);
    for (int64_t b = 0; b < n / QK_K; ++b) {
        float w[QK_K];
        block_weights(imatrix != nullptr ? imatrix + b * QK_K : nullptr, QK_K, w);
        int8_t t[QK_K];
        y[b].d = sign_block(x + b * QK_K, w, QK_K, true, t);
        for (int c = 0; c < 2; ++c)
            for (int m = 0; m < 32; ++m) {
                unsigned v = 0;
                for (int k = 0; k < 4; ++k)
                    v |= static_cast<unsigned>(t[128 * c + 32 * k + m] + 1) << (2 * k);
                y[b].qs[32 * c + m] = static_cast<uint8_t>(v);
            }
    }
}

void dequantize_row_tq2_0(const void *src, float *y, int64_t n) {
    const block_tq2_0 *x = static_cast<const block_tq2_0 *>(src);
    for (int64_t b = 0; b < n / QK_K; ++b) {
        const float d = fp16_to_fp32(x[b].d);
        // code_at's order, a run of 32 contiguous outputs per (c, k)
        for (int c = 0; c < 2; ++c)
            for (int k = 0; k < 4; ++k) {
                float *out = y + b * QK_K + 128 * c + 32 * k;
                const uint8_t *qs = x[b].qs + 32 * c;
                for (int m = 0; m < 32; ++m) out[m] = static_cast<float>(((qs[m] >> (2 * k)) & 3) - 1) * d;
            }
    }
}

// sum over blocks of (d_a d_w) sum((q - 1) q8), the integer sum exact
float vec_dot_tq2_0_q8_K(int64_t n, const void *w, const void *a) {
    const block_tq2_0 *x = static_cast<const block_tq2_0 *>(w);
    const block_q8_K *y = static_cast<const block_q8_K *>(a);
    float sum = 0.0f;
    for (int64_t b = 0; b < n / QK_K; ++b) {
        int32_t s = 0;
        for (int j = 0; j < QK_K; ++j) s += (code_at(x[b], j) - 1) * y[b].qs[j];
        sum += static_cast<float>(s) * (y[b].d * fp16_to_fp32(x[b].d));
    }
    return sum;
}

} // namespace lb::formats
