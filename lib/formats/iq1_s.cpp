// IQ1_S: super-blocks of 256 weights, 1.5625 bits per weight; each group of
// 8 is one of 2048 points of {-1, 0, 1}^8, each 32 weights a 3-bit scale and
// a shift of +-1/8 (blocks.hpp). The search is iq1_search.hpp's.
#include "common/fp16.hpp"
#include "formats/block_search.hpp"
#include "formats/blocks.hpp"
#include "formats/formats.hpp"
#include "formats/iq1_blocks.hpp"
#include "formats/iq1_search.hpp"
#include "formats/lattice_grids.hpp"

namespace lb::formats {

void quantize_row_iq1_s(const float *x, void *dst, int64_t n, const float *imatrix, const SearchKernels &) {
    block_iq1_s *y = static_cast<block_iq1_s *>(dst);
    for (int64_t b = 0; b < n / QK_K; ++b) {
        float w[QK_K];
        block_weights(imatrix != nullptr ? imatrix + b * QK_K : nullptr, QK_K, w);
        const Iq1Choice c = search_iq1({32, false}, x + b * QK_K, w);
        y[b].d = scale_bits(c.d);
        for (int ib = 0; ib < QK_K / 32; ++ib) {
            unsigned qh = static_cast<unsigned>(c.ls[ib]) << 12 | (c.negative_delta[4 * ib] ? 0x8000u : 0u);
            for (int l = 0; l < 4; ++l) {
                y[b].qs[4 * ib + l] = static_cast<uint8_t>(c.point[4 * ib + l] & 255u);
                qh |= static_cast<unsigned>(c.point[4 * ib + l] >> 8) << 3 * l;
            }
            y[b].qh[ib] = static_cast<uint16_t>(qh);
        }
    }
}

void dequantize_row_iq1_s(const void *src, float *y, int64_t n) {
    dequantize_iq1_row<block_iq1_s>(src, y, n);
}

float vec_dot_iq1_s_q8_K(int64_t n, const void *w, const void *act) {
    return vec_dot_iq1_q8_K<block_iq1_s>(n, w, act);
}

} // namespace lb::formats
