// Q2_K: super-blocks of 256 weights, 16 sub-blocks of 16 with 4-bit scales and
// mins: x = (d * sc) * q - (dmin * m), q in [0, 3], 2.625 bits per weight.
// Scales and levels are chosen as kquant_blocks.hpp defines.
#include "common/fp16.hpp"
#include "formats/blocks.hpp"
#include "formats/formats.hpp"
#include "formats/kquant_blocks.hpp"
#include "formats/kquant_levels.hpp"

namespace lb::formats {

void quantize_row_q2_K(const float *x, void *dst, int64_t n, const float *imatrix, const SearchKernels &k) {
    block_q2_K *y = static_cast<block_q2_K *>(dst);
    for (int64_t b = 0; b < n / QK_K; ++b) {
        const float *xb = x + b * QK_K;
        const float *wb = imatrix != nullptr ? imatrix + b * QK_K : unit_weights();
        const KEffort effort = kquant_effort(LB_TYPE_Q2_K, imatrix != nullptr);
        int sc[16], m[16];
        uint8_t L[QK_K];
        float d, dmin;
        affine_super_quantize<16, 16, 3, 15>(xb, wb, effort, &d, &dmin, sc, m, L, k.q2_k_sub);
        y[b].d = scale_bits(d);
        y[b].dmin = scale_bits(dmin);
        for (int j = 0; j < 16; ++j) y[b].scales[j] = static_cast<uint8_t>(sc[j] | (m[j] << 4));
        for (int h = 0; h < 2; ++h)
            for (int l = 0; l < 32; ++l) {
                const uint8_t *Lh = L + 128 * h;
                y[b].qs[32 * h + l] =
                    static_cast<uint8_t>(Lh[l] | (Lh[l + 32] << 2) | (Lh[l + 64] << 4) | (Lh[l + 96] << 6));
            }
    }
}

void dequantize_row_q2_K(const void *src, float *y, int64_t n) {
    const block_q2_K *x = static_cast<const block_q2_K *>(src);
    for (int64_t b = 0; b < n / QK_K; ++b) {
        const float d = fp16_to_fp32(x[b].d), dmin = fp16_to_fp32(x[b].dmin);
        for (int h = 0; h < 2; ++h)
            for (int g = 0; g < 4; ++g) {
                const int shift = 2 * g;
                const uint8_t *q = x[b].qs + 32 * h;
                float *yg = y + b * QK_K + 128 * h + 32 * g;
                for (int k = 0; k < 2; ++k) { // two sub-blocks of 16
                    const uint8_t s = x[b].scales[8 * h + 2 * g + k];
                    const float dl = d * static_cast<float>(s & 0x0f), ml = dmin * static_cast<float>(s >> 4);
                    for (int l = 16 * k; l < 16 * k + 16; ++l)
                        yg[l] = dl * static_cast<float>((q[l] >> shift) & 3) - ml;
                }
            }
    }
}

void decode_levels(const block_q2_K &b, KLevels &out) {
    out.d = fp16_to_fp32(b.d);
    out.dmin = fp16_to_fp32(b.dmin);
    for (int j = 0; j < QK_K / 16; ++j) {
        out.scale[j] = static_cast<int16_t>(b.scales[j] & 0x0f);
        out.min[j] = static_cast<int16_t>(b.scales[j] >> 4);
    }
    for (int h = 0; h < 2; ++h)
        for (int g = 0; g < 4; ++g)
            for (int l = 0; l < 32; ++l)
                out.level[128 * h + 32 * g + l] = static_cast<int8_t>((b.qs[32 * h + l] >> (2 * g)) & 3);
}

float vec_dot_q2_K_q8_K(int64_t n, const void *w, const void *a) {
    return dot_k_q8_K<block_q2_K>(n, w, a);
}

} // namespace lb::formats
