// Blocks of the form xhat = l * d + m, l an integer in [0, NMAX], d >= 0
// (Q4_1, Q5_1): the scalar reference of how lowbit chooses d, m and l.
// Same objective and guarantee as symmetric_blocks.hpp: the first candidate
// is llama.cpp's reference (the range [min, max] spread over the levels)
// with each value at its nearest level, only ever replaced by something
// with lower error.
#pragma once

#include "common/isa.hpp"
#include "formats/block_search.hpp"
#include "formats/symmetric_blocks.hpp"

namespace lb::formats {
inline namespace LOWBIT_ISA {

template <int NMAX> inline float affine_level(float x, float m, float id) {
    return nearest(clamp((x - m) * id, 0.0f, static_cast<float>(NMAX)));
}

// Error of (d, m) with given levels, minus sum w x^2, from the level sums.
inline float affine_error_offset(float d, float m, float sl, float sll, float sxl, float sw, float sx) {
    return d * (d * sll - 2.0f * sxl) + m * (m * sw - 2.0f * sx) + 2.0f * d * m * sl;
}

// The least-squares (d, m) for given level sums, binary16-exact; false if the
// levels do not determine them or d would not be positive.
inline bool affine_ls(float sl, float sll, float sxl, float sw, float sx, float *d, float *m) {
    const float det = sll * sw - sl * sl;
    if (!(det > 0.0f)) return false;
    const float inv = 1.0f / det;
    *d = storable_scale((sw * sxl - sl * sx) * inv);
    *m = storable_scale((sll * sx - sl * sxl) * inv);
    return *d > 0.0f;
}

// Fast path, the definition. For the reference (d0, m0) round every value to
// its nearest level, then take the least-squares (d1, m1) for those levels if
// it lowers the error (the levels stay). Stores the levels in q.
template <int N, int NMAX>
inline void affine_quantize_fast(const float *x, uint8_t *q, float *out_d, float *out_m) {
    float mn, mx;
    min_max(x, N, &mn, &mx);
    float sx = 0.0f;
    for (int j = 0; j < N; ++j) sx += x[j];
    const float d0 = storable_scale((mx - mn) / static_cast<float>(NMAX)), m0 = storable_scale(mn);
    const float id = inverse_or_zero(d0);
    float sl = 0.0f, sll = 0.0f, sxl = 0.0f;
    for (int j = 0; j < N; ++j) {
        const float l = affine_level<NMAX>(x[j], m0, id);
        q[j] = static_cast<uint8_t>(static_cast<int>(l));
        sl += l; // sl and sll are exact integers
        sll += l * l;
        sxl += x[j] * l;
    }
    const float sw = static_cast<float>(N);
    float d1, m1;
    const bool better =
        affine_ls(sl, sll, sxl, sw, sx, &d1, &m1) &&
        affine_error_offset(d1, m1, sl, sll, sxl, sw, sx) < affine_error_offset(d0, m0, sl, sll, sxl, sw, sx);
    *out_d = better ? d1 : d0;
    *out_m = better ? m1 : m0;
}

} // namespace LOWBIT_ISA

struct AffineFit {
    float d = 0, m = 0; // binary16-exact
    float err = 0;
    float sl = 0, sll = 0, sxl = 0; // sums of w l, w l^2, w x l
};

inline namespace LOWBIT_ISA {

template <int N, int NMAX> inline AffineFit affine_eval(const float *x, const float *w, float d, float m) {
    const float id = inverse_or_zero(d);
    AffineFit f;
    f.d = d;
    f.m = m;
    for (int j = 0; j < N; ++j) {
        const float l = affine_level<NMAX>(x[j], m, id);
        const float r = x[j] - (l * d + m);
        f.err += w[j] * r * r;
        f.sl += w[j] * l;
        f.sll += w[j] * l * l;
        f.sxl += w[j] * x[j] * l;
    }
    return f;
}

// The thorough path (with an importance matrix) is block_groups.hpp's.

} // namespace LOWBIT_ISA
} // namespace lb::formats
