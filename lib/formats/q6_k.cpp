// Q6_K: super-blocks of 256 weights, 16 sub-blocks of 16 with int8 scales:
// x = (d * sc) * (q - 32), q in [0, 63], 6.5625 bits per weight. Scales and
// levels are chosen as kquant_blocks.hpp defines.
#include "common/fp16.hpp"
#include "formats/blocks.hpp"
#include "formats/formats.hpp"
#include "formats/kquant_blocks.hpp"
#include "formats/kquant_levels.hpp"

namespace lb::formats {

void quantize_row_q6_K(const float *x, void *dst, int64_t n, const float *imatrix, const SearchKernels &k) {
    block_q6_K *y = static_cast<block_q6_K *>(dst);
    for (int64_t b = 0; b < n / QK_K; ++b) {
        const float *xb = x + b * QK_K;
        const float *wb = imatrix != nullptr ? imatrix + b * QK_K : unit_weights();
        const KEffort effort = kquant_effort(LB_TYPE_Q6_K, imatrix != nullptr);
        int codes[16];
        uint8_t L[QK_K];
        const float d =
            symmetric_super_quantize<16, 16, -32, 31, -128, 127>(xb, wb, effort, codes, L, k.q6_k_sub);
        y[b].d = scale_bits(d);
        for (int j = 0; j < 16; ++j) y[b].scales[j] = static_cast<int8_t>(codes[j]);
        for (int h = 0; h < 2; ++h) {
            const uint8_t *Lh = L + 128 * h;
            uint8_t *ql = y[b].ql + 64 * h;
            uint8_t *qh = y[b].qh + 32 * h;
            for (int l = 0; l < 32; ++l) {
                ql[l] = static_cast<uint8_t>((Lh[l] & 0x0f) | ((Lh[l + 64] & 0x0f) << 4));
                ql[l + 32] = static_cast<uint8_t>((Lh[l + 32] & 0x0f) | ((Lh[l + 96] & 0x0f) << 4));
                qh[l] = static_cast<uint8_t>((Lh[l] >> 4) | ((Lh[l + 32] >> 4) << 2) |
                                             ((Lh[l + 64] >> 4) << 4) | ((Lh[l + 96] >> 4) << 6));
            }
        }
    }
}

void dequantize_row_q6_K(const void *src, float *y, int64_t n) {
    const block_q6_K *x = static_cast<const block_q6_K *>(src);
    for (int64_t b = 0; b < n / QK_K; ++b) {
        const float d = fp16_to_fp32(x[b].d);
        for (int h = 0; h < 2; ++h) {
            const uint8_t *ql = x[b].ql + 64 * h;
            const uint8_t *qh = x[b].qh + 32 * h;
            const int8_t *sc = x[b].scales + 8 * h;
            float *yh = y + b * QK_K + 128 * h;
            for (int l = 0; l < 32; ++l) {
                const int is = l / 16;
                const int q1 = ((ql[l] & 0x0f) | (((qh[l] >> 0) & 3) << 4)) - 32;
                const int q2 = ((ql[l + 32] & 0x0f) | (((qh[l] >> 2) & 3) << 4)) - 32;
                const int q3 = ((ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4)) - 32;
                const int q4 = ((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)) - 32;
                yh[l] = d * static_cast<float>(sc[is + 0]) * static_cast<float>(q1);
                yh[l + 32] = d * static_cast<float>(sc[is + 2]) * static_cast<float>(q2);
                yh[l + 64] = d * static_cast<float>(sc[is + 4]) * static_cast<float>(q3);
                yh[l + 96] = d * static_cast<float>(sc[is + 6]) * static_cast<float>(q4);
            }
        }
    }
}

void decode_levels(const block_q6_K &b, KLevels &out) {
    out.d = fp16_to_fp32(b.d);
    out.dmin = 0.0f;
    for (int j = 0; j < QK_K / 16; ++j) {
        out.scale[j] = b.scales[j];
        out.min[j] = 0;
    }
    for (int h = 0; h < 2; ++h) {
        const uint8_t *ql = b.ql + 64 * h, *qh = b.qh + 32 * h;
        int8_t *level = out.level + 128 * h;
        for (int l = 0; l < 32; ++l) {
            level[l] = static_cast<int8_t>(((ql[l] & 0x0f) | (((qh[l] >> 0) & 3) << 4)) - 32);
            level[l + 32] = static_cast<int8_t>(((ql[l + 32] & 0x0f) | (((qh[l] >> 2) & 3) << 4)) - 32);
            level[l + 64] = static_cast<int8_t>(((ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4)) - 32);
            level[l + 96] = static_cast<int8_t>(((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)) - 32);
        }
    }
}

float vec_dot_q6_K_q8_K(int64_t n, const void *w, const void *a) {
    return dot_k_q8_K<block_q6_K>(n, w, a);
}

} // namespace lb::formats
