// Blocks of sign levels times one binary16 scale: ternary x = t d with t in
// {-1, 0, 1} (TQ1_0, TQ2_0) and binary x = +-d (Q1_0). The scalar reference
// of how lowbit picks d and the levels, minimising the block's (importance-)
// weighted squared error sum w (x - t d)^2:
//  - for a given d >= 0, each value takes its nearest level;
//  - the levels that are nonzero at the best d are the k largest |x|, for
//    some k, and then d = sum w |x| / sum w over them (least squares), so the
//    best k is the one that maximises (sum w |x|)^2 / sum w over the k largest
//    (every k is tried, in order of |x|; binary blocks take every value);
//  - that d rounded to binary16, its two binary16 neighbours and the largest
//    |x| (llama.cpp's choice) are evaluated exactly; the lowest error wins.
#pragma once

#include "common/fp16.hpp"
#include "formats/block_search.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>

namespace lb::formats {

inline namespace LOWBIT_ISA { // common/isa.hpp

// Levels of n values at the stored scale d >= 0, and their weighted squared
// error (summed in double: neighbouring scales can differ by less than a
// float sum's rounding); zero levels only where allow_zero.
inline double assign_signs(const float *x, const float *w, int n, float d, bool allow_zero, int8_t *t) {
    double err = 0.0;
    for (int j = 0; j < n; ++j) {
        const float a = std::fabs(x[j]);
        int8_t s = x[j] >= 0.0f ? 1 : -1;
        if (allow_zero && !(std::fabs(a - d) < a)) s = 0;
        t[j] = s;
        const double e = static_cast<double>(x[j] - static_cast<float>(s) * d);
        err += static_cast<double>(w[j]) * e * e;
    }
    return err;
}

// The least-squares scale of the best set of nonzero levels (see above).
inline double best_sign_scale(const float *x, const float *w, int n, bool allow_zero) {
    double a = 0.0, b = 0.0;
    if (!allow_zero) {
        for (int j = 0; j < n; ++j) {
            a += static_cast<double>(w[j]) * std::fabs(x[j]);
            b += w[j];
        }
        return b > 0.0 ? a / b : 0.0;
    }
    // the values by decreasing |x|, equal ones by index: ascending keys of
    // the complemented bits of |x| (a finite float's bits order as its value)
    // above the index
    uint64_t order[256];
    for (int j = 0; j < n; ++j)
        order[j] = static_cast<uint64_t>(~bits_of(std::fabs(x[j]))) << 32 | static_cast<uint32_t>(j);
    std::sort(order, order + n);
    double best = 0.0, d = 0.0;
    for (int k = 0; k < n; ++k) {
        const uint32_t j = static_cast<uint32_t>(order[k]);
        a += static_cast<double>(w[j]) * std::fabs(x[j]);
        b += w[j];
        if (b > 0.0 && a * a / b > best) {
            best = a * a / b;
            d = a / b;
        }
    }
    return d;
}

// The stored scale of n values (at most 256), their levels in t.
inline uint16_t sign_block(const float *x, const float *w, int n, bool allow_zero, int8_t *t) {
    const uint16_t centre =
        scale_bits(storable_scale(static_cast<float>(best_sign_scale(x, w, n, allow_zero))));
    float amax = 0.0f;
    for (int j = 0; j < n; ++j) amax = std::max(amax, std::fabs(x[j]));
    const uint16_t candidates[4] = {centre, static_cast<uint16_t>(centre + 1),
                                    static_cast<uint16_t>(centre > 0 ? centre - 1 : 0),
                                    scale_bits(storable_scale(amax))};
    uint16_t best = 0;
    double best_err = assign_signs(x, w, n, 0.0f, allow_zero, t);
    int8_t cand[256];
    for (uint16_t c : candidates) {
        if (c == 0 || c >= 0x7c00) continue; // zero was the first candidate; no infinities
        const double err = assign_signs(x, w, n, fp16_to_fp32(c), allow_zero, cand);
        if (!(err < best_err)) continue;
        best_err = err;
        best = c;
        std::copy(cand, cand + n, t);
    }
    return best;
}

} // namespace LOWBIT_ISA

} // namespace lb::formats
