// IQ3_S: super-blocks of 256 weights, 3.4375 bits per weight; each group of
// 8 is two of 512 four-value grid points (levels 1 ... 15) with 8 free signs,
// each sub-block of 32 a 4-bit scale (blocks.hpp). The search is
// lattice_search.hpp's.
#include "common/fp16.hpp"
#include "formats/block_search.hpp"
#include "formats/blocks.hpp"
#include "formats/formats.hpp"
#include "formats/lattice_grids.hpp"
#include "formats/lattice_search.hpp"

namespace lb::formats {

namespace {

// point h (0, 1) of group l of sub-block ib
int point_of(const block_iq3_s &x, int ib, int l, int h) {
    return x.qs[8 * ib + 2 * l + h] | ((x.qh[ib] >> (2 * l + h)) & 1) << 8;
}

int scale_of(const block_iq3_s &x, int ib) {
    return 2 * ((x.scales[ib / 2] >> 4 * (ib % 2)) & 15) + 1;
}

} // namespace

void quantize_row_iq3_s(const float *x, void *dst, int64_t n, const float *imatrix, const SearchKernels &k) {
    block_iq3_s *y = static_cast<block_iq3_s *>(dst);
    LatticeSearch search({&iq3s_grid(), false, 32, 1.0f}, k.lattice);
    for (int64_t b = 0; b < n / QK_K; ++b) {
        float w[QK_K];
        block_weights(imatrix != nullptr ? imatrix + b * QK_K : nullptr, QK_K, w);
        const LatticeChoice c = search.search(x + b * QK_K, w);
        y[b].d = scale_bits(c.d);
        for (int ib = 0; ib < QK_K / 32; ++ib) {
            y[b].qh[ib] = 0;
            for (int l = 0; l < 4; ++l) {
                const int g = 4 * ib + l;
                for (int h = 0; h < 2; ++h) {
                    y[b].qs[2 * g + h] = static_cast<uint8_t>(c.point[g][h] & 255u);
                    y[b].qh[ib] = static_cast<uint8_t>(y[b].qh[ib] | (c.point[g][h] >> 8) << (2 * l + h));
                }
                y[b].signs[g] = c.signs[g];
            }
        }
        for (int i = 0; i < QK_K / 64; ++i)
            y[b].scales[i] = static_cast<uint8_t>(c.ls[2 * i] | c.ls[2 * i + 1] << 4);
    }
}

void dequantize_row_iq3_s(const void *src, float *y, int64_t n) {
    const block_iq3_s *x = static_cast<const block_iq3_s *>(src);
    const LatticeGrid &grid = iq3s_grid();
    for (int64_t b = 0; b < n / QK_K; ++b) {
        const float d = fp16_to_fp32(x[b].d);
        for (int ib = 0; ib < QK_K / 32; ++ib) {
            const float db = d * static_cast<float>(scale_of(x[b], ib));
            for (int l = 0; l < 4; ++l) {
                const int8_t *g0 = grid.value + 4 * point_of(x[b], ib, l, 0);
                const int8_t *g1 = grid.value + 4 * point_of(x[b], ib, l, 1);
                const uint8_t signs = x[b].signs[4 * ib + l];
                for (int j = 0; j < 8; ++j)
                    *y++ =
                        db * static_cast<float>(j < 4 ? g0[j] : g1[j - 4]) * (signs >> j & 1u ? -1.0f : 1.0f);
            }
        }
    }
}

// sum over blocks of (d_w d_a) sum over sub-blocks of (2 ls + 1)
// sum(level sign q8), the integer sums exact (ggml's float steps)
float vec_dot_iq3_s_q8_K(int64_t n, const void *w, const void *act) {
    const block_iq3_s *x = static_cast<const block_iq3_s *>(w);
    const block_q8_K *y = static_cast<const block_q8_K *>(act);
    const LatticeGrid &grid = iq3s_grid();
    float sum = 0.0f;
    for (int64_t b = 0; b < n / QK_K; ++b) {
        const float d = fp16_to_fp32(x[b].d) * y[b].d;
        const int8_t *q8 = y[b].qs;
        int32_t bsum = 0;
        for (int ib = 0; ib < QK_K / 32; ++ib) {
            int32_t s = 0;
            for (int l = 0; l < 4; ++l, q8 += 8) {
                const int8_t *g0 = grid.value + 4 * point_of(x[b], ib, l, 0);
                const int8_t *g1 = grid.value + 4 * point_of(x[b], ib, l, 1);
                const uint8_t signs = x[b].signs[4 * ib + l];
                for (int j = 0; j < 8; ++j) {
                    const int v = j < 4 ? g0[j] : g1[j - 4];
                    s += (signs >> j & 1u ? -v : v) * q8[j];
                }
            }
            bsum += s * scale_of(x[b], ib);
        }
        sum += d * static_cast<float>(bsum);
    }
    return sum;
}

} // namespace lb::formats
