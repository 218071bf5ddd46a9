// IQ3_XXS: super-blocks of 256 weights, 3.0625 bits per weight; each group of
// 8 is two of 256 four-value grid points (levels 4 ... 62) with even-parity
// signs, each sub-block of 32 a 4-bit scale (blocks.hpp). The search is
// lattice_search.hpp's.
#include "common/fp16.hpp"
#include "formats/block_search.hpp"
#include "formats/blocks.hpp"
#include "formats/formats.hpp"
#include "formats/lattice_grids.hpp"
#include "formats/lattice_search.hpp"

#include <cstring>

namespace lb::formats {

void quantize_row_iq3_xxs(const float *x, void *dst, int64_t n, const float *imatrix,
                          const SearchKernels &k) {
    block_iq3_xxs *y = static_cast<block_iq3_xxs *>(dst);
    LatticeSearch search({&iq3xxs_grid(), true, 32, 0.25f}, k.lattice);
    for (int64_t b = 0; b < n / QK_K; ++b) {
        float w[QK_K];
        block_weights(imatrix != nullptr ? imatrix + b * QK_K : nullptr, QK_K, w);
        const LatticeChoice c = search.search(x + b * QK_K, w);
        y[b].d = scale_bits(c.d);
        for (int g = 0; g < kLatticeGroups; ++g) {
            y[b].qs[2 * g] = static_cast<uint8_t>(c.point[g][0]);
            y[b].qs[2 * g + 1] = static_cast<uint8_t>(c.point[g][1]);
        }
        for (int ib = 0; ib < QK_K / 32; ++ib) {
            uint32_t a = static_cast<uint32_t>(c.ls[ib]) << 28;
            for (int l = 0; l < 4; ++l) a |= static_cast<uint32_t>(c.signs[4 * ib + l] & 127u) << 7 * l;
            std::memcpy(y[b].qs + QK_K / 4 + 4 * ib, &a, sizeof a);
        }
    }
}

void dequantize_row_iq3_xxs(const void *src, float *y, int64_t n) {
    const block_iq3_xxs *x = static_cast<const block_iq3_xxs *>(src);
    const LatticeGrid &grid = iq3xxs_grid();
    for (int64_t b = 0; b < n / QK_K; ++b) {
        const float d = fp16_to_fp32(x[b].d);
        for (int ib = 0; ib < QK_K / 32; ++ib) {
            uint32_t a;
            std::memcpy(&a, x[b].qs + QK_K / 4 + 4 * ib, sizeof a);
            const float db = d * (0.5f + static_cast<float>(a >> 28)) * 0.5f;
            for (int l = 0; l < 4; ++l) {
                const uint8_t signs = even_signs(a >> 7 * l);
                const int8_t *g0 = grid.value + 4 * x[b].qs[8 * ib + 2 * l];
                const int8_t *g1 = grid.value + 4 * x[b].qs[8 * ib + 2 * l + 1];
                for (int j = 0; j < 8; ++j)
                    *y++ =
                        db * static_cast<float>(j < 4 ? g0[j] : g1[j - 4]) * (signs >> j & 1u ? -1.0f : 1.0f);
            }
        }
    }
}

// 0.25 * sum over blocks of (d_w d_a) sum over sub-blocks of (2 ls + 1)
// sum(level sign q8), the integer sums exact (ggml's float steps)
float vec_dot_iq3_xxs_q8_K(int64_t n, const void *w, const void *act) {
    const block_iq3_xxs *x = static_cast<const block_iq3_xxs *>(w);
    const block_q8_K *y = static_cast<const block_q8_K *>(act);
    const LatticeGrid &grid = iq3xxs_grid();
    float sum = 0.0f;
    for (int64_t b = 0; b < n / QK_K; ++b) {
        const float d = fp16_to_fp32(x[b].d) * y[b].d;
        const int8_t *q8 = y[b].qs;
        int32_t bsum = 0;
        for (int ib = 0; ib < QK_K / 32; ++ib) {
            uint32_t a;
            std::memcpy(&a, x[b].qs + QK_K / 4 + 4 * ib, sizeof a);
            int32_t s = 0;
            for (int l = 0; l < 4; ++l, q8 += 8) {
                const uint8_t signs = even_signs(a >> 7 * l);
                const int8_t *g0 = grid.value + 4 * x[b].qs[8 * ib + 2 * l];
                const int8_t *g1 = grid.value + 4 * x[b].qs[8 * ib + 2 * l + 1];
                for (int j = 0; j < 8; ++j) {
                    const int v = j < 4 ? g0[j] : g1[j - 4];
                    s += (signs >> j & 1u ? -v : v) * q8[j];
                }
            }
            bsum += s * static_cast<int32_t>(2 * (a >> 28) + 1);
        }
        sum += d * static_cast<float>(bsum);
    }
    return 0.25f * sum;
}

} // namespace lb::formats
