// TQ1_0: ternary super-blocks of 256 weights, x = (t - 1) * d with t in
// [0, 2], five trits to a byte, 1.6875 bits per weight. The scale and levels
// are chosen as sign_blocks.hpp defines.
#include "common/fp16.hpp"
#include "formats/blocks.hpp"
#include "formats/formats.hpp"
#include "formats/sign_blocks.hpp"

namespace lb::formats {

namespace {

constexpr uint8_t kPow3[5] = {1, 3, 9, 27, 81};

// The byte that stores `count` trits (the first most significant), padded
// to five: ceil(v * 256 / 243) of their base-3 value v.
uint8_t pack_trits(const int8_t *t, int stride, int count) {
    unsigned v = 0;
    for (int k = 0; k < count; ++k) v = v * 3 + static_cast<unsigned>(t[k * stride] + 1);
    for (int k = count; k < 5; ++k) v *= 3;
    return static_cast<uint8_t>((v * 256 + 242) / 243);
}

// Trit k (0 the most significant) of a byte, in [0, 2].
int trit(uint8_t b, int k) {
    const uint8_t q = static_cast<uint8_t>(b * kPow3[k]);
    return (q * 3) >> 8;
}

// Calls f(element, byte, trit) for the 256 elements of a block in order.
template <typename F> void for_each_trit(const block_tq1_0 &b, F f) {
    for (int k = 0; k < 5; ++k)
        for (int m = 0; m < 32; ++m) f(32 * k + m, b.qs[m], k);
    for (int k = 0; k < 5; ++k)
        for (int m = 0; m < 16; ++m) f(160 + 16 * k + m, b.qs[32 + m], k);
    for (int k = 0; k < 4; ++k)
        for (int m = 0; m < 4; ++m) f(240 + 4 * k + m, b.qh[m], k);
}

} // namespace

void quantize_row_tq1_0(const float *x, void *dst, int64_t n, const float *imatrix, const SearchKernels &) {
    block_tq1_0 *y = static_cast<block_tq1_0 *>(dst);
    for (int64_t b = 0; b < n / QK_K; ++b) {
        float w[QK_K];
        block_weights(imatrix != nullptr ? imatrix + b * QK_K : nullptr, QK_K, w);
        int8_t t[QK_K];
        y[b].d = sign_block(x + b * QK_K, w, QK_K, true, t);
        for (int m = 0; m < 32; ++m) y[b].qs[m] = pack_trits(t + m, 32, 5);
        for (int m = 0; m < 16; ++m) y[b].qs[32 + m] = pack_trits(t + 160 + m, 16, 5);
        for (int m = 0; m < 4; ++m) y[b].qh[m] = pack_trits(t + 240 + m, 4, 4);
    }
}

void dequantize_row_tq1_0(const void *src, float *y, int64_t n) {
    const block_tq1_0 *x = static_cast<const block_tq1_0 *>(src);
    for (int64_t b = 0; b < n / QK_K; ++b) {
        const float d = fp16_to_fp32(x[b].d);
        float *yb = y + b * QK_K;
        for_each_trit(x[b],
                      [&](int j, uint8_t byte, int k) { yb[j] = static_cast<float>(trit(byte, k) - 1) * d; });
    }
}

// sum over blocks of (d_w d_a) sum((t - 1) q8), the integer sum exact
float vec_dot_tq1_0_q8_K(int64_t n, const void *w, const void *a) {
    const block_tq1_0 *x = static_cast<const block_tq1_0 *>(w);
    const block_q8_K *y = static_cast<const block_q8_K *>(a);
    float sum = 0.0f;
    for (int64_t b = 0; b < n / QK_K; ++b) {
        int32_t s = 0;
        for_each_trit(x[b], [&](int j, uint8_t byte, int k) { s += (trit(byte, k) - 1) * y[b].qs[j]; });
        sum += static_cast<float>(s) * (fp16_to_fp32(x[b].d) * y[b].d);
    }
    return sum;
}

} // namespace lb::formats
