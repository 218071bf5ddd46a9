// What every block quantizer shares: storing scales as binary16, rounding to
// levels, keeping the best few candidates.
//
// These functions are part of the formats' definition: each has one exact
// meaning (every float operation in a fixed order, sums taken element by
// element from first to last), so every implementation, scalar or SIMD,
// produces the same bytes.
#pragma once

#include "common/isa.hpp"

#include <cstdint>
#include <cstring>

namespace lb::formats {

// How hard a quantizer searches. kFast (used without an importance matrix)
// stays as fast as llama.cpp's reference quantizers: one least-squares
// correction of the reference scale. kThorough (used with an importance
// matrix) tries a grid of scales and refines the best few.
enum class Effort { kFast, kThorough };

constexpr float kMaxScale = 65504.0f; // largest finite binary16

// The functions, in each instruction set's own namespace (common/isa.hpp).
inline namespace LOWBIT_ISA {

inline uint32_t bits_of(float f) {
    uint32_t u;
    std::memcpy(&u, &f, 4);
    return u;
}

inline float float_of(uint32_t u) {
    float f;
    std::memcpy(&f, &u, 4);
    return f;
}

// Round to nearest integer, ties to even; |v| must be below 2^22.
inline float nearest(float v) {
    return (v + 12582912.0f) - 12582912.0f;
}

inline float clamp(float v, float lo, float hi) {
    v = v < lo ? lo : v;
    return v > hi ? hi : v;
}

// A scale as it will be stored: clamped to the finite binary16 range and
// rounded to nearest binary16 (ties to even), without branches.
inline float storable_scale(float d) {
    const uint32_t u = bits_of(clamp(d, -kMaxScale, kMaxScale));
    const uint32_t sign = u & 0x80000000u, a = u & 0x7fffffffu;
    // normal binary16 (|d| >= 2^-14): keep 10 mantissa bits
    const uint32_t normal = (a + 0x0fffu + ((a >> 13) & 1u)) & ~0x1fffu;
    // subnormal: multiples of 2^-24, the spacing of floats in [0.5, 1)
    const uint32_t subnormal = bits_of((float_of(a) + 0.5f) - 0.5f);
    return float_of(sign | (a < 0x38800000u ? subnormal : normal));
}

// The binary16 bits of a storable scale (an exact binary16 value).
inline uint16_t scale_bits(float d) {
    const uint32_t u = bits_of(d);
    const uint32_t sign = (u >> 16) & 0x8000u, a = u & 0x7fffffffu;
    const uint32_t normal = (a - 0x38000000u) >> 13;
    // |d| / 2^-24, computed for every d: bounded first, as a float too large
    // for uint32_t must not be converted even when the result is not used
    const uint32_t subnormal = static_cast<uint32_t>(clamp(float_of(a), 0.0f, 0x1p-14f) * 16777216.0f);
    return static_cast<uint16_t>(sign | (a < 0x38800000u ? subnormal : normal));
}

// The K candidates with the lowest (estimated) error, in order. Ties keep the
// earlier candidate; a candidate already in the pool is not added twice.
template <int K> struct CandidatePool {
    double err[K];
    float d[K], m[K];
    int n = 0;
    void add(double e, float dv, float mv = 0.0f) {
        for (int i = 0; i < n; ++i)
            if (d[i] == dv && m[i] == mv) return;
        int i;
        if (n < K)
            i = n++;
        else if (e < err[K - 1])
            i = K - 1;
        else
            return;
        for (; i > 0 && e < err[i - 1]; --i) err[i] = err[i - 1], d[i] = d[i - 1], m[i] = m[i - 1];
        err[i] = e, d[i] = dv, m[i] = mv;
    }
};

// The weights a block's search minimises: its importance values, or 1 for
// every value when there are none or they are all zero.
inline void block_weights(const float *imatrix, int n, float *w) {
    float s = 0.0f;
    if (imatrix != nullptr)
        for (int j = 0; j < n; ++j) s += imatrix[j];
    for (int j = 0; j < n; ++j) w[j] = s > 0.0f ? imatrix[j] : 1.0f;
}

} // namespace LOWBIT_ISA
} // namespace lb::formats
