// Q4_K: super-blocks of 256 weights, 8 sub-blocks of 32 with 6-bit scales and
// mins: x = (d * sc) * q - (dmin * m), q in [0, 15], 4.5 bits per weight.
// Scales and levels are chosen as kquant_blocks.hpp defines.
#include "common/fp16.hpp"
#include "formats/blocks.hpp"
#include "formats/formats.hpp"
#include "formats/kquant_blocks.hpp"
#include "formats/kquant_levels.hpp"
#include "formats/kquant_scales.hpp"

namespace lb::formats {

void quantize_row_q4_K(const float *x, void *dst, int64_t n, const float *imatrix, const SearchKernels &k) {
    block_q4_K *y = static_cast<block_q4_K *>(dst);
    for (int64_t b = 0; b < n / QK_K; ++b) {
        const float *xb = x + b * QK_K;
        const float *wb = imatrix != nullptr ? imatrix + b * QK_K : unit_weights();
        const KEffort effort = kquant_effort(LB_TYPE_Q4_K, imatrix != nullptr);
        int sc[8], m[8];
        uint8_t L[QK_K];
        float d, dmin;
        affine_super_quantize<8, 32, 15, 63>(xb, wb, effort, &d, &dmin, sc, m, L, k.q4_k_sub);
        y[b].d = scale_bits(d);
        y[b].dmin = scale_bits(dmin);
        pack_scale_min_k4(sc, m, y[b].scales);
        for (int c = 0; c < 4; ++c)
            for (int l = 0; l < 32; ++l)
                y[b].qs[32 * c + l] = static_cast<uint8_t>(L[64 * c + l] | (L[64 * c + 32 + l] << 4));
    }
}

void dequantize_row_q4_K(const void *src, float *y, int64_t n) {
    const block_q4_K *x = static_cast<const block_q4_K *>(src);
    for (int64_t b = 0; b < n / QK_K; ++b) {
        const float d = fp16_to_fp32(x[b].d), dmin = fp16_to_fp32(x[b].dmin);
        for (int c = 0; c < 4; ++c) {
            int sc, m;
            unpack_scale_min_k4(x[b].scales, 2 * c, &sc, &m);
            const float d1 = d * static_cast<float>(sc), m1 = dmin * static_cast<float>(m);
            unpack_scale_min_k4(x[b].scales, 2 * c + 1, &sc, &m);
            const float d2 = d * static_cast<float>(sc), m2 = dmin * static_cast<float>(m);
            const uint8_t *q = x[b].qs + 32 * c;
            float *yc = y + b * QK_K + 64 * c;
            for (int l = 0; l < 32; ++l) yc[l] = d1 * static_cast<float>(q[l] & 0x0f) - m1;
            for (int l = 0; l < 32; ++l) yc[32 + l] = d2 * static_cast<float>(q[l] >> 4) - m2;
        }
    }
}

void decode_levels(const block_q4_K &b, KLevels &out) {
    out.d = fp16_to_fp32(b.d);
    out.dmin = fp16_to_fp32(b.dmin);
    for (int s = 0; s < 8; ++s) {
        int sc, m;
        unpack_scale_min_k4(b.scales, s, &sc, &m);
        out.scale[2 * s] = out.scale[2 * s + 1] = static_cast<int16_t>(sc);
        out.min[2 * s] = out.min[2 * s + 1] = static_cast<int16_t>(m);
    }
    for (int c = 0; c < 4; ++c)
        for (int l = 0; l < 32; ++l) {
            out.level[64 * c + l] = static_cast<int8_t>(b.qs[32 * c + l] & 0x0f);
            out.level[64 * c + 32 + l] = static_cast<int8_t>(b.qs[32 * c + l] >> 4);
        }
}

float vec_dot_q4_K_q8_K(int64_t n, const void *w, const void *a) {
    return dot_k_q8_K<block_q4_K>(n, w, a);
}

} // namespace lb::formats
