// Q2_0: blocks of 64 weights, x = (q - 1) * d with q in [0, 3], 2.25 bits per
// weight. llama.cpp takes d = amax and uses three of the four levels; lowbit
// searches the scale as codebook_search.hpp describes over all four (the
// largest value at targets around level 2, or around -1 with d negative).
#include "common/fp16.hpp"
#include "formats/blocks.hpp"
#include "formats/codebook_search.hpp"
#include "formats/formats.hpp"

namespace lb::formats {

namespace {

constexpr int8_t kQ2_0Levels[4] = {-1, 0, 1, 2};
constexpr Codebook kQ2_0Codebook = make_codebook(kQ2_0Levels, 4);
constexpr float kQ2_0Targets[] = {2.0f, 1.75f, 2.25f, 1.5f, 1.0f, -1.0f, -1.25f, -1.5f};
constexpr int kQ2_0TargetCount = sizeof kQ2_0Targets / sizeof kQ2_0Targets[0];

int code_at(const block_q2_0 &b, int j) {
    return (b.qs[j / 4] >> (2 * (j % 4))) & 3;
}

} // namespace

void quantize_row_q2_0(const float *x, void *dst, int64_t n, const float *imatrix, const SearchKernels &) {
    block_q2_0 *y = static_cast<block_q2_0 *>(dst);
    for (int64_t b = 0; b < n / QK2_0; ++b) {
        float w[QK2_0];
        block_weights(imatrix != nullptr ? imatrix + b * QK2_0 : nullptr, QK2_0, w);
        uint8_t idx[QK2_0];
        const ScaleChoice s = search_scale(
            x + b * QK2_0, w, QK2_0, kQ2_0Codebook, kQ2_0Targets, kQ2_0TargetCount, 3,
            [](float d) { return storable_scale(d); }, idx);
        y[b].d = scale_bits(s.d);
        for (int k = 0; k < QK2_0 / 4; ++k) {
            unsigned v = 0;
            for (int i = 0; i < 4; ++i)
                v |= static_cast<unsigned>(kQ2_0Codebook.code[idx[4 * k + i]]) << (2 * i);
            y[b].qs[k] = static_cast<uint8_t>(v);
        }
    }
}

void dequantize_row_q2_0(const void *src, float *y, int64_t n) {
    const block_q2_0 *x = static_cast<const block_q2_0 *>(src);
    for (int64_t b = 0; b < n / QK2_0; ++b) {
        const float d = fp16_to_fp32(x[b].d);
        float *out = y + b * QK2_0;
        // code_at's order: element 4 k + i in bits 2 i of byte k
        for (int i = 0; i < 4; ++i)
            for (int k = 0; k < QK2_0 / 4; ++k)
                out[4 * k + i] = static_cast<float>(((x[b].qs[k] >> (2 * i)) & 3) - 1) * d;
    }
}

// Each 64-block spans two Q8_0 blocks: sum over blocks of d_w sum over Q8_0
// blocks of d_a sum((q - 1) q8), the integer sums exact.
float vec_dot_q2_0_q8_0(int64_t n, const void *w, const void *a) {
    const block_q2_0 *x = static_cast<const block_q2_0 *>(w);
    const block_q8_0 *y = static_cast<const block_q8_0 *>(a);
    float sum = 0.0f;
    for (int64_t b = 0; b < n / QK2_0; ++b) {
        float sb = 0.0f;
        for (int k = 0; k < QK2_0 / QK8_0; ++k) {
            const block_q8_0 &yb = y[b * (QK2_0 / QK8_0) + k];
            int32_t s = 0;
            for (int j = 0; j < QK8_0; ++j) s += (code_at(x[b], QK8_0 * k + j) - 1) * yb.qs[j];
            sb += fp16_to_fp32(yb.d) * static_cast<float>(s);
        }
        sum += fp16_to_fp32(x[b].d) * sb;
    }
    return sum;
}

} // namespace lb::formats
