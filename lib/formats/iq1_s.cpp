// IQ1_S: super-blocks of 256 weights, 1.5625 bits per weight; each group of
// 8 is one of 2048 points of {-1, 0, 1}^8, each 32 weights a 3-bit scale and
// a shift of +-1/8 (blocks.hpp). The search is iq1_search.hpp's.
#include "common/fp16.hpp"
#include "formats/block_search.hpp"
#include "formats/blocks.hpp"
#include "formats/formats.hpp"
#include "formats/iq1_search.hpp"
#include "formats/lattice_grids.hpp"

namespace lb::formats {

namespace {

int point_of(const block_iq1_s &x, int ib, int l) {
    return x.qs[4 * ib + l] | ((x.qh[ib] >> 3 * l) & 7) << 8;
}

} // namespace

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
    const block_iq1_s *x = static_cast<const block_iq1_s *>(src);
    const LatticeGrid &grid = iq1s_grid();
    for (int64_t b = 0; b < n / QK_K; ++b) {
        const float d = fp16_to_fp32(x[b].d);
        for (int ib = 0; ib < QK_K / 32; ++ib) {
            const float dl = d * static_cast<float>(2 * ((x[b].qh[ib] >> 12) & 7) + 1);
            const float delta = x[b].qh[ib] & 0x8000 ? -kIq1Delta : kIq1Delta;
            for (int l = 0; l < 4; ++l) {
                const int8_t *g = grid.value + 8 * point_of(x[b], ib, l);
                for (int j = 0; j < 8; ++j) *y++ = dl * (static_cast<float>(g[j]) + delta);
            }
        }
    }
}

// sum over blocks of (d_w d_a) (S + S_delta / 8): S = sum over sub-blocks of
// (2 ls + 1) sum(level q8), S_delta = sum of (2 ls + 1) (+-1) sum(q8) (from
// Q8_K's sums of 16), both exact integers (ggml's float steps)
float vec_dot_iq1_s_q8_K(int64_t n, const void *w, const void *act) {
    const block_iq1_s *x = static_cast<const block_iq1_s *>(w);
    const block_q8_K *y = static_cast<const block_q8_K *>(act);
    const LatticeGrid &grid = iq1s_grid();
    float sum = 0.0f;
    for (int64_t b = 0; b < n / QK_K; ++b) {
        const int8_t *q8 = y[b].qs;
        int32_t s = 0, s_delta = 0;
        for (int ib = 0; ib < QK_K / 32; ++ib) {
            const int ls = 2 * ((x[b].qh[ib] >> 12) & 7) + 1;
            const int delta = x[b].qh[ib] & 0x8000 ? -1 : 1;
            int32_t lsum = 0;
            for (int l = 0; l < 4; ++l, q8 += 8) {
                const int8_t *g = grid.value + 8 * point_of(x[b], ib, l);
                for (int j = 0; j < 8; ++j) lsum += g[j] * q8[j];
            }
            s += ls * lsum;
            s_delta += ls * delta * (y[b].bsums[2 * ib] + y[b].bsums[2 * ib + 1]);
        }
        sum +=
            fp16_to_fp32(x[b].d) * y[b].d * (static_cast<float>(s) + kIq1Delta * static_cast<float>(s_delta));
    }
    return sum;
}

} // namespace lb::formats
