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

// Alternates the least-squares (d, m) for the current levels with rounding to
// the nearest levels, while the error strictly decreases.
template <int N, int NMAX>
inline AffineFit affine_refine(const float *x, const float *w, float sw, float sx, AffineFit best,
                               int iterations) {
    for (int it = 0; it < iterations; ++it) {
        float d, m;
        if (!affine_ls(best.sl, best.sll, best.sxl, sw, sx, &d, &m) || (d == best.d && m == best.m)) break;
        const AffineFit f = affine_eval<N, NMAX>(x, w, d, m);
        if (!(f.err < best.err)) break;
        best = f;
    }
    return best;
}

// Evaluates candidates (ds[i], ms[i]), i in [0, n), on one block, in order.
using AffineEvalAll = void (*)(const float *x, const float *w, const float *ds, const float *ms, int n,
                               AffineFit *fits);

template <int N, int NMAX>
void affine_eval_all(const float *x, const float *w, const float *ds, const float *ms, int n,
                     AffineFit *fits) {
    for (int i = 0; i < n; ++i) fits[i] = affine_eval<N, NMAX>(x, w, ds[i], ms[i]);
}

// Thorough path: a grid of steps and offsets. Each candidate is evaluated
// once (eval_all: the scalar affine_eval_all or a kernel computing the same)
// and its least-squares (d, m) judged from the same sums; the three most
// promising are refined exactly. w holds N weights.
template <int N, int NMAX>
inline void affine_quantize_thorough(const float *x, const float *w, uint8_t *q, float *out_d, float *out_m,
                                     AffineEvalAll eval_all) {
    float mn, mx;
    min_max(x, N, &mn, &mx);
    if (mx == mn) { // a constant block: every level 0
        for (int j = 0; j < N; ++j) q[j] = 0;
        *out_d = 0.0f;
        *out_m = storable_scale(mn);
        return;
    }
    float sw = 0.0f, sx = 0.0f;
    for (int j = 0; j < N; ++j) {
        sw += w[j];
        sx += w[j] * x[j];
    }
    // the reference first, then steps that spread [min, max] over NMAX - 1 ..
    // NMAX + 2 levels, starting at the minimum or a third or two above it
    float ds[25], ms[25];
    int n = 0;
    ds[n] = storable_scale((mx - mn) / static_cast<float>(NMAX)), ms[n++] = storable_scale(mn);
    for (int a = 0; a < 8; ++a) {
        const float d = (mx - mn) / (static_cast<float>(NMAX) - 1.0f + (3.0f / 7.0f) * static_cast<float>(a));
        for (int b = 0; b < 3; ++b)
            ds[n] = storable_scale(d), ms[n++] = storable_scale(mn + (static_cast<float>(b) / 3.0f) * d);
    }
    AffineFit fits[25];
    eval_all(x, w, ds, ms, n, fits);

    AffineFit best = fits[0];
    CandidatePool<3> pool;
    for (int i = 0; i < n; ++i) {
        const AffineFit &f = fits[i];
        // errors are compared without the common term sum w x^2
        pool.add(affine_error_offset(f.d, f.m, f.sl, f.sll, f.sxl, sw, sx), f.d, f.m);
        float d1, m1;
        if (affine_ls(f.sl, f.sll, f.sxl, sw, sx, &d1, &m1))
            pool.add(affine_error_offset(d1, m1, f.sl, f.sll, f.sxl, sw, sx), d1, m1);
    }
    for (int i = 0; i < pool.n; ++i) {
        const AffineFit f =
            affine_refine<N, NMAX>(x, w, sw, sx, affine_eval<N, NMAX>(x, w, pool.d[i], pool.m[i]), 4);
        if (f.err < best.err) best = f;
    }
    const float id = inverse_or_zero(best.d);
    for (int j = 0; j < N; ++j)
        q[j] = static_cast<uint8_t>(static_cast<int>(affine_level<NMAX>(x[j], best.m, id)));
    *out_d = best.d;
    *out_m = best.m;
}

} // namespace LOWBIT_ISA
} // namespace lb::formats
