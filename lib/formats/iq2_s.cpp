// IQ2_S: super-blocks of 256 weights, 2.5625 bits per weight; each group of
// 8 is one of 1024 grid points (levels 8, 25, 43) with 8 free signs, each 16
// weights a 4-bit scale (blocks.hpp). The search is lattice_search.hpp's.
#include "common/fp16.hpp"
#include "formats/block_search.hpp"
#include "formats/blocks.hpp"
#include "formats/formats.hpp"
#include "formats/lattice_blocks.hpp"
#include "formats/lattice_grids.hpp"
#include "formats/lattice_search.hpp"

namespace lb::formats {

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
    dequantize_lattice_row<block_iq2_s>(src, y, n);
}

float vec_dot_iq2_s_q8_K(int64_t n, const void *w, const void *act) {
    return vec_dot_lattice_q8_K<block_iq2_s>(n, w, act);
}

} // namespace lb::formats
