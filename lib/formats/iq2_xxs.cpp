// IQ2_XXS: super-blocks of 256 weights, 2.0625 bits per weight; each group of
// 8 is one of 256 grid points (levels 8, 25, 43) with even-parity signs, each
// sub-block of 32 a 4-bit scale (blocks.hpp). The search is
// lattice_search.hpp's.
#include "common/fp16.hpp"
#include "formats/block_search.hpp"
#include "formats/blocks.hpp"
#include "formats/formats.hpp"
#include "formats/lattice_grids.hpp"
#include "formats/lattice_search.hpp"

#include <cstring>

namespace lb::formats {

void quantize_row_iq2_xxs(const float *x, void *dst, int64_t n, const float *imatrix,
                          const SearchKernels &k) {
    block_iq2_xxs *y = static_cast<block_iq2_xxs *>(dst);
    LatticeSearch search({&iq2xxs_grid(), true, 32, 0.125f}, k.lattice);
    for (int64_t b = 0; b < n / QK_K; ++b) {
        float w[QK_K];
        block_weights(imatrix != nullptr ? imatrix + b * QK_K : nullptr, QK_K, w);
        const LatticeChoice c = search.search(x + b * QK_K, w);
        y[b].d = scale_bits(c.d);
        for (int ib = 0; ib < QK_K / 32; ++ib) {
            uint32_t a[2] = {0, static_cast<uint32_t>(c.ls[ib]) << 28};
            for (int l = 0; l < 4; ++l) {
                a[0] |= static_cast<uint32_t>(c.point[4 * ib + l][0]) << 8 * l;
                a[1] |= static_cast<uint32_t>(c.signs[4 * ib + l] & 127u) << 7 * l;
            }
            std::memcpy(y[b].qs + 4 * ib, a, sizeof a);
        }
    }
}

void dequantize_row_iq2_xxs(const void *src, float *y, int64_t n) {
    const block_iq2_xxs *x = static_cast<const block_iq2_xxs *>(src);
    const LatticeGrid &grid = iq2xxs_grid();
    for (int64_t b = 0; b < n / QK_K; ++b) {
        const float d = fp16_to_fp32(x[b].d);
        for (int ib = 0; ib < QK_K / 32; ++ib) {
            uint32_t a[2];
            std::memcpy(a, x[b].qs + 4 * ib, sizeof a);
            const float db = d * (0.5f + static_cast<float>(a[1] >> 28)) * 0.25f;
            for (int l = 0; l < 4; ++l) {
                const int8_t *g = grid.value + 8 * ((a[0] >> 8 * l) & 255u);
                const uint8_t signs = even_signs(a[1] >> 7 * l);
                for (int j = 0; j < 8; ++j)
                    *y++ = db * static_cast<float>(g[j]) * (signs >> j & 1u ? -1.0f : 1.0f);
            }
        }
    }
}

// 0.125 * sum over blocks of (d_w d_a) sum over sub-blocks of (2 ls + 1)
// sum(level sign q8), the integer sums exact (ggml's order of float steps)
float vec_dot_iq2_xxs_q8_K(int64_t n, const void *w, const void *act) {
    const block_iq2_xxs *x = static_cast<const block_iq2_xxs *>(w);
    const block_q8_K *y = static_cast<const block_q8_K *>(act);
    const LatticeGrid &grid = iq2xxs_grid();
    float sum = 0.0f;
    for (int64_t b = 0; b < n / QK_K; ++b) {
        const float d = fp16_to_fp32(x[b].d) * y[b].d;
        const int8_t *q8 = y[b].qs;
        int32_t bsum = 0;
        for (int ib = 0; ib < QK_K / 32; ++ib) {
            uint32_t a[2];
            std::memcpy(a, x[b].qs + 4 * ib, sizeof a);
            int32_t s = 0;
            for (int l = 0; l < 4; ++l, q8 += 8) {
                const int8_t *g = grid.value + 8 * ((a[0] >> 8 * l) & 255u);
                const uint8_t signs = even_signs(a[1] >> 7 * l);
                for (int j = 0; j < 8; ++j) s += (signs >> j & 1u ? -g[j] : g[j]) * q8[j];
            }
            bsum += s * static_cast<int32_t>(2 * (a[1] >> 28) + 1);
        }
        sum += d * static_cast<float>(bsum);
    }
    return 0.125f * sum;
}

} // namespace lb::formats
