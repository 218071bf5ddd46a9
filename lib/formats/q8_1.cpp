// Q8_1: the activation format paired with Q4_1 and Q5_1 weights: blocks of 32
// values, x = q * d, plus s = d * sum(q). Byte-identical to llama.cpp's
// quantize_row_q8_1_ref.
#include "common/fp16.hpp"
#include "formats/blocks.hpp"
#include "formats/formats.hpp"

#include <algorithm>
#include <cmath>

namespace lb::formats {

void quantize_row_q8_1_activations(const float *x, void *dst, int64_t n) {
    block_q8_1 *y = static_cast<block_q8_1 *>(dst);
    for (int64_t b = 0; b < n / QK8_1; ++b) {
        const float *xb = x + b * QK8_1;
        float amax = 0.0f;
        for (int j = 0; j < QK8_1; ++j) amax = std::max(amax, std::fabs(xb[j]));
        const float d = amax / 127.0f;
        const float id = d != 0.0f ? 1.0f / d : 0.0f;
        y[b].d = fp32_to_fp16(d);
        int sum = 0;
        for (int j = 0; j < QK8_1; ++j) {
            y[b].qs[j] = static_cast<int8_t>(std::round(xb[j] * id));
            sum += y[b].qs[j];
        }
        y[b].s = fp32_to_fp16(static_cast<float>(sum) * d);
    }
}

void dequantize_row_q8_1(const void *src, float *y, int64_t n) {
    const block_q8_1 *x = static_cast<const block_q8_1 *>(src);
    for (int64_t b = 0; b < n / QK8_1; ++b) {
        const float d = fp16_to_fp32(x[b].d);
        for (int j = 0; j < QK8_1; ++j) y[b * QK8_1 + j] = static_cast<float>(x[b].qs[j]) * d;
    }
}

} // namespace lb::formats
