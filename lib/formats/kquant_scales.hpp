// The packings of K-quant sub-block scales. Q4_K / Q5_K: the 12-byte packing
// of eight 6-bit scales and eight 6-bit mins used by
// Q4_K and Q5_K (llama.cpp's get_scale_min_k4): for j < 4, scales[j] and
// scales[j + 4] hold scale j and min j in their low 6 bits; for j >= 4, the
// low 4 bits of scale j and min j share scales[j + 4], and their high 2 bits
// sit in the top bits of scales[j - 4] and scales[j].
#pragma once

#include "common/isa.hpp"

#include <cstdint>
#include <cstring>

namespace lb::formats {
inline namespace LOWBIT_ISA {

inline void pack_scale_min_k4(const int *sc, const int *m, uint8_t *scales) {
    for (int j = 0; j < 4; ++j) {
        scales[j] = static_cast<uint8_t>(sc[j] | ((sc[j + 4] >> 4) << 6));
        scales[j + 4] = static_cast<uint8_t>(m[j] | ((m[j + 4] >> 4) << 6));
        scales[j + 8] = static_cast<uint8_t>((sc[j + 4] & 0x0f) | ((m[j + 4] & 0x0f) << 4));
    }
}

inline void unpack_scale_min_k4(const uint8_t *scales, int j, int *sc, int *m) {
    if (j < 4) {
        *sc = scales[j] & 63;
        *m = scales[j + 4] & 63;
    } else {
        *sc = (scales[j + 4] & 0x0f) | ((scales[j - 4] >> 6) << 4);
        *m = (scales[j + 4] >> 4) | ((scales[j] >> 6) << 4);
    }
}

// Q3_K's sixteen 6-bit scales, minus their offset of 32 (-32..31): the low
// 4 bits of scale j in scales[j % 8] (low nibble for j < 8, high for j >= 8),
// its high 2 bits at 2 (j / 4) in scales[8 + j % 4].
inline int q3_K_scale(const uint8_t *scales, int j) {
    return (((scales[j % 8] >> (j < 8 ? 0 : 4)) & 0x0f) | (((scales[8 + j % 4] >> (2 * (j / 4))) & 3) << 4)) -
           32;
}

// All sixteen Q3_K scales (with their offset of 32: 0..63) as bytes, four at a
// time in 32-bit words (the dot kernels' unpacking, without branches): byte j
// (in little-endian order) is q3_K_scale(scales, j) + 32.
inline void q3_K_scale_words(const uint8_t *scales, uint32_t *out) {
    uint32_t w[3];
    std::memcpy(w, scales, 12);
    const uint32_t low4 = 0x0f0f0f0f, two = 0x03030303;
    out[0] = (w[0] & low4) | ((w[2] & two) << 4);
    out[1] = (w[1] & low4) | (((w[2] >> 2) & two) << 4);
    out[2] = ((w[0] >> 4) & low4) | (((w[2] >> 4) & two) << 4);
    out[3] = ((w[1] >> 4) & low4) | (((w[2] >> 6) & two) << 4);
}

// The eight 6-bit scales (bytes 0..7) and mins (bytes 8..15) of a Q4_K /
// Q5_K packing, four at a time in 32-bit words, without branches (the dot
// kernels' unpacking; bytes in little-endian order): scale and min j < 4 are
// the low 6 bits of bytes j and j + 4; scale and min j >= 4 take their low 4
// bits from the low and high nibble of byte j + 4 and their high 2 bits from
// the top of bytes j - 4 and j.
inline void scales_mins_k4_words(const uint8_t *scales, uint32_t *out) {
    uint32_t w[3];
    std::memcpy(w, scales, 12);
    const uint32_t low6 = 0x3f3f3f3f, low4 = 0x0f0f0f0f, top2 = 0x03030303;
    out[0] = w[0] & low6;
    out[1] = (w[2] & low4) | (((w[0] >> 6) & top2) << 4);
    out[2] = w[1] & low6;
    out[3] = ((w[2] >> 4) & low4) | (((w[1] >> 6) & top2) << 4);
}

// all eight scales and mins at once, as ints
inline void unpack_scales_mins_k4(const uint8_t *scales, int *sc, int *m) {
    uint32_t words[4];
    scales_mins_k4_words(scales, words);
    for (int j = 0; j < 8; ++j) {
        sc[j] = static_cast<int>((words[j / 4] >> (8 * (j % 4))) & 0xff);
        m[j] = static_cast<int>((words[2 + j / 4] >> (8 * (j % 4))) & 0xff);
    }
}

} // namespace LOWBIT_ISA
} // namespace lb::formats
