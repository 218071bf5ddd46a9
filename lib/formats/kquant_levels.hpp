// A K-quant super-block decoded to integers, the form in which llama.cpp's
// CPU backend takes its dot product with Q8_K activations: 256 integer levels,
// an integer scale and min for each group of 16 levels (Q8_K keeps one sum of
// its quants per 16), and the two binary16 super-block scales.
//
//   weight i = d * scale[i / 16] * level[i] - dmin * min[i / 16]
//
// Q4_K and Q5_K have sub-blocks of 32, whose scale and min fill two groups.
#pragma once

#include "formats/blocks.hpp"

#include <cstdint>

namespace lb::formats {

struct KLevels {
    int8_t level[QK_K];
    int16_t scale[QK_K / 16];
    int16_t min[QK_K / 16];
    float d = 0.0f, dmin = 0.0f;
};

void decode_levels(const block_q2_K &b, KLevels &out);
void decode_levels(const block_q3_K &b, KLevels &out);
void decode_levels(const block_q4_K &b, KLevels &out);
void decode_levels(const block_q5_K &b, KLevels &out);
void decode_levels(const block_q6_K &b, KLevels &out);

// The dot product of one decoded super-block with one Q8_K block, as
// llama.cpp forms it: d_w d_a sum(scale * sum(level q8)) - dmin_w d_a sum(min
// * bsum).
float dot_levels_q8_K(const KLevels &w, const block_q8_K &a);

// The reference dot product of a row of n values of a K-quant with a Q8_K
// row: the sum of dot_levels_q8_K over the super-blocks, in order.
template <typename Block> float dot_k_q8_K(int64_t n, const void *w, const void *a) {
    const Block *x = static_cast<const Block *>(w);
    const block_q8_K *y = static_cast<const block_q8_K *>(a);
    float sum = 0.0f;
    KLevels levels;
    for (int64_t b = 0; b < n / QK_K; ++b) {
        decode_levels(x[b], levels);
        sum += dot_levels_q8_K(levels, y[b]);
    }
    return sum;
}

} // namespace lb::formats
