// Conversions between float and the 16-bit formats stored in GGUF files:
// IEEE binary16 ("F16", also every block scale) and bfloat16 ("BF16").
// Both narrowing conversions round to nearest, ties to even, keep
// subnormals, and turn NaN into a quiet NaN of the same sign, as ggml does.
#pragma once

#include <cstdint>
#include <cstring>

namespace lb {

inline uint32_t float_bits(float f) {
    uint32_t u;
    std::memcpy(&u, &f, sizeof u);
    return u;
}

inline float bits_float(uint32_t u) {
    float f;
    std::memcpy(&f, &u, sizeof f);
    return f;
}

// binary16 -> float: exact. Branch-free, so loops over it vectorize.
inline float fp16_to_fp32(uint16_t h) {
    const uint32_t sign = static_cast<uint32_t>(h & 0x8000u) << 16;
    const uint32_t exp = (h >> 10) & 0x1fu;
    const uint32_t man = h & 0x3ffu;
    // normal: rebias the exponent (15 -> 127)
    const uint32_t normal = ((exp + 112u) << 23) | (man << 13);
    // zero or subnormal: man * 2^-24, exact in float
    const uint32_t subnormal = float_bits(static_cast<float>(man) * 5.9604644775390625e-08f);
    // infinity, or NaN made quiet
    const uint32_t special = 0x7f800000u | (man << 13) | (man != 0 ? 0x400000u : 0u);
    return bits_float(sign | (exp == 0 ? subnormal : exp == 0x1f ? special : normal));
}

// float -> binary16, round to nearest even. Branch-free.
inline uint16_t fp32_to_fp16(float f) {
    const uint32_t u = float_bits(f);
    const uint32_t sign = (u >> 16) & 0x8000u;
    const uint32_t a = u & 0x7fffffffu;
    // normal binary16 range: rebias (127 -> 15) and round off 13 mantissa bits
    const uint32_t normal = (a + 0xfffu + ((a >> 13) & 1u) - 0x38000000u) >> 13;
    // below 2^-14: multiples of 2^-24, the spacing of floats in [0.5, 1)
    const uint32_t subnormal = float_bits(bits_float(a) + 0.5f) - 0x3f000000u;
    uint32_t h = a < 0x38800000u ? subnormal : normal;
    h = a >= 0x477ff000u ? 0x7c00u : h; // rounds to 65536 or more: infinity
    h = a > 0x7f800000u ? 0x7e00u : h;  // NaN: quiet
    return static_cast<uint16_t>(sign | h);
}

// bfloat16 -> float: exact.
inline float bf16_to_fp32(uint16_t h) {
    return bits_float(static_cast<uint32_t>(h) << 16);
}

// float -> bfloat16, round to nearest even.
// Both results are computed and one is chosen, without a branch, so that
// loops over rows vectorize.
inline uint16_t fp32_to_bf16(float f) {
    const uint32_t u = float_bits(f);
    const uint32_t quiet_nan = (u >> 16) | 0x40u;
    const uint32_t rounded = (u + 0x7fffu + ((u >> 16) & 1u)) >> 16;
    return static_cast<uint16_t>((u & 0x7fffffffu) > 0x7f800000u ? quiet_nan : rounded);
}

// The float a value becomes once stored as binary16 (how a scale is read back).
inline float round_fp16(float f) {
    return fp16_to_fp32(fp32_to_fp16(f));
}

} // namespace lb
