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

// binary16 -> float: exact.
inline float fp16_to_fp32(uint16_t h) {
    const uint32_t sign = static_cast<uint32_t>(h & 0x8000u) << 16;
    const uint32_t exp = (h >> 10) & 0x1fu;
    const uint32_t man = h & 0x3ffu;
    if (exp == 0x1f) return bits_float(sign | 0x7f800000u | (man != 0 ? 0x400000u : 0u) | (man << 13)); // inf, quiet nan
    if (exp != 0) return bits_float(sign | ((exp + 112) << 23) | (man << 13));
    // zero or subnormal: man * 2^-24, exact in float
    const float v = static_cast<float>(man) * 5.9604644775390625e-08f;
    return sign ? -v : v;
}

// float -> binary16, round to nearest even.
inline uint16_t fp32_to_fp16(float f) {
    const uint32_t u = float_bits(f);
    const uint16_t sign = static_cast<uint16_t>((u >> 16) & 0x8000u);
    const uint32_t a = u & 0x7fffffffu;
    if (a > 0x7f800000u) return sign | 0x7e00u; // nan
    if (a >= 0x477ff000u) return sign | 0x7c00u; // rounds to >= 65520: inf
    if (a >= 0x38800000u) {                      // normal binary16 range (>= 2^-14)
        // rebias exponent (127 -> 15) and round the 13 dropped mantissa bits
        const uint32_t rounded = a + 0xfffu + ((a >> 13) & 1u);
        return sign | static_cast<uint16_t>((rounded - 0x38000000u) >> 13);
    }
    if (a < 0x33000000u) return sign; // below half the smallest subnormal (2^-25): zero
    // subnormal: value = a_float / 2^-24 units, rounded to nearest even
    const uint32_t exp = a >> 23;
    const uint32_t man = (a & 0x7fffffu) | 0x800000u;
    const uint32_t shift = 126 - exp; // 14..24 for exp 102..112
    const uint32_t half = 1u << (shift - 1);
    const uint32_t rest = man & ((1u << shift) - 1);
    uint32_t q = man >> shift;
    if (rest > half || (rest == half && (q & 1u))) ++q;
    return sign | static_cast<uint16_t>(q);
}

// bfloat16 -> float: exact.
inline float bf16_to_fp32(uint16_t h) { return bits_float(static_cast<uint32_t>(h) << 16); }

// float -> bfloat16, round to nearest even.
inline uint16_t fp32_to_bf16(float f) {
    const uint32_t u = float_bits(f);
    if ((u & 0x7fffffffu) > 0x7f800000u) return static_cast<uint16_t>((u >> 16) | 0x40u); // quiet nan
    return static_cast<uint16_t>((u + 0x7fffu + ((u >> 16) & 1u)) >> 16);
}

// The float a value becomes once stored as binary16 (how a scale is read back).
inline float round_fp16(float f) { return fp16_to_fp32(fp32_to_fp16(f)); }

} // namespace lb
