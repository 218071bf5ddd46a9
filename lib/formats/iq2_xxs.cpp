// IQ2_XXS: super-blocks of 256 weights, 2.0625 bits per weight; each group of
// 8 is one of 256 grid points (levels 8, 25, 43) with even-parity signs, each
// sub-block of 32 a 4-bit scale (blocks.hpp). The search is
// lattice_search.hpp's.
#include "common/fp16.hpp"
#include "formats/block_search.hpp"
#include "formats/blocks.hpp"
#include "formats/formats.hpp"
#include "formats/lattice_blocks.hpp"
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
    dequantize_lattice_row<block_iq2_xxs>(src, y, n);
}

float vec_dot_iq2_xxs_q8_K(int64_t n, const void *w, const void *act) {
    return vec_dot_lattice_q8_K<block_iq2_xxs>(n, w, act);
}

} // namespace lb::formats
