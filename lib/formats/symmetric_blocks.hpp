// Blocks of the form xhat = l * d, l an integer in [LO, HI] (Q4_0, Q5_0,
// Q8_0): the scalar reference of how lowbit chooses d and l.
//
// The objective is the (importance-)weighted squared error of the block,
// sum_j w_j (x_j - xhat_j)^2, with w_j = 1 without an importance matrix.
// The first candidate is always llama.cpp's reference scale (the largest
// magnitude mapped to LO) with each value at its nearest level, and it is
// only ever replaced by something with lower error.
#pragma once

#include "common/isa.hpp"
#include "formats/block_search.hpp"

#include <initializer_list>

namespace lb::formats {
inline namespace LOWBIT_ISA {

// Smallest and largest value of n values.
inline void min_max(const float *x, int n, float *out_min, float *out_max) {
    float mn = x[0], mx = x[0];
    for (int j = 1; j < n; ++j) {
        mn = x[j] < mn ? x[j] : mn;
        mx = x[j] > mx ? x[j] : mx;
    }
    *out_min = mn;
    *out_max = mx;
}

// The value of largest magnitude; +a wins a tie with -a.
inline float signed_absmax(float mn, float mx) {
    return mx >= -mn ? mx : mn;
}

template <int LO, int HI> inline float symmetric_level(float x, float id) {
    return nearest(clamp(x * id, static_cast<float>(LO), static_cast<float>(HI)));
}

inline float inverse_or_zero(float d) {
    return d != 0.0f ? 1.0f / d : 0.0f;
}

// Fast path, the definition. For the reference scale d0 = big / LO, round
// every value to its nearest level, then take the least-squares scale d1 for
// those levels if it lowers the error (the levels stay). Returns d and stores
// level + OFFSET in q.
template <int N, int LO, int HI, int OFFSET>
inline float symmetric_quantize_fast(const float *x, uint8_t *q) {
    float mn, mx;
    min_max(x, N, &mn, &mx);
    const float d0 = storable_scale(signed_absmax(mn, mx) / static_cast<float>(LO));
    const float id = inverse_or_zero(d0);
    float sxl = 0.0f, sll = 0.0f;
    for (int j = 0; j < N; ++j) {
        const float l = symmetric_level<LO, HI>(x[j], id);
        q[j] = static_cast<uint8_t>(static_cast<int>(l) + OFFSET);
        sxl += x[j] * l;
        sll += l * l; // an exact integer
    }
    const float d1 = sll > 0.0f ? storable_scale(sxl / sll) : d0;
    // error(d1) - error(d0) with these levels
    const float delta = (d1 - d0) * ((d1 + d0) * sll - 2.0f * sxl);
    return delta < 0.0f ? d1 : d0;
}

} // namespace LOWBIT_ISA

struct SymmetricFit {
    float d = 0;   // binary16-exact
    float err = 0; // weighted squared error with the nearest levels
    float sxl = 0; // sum w x l
    float sll = 0; // sum w l^2
};

inline namespace LOWBIT_ISA {

template <int N, int LO, int HI> inline SymmetricFit symmetric_eval(const float *x, const float *w, float d) {
    const float id = inverse_or_zero(d);
    SymmetricFit f;
    f.d = d;
    for (int j = 0; j < N; ++j) {
        const float l = symmetric_level<LO, HI>(x[j], id);
        const float r = x[j] - l * d;
        f.err += w[j] * r * r;
        f.sxl += w[j] * x[j] * l;
        f.sll += w[j] * l * l;
    }
    return f;
}

inline float symmetric_ls_scale(const SymmetricFit &f) {
    return f.sll > 0.0f ? storable_scale(f.sxl / f.sll) : f.d;
}

// The thorough path (with an importance matrix) is block_groups.hpp's.

} // namespace LOWBIT_ISA
} // namespace lb::formats
