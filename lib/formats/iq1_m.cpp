// IQ1_M: super-blocks of 256 weights, 1.75 bits per weight; each group of 8
// is one of 2048 points of {-1, 0, 1}^8 with its own shift of +-1/8, each 16
// weights a 3-bit scale, the binary16 d spread over the scales' top nibbles
// (blocks.hpp). The search is iq1_search.hpp's.
#include "common/fp16.hpp"
#include "formats/block_search.hpp"
#include "formats/blocks.hpp"
#include "formats/formats.hpp"
#include "formats/iq1_blocks.hpp"
#include "formats/iq1_search.hpp"
#include "formats/lattice_grids.hpp"

#include <cstring>

namespace lb::formats {

void quantize_row_iq1_m(const float *x, void *dst, int64_t n, const float *imatrix, const SearchKernels &) {
    block_iq1_m *y = static_cast<block_iq1_m *>(dst);
    for (int64_t b = 0; b < n / QK_K; ++b) {
        float w[QK_K];
        block_weights(imatrix != nullptr ? imatrix + b * QK_K : nullptr, QK_K, w);
        const Iq1Choice c = search_iq1({16, true}, x + b * QK_K, w);
        const uint16_t d = scale_bits(c.d);
        uint16_t sc[4];
        for (int k = 0; k < 4; ++k)
            sc[k] = static_cast<uint16_t>(c.ls[4 * k] | c.ls[4 * k + 1] << 3 | c.ls[4 * k + 2] << 6 |
                                          c.ls[4 * k + 3] << 9 | (d >> 4 * k & 15) << 12);
        std::memcpy(y[b].scales, sc, sizeof sc);
        for (int g = 0; g < 32; ++g) {
            y[b].qs[g] = static_cast<uint8_t>(c.point[g] & 255u);
            const unsigned nibble = static_cast<unsigned>(c.point[g] >> 8) | (c.negative_delta[g] ? 8u : 0u);
            if (g % 2 == 0)
                y[b].qh[g / 2] = static_cast<uint8_t>(nibble);
            else
                y[b].qh[g / 2] = static_cast<uint8_t>(y[b].qh[g / 2] | nibble << 4);
        }
    }
}

void dequantize_row_iq1_m(const void *src, float *y, int64_t n) {
    dequantize_iq1_row<block_iq1_m>(src, y, n);
}

float vec_dot_iq1_m_q8_K(int64_t n, const void *w, const void *act) {
    return vec_dot_iq1_q8_K<block_iq1_m>(n, w, act);
}

} // namespace lb::formats
