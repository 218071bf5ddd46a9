// IQ4_NL: blocks of 32 weights, x = d * kIq4nlLevels[q], 4.5 bits per
// weight, the 16 levels non-uniform. The scale is searched as
// codebook_search.hpp describes, over targets that put the block's largest
// value near either end of the levels.
#include "common/fp16.hpp"
#include "formats/blocks.hpp"
#include "formats/codebook_search.hpp"
#include "formats/formats.hpp"
#include "formats/iq4_levels.hpp"

#include <cstring>

namespace lb::formats {

void quantize_row_iq4_nl(const float *x, void *dst, int64_t n, const float *imatrix, const SearchKernels &) {
    block_iq4_nl *y = static_cast<block_iq4_nl *>(dst);
    for (int64_t b = 0; b < n / QK4_NL; ++b) {
        const float *xb = x + b * QK4_NL;
        float w[QK4_NL];
        block_weights(imatrix != nullptr ? imatrix + b * QK4_NL : nullptr, QK4_NL, w);
        uint8_t idx[QK4_NL];
        const ScaleChoice s = search_scale(
            xb, w, QK4_NL, kIq4Codebook, kIq4Targets, kIq4TargetCount, 2,
            [](float d) { return storable_scale(d); }, idx);
        y[b].d = scale_bits(s.d);
        pack_nibbles(kIq4Codebook, idx, 16, y[b].qs);
    }
}

void dequantize_row_iq4_nl(const void *src, float *y, int64_t n) {
    const block_iq4_nl *x = static_cast<const block_iq4_nl *>(src);
    for (int64_t b = 0; b < n / QK4_NL; ++b) {
        const float d = fp16_to_fp32(x[b].d);
        float *yb = y + b * QK4_NL;
        uint8_t qs[QK4_NL / 2];
        std::memcpy(qs, x[b].qs, sizeof qs);
        for (int j = 0; j < QK4_NL / 2; ++j) yb[j] = d * static_cast<float>(kIq4nlLevels[qs[j] & 0x0f]);
        for (int j = 0; j < QK4_NL / 2; ++j)
            yb[j + QK4_NL / 2] = d * static_cast<float>(kIq4nlLevels[qs[j] >> 4]);
    }
}

// sum over blocks of (d_a d_w) sum(level q8), the integer sum exact
float vec_dot_iq4_nl_q8_0(int64_t n, const void *w, const void *a) {
    const block_iq4_nl *x = static_cast<const block_iq4_nl *>(w);
    const block_q8_0 *y = static_cast<const block_q8_0 *>(a);
    float sum = 0.0f;
    for (int64_t b = 0; b < n / QK4_NL; ++b) {
        int32_t s = 0;
        for (int j = 0; j < QK4_NL / 2; ++j) {
            s += kIq4nlLevels[x[b].qs[j] & 0x0f] * y[b].qs[j];
            s += kIq4nlLevels[x[b].qs[j] >> 4] * y[b].qs[j + QK4_NL / 2];
        }
        sum += fp16_to_fp32(y[b].d) * fp16_to_fp32(x[b].d) * static_cast<float>(s);
    }
    return sum;
}

} // namespace lb::formats
