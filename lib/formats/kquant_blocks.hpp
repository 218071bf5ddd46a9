// K-quant super-blocks: the scalar reference of how lowbit chooses the
// super-block scale(s), each sub-block's integer scale (and min) and the
// levels, for the two shapes the K-quants come in:
//  - symmetric (Q3_K, Q6_K): x = (d * c_j) * l, l in [LO, HI], c_j in [CLO, CHI];
//  - affine (Q2_K, Q4_K, Q5_K): x = (d * c_j) * l - (dmin * m_j), l in
//    [0, NMAX], c_j and m_j in [0, CMAX].
//
// The objective is the (importance-)weighted squared error of the super-block.
//  1. each sub-block's best unconstrained scale (and offset <= 0), searched as
//     for the 32-blocks but without binary16 rounding;
//  2. candidate super-block scales from the largest sub-block scale (and
//     largest offset);
//  3. for each candidate, each sub-block picks the integer scale (and min)
//     within one step of its ideal value that gives the lowest error, with
//     every value at its nearest level;
//  4. the least-squares super-block scale(s) for the chosen codes and levels,
//     kept while they lower the error.
// Every error is computed from exactly the floats the dequantizer produces:
// (d * c) * l, minus dmin * m.
#pragma once

#include "formats/affine_blocks.hpp"
#include "formats/block_search.hpp"
#include "formats/symmetric_blocks.hpp"
#include "lowbit/lowbit.h"

#include <initializer_list>

namespace lb::formats {

// How hard a K-quant super-block search works.
struct KEffort {
    bool subblock_grid;    // step 1 tries a grid of scales (else the reference scale, refined)
    int code_reach;        // step 3 tries codes up to this far from the ideal one
    bool joint_codes;      // affine step 3 tries scale and min codes jointly (else one after the other)
    bool super_candidates; // step 2 tries several super-block scales
    int ls_iterations;     // step 4 rounds
};

// The effort a format uses with or without an importance matrix
// (kquant_effort.cpp).
KEffort kquant_effort(lb_type type, bool with_imatrix);

// 256 weights of 1, for callers without an importance matrix.
const float *unit_weights();

inline int code_of(float v, int lo, int hi) {
    return static_cast<int>(nearest(clamp(v, static_cast<float>(lo), static_cast<float>(hi))));
}

// ===========================================================================
// Symmetric super-blocks (Q3_K, Q6_K): S sub-blocks of M values.
// ===========================================================================

// Step 1: the best float scale of one sub-block.
template <int M, int LO, int HI>
inline float symmetric_subblock_scale(const float *x, const float *w, const KEffort &effort,
                                      SymmetricEvalAll eval_all) {
    float mn, mx;
    min_max(x, M, &mn, &mx);
    const float big = signed_absmax(mn, mx);
    if (big == 0.0f) return 0.0f;
    auto refine = [&](SymmetricFit f, int iterations) {
        for (int it = 0; it < iterations && f.sll > 0.0f; ++it) {
            const float d = f.sxl / f.sll;
            if (d == f.d) break;
            const SymmetricFit g = symmetric_eval<M, LO, HI>(x, w, d);
            if (!(g.err < f.err)) break;
            f = g;
        }
        return f;
    };
    const SymmetricFit first = symmetric_eval<M, LO, HI>(x, w, big / static_cast<float>(LO));
    if (!effort.subblock_grid) return refine(first, 2).d;
    // a grid of scales near either end of the level range, each evaluated
    // once; the three most promising (by error, or by the error of their
    // least-squares rescale) are refined
    double sxx = 0.0;
    for (int i = 0; i < M; ++i) sxx += static_cast<double>(w[i]) * x[i] * x[i];
    CandidatePool<3> pool;
    auto consider = [&](const SymmetricFit &f) {
        pool.add(f.err, f.d);
        if (f.sll > 0.0f) {
            const double d1 = f.sxl / f.sll;
            pool.add(sxx - 2.0 * d1 * f.sxl + d1 * d1 * f.sll, static_cast<float>(d1));
        }
    };
    float ds[16];
    int n = 0;
    for (int k = 0; k < 8; ++k) {
        const float t = -0.5f + 0.2f * static_cast<float>(k);
        for (float v : {static_cast<float>(LO) - t, static_cast<float>(HI) + t}) ds[n++] = big / v;
    }
    SymmetricFit fits[16];
    eval_all(x, w, ds, n, fits);
    consider(first);
    for (int i = 0; i < n; ++i) consider(fits[i]);
    // refine the pool's candidates side by side (the same evaluations as one
    // after the other, batched)
    SymmetricFit cur[3];
    eval_all(x, w, pool.d, pool.n, cur);
    bool active[3] = {true, true, true};
    for (int it = 0; it < 2; ++it) {
        float next[3];
        int which[3], k = 0;
        for (int i = 0; i < pool.n; ++i) {
            if (!active[i] || !(cur[i].sll > 0.0f)) {
                active[i] = false;
                continue;
            }
            const float d = cur[i].sxl / cur[i].sll;
            if (d == cur[i].d) {
                active[i] = false;
                continue;
            }
            next[k] = d, which[k++] = i;
        }
        if (k == 0) break;
        SymmetricFit g[3];
        eval_all(x, w, next, k, g);
        for (int j = 0; j < k; ++j) {
            if (g[j].err < cur[which[j]].err)
                cur[which[j]] = g[j];
            else
                active[which[j]] = false;
        }
    }
    SymmetricFit best = first;
    for (int i = 0; i < pool.n; ++i)
        if (cur[i].err < best.err) best = cur[i];
    return best.d;
}

template <int S> struct SymmetricSuper {
    float d = 0;   // binary16-exact
    int c[S] = {}; // sub-block codes
    float err = 0;
};

// Step 3: for super-block scale d, each sub-block's best code near s[j] / d.
template <int S, int M, int LO, int HI, int CLO, int CHI>
inline SymmetricSuper<S> symmetric_codes(const float *x, const float *w, const float *s, float d,
                                         const KEffort &effort, SymmetricEvalAll eval_all) {
    SymmetricSuper<S> out;
    out.d = d;
    const float id = inverse_or_zero(d);
    for (int j = 0; j < S; ++j) {
        // the ideal code first, then its neighbours
        int codes[8];
        float ds[8];
        int n = 0;
        codes[n++] = code_of(s[j] * id, CLO, CHI);
        for (int dc = -effort.code_reach; dc <= effort.code_reach; ++dc) {
            const int c = codes[0] + dc;
            if (dc != 0 && c >= CLO && c <= CHI) codes[n++] = c;
        }
        for (int i = 0; i < n; ++i) ds[i] = d * static_cast<float>(codes[i]);
        SymmetricFit fits[8];
        eval_all(x + j * M, w + j * M, ds, n, fits);
        int best = 0;
        for (int i = 1; i < n; ++i)
            if (fits[i].err < fits[best].err) best = i;
        out.c[j] = codes[best];
        out.err += fits[best].err;
    }
    return out;
}

// Step 4: the least-squares super-block scale for the codes and the levels
// they give; binary16-exact.
template <int S, int M, int LO, int HI>
inline float symmetric_super_ls(const float *x, const float *w, const SymmetricSuper<S> &cur) {
    float num = 0.0f, den = 0.0f;
    for (int j = 0; j < S; ++j) {
        const float dl = cur.d * static_cast<float>(cur.c[j]);
        const float id = inverse_or_zero(dl);
        const float c = static_cast<float>(cur.c[j]);
        for (int i = 0; i < M; ++i) {
            const float a = c * symmetric_level<LO, HI>(x[j * M + i], id);
            num += w[j * M + i] * x[j * M + i] * a;
            den += w[j * M + i] * a * a;
        }
    }
    return den > 0.0f ? storable_scale(num / den) : cur.d;
}

// Quantizes one super-block: returns d, stores the S codes and the levels
// (l - LO, in [0, HI - LO]) of the 256 values.
template <int S, int M, int LO, int HI, int CLO, int CHI>
inline float symmetric_super_quantize(const float *x, const float *w, const KEffort &effort, int *codes,
                                      uint8_t *levels, SymmetricEvalAll eval_all) {
    float s[S];
    float big = 0.0f;
    for (int j = 0; j < S; ++j) {
        s[j] = symmetric_subblock_scale<M, LO, HI>(x + j * M, w + j * M, effort, eval_all);
        if (s[j] > big || -s[j] > big) big = s[j] < 0.0f ? -s[j] : s[j];
    }
    // the signed largest sub-block scale
    float sbig = 0.0f;
    for (int j = 0; j < S; ++j)
        if (s[j] == big || s[j] == -big) {
            sbig = s[j];
            break;
        }
    SymmetricSuper<S> best;
    if (sbig != 0.0f) {
        // map the largest sub-block scale to the most negative code (as
        // llama.cpp does), or near either end of the code range
        best = symmetric_codes<S, M, LO, HI, CLO, CHI>(
            x, w, s, storable_scale(sbig / static_cast<float>(CLO)), effort, eval_all);
        if (effort.super_candidates) {
            for (float v : {static_cast<float>(CLO) + 0.5f, static_cast<float>(CLO) - 0.5f,
                            static_cast<float>(CHI), static_cast<float>(CHI) - 0.5f}) {
                const SymmetricSuper<S> f = symmetric_codes<S, M, LO, HI, CLO, CHI>(
                    x, w, s, storable_scale(sbig / v), effort, eval_all);
                if (f.err < best.err) best = f;
            }
        }
        for (int it = 0; it < effort.ls_iterations; ++it) {
            const float d = symmetric_super_ls<S, M, LO, HI>(x, w, best);
            if (d == best.d) break;
            const SymmetricSuper<S> f = symmetric_codes<S, M, LO, HI, CLO, CHI>(x, w, s, d, effort, eval_all);
            if (!(f.err < best.err)) break;
            best = f;
        }
    }
    for (int j = 0; j < S; ++j) {
        codes[j] = best.c[j];
        const float id = inverse_or_zero(best.d * static_cast<float>(best.c[j]));
        for (int i = 0; i < M; ++i)
            levels[j * M + i] =
                static_cast<uint8_t>(static_cast<int>(symmetric_level<LO, HI>(x[j * M + i], id)) - LO);
    }
    return best.d;
}

// ===========================================================================
// Affine super-blocks (Q2_K, Q4_K, Q5_K): S sub-blocks of M values.
// ===========================================================================

struct SubblockAffine {
    float scale = 0, offset = 0; // offset <= 0
};

// Least squares for a fit's levels with the offset held at or below 0.
inline bool affine_ls_nonpositive(const AffineFit &f, float sw, float sx, float *d, float *m) {
    const float det = f.sll * sw - f.sl * f.sl;
    if (!(det > 0.0f)) return false;
    const float inv = 1.0f / det;
    *d = (sw * f.sxl - f.sl * sx) * inv;
    *m = (f.sll * sx - f.sl * f.sxl) * inv;
    if (*m > 0.0f) {
        *m = 0.0f;
        *d = f.sxl / f.sll;
    }
    return *d > 0.0f;
}

// Step 1: the best float (scale, offset <= 0) of one sub-block.
template <int M, int NMAX>
inline SubblockAffine affine_subblock_fit(const float *x, const float *w, const KEffort &effort,
                                          AffineEvalAll eval_all) {
    float mn, mx;
    min_max(x, M, &mn, &mx);
    const float lo = mn < 0.0f ? mn : 0.0f;
    if (!(mx > lo)) return {0.0f, lo};
    float sw = 0.0f, sx = 0.0f;
    for (int i = 0; i < M; ++i) {
        sw += w[i];
        sx += w[i] * x[i];
    }
    auto refine = [&](AffineFit f, int iterations) {
        for (int it = 0; it < iterations; ++it) {
            float d, m;
            if (!affine_ls_nonpositive(f, sw, sx, &d, &m) || (d == f.d && m == f.m)) break;
            const AffineFit g = affine_eval<M, NMAX>(x, w, d, m);
            if (!(g.err < f.err)) break;
            f = g;
        }
        return f;
    };
    const AffineFit first = affine_eval<M, NMAX>(x, w, (mx - lo) / static_cast<float>(NMAX), lo);
    if (!effort.subblock_grid) {
        const AffineFit f = refine(first, 2);
        return {f.d, f.m};
    }
    // a grid of steps and offsets, each evaluated once; the three most
    // promising (by error, or by the error of their least-squares refit) are
    // refined. Errors are compared without the common term sum w x^2.
    CandidatePool<3> pool;
    auto consider = [&](const AffineFit &f) {
        pool.add(affine_error_offset(f.d, f.m, f.sl, f.sll, f.sxl, sw, sx), f.d, f.m);
        float d1, m1;
        if (affine_ls_nonpositive(f, sw, sx, &d1, &m1))
            pool.add(affine_error_offset(d1, m1, f.sl, f.sll, f.sxl, sw, sx), d1, m1);
    };
    float ds[24], ms[24];
    int n = 0;
    for (int a = 0; a < 8; ++a) {
        const float d = (mx - lo) / (static_cast<float>(NMAX) - 1.0f + (3.0f / 7.0f) * static_cast<float>(a));
        for (int b = 0; b < 3; ++b) {
            const float m = lo + (static_cast<float>(b) / 3.0f) * d;
            ds[n] = d, ms[n++] = m < 0.0f ? m : 0.0f;
        }
    }
    AffineFit fits[24];
    eval_all(x, w, ds, ms, n, fits);
    consider(first);
    for (int i = 0; i < n; ++i) consider(fits[i]);
    // refine the pool's candidates side by side
    AffineFit cur[3];
    eval_all(x, w, pool.d, pool.m, pool.n, cur);
    bool active[3] = {true, true, true};
    for (int it = 0; it < 2; ++it) {
        float nd[3], nm[3];
        int which[3], k = 0;
        for (int i = 0; i < pool.n; ++i) {
            float d, m;
            if (!active[i] || !affine_ls_nonpositive(cur[i], sw, sx, &d, &m) ||
                (d == cur[i].d && m == cur[i].m)) {
                active[i] = false;
                continue;
            }
            nd[k] = d, nm[k] = m, which[k++] = i;
        }
        if (k == 0) break;
        AffineFit g[3];
        eval_all(x, w, nd, nm, k, g);
        for (int j = 0; j < k; ++j) {
            if (g[j].err < cur[which[j]].err)
                cur[which[j]] = g[j];
            else
                active[which[j]] = false;
        }
    }
    AffineFit best = first;
    for (int i = 0; i < pool.n; ++i)
        if (cur[i].err < best.err) best = cur[i];
    return {best.d, best.m};
}

template <int S> struct AffineSuper {
    float d = 0, dmin = 0; // binary16-exact
    int c[S] = {}, m[S] = {};
    float err = 0;
};

// Step 3: for (d, dmin), each sub-block's best codes near its ideal values.
// Values are (d * c) * l - (dmin * m) with the levels nearest.
template <int S, int M, int NMAX, int CMAX>
inline AffineSuper<S> affine_codes(const float *x, const float *w, const SubblockAffine *fit, float d,
                                   float dmin, const KEffort &effort, AffineEvalAll eval_all) {
    AffineSuper<S> out;
    out.d = d;
    out.dmin = dmin;
    const float id = inverse_or_zero(d), idmin = inverse_or_zero(dmin);
    const int r = effort.code_reach;
    for (int j = 0; j < S; ++j) {
        const float *xj = x + j * M, *wj = w + j * M;
        const int c0 = code_of(fit[j].scale * id, 0, CMAX);
        const int m0 = dmin > 0.0f ? code_of(-fit[j].offset * idmin, 0, CMAX) : 0;
        // candidate codes, the ideal pair first
        int cs[25], mins[25];
        int n = 0;
        auto add = [&](int c, int m) {
            if (c < 0 || c > CMAX || m < 0 || m > CMAX) return;
            for (int i = 0; i < n; ++i)
                if (cs[i] == c && mins[i] == m) return;
            cs[n] = c, mins[n++] = m;
        };
        add(c0, m0);
        float best_err = 0.0f;
        int best_c = c0, best_m = m0;
        if (effort.joint_codes) {
            for (int dc = -r; dc <= r; ++dc)
                for (int dm = -r; dm <= r; ++dm) add(c0 + dc, dmin > 0.0f ? m0 + dm : 0);
            float ds[25], ms[25];
            for (int i = 0; i < n; ++i)
                ds[i] = d * static_cast<float>(cs[i]), ms[i] = -(dmin * static_cast<float>(mins[i]));
            AffineFit fits[25];
            eval_all(xj, wj, ds, ms, n, fits);
            int b = 0;
            for (int i = 1; i < n; ++i)
                if (fits[i].err < fits[b].err) b = i;
            best_err = fits[b].err, best_c = cs[b], best_m = mins[b];
        } else {
            // one coordinate at a time: the scale code, then the min code
            for (int dc = -r; dc <= r; ++dc) add(c0 + dc, m0);
            float ds[25], ms[25];
            for (int i = 0; i < n; ++i)
                ds[i] = d * static_cast<float>(cs[i]), ms[i] = -(dmin * static_cast<float>(mins[i]));
            AffineFit fits[25];
            eval_all(xj, wj, ds, ms, n, fits);
            int b = 0;
            for (int i = 1; i < n; ++i)
                if (fits[i].err < fits[b].err) b = i;
            best_err = fits[b].err, best_c = cs[b], best_m = mins[b];
            if (dmin > 0.0f) {
                const int first = n;
                for (int dm = -r; dm <= r; ++dm) add(best_c, m0 + dm);
                for (int i = first; i < n; ++i)
                    ds[i] = d * static_cast<float>(cs[i]), ms[i] = -(dmin * static_cast<float>(mins[i]));
                eval_all(xj, wj, ds + first, ms + first, n - first, fits + first);
                for (int i = first; i < n; ++i)
                    if (fits[i].err < best_err) best_err = fits[i].err, best_c = cs[i], best_m = mins[i];
            }
        }
        out.c[j] = best_c;
        out.m[j] = best_m;
        out.err += best_err;
    }
    return out;
}

// Step 4: least-squares (d, dmin >= 0) for the codes and the levels they give;
// binary16-exact. False if they are not determined.
template <int S, int M, int NMAX>
inline bool affine_super_ls(const float *x, const float *w, const AffineSuper<S> &cur, float *d,
                            float *dmin) {
    // x ~ d * a - dmin * b with a = c * l, b = m
    float saa = 0.0f, sab = 0.0f, sbb = 0.0f, sxa = 0.0f, sxb = 0.0f;
    for (int j = 0; j < S; ++j) {
        const float dl = cur.d * static_cast<float>(cur.c[j]);
        const float ml = -(cur.dmin * static_cast<float>(cur.m[j]));
        const float id = inverse_or_zero(dl);
        const float c = static_cast<float>(cur.c[j]), b = static_cast<float>(cur.m[j]);
        for (int i = 0; i < M; ++i) {
            const float xv = x[j * M + i], wv = w[j * M + i];
            const float a = c * affine_level<NMAX>(xv, ml, id);
            saa += wv * a * a;
            sab += wv * a * b;
            sbb += wv * b * b;
            sxa += wv * xv * a;
            sxb += wv * xv * b;
        }
    }
    const float det = saa * sbb - sab * sab;
    float dd, dm;
    if (det > 0.0f) {
        const float inv = 1.0f / det;
        dd = (sxa * sbb - sab * sxb) * inv;
        dm = (sab * sxa - saa * sxb) * inv;
    } else {
        dd = saa > 0.0f ? sxa / saa : 0.0f;
        dm = 0.0f;
    }
    if (dm < 0.0f) {
        dm = 0.0f;
        dd = saa > 0.0f ? sxa / saa : 0.0f;
    }
    if (!(dd > 0.0f)) return false;
    *d = storable_scale(dd);
    *dmin = storable_scale(dm);
    return true;
}

// Quantizes one super-block: returns d and dmin, stores the S scale codes,
// the S min codes and the levels of the 256 values.
template <int S, int M, int NMAX, int CMAX>
inline void affine_super_quantize(const float *x, const float *w, const KEffort &effort, float *out_d,
                                  float *out_dmin, int *scale_codes, int *min_codes, uint8_t *levels,
                                  AffineEvalAll eval_all) {
    SubblockAffine fit[S];
    float max_scale = 0.0f, max_min = 0.0f;
    for (int j = 0; j < S; ++j) {
        fit[j] = affine_subblock_fit<M, NMAX>(x + j * M, w + j * M, effort, eval_all);
        max_scale = fit[j].scale > max_scale ? fit[j].scale : max_scale;
        max_min = -fit[j].offset > max_min ? -fit[j].offset : max_min;
    }
    const float cmax = static_cast<float>(CMAX);
    AffineSuper<S> best = affine_codes<S, M, NMAX, CMAX>(x, w, fit, storable_scale(max_scale / cmax),
                                                         storable_scale(max_min / cmax), effort, eval_all);
    if (effort.super_candidates) {
        for (float v : {cmax - 0.5f, cmax + 0.5f, cmax - 1.0f}) {
            const AffineSuper<S> f = affine_codes<S, M, NMAX, CMAX>(
                x, w, fit, storable_scale(max_scale / v), storable_scale(max_min / v), effort, eval_all);
            if (f.err < best.err) best = f;
        }
    }
    for (int it = 0; it < effort.ls_iterations; ++it) {
        float d, dmin;
        if (!affine_super_ls<S, M, NMAX>(x, w, best, &d, &dmin) || (d == best.d && dmin == best.dmin)) break;
        const AffineSuper<S> f = affine_codes<S, M, NMAX, CMAX>(x, w, fit, d, dmin, effort, eval_all);
        if (!(f.err < best.err)) break;
        best = f;
    }
    *out_d = best.d;
    *out_dmin = best.dmin;
    for (int j = 0; j < S; ++j) {
        scale_codes[j] = best.c[j];
        min_codes[j] = best.m[j];
        const float dl = best.d * static_cast<float>(best.c[j]);
        const float ml = -(best.dmin * static_cast<float>(best.m[j]));
        const float id = inverse_or_zero(dl);
        for (int i = 0; i < M; ++i)
            levels[j * M + i] =
                static_cast<uint8_t>(static_cast<int>(affine_level<NMAX>(x[j * M + i], ml, id)));
    }
}

} // namespace lb::formats
