// Choosing the scale (and offset) of one block: the search every 32-block
// format shares. These functions define the formats' quantization behaviour,
// so they are written to give the same bytes on every machine:
//  - sums run in 8 lanes (element j goes to lane j % 8) combined in a fixed
//    tree, so a SIMD version can reproduce them exactly;
//  - rounding is round-to-nearest-even through the 1.5 * 2^23 trick;
//  - candidate scales are rounded to binary16 before use, so the error a
//    candidate is judged by is the error of what is stored.
//
// The objective is the (importance-)weighted squared error of the block,
// sum_j w_j (x_j - xhat_j)^2, with w_j = 1 when there is no importance
// matrix. The candidates always include the scale llama.cpp's reference
// quantizer would use, and candidates are only ever replaced by strictly
// better ones, so a block's error is never above the reference's.
#pragma once

#include "common/fp16.hpp"

#include <algorithm>
#include <cmath>

namespace lb::formats {

// How hard to search: kFast keeps quantization at least as fast as
// llama.cpp's reference path; kThorough (used with an importance matrix)
// tries a grid of scales first.
enum class Effort { kFast, kThorough };

constexpr float kMaxScale = 65504.0f; // largest finite binary16

// Sum of 8 lanes in the fixed order every implementation uses.
inline float lane_sum(const float a[8]) { return ((a[0] + a[4]) + (a[2] + a[6])) + ((a[1] + a[5]) + (a[3] + a[7])); }

// Round to nearest integer, ties to even; |v| must be below 2^22.
inline float nearest(float v) { return (v + 12582912.0f) - 12582912.0f; }

// A scale as it will be stored: clamped to the binary16 range and rounded.
inline float storable_scale(float d) { return round_fp16(std::min(std::max(d, -kMaxScale), kMaxScale)); }

// Largest magnitude and the signed value that has it. Ties between +a and -a
// pick +a.
template <int N> inline float signed_absmax(const float *x, float *amax) {
    float hi[8], lo[8];
    for (int k = 0; k < 8; ++k) hi[k] = lo[k] = x[k];
    for (int j = 8; j < N; j += 8)
        for (int k = 0; k < 8; ++k) {
            hi[k] = std::max(hi[k], x[j + k]);
            lo[k] = std::min(lo[k], x[j + k]);
        }
    float vmax = hi[0], vmin = lo[0];
    for (int k = 1; k < 8; ++k) {
        vmax = std::max(vmax, hi[k]);
        vmin = std::min(vmin, lo[k]);
    }
    *amax = std::max(vmax, -vmin);
    return vmax >= -vmin ? vmax : vmin;
}

template <int N> inline void min_max(const float *x, float *out_min, float *out_max) {
    float hi[8], lo[8];
    for (int k = 0; k < 8; ++k) hi[k] = lo[k] = x[k];
    for (int j = 8; j < N; j += 8)
        for (int k = 0; k < 8; ++k) {
            hi[k] = std::max(hi[k], x[j + k]);
            lo[k] = std::min(lo[k], x[j + k]);
        }
    float vmax = hi[0], vmin = lo[0];
    for (int k = 1; k < 8; ++k) {
        vmax = std::max(vmax, hi[k]);
        vmin = std::min(vmin, lo[k]);
    }
    *out_min = vmin;
    *out_max = vmax;
}

// Sum of the weights of a block (N when unweighted).
template <int N> inline float weight_sum(const float *w) {
    if (w == nullptr) return static_cast<float>(N);
    float s[8] = {};
    for (int j = 0; j < N; j += 8)
        for (int k = 0; k < 8; ++k) s[k] += w[j + k];
    return lane_sum(s);
}

// The K candidates with the lowest (estimated) error, in order. Ties keep the
// earlier candidate, and a candidate already in the pool is not added twice.
template <int K> struct CandidatePool {
    double err[K];
    float d[K], m[K];
    int n = 0;
    int size() const { return n; }
    void add(double e, float dv, float mv = 0.0f) {
        for (int i = 0; i < n; ++i)
            if (d[i] == dv && m[i] == mv) return;
        int i = n < K ? n++ : K;
        if (i == K && !(e < err[K - 1])) return;
        if (i == K) i = K - 1;
        while (i > 0 && e < err[i - 1]) {
            err[i] = err[i - 1], d[i] = d[i - 1], m[i] = m[i - 1];
            --i;
        }
        err[i] = e, d[i] = dv, m[i] = mv;
    }
};

// ---------------------------------------------------------------------------
// Symmetric blocks: xhat = l * d, l an integer in [LO, HI].
// ---------------------------------------------------------------------------

struct SymmetricFit {
    float d = 0;   // binary16-exact
    float err = 0; // weighted squared error with the nearest levels
    float sxl = 0; // sum w x l
    float sll = 0; // sum w l^2
};

// Error and least-squares sums of scale d with each element rounded to its
// nearest level.
template <int N, int LO, int HI> inline SymmetricFit symmetric_eval(const float *x, const float *w, float d) {
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    float e[8] = {}, a[8] = {}, b[8] = {};
    for (int j = 0; j < N; j += 8)
        for (int k = 0; k < 8; ++k) {
            const float v = x[j + k];
            const float l = nearest(std::min(std::max(v * id, static_cast<float>(LO)), static_cast<float>(HI)));
            const float r = v - l * d;
            const float wk = w != nullptr ? w[j + k] : 1.0f;
            e[k] += wk * r * r;
            a[k] += wk * v * l;
            b[k] += wk * l * l;
        }
    SymmetricFit f;
    f.d = d;
    f.err = lane_sum(e);
    f.sxl = lane_sum(a);
    f.sll = lane_sum(b);
    return f;
}

// Improves a fit by alternating a least-squares scale for the current levels
// with re-rounding to the new scale, while the error strictly decreases.
template <int N, int LO, int HI>
inline SymmetricFit symmetric_refine(const float *x, const float *w, SymmetricFit best, int iterations) {
    for (int it = 0; it < iterations && best.sll > 0.0f; ++it) {
        const float d = storable_scale(best.sxl / best.sll);
        if (d == best.d) break;
        const SymmetricFit f = symmetric_eval<N, LO, HI>(x, w, d);
        if (!(f.err < best.err)) break;
        best = f;
    }
    return best;
}

// The scale for a block of N values with levels [LO, HI], binary16-exact.
template <int N, int LO, int HI> inline float symmetric_search(const float *x, const float *w, Effort effort) {
    static_assert(N % 8 == 0 && LO < 0 && HI > 0);
    if (w != nullptr && !(weight_sum<N>(w) > 0.0f)) w = nullptr; // no information: plain error
    float amax;
    const float mx = signed_absmax<N>(x, &amax);
    if (amax == 0.0f) return 0.0f;
    // llama.cpp's reference scale maps the largest magnitude to LO.
    SymmetricFit best = symmetric_eval<N, LO, HI>(x, w, storable_scale(mx / LO));
    if (effort == Effort::kFast) return symmetric_refine<N, LO, HI>(x, w, best, 2).d;

    // Thorough: map the largest magnitude to a grid of points near either end
    // of the level range. Each candidate is evaluated once; its least-squares
    // rescale is judged from the same sums. The few most promising are then
    // refined with exact passes.
    float sxx = 0;
    {
        float a[8] = {};
        for (int j = 0; j < N; j += 8)
            for (int k = 0; k < 8; ++k) a[k] += (w != nullptr ? w[j + k] : 1.0f) * x[j + k] * x[j + k];
        sxx = lane_sum(a);
    }
    CandidatePool<3> pool;
    auto consider = [&](const SymmetricFit &f) {
        pool.add(f.err, f.d);
        if (f.sll > 0.0f) {
            const float d = storable_scale(f.sxl / f.sll);
            const double e = static_cast<double>(sxx) - 2.0 * d * static_cast<double>(f.sxl) +
                             static_cast<double>(d) * d * static_cast<double>(f.sll);
            pool.add(e, d);
        }
    };
    consider(best);
    for (int k = 0; k < 8; ++k) {
        const float t = -0.5f + 0.2f * static_cast<float>(k); // -0.5 .. 0.9
        for (float v : {static_cast<float>(LO) - t, static_cast<float>(HI) + t}) {
            const float d = storable_scale(mx / v);
            if (d != best.d) consider(symmetric_eval<N, LO, HI>(x, w, d));
        }
    }
    for (int i = 0; i < pool.size(); ++i) {
        const SymmetricFit f = symmetric_refine<N, LO, HI>(x, w, symmetric_eval<N, LO, HI>(x, w, pool.d[i]), 4);
        if (f.err < best.err) best = f;
    }
    return best.d;
}

// The levels of a block for scale d, each the nearest in [LO, HI].
template <int N, int LO, int HI> inline void symmetric_levels(const float *x, float d, int *l) {
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    for (int j = 0; j < N; ++j)
        l[j] = static_cast<int>(
            nearest(std::min(std::max(x[j] * id, static_cast<float>(LO)), static_cast<float>(HI))));
}

// ---------------------------------------------------------------------------
// Affine blocks: xhat = l * d + m, l an integer in [0, NMAX], d >= 0.
// ---------------------------------------------------------------------------

struct AffineFit {
    float d = 0, m = 0; // binary16-exact
    float err = 0;
    float sl = 0, sll = 0, sxl = 0; // sums of w l, w l^2, w x l
};

template <int N, int NMAX> inline AffineFit affine_eval(const float *x, const float *w, float d, float m) {
    const float id = d > 0.0f ? 1.0f / d : 0.0f;
    float e[8] = {}, s1[8] = {}, s2[8] = {}, s3[8] = {};
    for (int j = 0; j < N; j += 8)
        for (int k = 0; k < 8; ++k) {
            const float v = x[j + k];
            const float l = nearest(std::min(std::max((v - m) * id, 0.0f), static_cast<float>(NMAX)));
            const float r = v - (l * d + m);
            const float wk = w != nullptr ? w[j + k] : 1.0f;
            e[k] += wk * r * r;
            s1[k] += wk * l;
            s2[k] += wk * l * l;
            s3[k] += wk * v * l;
        }
    AffineFit f;
    f.d = d;
    f.m = m;
    f.err = lane_sum(e);
    f.sl = lane_sum(s1);
    f.sll = lane_sum(s2);
    f.sxl = lane_sum(s3);
    return f;
}

// Alternates the least-squares (d, m) for the current levels with
// re-rounding, while the error strictly decreases. sw = sum w, sx = sum w x.
template <int N, int NMAX>
inline AffineFit affine_refine(const float *x, const float *w, float sw, float sx, AffineFit best, int iterations) {
    for (int it = 0; it < iterations; ++it) {
        const double det = static_cast<double>(best.sll) * sw - static_cast<double>(best.sl) * best.sl;
        if (!(det > 0.0)) break;
        const double dd = (static_cast<double>(sw) * best.sxl - static_cast<double>(best.sl) * sx) / det;
        const double mm = (static_cast<double>(best.sll) * sx - static_cast<double>(best.sl) * best.sxl) / det;
        if (!(dd > 0.0)) break;
        const float d = storable_scale(static_cast<float>(dd));
        const float m = storable_scale(static_cast<float>(mm));
        if (d == best.d && m == best.m) break;
        const AffineFit f = affine_eval<N, NMAX>(x, w, d, m);
        if (!(f.err < best.err)) break;
        best = f;
    }
    return best;
}

// Scale and offset for a block of N values with levels [0, NMAX].
template <int N, int NMAX>
inline void affine_search(const float *x, const float *w, Effort effort, float *out_d, float *out_m) {
    static_assert(N % 8 == 0 && NMAX > 0);
    if (w != nullptr && !(weight_sum<N>(w) > 0.0f)) w = nullptr;
    float mn, mx;
    min_max<N>(x, &mn, &mx);
    if (mx == mn) { // constant block: all levels 0
        *out_d = 0.0f;
        *out_m = storable_scale(mn);
        return;
    }
    float sw = 0, sx = 0, sxx = 0;
    {
        float a[8] = {}, b[8] = {}, c[8] = {};
        for (int j = 0; j < N; j += 8)
            for (int k = 0; k < 8; ++k) {
                const float wk = w != nullptr ? w[j + k] : 1.0f;
                a[k] += wk;
                b[k] += wk * x[j + k];
                c[k] += wk * x[j + k] * x[j + k];
            }
        sw = lane_sum(a);
        sx = lane_sum(b);
        sxx = lane_sum(c);
    }
    // llama.cpp's reference: the range [min, max] spread over the levels.
    AffineFit best = affine_eval<N, NMAX>(x, w, storable_scale((mx - mn) / NMAX), storable_scale(mn));
    if (effort == Effort::kFast) {
        best = affine_refine<N, NMAX>(x, w, sw, sx, best, 2);
    } else {
        // Thorough: a grid of steps and offsets. Each candidate is evaluated
        // once; its least-squares (d, m) for the same levels is judged from
        // the same sums. The few most promising are refined exactly.
        CandidatePool<3> pool;
        auto consider = [&](const AffineFit &f) {
            pool.add(f.err, f.d, f.m);
            const double det = static_cast<double>(f.sll) * sw - static_cast<double>(f.sl) * f.sl;
            if (!(det > 0.0)) return;
            const double dd = (static_cast<double>(sw) * f.sxl - static_cast<double>(f.sl) * sx) / det;
            const double mm = (static_cast<double>(f.sll) * sx - static_cast<double>(f.sl) * f.sxl) / det;
            if (!(dd > 0.0)) return;
            const double d = storable_scale(static_cast<float>(dd)), m = storable_scale(static_cast<float>(mm));
            const double e = sxx - 2.0 * d * f.sxl - 2.0 * m * sx + d * d * f.sll + 2.0 * d * m * f.sl + m * m * sw;
            pool.add(e, static_cast<float>(d), static_cast<float>(m));
        };
        consider(best);
        for (int a = 0; a < 8; ++a) {
            // steps that spread [min, max] over NMAX - 1 .. NMAX + 2 levels,
            // starting at the minimum or a third or two thirds of a step above
            const float d = (mx - mn) / (static_cast<float>(NMAX) - 1.0f + (3.0f / 7.0f) * static_cast<float>(a));
            for (int b = 0; b < 3; ++b) {
                const float m = mn + (static_cast<float>(b) / 3.0f) * d;
                consider(affine_eval<N, NMAX>(x, w, storable_scale(d), storable_scale(m)));
            }
        }
        for (int i = 0; i < pool.size(); ++i) {
            const AffineFit f =
                affine_refine<N, NMAX>(x, w, sw, sx, affine_eval<N, NMAX>(x, w, pool.d[i], pool.m[i]), 4);
            if (f.err < best.err) best = f;
        }
    }
    *out_d = best.d;
    *out_m = best.m;
}

template <int N, int NMAX> inline void affine_levels(const float *x, float d, float m, int *l) {
    const float id = d > 0.0f ? 1.0f / d : 0.0f;
    for (int j = 0; j < N; ++j)
        l[j] = static_cast<int>(nearest(std::min(std::max((x[j] - m) * id, 0.0f), static_cast<float>(NMAX))));
}

} // namespace lb::formats
