// Q3_K: super-blocks of 256 weights, 16 sub-blocks of 16 with 6-bit scales:
// x = (d * (sc - 32)) * (q - 4), q in [0, 7], 3.4375 bits per weight. Scales
// and levels are chosen as kquant_blocks.hpp defines.
#include "common/fp16.hpp"
#include "formats/blocks.hpp"
#include "formats/formats.hpp"
#include "formats/kquant_blocks.hpp"
#include "formats/kquant_levels.hpp"
#include "formats/kquant_scales.hpp"

#include <cstring>

namespace lb::formats {

void quantize_row_q3_K(const float *x, void *dst, int64_t n, const float *imatrix, const SearchKernels &k) {
    block_q3_K *y = static_cast<block_q3_K *>(dst);
    for (int64_t b = 0; b < n / QK_K; ++b) {
        const float *xb = x + b * QK_K;
        const float *wb = imatrix != nullptr ? imatrix + b * QK_K : unit_weights();
        const KEffort effort = kquant_effort(LB_TYPE_Q3_K, imatrix != nullptr);
        int codes[16];
        uint8_t L[QK_K]; // q in [0, 7]
        const float d =
            symmetric_super_quantize<16, 16, -4, 3, -32, 31>(xb, wb, effort, codes, L, k.q3_k_sub);
        y[b].d = scale_bits(d);
        std::memset(y[b].scales, 0, sizeof y[b].scales);
        for (int j = 0; j < 16; ++j) {
            const int sc = codes[j] + 32;
            y[b].scales[j % 8] |= static_cast<uint8_t>((sc & 0x0f) << (j < 8 ? 0 : 4));
            y[b].scales[8 + j % 4] |= static_cast<uint8_t>((sc >> 4) << (2 * (j / 4)));
        }
        // bit k of hmask[l]: the high bit of value 32 k + l (without a branch
        // per value: half of them are taken, at random)
        for (int l = 0; l < 32; ++l) {
            unsigned bits = 0;
            for (int k = 0; k < 8; ++k) bits |= static_cast<unsigned>(L[32 * k + l] > 3) << k;
            y[b].hmask[l] = static_cast<uint8_t>(bits);
        }
        for (int h = 0; h < 2; ++h)
            for (int l = 0; l < 32; ++l) {
                const uint8_t *Lh = L + 128 * h;
                y[b].qs[32 * h + l] = static_cast<uint8_t>((Lh[l] & 3) | ((Lh[l + 32] & 3) << 2) |
                                                           ((Lh[l + 64] & 3) << 4) | ((Lh[l + 96] & 3) << 6));
            }
    }
}

void dequantize_row_q3_K(const void *src, float *y, int64_t n) {
    const block_q3_K *x = static_cast<const block_q3_K *>(src);
    for (int64_t b = 0; b < n / QK_K; ++b) {
        const float d = fp16_to_fp32(x[b].d);
        int sc[16];
        for (int j = 0; j < 16; ++j) sc[j] = q3_K_scale(x[b].scales, j);
        // value i of half h: low bits in qs[32 h + i % 32] at 2 (i / 32), high bit i / 32 + 4 h of hmask[i %
        // 32]
        for (int h = 0; h < 2; ++h)
            for (int g = 0; g < 4; ++g) {
                const int shift = 2 * g, hbit = 4 * h + g;
                const uint8_t *q = x[b].qs + 32 * h;
                float *yg = y + b * QK_K + 128 * h + 32 * g;
                const float dl0 = d * static_cast<float>(sc[8 * h + 2 * g]);
                const float dl1 = d * static_cast<float>(sc[8 * h + 2 * g + 1]);
                for (int l = 0; l < 16; ++l)
                    yg[l] = dl0 * static_cast<float>(((q[l] >> shift) & 3) -
                                                     (((x[b].hmask[l] >> hbit) & 1) ? 0 : 4));
                for (int l = 16; l < 32; ++l)
                    yg[l] = dl1 * static_cast<float>(((q[l] >> shift) & 3) -
                                                     (((x[b].hmask[l] >> hbit) & 1) ? 0 : 4));
            }
    }
}

void decode_levels(const block_q3_K &b, KLevels &out) {
    out.d = fp16_to_fp32(b.d);
    out.dmin = 0.0f;
    for (int j = 0; j < QK_K / 16; ++j) {
        out.scale[j] = static_cast<int16_t>(q3_K_scale(b.scales, j));
        out.min[j] = 0;
    }
    for (int h = 0; h < 2; ++h)
        for (int g = 0; g < 4; ++g)
            for (int l = 0; l < 32; ++l) {
                const int low = (b.qs[32 * h + l] >> (2 * g)) & 3;
                const bool high = ((b.hmask[l] >> (4 * h + g)) & 1) != 0;
                out.level[128 * h + 32 * g + l] = static_cast<int8_t>(low - (high ? 0 : 4));
            }
}

float vec_dot_q3_K_q8_K(int64_t n, const void *w, const void *a) {
    return dot_k_q8_K<block_q3_K>(n, w, a);
}

} // namespace lb::formats
