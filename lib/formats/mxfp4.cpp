// MXFP4 (OCP microscaling): blocks of 32 weights, x = E2M1(q) * 2^(e - 127),
// an FP4 value times a power-of-two scale, 4.25 bits per weight. llama.cpp
// takes e = floor(log2(amax)) - 2 + 127; lowbit tries that exponent, the two
// below and the one above, and keeps the one with the lowest (importance-)
// weighted squared error, every value at its nearest level (e = 0 or all
// values at 0 before them, see below).
#include "common/fp16.hpp"
#include "common/fp8_scales.hpp"
#include "formats/blocks.hpp"
#include "formats/codebook_search.hpp"
#include "formats/formats.hpp"
#include "formats/fp4_levels.hpp"

#include <cmath>
#include <cstring>

namespace lb::formats {

void quantize_row_mxfp4(const float *x, void *dst, int64_t n, const float *imatrix, const SearchKernels &) {
    block_mxfp4 *y = static_cast<block_mxfp4 *>(dst);
    for (int64_t b = 0; b < n / QK_MXFP4; ++b) {
        const float *xb = x + b * QK_MXFP4;
        float w[QK_MXFP4];
        block_weights(imatrix != nullptr ? imatrix + b * QK_MXFP4 : nullptr, QK_MXFP4, w);
        const float amax = std::fabs(largest_value(xb, QK_MXFP4));
        uint8_t idx[QK_MXFP4], cand[QK_MXFP4];
        int best_e = 0, e0 = 0;
        if (amax > 0.0f) {
            int exponent = 0;
            std::frexp(amax, &exponent); // amax = f 2^exponent, f in [0.5, 1)
            e0 = exponent - 1 - 2 + 127;
        }
        // The first candidate: e = 0 (scale 2^-128) for blocks so small that
        // it may win, else every value at 0 (error sum w x^2), which no block
        // with a normal e0 - 2 prefers to e0's levels. (Evaluating e = 0 on
        // them costs arithmetic on subnormal floats, slow on x86.)
        float best = 0.0f;
        if (e0 - 2 < 1) {
            best = assign_levels(xb, w, QK_MXFP4, e8m0_to_fp32_half(0), kFp4Codebook, idx);
        } else {
            for (int j = 0; j < QK_MXFP4; ++j) best += w[j] * xb[j] * xb[j];
            std::memset(idx, nearest_level(kFp4Codebook, 0.0f), sizeof idx);
        }
        if (amax > 0.0f) {
            for (int e = e0 - 2; e <= e0 + 1; ++e) {
                if (e < 1 || e > 254) continue; // e = 0 was the first candidate
                const float err = assign_levels(xb, w, QK_MXFP4, e8m0_to_fp32_half(static_cast<uint8_t>(e)),
                                                kFp4Codebook, cand);
                if (!(err < best)) continue;
                best = err;
                best_e = e;
                std::memcpy(idx, cand, sizeof idx);
            }
        }
        y[b].e = static_cast<uint8_t>(best_e);
        pack_nibbles(kFp4Codebook, idx, QK_MXFP4 / 2, y[b].qs);
    }
}

void dequantize_row_mxfp4(const void *src, float *y, int64_t n) {
    const block_mxfp4 *x = static_cast<const block_mxfp4 *>(src);
    for (int64_t b = 0; b < n / QK_MXFP4; ++b) {
        const float d = e8m0_to_fp32_half(x[b].e);
        float *yb = y + b * QK_MXFP4;
        uint8_t qs[QK_MXFP4 / 2];
        std::memcpy(qs, x[b].qs, sizeof qs);
        for (int j = 0; j < QK_MXFP4 / 2; ++j) yb[j] = static_cast<float>(kFp4Levels[qs[j] & 0x0f]) * d;
        for (int j = 0; j < QK_MXFP4 / 2; ++j)
            yb[j + QK_MXFP4 / 2] = static_cast<float>(kFp4Levels[qs[j] >> 4]) * d;
    }
}

// sum over blocks of (d_a 2^(e - 128)) sum(level q8), the integer sum exact
float vec_dot_mxfp4_q8_0(int64_t n, const void *w, const void *a) {
    const block_mxfp4 *x = static_cast<const block_mxfp4 *>(w);
    const block_q8_0 *y = static_cast<const block_q8_0 *>(a);
    float sum = 0.0f;
    for (int64_t b = 0; b < n / QK_MXFP4; ++b) {
        int32_t s = 0;
        for (int j = 0; j < QK_MXFP4 / 2; ++j) {
            s += kFp4Levels[x[b].qs[j] & 0x0f] * y[b].qs[j];
            s += kFp4Levels[x[b].qs[j] >> 4] * y[b].qs[j + QK_MXFP4 / 2];
        }
        sum += fp16_to_fp32(y[b].d) * e8m0_to_fp32_half(x[b].e) * static_cast<float>(s);
    }
    return sum;
}

} // namespace lb::formats
