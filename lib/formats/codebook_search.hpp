// Blocks whose values are a scale times one of a few fixed levels (IQ4_NL,
// IQ4_XS, MXFP4, NVFP4, Q2_0): the scalar reference of how lowbit picks the
// scale and the levels.
//
// The objective is the block's (importance-)weighted squared error, computed
// from exactly the floats the dequantizer produces (scale * level). For a
// given scale every value goes to its nearest level, which is optimal value
// by value whatever the weights; the search is over the scale:
//  - candidates put the block's largest-magnitude value m at a target t in
//    level units (d = m / t), for targets around the extreme levels;
//  - each candidate is refitted by least squares on its levels (stored as
//    the format stores scales), kept while the error falls;
//  - the candidate with the lowest error wins; ties keep the earlier one.
// Without an importance vector every weight is 1: the plain squared error.
#pragma once

#include "formats/block_search.hpp"

#include <cmath>
#include <cstdint>

namespace lb::formats {

// A format's levels in ascending order, each with the code that stores it,
// and the midpoints between neighbours (mid[count - 1 ...] are +infinity, so
// that a search over all 15 finds the same level as one over count - 1).
struct Codebook {
    int count = 0;
    float level[16] = {};
    uint8_t code[16] = {};
    float mid[15] = {};
};

constexpr float kNoMid = __builtin_huge_valf();

// The codebook of a format's code table (code c has value values[c]); a value
// stored by two codes (FP4's -0) keeps the lower code.
constexpr Codebook make_codebook(const int8_t *values, int n) {
    Codebook cb;
    for (int c = 0; c < n; ++c) {
        bool seen = false;
        for (int i = 0; i < cb.count; ++i) seen = seen || cb.level[i] == static_cast<float>(values[c]);
        if (seen) continue;
        int at = cb.count++;
        while (at > 0 && cb.level[at - 1] > static_cast<float>(values[c])) {
            cb.level[at] = cb.level[at - 1];
            cb.code[at] = cb.code[at - 1];
            --at;
        }
        cb.level[at] = static_cast<float>(values[c]);
        cb.code[at] = static_cast<uint8_t>(c);
    }
    for (int i = 0; i < 15; ++i)
        cb.mid[i] = i + 1 < cb.count ? 0.5f * (cb.level[i] + cb.level[i + 1]) : kNoMid;
    return cb;
}

inline namespace LOWBIT_ISA { // common/isa.hpp

// The index (into level[]) of the level nearest to t; ties go to the lower:
// the number of midpoints below t (0 for a NaN), found by a branchless binary
// search over the ascending midpoints.
inline int nearest_level(const Codebook &cb, float t) {
    int i = 0;
    i += t > cb.mid[i + 7] ? 8 : 0;
    i += t > cb.mid[i + 3] ? 4 : 0;
    i += t > cb.mid[i + 1] ? 2 : 0;
    i += t > cb.mid[i] ? 1 : 0;
    return i;
}

// The weighted squared error of n values at scale d, each at its nearest
// level; idx receives the level indices.
inline float assign_levels(const float *x, const float *w, int n, float d, const Codebook &cb, uint8_t *idx) {
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    float err = 0.0f;
    for (int j = 0; j < n; ++j) {
        const int i = nearest_level(cb, x[j] * id);
        idx[j] = static_cast<uint8_t>(i);
        const float e = x[j] - d * cb.level[i];
        err += w[j] * e * e;
    }
    return err;
}

// The least-squares scale of n values on the levels idx: sum w x l / sum w l^2.
inline float refit_scale(const float *x, const float *w, int n, const Codebook &cb, const uint8_t *idx) {
    float sxl = 0.0f, sll = 0.0f;
    for (int j = 0; j < n; ++j) {
        const float l = cb.level[idx[j]];
        sxl += w[j] * x[j] * l;
        sll += w[j] * l * l;
    }
    return sll > 0.0f ? sxl / sll : 0.0f;
}

// The value of largest magnitude (the first of equals).
inline float largest_value(const float *x, int n) {
    float m = 0.0f, am = 0.0f;
    for (int j = 0; j < n; ++j)
        if (std::fabs(x[j]) > am) {
            am = std::fabs(x[j]);
            m = x[j];
        }
    return m;
}

// 2 * half level indices into half bytes, as codes: element j in the low
// nibble of byte j, element j + half in its high nibble.
inline void pack_nibbles(const Codebook &cb, const uint8_t *idx, int half, uint8_t *qs) {
    for (int j = 0; j < half; ++j)
        qs[j] = static_cast<uint8_t>(cb.code[idx[j]] | (cb.code[idx[j + half]] << 4));
}

struct ScaleChoice {
    float d = 0.0f;   // the scale as stored (store() of a float)
    float err = 0.0f; // its weighted squared error
};

// The best scale of a block of n values (at most 256) over the targets, each
// refitted up to `refits` times; store(d) maps a float to the nearest scale
// the format can store. idx receives the winner's level indices. The zero
// scale is the first candidate (all values at the level nearest 0).
template <typename Store>
ScaleChoice search_scale(const float *x, const float *w, int n, const Codebook &cb, const float *targets,
                         int n_targets, int refits, Store store, uint8_t *idx) {
    ScaleChoice best;
    best.err = assign_levels(x, w, n, 0.0f, cb, idx);
    const float m = largest_value(x, n);
    if (m == 0.0f) return best;
    uint8_t cand[256], next[256];
    for (int c = 0; c < n_targets; ++c) {
        float d = store(m / targets[c]);
        if (d == 0.0f) continue;
        float err = assign_levels(x, w, n, d, cb, cand);
        for (int r = 0; r < refits; ++r) {
            const float d2 = store(refit_scale(x, w, n, cb, cand));
            if (d2 == d || d2 == 0.0f) break;
            const float err2 = assign_levels(x, w, n, d2, cb, next);
            if (!(err2 < err)) break;
            d = d2;
            err = err2;
            for (int j = 0; j < n; ++j) cand[j] = next[j];
        }
        if (err < best.err) {
            best = {d, err};
            for (int j = 0; j < n; ++j) idx[j] = cand[j];
        }
    }
    return best;
}

} // namespace LOWBIT_ISA

} // namespace lb::formats
