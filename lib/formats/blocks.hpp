// On-disk block layouts of the quantized types, as GGUF defines them
// (llama.cpp's ggml-common.h). Scales are binary16 stored as uint16_t.
// These layouts are facts of the file format and must not change.
#pragma once

#include "common/isa.hpp"

#include <cstdint>
#include <cstring>

namespace lb::formats {

inline namespace LOWBIT_ISA { // common/isa.hpp

// Bit 4 of each of 32 levels, as the 32-bit little-endian mask of Q5_0/Q5_1
// (bit j = level j), built 8 levels at a time: the multiply gathers bit 4 of
// each byte of v into the top byte (the bytes are read little-endian).
inline void pack_high_bits(const uint8_t *q, uint8_t *qh) {
    for (int k = 0; k < 4; ++k) {
        uint64_t v;
        std::memcpy(&v, q + 8 * k, 8);
        qh[k] = static_cast<uint8_t>((((v >> 4) & 0x0101010101010101ull) * 0x0102040810204080ull) >> 56);
    }
}

} // namespace LOWBIT_ISA

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

// ---------------------------------------------------------------------------
// K-quants: super-blocks of 256 weights split into sub-blocks whose scales
// (and mins) are themselves quantized against a binary16 super-block scale.
// ---------------------------------------------------------------------------

constexpr int QK_K = 256;

// 16 sub-blocks of 16: x = (d * sc) * q - (dmin * m), q in [0, 3],
// scales[j] = sc | m << 4 (4 bits each). qs holds 4 values per byte: for each
// 128-value half, byte l (0..31) holds values l, l + 32, l + 64, l + 96 of
// the half at bit offsets 0, 2, 4, 6.
struct block_q2_K {
    uint8_t scales[QK_K / 16];
    uint8_t qs[QK_K / 4];
    uint16_t d;
    uint16_t dmin;
};
static_assert(sizeof(block_q2_K) == 84);

// 16 sub-blocks of 16: x = (d * (sc - 32)) * (q - 4), q in [0, 7]: the low 2
// bits in qs (laid out as Q2_K), the high bit of value i in bit i / 32 of
// hmask[i % 32]. 6-bit scales: low 4 bits of scale j in scales[j % 8] (low
// nibble for j < 8, high for j >= 8), high 2 bits in scales[8 + j % 4] at bit
// offset 2 * (j / 4).
struct block_q3_K {
    uint8_t hmask[QK_K / 8];
    uint8_t qs[QK_K / 4];
    uint8_t scales[12];
    uint16_t d;
};
static_assert(sizeof(block_q3_K) == 110);

// 8 sub-blocks of 32: x = (d * sc) * q - (dmin * m), q in [0, 15]. 6-bit sc
// and m packed in scales[12] (see pack_scale_min_k4). qs: for each 64-value
// chunk c, byte l (0..31) of qs[32 c ..] holds value l in its low nibble and
// value l + 32 in its high nibble.
struct block_q4_K {
    uint16_t d;
    uint16_t dmin;
    uint8_t scales[12];
    uint8_t qs[QK_K / 2];
};
static_assert(sizeof(block_q4_K) == 144);

// As Q4_K with q in [0, 31]: the fifth bit of value l (l + 32) of chunk c is
// bit 2c (2c + 1) of qh[l].
struct block_q5_K {
    uint16_t d;
    uint16_t dmin;
    uint8_t scales[12];
    uint8_t qh[QK_K / 8];
    uint8_t qs[QK_K / 2];
};
static_assert(sizeof(block_q5_K) == 176);

// 16 sub-blocks of 16: x = (d * sc) * (q - 32), q in [0, 63], sc an int8.
// For each 128-value half: ql[l] (l < 32) holds the low 4 bits of value l
// (low nibble) and l + 64 (high nibble), ql[l + 32] those of l + 32 and
// l + 96; qh[l] holds the high 2 bits of l, l + 32, l + 64, l + 96 at bit
// offsets 0, 2, 4, 6.
struct block_q6_K {
    uint8_t ql[QK_K / 2];
    uint8_t qh[QK_K / 4];
    int8_t scales[QK_K / 16];
    uint16_t d;
};
static_assert(sizeof(block_q6_K) == 210);

// Activations for dot products with K-quants: x = d * q, plus the sums of
// each 16 values.
struct block_q8_K {
    float d;
    int8_t qs[QK_K];
    int16_t bsums[QK_K / 16];
};
static_assert(sizeof(block_q8_K) == 292);

// ---------------------------------------------------------------------------
// Non-linear, microscaling, ternary and 1-/2-bit formats.
// ---------------------------------------------------------------------------

// The 16 levels of IQ4_NL and IQ4_XS (ggml's kvalues_iq4nl).
constexpr int8_t kIq4nlLevels[16] = {-127, -104, -83, -65, -49, -35, -22, -10,
                                     1,    13,   25,  38,  53,  69,  89,  113};

// The 16 codes of an E2M1 (FP4) value, stored doubled: code c is 2 * E2M1(c)
// (ggml's kvalues_mxfp4); codes 8..15 are the negatives of 0..7.
constexpr int8_t kFp4Levels[16] = {0, 1, 2, 3, 4, 6, 8, 12, 0, -1, -2, -3, -4, -6, -8, -12};

constexpr int QK4_NL = 32;
constexpr int QK_MXFP4 = 32;
constexpr int QK_NVFP4 = 64;
constexpr int QK_NVFP4_SUB = 16;
constexpr int QK1_0 = 128;
constexpr int QK2_0 = 64;

// x = d * kIq4nlLevels[q]; qs[j] holds element j in its low nibble, j + 16 in
// its high one.
struct block_iq4_nl {
    uint16_t d;
    uint8_t qs[QK4_NL / 2];
};
static_assert(sizeof(block_iq4_nl) == 18);

// 8 sub-blocks of 32: x = (d * (ls - 32)) * kIq4nlLevels[q], the 6-bit ls of
// sub-block ib in the nibble ib % 2 of scales_l[ib / 2] (low 4 bits) and bits
// 2 ib, 2 ib + 1 of scales_h (high 2 bits). qs[16 ib + j] holds element
// 32 ib + j (low nibble) and 32 ib + 16 + j (high nibble).
struct block_iq4_xs {
    uint16_t d;
    uint16_t scales_h;
    uint8_t scales_l[QK_K / 64];
    uint8_t qs[QK_K / 2];
};
static_assert(sizeof(block_iq4_xs) == 136);

// x = kFp4Levels[q] * 2^(e - 128) (e an E8M0 exponent, common/fp8_scales.hpp);
// qs[j] holds element j (low nibble) and j + 16 (high nibble).
struct block_mxfp4 {
    uint8_t e;
    uint8_t qs[QK_MXFP4 / 2];
};
static_assert(sizeof(block_mxfp4) == 17);

// 4 sub-blocks of 16: x = kFp4Levels[q] * ue4m3_half(d[s]); qs[8 s + j] holds
// element 16 s + j (low nibble) and 16 s + 8 + j (high nibble).
struct block_nvfp4 {
    uint8_t d[QK_NVFP4 / QK_NVFP4_SUB];
    uint8_t qs[QK_NVFP4 / 2];
};
static_assert(sizeof(block_nvfp4) == 36);

// x = +d if bit j % 8 of qs[j / 8] is set, else -d.
struct block_q1_0 {
    uint16_t d;
    uint8_t qs[QK1_0 / 8];
};
static_assert(sizeof(block_q1_0) == 18);

// x = (q - 1) * d, q in [0, 3] at bits 2 (j % 4) of qs[j / 4].
struct block_q2_0 {
    uint16_t d;
    uint8_t qs[QK2_0 / 4];
};
static_assert(sizeof(block_q2_0) == 18);

// Ternary, 1.6875 bits per weight: x = (t - 1) * d, t in [0, 2]. Five trits
// per byte in qs (four in qh), the first the most significant: a byte b holds
// trit n as ((uint8_t)(b * 3^n) * 3) >> 8, written as ceil(v * 256 / 243) of
// the base-3 number v (the four of qh shifted up one trit). Element order:
// byte m of qs[0..32) holds elements m + 32 n; byte m of qs[32..48) holds
// 160 + m + 16 n; byte m of qh holds 240 + m + 4 n.
struct block_tq1_0 {
    uint8_t qs[(QK_K - 4 * QK_K / 64) / 5];
    uint8_t qh[QK_K / 64];
    uint16_t d;
};
static_assert(sizeof(block_tq1_0) == 54);

// Ternary in 2 bits: x = (q - 1) * d. Byte 32 c + m of qs holds element
// 128 c + m + 32 n at bits 2 n (n in [0, 4)).
struct block_tq2_0 {
    uint8_t qs[QK_K / 4];
    uint16_t d;
};
static_assert(sizeof(block_tq2_0) == 66);

// ---------------------------------------------------------------------------
// Lattice I-quants: groups of 8 weights as points of a grid (lattice_grids.hpp)
// times signs. Sign bits come from even_signs(7 bits) where noted.
// ---------------------------------------------------------------------------

// 2.0625 bits per weight. Sub-block ib of 32: qs[4 ib .. 4 ib + 4) read as
// two little-endian uint32 a0, a1: byte l of a0 is group l's point in
// kIq2xxsCodes, bits 7 l of a1 its 7 sign bits, a1 >> 28 the scale ls:
// x = d * (0.5 + ls) * 0.25 * level * sign.
struct block_iq2_xxs {
    uint16_t d;
    uint16_t qs[QK_K / 8];
};
static_assert(sizeof(block_iq2_xxs) == 66);

// 2.3125 bits per weight. qs[4 ib + l] is group l of sub-block ib of 32: its
// point in kIq2xsCodes (bits 0..8) and 7 sign bits (9..15). scales[ib] holds
// ls of the first 16 weights (low nibble) and of the second (high):
// x = d * (0.5 + ls) * 0.25 * level * sign.
struct block_iq2_xs {
    uint16_t d;
    uint16_t qs[QK_K / 8];
    uint8_t scales[QK_K / 32];
};
static_assert(sizeof(block_iq2_xs) == 74);

// 3.0625 bits per weight. qs[8 ib + 2 l] and qs[8 ib + 2 l + 1] are the two
// points (kIq3xxsCodes, 4 values each) of group l of sub-block ib of 32; the
// little-endian uint32 at qs[64 + 4 ib] holds the groups' 7 sign bits at 7 l
// and ls at bits 28..31: x = d * (0.5 + ls) * 0.5 * level * sign.
struct block_iq3_xxs {
    uint16_t d;
    uint8_t qs[3 * QK_K / 8];
};
static_assert(sizeof(block_iq3_xxs) == 98);

// 2.5625 bits per weight. Group l of sub-block ib of 32 is point
// qs[4 ib + l] | ((qh[ib] >> 2 l) & 3) << 8 of kIq2sCodes with signs
// qs[32 + 4 ib + l] (bit j: value j negative); scales[ib] holds ls of the
// first 16 weights (low nibble) and of the second (high):
// x = d * (0.5 + ls) * 0.25 * level * sign.
struct block_iq2_s {
    uint16_t d;
    uint8_t qs[QK_K / 4];
    uint8_t qh[QK_K / 32];
    uint8_t scales[QK_K / 32];
};
static_assert(sizeof(block_iq2_s) == 82);

// 3.4375 bits per weight. Group l of sub-block ib of 32 is the two points
// (kIq3sCodes, 4 values each) qs[8 ib + 2 l + h] | ((qh[ib] >> (2 l + h)) & 1)
// << 8, h = 0, 1, with signs[4 ib + l]; nibble ib % 2 of scales[ib / 2] is
// ls: x = d * (1 + 2 ls) * level * sign.
struct block_iq3_s {
    uint16_t d;
    uint8_t qs[QK_K / 4];
    uint8_t qh[QK_K / 32];
    uint8_t signs[QK_K / 8];
    uint8_t scales[QK_K / 64];
};
static_assert(sizeof(block_iq3_s) == 110);

// 1.5625 bits per weight. Group l of sub-block ib of 32 is point
// qs[4 ib + l] | ((qh[ib] >> 3 l) & 7) << 8 of kIq1sCodes (levels -1, 0, 1);
// qh[ib] >> 12 & 7 is ls, bit 15 the sign of delta:
// x = d * (2 ls + 1) * (level + delta), delta = +-1/8.
struct block_iq1_s {
    uint16_t d;
    uint8_t qs[QK_K / 8];
    uint16_t qh[QK_K / 32];
};
static_assert(sizeof(block_iq1_s) == 50);

// 1.75 bits per weight, no separate d: scales read as four little-endian
// uint16 sc[k] hold the binary16 d's nibble k in their top 4 bits, and ls of
// sub-block ib's first 16 weights at bits 6 (ib % 2) of sc[ib / 2], of its
// second 16 at bits 6 (ib % 2) + 3 (3 bits each). Group l of sub-block ib is
// point qs[4 ib + l] | ((qh[2 ib + l / 2] >> 4 (l % 2)) & 7) << 8 of
// kIq1sCodes, bit 3 of that nibble the sign of its delta:
// x = d * (2 ls + 1) * (level + delta), delta = +-1/8.
struct block_iq1_m {
    uint8_t qs[QK_K / 8];
    uint8_t qh[QK_K / 16];
    uint8_t scales[QK_K / 32];
};
static_assert(sizeof(block_iq1_m) == 56);

} // namespace lb::formats
