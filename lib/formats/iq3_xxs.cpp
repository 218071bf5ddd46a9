// IQ3_XXS: super-blocks of 256 weights, 3.0625 bits per weight; each group of
// 8 is two of 256 four-value grid points (levels 4 ... 62) with even-parity
// signs, each sub-block of 32 a 4-bit scale (blocks.hpp). The search is
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
    dequantize_lattice_row<block_iq3_xxs>(src, y, n);
}

float vec_dot_iq3_xxs_q8_K(int64_t n, const void *w, const void *act) {
    return vec_dot_lattice_q8_K<block_iq3_xxs>(n, w, act);
}

} // namespace lb::formats
