// IQ2_XS: super-blocks of 256 weights, 2.3125 bits per weight; each group of
// 8 is one of 512 grid points (levels 8, 25, 43) with even-parity signs, each
// 16 weights a 4-bit scale (blocks.hpp). The search is lattice_search.hpp's.
#include "common/fp16.hpp"
#include "formats/block_search.hpp"
#include "formats/blocks.hpp"
#include "formats/formats.hpp"
#include "formats/lattice_grids.hpp"
#include "formats/lattice_search.hpp"

namespace lb::formats {

void quantize_row_iq2_xs(const float *x, void *dst, int64_t n, const float *imatrix, const SearchKernels &k) {
    block_iq2_xs *y = static_cast<block_iq2_xs *>(dst);
    LatticeSearch search({&iq2xs_grid(), true, 16, 0.125f}, k.lattice);
    for (int64_t b = 0; b < n / QK_K; ++b) {
        float w[QK_K];
        block_weights(imatrix != nullptr ? imatrix + b * QK_K : nullptr, QK_K, w);
        const LatticeChoice c = search.search(x + b * QK_K, w);
        y[b].d = scale_bits(c.d);
        for (int g = 0; g < kLatticeGroups; ++g)
            y[b].qs[g] = static_cast<uint16_t>(c.point[g][0] | (c.signs[g] & 127u) << 9);
        for (int ib = 0; ib < QK_K / 32; ++ib)
            y[b].scales[ib] = static_cast<uint8_t>(c.ls[2 * ib] | c.ls[2 * ib + 1] << 4);
    }
}

void dequantize_row_iq2_xs(const void *src, float *y, int64_t n) {
    const block_iq2_xs *x = static_cast<const block_iq2_xs *>(src);
    const LatticeGrid &grid = iq2xs_grid();
    for (int64_t b = 0; b < n / QK_K; ++b) {
        const float d = fp16_to_fp32(x[b].d);
        for (int ib = 0; ib < QK_K / 32; ++ib) {
            const float db[2] = {d * (0.5f + static_cast<float>(x[b].scales[ib] & 15)) * 0.25f,
                                 d * (0.5f + static_cast<float>(x[b].scales[ib] >> 4)) * 0.25f};
            for (int l = 0; l < 4; ++l) {
                const uint16_t q = x[b].qs[4 * ib + l];
                const int8_t *g = grid.value + 8 * (q & 511u);
                const uint8_t signs = even_signs(q >> 9);
                for (int j = 0; j < 8; ++j)
                    *y++ = db[l / 2] * static_cast<float>(g[j]) * (signs >> j & 1u ? -1.0f : 1.0f);
            }
        }
    }
}

// 0.125 * sum over blocks of (d_w d_a) sum over halves of sub-blocks of
// (2 ls + 1) sum(level sign q8), the integer sums exact (ggml's float steps)
float vec_dot_iq2_xs_q8_K(int64_t n, const void *w, const void *act) {
    const block_iq2_xs *x = static_cast<const block_iq2_xs *>(w);
    const block_q8_K *y = static_cast<const block_q8_K *>(act);
    const LatticeGrid &grid = iq2xs_grid();
    float sum = 0.0f;
    for (int64_t b = 0; b < n / QK_K; ++b) {
        const float d = fp16_to_fp32(x[b].d) * y[b].d;
        const int8_t *q8 = y[b].qs;
        int32_t bsum = 0;
        for (int h = 0; h < QK_K / 16; ++h) {
            int32_t s = 0;
            for (int l = 0; l < 2; ++l, q8 += 8) {
                const uint16_t q = x[b].qs[2 * h + l];
                const int8_t *g = grid.value + 8 * (q & 511u);
                const uint8_t signs = even_signs(q >> 9);
                for (int j = 0; j < 8; ++j) s += (signs >> j & 1u ? -g[j] : g[j]) * q8[j];
            }
            bsum += s * (2 * ((x[b].scales[h / 2] >> 4 * (h % 2)) & 15) + 1);
        }
        sum += d * static_cast<float>(bsum);
    }
    return 0.125f * sum;
}

} // namespace lb::formats
