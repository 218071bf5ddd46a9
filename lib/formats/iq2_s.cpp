// IQ2_S: super-blocks of 256 weights, 2.5625 bits per weight; each group of
// 8 is one of 1024 grid points (levels 8, 25, 43) with 8 free signs, each 16
// weights a 4-bit scale (blocks.hpp). The search is lattice_search.hpp's.
#include "common/fp16.hpp"
#include "formats/block_search.hpp"
#include "formats/blocks.hpp"
#include "formats/formats.hpp"
#include "formats/lattice_grids.hpp"
#include "formats/lattice_search.hpp"

namespace lb::formats {

namespace {

int point_of(const block_iq2_s &x, int ib, int l) {
    return x.qs[4 * ib + l] | ((x.qh[ib] >> 2 * l) & 3) << 8;
}

} // namespace

void quantize_row_iq2_s(const float *x, void *dst, int64_t n, const float *imatrix, const SearchKernels &k) {
    block_iq2_s *y = static_cast<block_iq2_s *>(dst);
    LatticeSearch search({&iq2s_grid(), false, 16, 0.125f}, k.lattice);
    for (int64_t b = 0; b < n / QK_K; ++b) {
        float w[QK_K];
        block_weights(imatrix != nullptr ? imatrix + b * QK_K : nullptr, QK_K, w);
        const LatticeChoice c = search.search(x + b * QK_K, w);
        y[b].d = scale_bits(c.d);
        for (int ib = 0; ib < QK_K / 32; ++ib) {
            y[b].qh[ib] = 0;
            for (int l = 0; l < 4; ++l) {
                const int g = 4 * ib + l;
                y[b].qs[g] = static_cast<uint8_t>(c.point[g][0] & 255u);
                y[b].qs[QK_K / 8 + g] = c.signs[g];
                y[b].qh[ib] = static_cast<uint8_t>(y[b].qh[ib] | (c.point[g][0] >> 8) << 2 * l);
            }
            y[b].scales[ib] = static_cast<uint8_t>(c.ls[2 * ib] | c.ls[2 * ib + 1] << 4);
        }
    }
}

void dequantize_row_iq2_s(const void *src, float *y, int64_t n) {
    const block_iq2_s *x = static_cast<const block_iq2_s *>(src);
    const LatticeGrid &grid = iq2s_grid();
    for (int64_t b = 0; b < n / QK_K; ++b) {
        const float d = fp16_to_fp32(x[b].d);
        for (int ib = 0; ib < QK_K / 32; ++ib) {
            const float db[2] = {d * (0.5f + static_cast<float>(x[b].scales[ib] & 15)) * 0.25f,
                                 d * (0.5f + static_cast<float>(x[b].scales[ib] >> 4)) * 0.25f};
            for (int l = 0; l < 4; ++l) {
                const int8_t *g = grid.value + 8 * point_of(x[b], ib, l);
                const uint8_t signs = x[b].qs[QK_K / 8 + 4 * ib + l];
                for (int j = 0; j < 8; ++j)
                    *y++ = db[l / 2] * static_cast<float>(g[j]) * (signs >> j & 1u ? -1.0f : 1.0f);
            }
        }
    }
}

// 0.125 * sum over blocks of (d_w d_a) sum over halves of sub-blocks of
// (2 ls + 1) sum(level sign q8), the integer sums exact (ggml's float steps)
float vec_dot_iq2_s_q8_K(int64_t n, const void *w, const void *act) {
    const block_iq2_s *x = static_cast<const block_iq2_s *>(w);
    const block_q8_K *y = static_cast<const block_q8_K *>(act);
    const LatticeGrid &grid = iq2s_grid();
    float sum = 0.0f;
    for (int64_t b = 0; b < n / QK_K; ++b) {
        const float d = fp16_to_fp32(x[b].d) * y[b].d;
        const int8_t *q8 = y[b].qs;
        int32_t bsum = 0;
        for (int ib = 0; ib < QK_K / 32; ++ib) {
            for (int h = 0; h < 2; ++h) {
                int32_t s = 0;
                for (int l = 2 * h; l < 2 * h + 2; ++l, q8 += 8) {
                    const int8_t *g = grid.value + 8 * point_of(x[b], ib, l);
                    const uint8_t signs = x[b].qs[QK_K / 8 + 4 * ib + l];
                    for (int j = 0; j < 8; ++j) s += (signs >> j & 1u ? -g[j] : g[j]) * q8[j];
                }
                bsum += s * (2 * ((x[b].scales[ib] >> 4 * h) & 15) + 1);
            }
        }
        sum += d * static_cast<float>(bsum);
    }
    return 0.125f * sum;
}

} // namespace lb::formats
