// Q8_K: the activation format paired with the K-quants: super-blocks of 256
// values, x = d * q with a float d, plus the sum of each 16 quants.
// Byte-identical to llama.cpp's quantize_row_q8_K_ref (except that an
// all-zero block also gets zero sums, which llama.cpp leaves unwritten).
#include "formats/block_search.hpp"
#include "formats/blocks.hpp"
#include "formats/formats.hpp"

#include <cmath>
#include <cstring>

namespace lb::formats {

void quantize_row_q8_K_activations(const float *x, void *dst, int64_t n) {
    block_q8_K *y = static_cast<block_q8_K *>(dst);
    for (int64_t b = 0; b < n / QK_K; ++b) {
        const float *xb = x + b * QK_K;
        float amax = 0.0f, max = 0.0f;
        for (int j = 0; j < QK_K; ++j) {
            const float ax = std::fabs(xb[j]);
            if (ax > amax) amax = ax, max = xb[j];
        }
        if (amax == 0.0f) {
            std::memset(&y[b], 0, sizeof y[b]);
            continue;
        }
        const float iscale = -127.0f / max;
        for (int j = 0; j < QK_K; ++j) {
            const int v = static_cast<int>(nearest(iscale * xb[j]));
            y[b].qs[j] = static_cast<int8_t>(v < 127 ? v : 127);
        }
        for (int j = 0; j < QK_K / 16; ++j) {
            int sum = 0;
            for (int i = 0; i < 16; ++i) sum += y[b].qs[16 * j + i];
            y[b].bsums[j] = static_cast<int16_t>(sum);
        }
        y[b].d = 1.0f / iscale;
    }
}

void dequantize_row_q8_K(const void *src, float *y, int64_t n) {
    const block_q8_K *x = static_cast<const block_q8_K *>(src);
    for (int64_t b = 0; b < n / QK_K; ++b)
        for (int j = 0; j < QK_K; ++j) y[b * QK_K + j] = x[b].d * static_cast<float>(x[b].qs[j]);
}

} // namespace lb::formats
