// NVFP4: blocks of 64 weights in 4 sub-blocks of 16, x = E2M1(q) * s with a
// UE4M3 scale s per sub-block, 4.5 bits per weight. llama.cpp takes the code
// nearest amax / 6 (the largest E2M1 value is 6); lowbit tries it and the two
// codes either side, and keeps the one with the lowest (importance-)weighted
// squared error, every value at its nearest level.
#include "common/fp16.hpp"
#include "common/fp8_scales.hpp"
#include "formats/blocks.hpp"
#include "formats/codebook_search.hpp"
#include "formats/formats.hpp"
#include "formats/fp4_levels.hpp"

#include <cmath>
#include <cstring>

namespace lb::formats {

namespace {

// The UE4M3 code in [1, kUe4m3Max] whose value is nearest v > 0 (codes are
// ordered by value).
int nearest_ue4m3(float v) {
    int lo = 1, hi = kUe4m3Max;
    while (lo < hi) {
        const int mid = (lo + hi) / 2;
        if (2.0f * ue4m3_to_fp32_half(static_cast<uint8_t>(mid)) < v)
            lo = mid + 1;
        else
            hi = mid;
    }
    // lo is the first code >= v; the one below may be nearer
    if (lo > 1 && v - 2.0f * ue4m3_to_fp32_half(static_cast<uint8_t>(lo - 1)) <=
                      2.0f * ue4m3_to_fp32_half(static_cast<uint8_t>(lo)) - v)
        return lo - 1;
    return lo;
}

uint8_t quantize_sub_block(const float *x, const float *w, uint8_t *idx) {
    const float amax = std::fabs(largest_value(x, QK_NVFP4_SUB));
    int best_code = 0;
    float best = assign_levels(x, w, QK_NVFP4_SUB, 0.0f, kFp4Codebook, idx);
    if (amax == 0.0f) return 0;
    const int c0 = nearest_ue4m3(amax / 6.0f);
    uint8_t cand[QK_NVFP4_SUB];
    for (int c = c0 - 2; c <= c0 + 2; ++c) {
        if (c < 1 || c > kUe4m3Max) continue;
        const float err = assign_levels(x, w, QK_NVFP4_SUB, ue4m3_to_fp32_half(static_cast<uint8_t>(c)),
                                        kFp4Codebook, cand);
        if (!(err < best)) continue;
        best = err;
        best_code = c;
        std::memcpy(idx, cand, sizeof cand);
    }
    return static_cast<uint8_t>(best_code);
}

} // namespace

void quantize_row_nvfp4(const float *x, void *dst, int64_t n, const float *imatrix, const SearchKernels &) {
    block_nvfp4 *y = static_cast<block_nvfp4 *>(dst);
    for (int64_t b = 0; b < n / QK_NVFP4; ++b) {
        for (int s = 0; s < QK_NVFP4 / QK_NVFP4_SUB; ++s) {
            const int64_t at = b * QK_NVFP4 + s * QK_NVFP4_SUB;
            float w[QK_NVFP4_SUB];
            block_weights(imatrix != nullptr ? imatrix + at : nullptr, QK_NVFP4_SUB, w);
            uint8_t idx[QK_NVFP4_SUB];
            y[b].d[s] = quantize_sub_block(x + at, w, idx);
            pack_nibbles(kFp4Codebook, idx, QK_NVFP4_SUB / 2, y[b].qs + s * (QK_NVFP4_SUB / 2));
        }
    }
}

void dequantize_row_nvfp4(const void *src, float *y, int64_t n) {
    const block_nvfp4 *x = static_cast<const block_nvfp4 *>(src);
    for (int64_t b = 0; b < n / QK_NVFP4; ++b) {
        for (int s = 0; s < QK_NVFP4 / QK_NVFP4_SUB; ++s) {
            const float d = ue4m3_to_fp32_half(x[b].d[s]);
            const uint8_t *qs = x[b].qs + s * (QK_NVFP4_SUB / 2);
            float *yb = y + b * QK_NVFP4 + s * QK_NVFP4_SUB;
            for (int j = 0; j < QK_NVFP4_SUB / 2; ++j) {
                yb[j] = static_cast<float>(kFp4Levels[qs[j] & 0x0f]) * d;
                yb[j + QK_NVFP4_SUB / 2] = static_cast<float>(kFp4Levels[qs[j] >> 4]) * d;
            }
        }
    }
}

// Each 64-block spans two Q8_0 blocks: sum over sub-blocks of (d_a s)
// sum(level q8), the integer sums exact.
float vec_dot_nvfp4_q8_0(int64_t n, const void *w, const void *a) {
    const block_nvfp4 *x = static_cast<const block_nvfp4 *>(w);
    const block_q8_0 *y = static_cast<const block_q8_0 *>(a);
    float sum = 0.0f;
    for (int64_t b = 0; b < n / QK_NVFP4; ++b) {
        for (int s = 0; s < QK_NVFP4 / QK_NVFP4_SUB; ++s) {
            const block_q8_0 &yb = y[2 * b + s / 2];
            const int8_t *q8 = yb.qs + (s % 2) * QK_NVFP4_SUB;
            const uint8_t *qs = x[b].qs + s * (QK_NVFP4_SUB / 2);
            int32_t si = 0;
            for (int j = 0; j < QK_NVFP4_SUB / 2; ++j) {
                si += kFp4Levels[qs[j] & 0x0f] * q8[j];
                si += kFp4Levels[qs[j] >> 4] * q8[j + QK_NVFP4_SUB / 2];
            }
            sum += fp16_to_fp32(yb.d) * ue4m3_to_fp32_half(x[b].d[s]) * static_cast<float>(si);
        }
    }
    return sum;
}

} // namespace lb::formats
