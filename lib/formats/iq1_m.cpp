// IQ1_M: super-blocks of 256 weights, 1.75 bits per weight; each group of 8
// is one of 2048 points of {-1, 0, 1}^8 with its own shift of +-1/8, each 16
// weights a 3-bit scale, the binary16 d spread over the scales' top nibbles
// (blocks.hpp). The search is iq1_search.hpp's.
#include "common/fp16.hpp"
#include "formats/block_search.hpp"
#include "formats/blocks.hpp"
#include "formats/formats.hpp"
#include "formats/iq1_search.hpp"
#include "formats/lattice_grids.hpp"

#include <cstring>

namespace lb::formats {

namespace {

struct Iq1mScales {
    uint16_t sc[4];
    float d() const {
        return fp16_to_fp32(static_cast<uint16_t>((sc[0] >> 12) | (sc[1] >> 8 & 0x00f0) |
                                                  (sc[2] >> 4 & 0x0f00) | (sc[3] & 0xf000)));
    }
    // 2 ls + 1 of the 16 weights h (0, 1) of sub-block ib
    int scale(int ib, int h) const { return 2 * ((sc[ib / 2] >> (6 * (ib % 2) + 3 * h)) & 7) + 1; }
};

Iq1mScales scales_of(const block_iq1_m &x) {
    Iq1mScales s;
    std::memcpy(s.sc, x.scales, sizeof s.sc);
    return s;
}

// group l of sub-block ib: its point and whether its delta is negative
int point_of(const block_iq1_m &x, int ib, int l) {
    return x.qs[4 * ib + l] | ((x.qh[2 * ib + l / 2] >> 4 * (l % 2)) & 7) << 8;
}

bool negative_delta(const block_iq1_m &x, int ib, int l) {
    return (x.qh[2 * ib + l / 2] >> (4 * (l % 2) + 3) & 1) != 0;
}

} // namespace

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
    const block_iq1_m *x = static_cast<const block_iq1_m *>(src);
    const LatticeGrid &grid = iq1s_grid();
    for (int64_t b = 0; b < n / QK_K; ++b) {
        const Iq1mScales sc = scales_of(x[b]);
        const float d = sc.d();
        for (int ib = 0; ib < QK_K / 32; ++ib) {
            for (int l = 0; l < 4; ++l) {
                const float dl = d * static_cast<float>(sc.scale(ib, l / 2));
                const float delta = negative_delta(x[b], ib, l) ? -kIq1Delta : kIq1Delta;
                const int8_t *g = grid.value + 8 * point_of(x[b], ib, l);
                for (int j = 0; j < 8; ++j) *y++ = dl * (static_cast<float>(g[j]) + delta);
            }
        }
    }
}

// sum over blocks of (d_w d_a) (S + S_delta / 8): S = sum over halves of
// sub-blocks of (2 ls + 1) sum(level q8), S_delta = sum of (2 ls + 1) (+-1)
// sum(q8) per group, both exact integers (ggml's float steps)
float vec_dot_iq1_m_q8_K(int64_t n, const void *w, const void *act) {
    const block_iq1_m *x = static_cast<const block_iq1_m *>(w);
    const block_q8_K *y = static_cast<const block_q8_K *>(act);
    const LatticeGrid &grid = iq1s_grid();
    float sum = 0.0f;
    for (int64_t b = 0; b < n / QK_K; ++b) {
        const Iq1mScales sc = scales_of(x[b]);
        const int8_t *q8 = y[b].qs;
        int32_t s = 0, s_delta = 0;
        for (int ib = 0; ib < QK_K / 32; ++ib) {
            for (int h = 0; h < 2; ++h) {
                int32_t lsum = 0, dsum = 0;
                for (int l = 2 * h; l < 2 * h + 2; ++l, q8 += 8) {
                    const int8_t *g = grid.value + 8 * point_of(x[b], ib, l);
                    int32_t qsum = 0;
                    for (int j = 0; j < 8; ++j) lsum += g[j] * q8[j], qsum += q8[j];
                    dsum += negative_delta(x[b], ib, l) ? -qsum : qsum;
                }
                s += lsum * sc.scale(ib, h);
                s_delta += dsum * sc.scale(ib, h);
            }
        }
        sum += sc.d() * y[b].d * (static_cast<float>(s) + kIq1Delta * static_cast<float>(s_delta));
    }
    return sum;
}

} // namespace lb::formats
