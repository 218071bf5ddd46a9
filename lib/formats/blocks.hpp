// On-disk block layouts of the quantized types, as GGUF defines them
// (llama.cpp's ggml-common.h). Scales are binary16 stored as uint16_t.
// These layouts are facts of the file format and must not change.
#pragma once

#include <cstdint>

namespace lb::formats {

constexpr int QK4_0 = 32;
constexpr int QK4_1 = 32;
constexpr int QK5_0 = 32;
constexpr int QK5_1 = 32;
constexpr int QK8_0 = 32;
constexpr int QK8_1 = 32;

// x = (q - 8) * d; qs[j] holds element j in its low nibble, j + 16 in its high one.
struct block_q4_0 {
    uint16_t d;
    uint8_t qs[QK4_0 / 2];
};
static_assert(sizeof(block_q4_0) == 18);

// x = q * d + m
struct block_q4_1 {
    uint16_t d;
    uint16_t m;
    uint8_t qs[QK4_1 / 2];
};
static_assert(sizeof(block_q4_1) == 20);

// x = (q - 16) * d; the fifth bit of element j is bit j of qh (little-endian).
struct block_q5_0 {
    uint16_t d;
    uint8_t qh[4];
    uint8_t qs[QK5_0 / 2];
};
static_assert(sizeof(block_q5_0) == 22);

// x = q * d + m
struct block_q5_1 {
    uint16_t d;
    uint16_t m;
    uint8_t qh[4];
    uint8_t qs[QK5_1 / 2];
};
static_assert(sizeof(block_q5_1) == 24);

// x = q * d
struct block_q8_0 {
    uint16_t d;
    int8_t qs[QK8_0];
};
static_assert(sizeof(block_q8_0) == 34);

// x = q * d; s = d * sum(q), used by dot products with Q4_1/Q5_1.
struct block_q8_1 {
    uint16_t d;
    uint16_t s;
    int8_t qs[QK8_1];
};
static_assert(sizeof(block_q8_1) == 36);

} // namespace lb::formats
