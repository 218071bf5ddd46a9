// Q5_K: as Q4_K with q in [0, 31], 5.5 bits per weight; the fifth bit of each
// value is in qh.
#include "common/fp16.hpp"
#include "formats/blocks.hpp"
#include "formats/formats.hpp"
#include "formats/kquant_blocks.hpp"
#include "formats/kquant_levels.hpp"
#include "formats/kquant_scales.hpp"

#include <cstring>

namespace lb::formats {

void quantize_row_q5_K(const float *x, void *dst, int64_t n, const float *imatrix, const SearchKernels &k) {
    block_q5_K *y = static_cast<block_q5_K *>(dst);
    for (int64_t b = 0; b < n / QK_K; ++b) {
        const float *xb = x + b * QK_K;
        const float *wb = imatrix != nullptr ? imatrix + b * QK_K : unit_weights();
        const KEffort effort = kquant_effort(LB_TYPE_Q5_K, imatrix != nullptr);
        int sc[8], m[8];
        uint8_t L[QK_K];
        float d, dmin;
        affine_super_quantize<8, 32, 31, 63>(xb, wb, effort, &d, &dmin, sc, m, L, k.q5_k_sub);
        y[b].d = scale_bits(d);
        y[b].dmin = scale_bits(dmin);
        pack_scale_min_k4(sc, m, y[b].scales);
        std::memset(y[b].qh, 0, sizeof y[b].qh);
        for (int c = 0; c < 4; ++c)
            for (int l = 0; l < 32; ++l) {
                const int lo = L[64 * c + l], hi = L[64 * c + 32 + l];
                y[b].qs[32 * c + l] = static_cast<uint8_t>((lo & 0x0f) | ((hi & 0x0f) << 4));
                y[b].qh[l] |= static_cast<uint8_t>(((lo >> 4) << (2 * c)) | ((hi >> 4) << (2 * c + 1)));
            }
    }
}

void dequantize_row_q5_K(const void *src, float *y, int64_t n) {
    const block_q5_K *x = static_cast<const block_q5_K *>(src);
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
            // the fifth bit as a mask test, not a variable shift: vectorises
            const uint8_t u1 = static_cast<uint8_t>(1u << (2 * c)), u2 = static_cast<uint8_t>(2u << (2 * c));
            const uint8_t *qh = x[b].qh;
            for (int l = 0; l < 32; ++l)
                yc[l] = d1 * static_cast<float>((q[l] & 0x0f) + ((qh[l] & u1) ? 16 : 0)) - m1;
            for (int l = 0; l < 32; ++l)
                yc[32 + l] = d2 * static_cast<float>((q[l] >> 4) + ((qh[l] & u2) ? 16 : 0)) - m2;
        }
    }
}

void decode_levels(const block_q5_K &b, KLevels &out) {
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
            const int lo = (b.qs[32 * c + l] & 0x0f) | (((b.qh[l] >> (2 * c)) & 1) << 4);
            const int hi = (b.qs[32 * c + l] >> 4) | (((b.qh[l] >> (2 * c + 1)) & 1) << 4);
            out.level[64 * c + l] = static_cast<int8_t>(lo);
            out.level[64 * c + 32 + l] = static_cast<int8_t>(hi);
        }
}

float vec_dot_q5_K_q8_K(int64_t n, const void *w, const void *a) {
    return dot_k_q8_K<block_q5_K>(n, w, a);
}

} // namespace lb::formats
