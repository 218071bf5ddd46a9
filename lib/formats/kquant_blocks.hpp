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
#include "formats/subblock_lanes.hpp"
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
// Steps 1 and 3 run on all S sub-blocks at once: each sub-block makes exactly
// the choices it would make alone, and its candidates are evaluated in
// batches of one round per candidate (subblock_lanes.hpp).

// Step 1: the best float scale of every sub-block.
template <int S, int M, int LO, int HI>
inline void symmetric_subblock_scales(const SubblockLanes &b, const KEffort &effort, SymmetricEvalLanes eval,
                                      SymmetricBatch &batch, float *scale) {
    float big[S];
    bool live[S];
    for (int s = 0; s < S; ++s) {
        float mn, mx;
        min_max(b.x + s * M, M, &mn, &mx);
        big[s] = signed_absmax(mn, mx);
        live[s] = big[s] != 0.0f;
        scale[s] = 0.0f;
    }
    batch.n = S;
    for (int s = 0; s < S; ++s) batch.d[s] = big[s] / static_cast<float>(LO);
    eval(b, batch);
    SymmetricFit first[S];
    for (int s = 0; s < S; ++s) first[s] = batch.fit(s);
    if (!effort.subblock_grid) {
        SymmetricFit f[S];
        bool active[S];
        for (int s = 0; s < S; ++s) f[s] = first[s], active[s] = live[s];
        symmetric_refine_rounds<S, false>(b, eval, 1, 2, f, active, batch);
        for (int s = 0; s < S; ++s)
            if (live[s]) scale[s] = f[s].d;
        return;
    }
    // a grid of scales near either end of the level range, each evaluated
    // once; the three most promising (by error, or by the error of their
    // least-squares rescale) are refined
    constexpr int kGrid = 16;
    batch.n = kGrid * S;
    for (int k = 0; k < 8; ++k) {
        const float t = -0.5f + 0.2f * static_cast<float>(k);
        const float v[2] = {static_cast<float>(LO) - t, static_cast<float>(HI) + t};
        for (int e = 0; e < 2; ++e)
            for (int s = 0; s < S; ++s) batch.d[(2 * k + e) * S + s] = big[s] / v[e];
    }
    eval(b, batch);
    CandidatePool<3> pool[S];
    for (int s = 0; s < S; ++s) {
        double sxx = 0.0;
        for (int i = 0; i < M; ++i)
            sxx += static_cast<double>(b.w[s * M + i]) * b.x[s * M + i] * b.x[s * M + i];
        auto consider = [&](const SymmetricFit &f) {
            pool[s].add(f.err, f.d);
            if (f.sll > 0.0f) {
                const double d1 = f.sxl / f.sll;
                pool[s].add(sxx - 2.0 * d1 * f.sxl + d1 * d1 * f.sll, static_cast<float>(d1));
            }
        };
        consider(first[s]);
        for (int g = 0; g < kGrid; ++g) consider(batch.fit(g * S + s));
    }
    // refine the pools' candidates side by side
    SymmetricFit cur[3 * S];
    symmetric_refine_pools<S, false>(b, eval, pool, live, 2, cur, batch);
    for (int s = 0; s < S; ++s) {
        if (!live[s]) continue;
        SymmetricFit best = first[s];
        for (int r = 0; r < pool[s].n; ++r)
            if (cur[r * S + s].err < best.err) best = cur[r * S + s];
        scale[s] = best.d;
    }
}

template <int S> struct SymmetricSuper {
    float d = 0;   // binary16-exact
    int c[S] = {}; // sub-block codes
    float err = 0;
};

// Step 3: for super-block scale d, each sub-block's best code near s[j] / d.
template <int S, int M, int LO, int HI, int CLO, int CHI>
inline SymmetricSuper<S> symmetric_codes(const SubblockLanes &b, SymmetricBatch &batch, const float *s,
                                         float d, const KEffort &effort, SymmetricEvalLanes eval) {
    SymmetricSuper<S> out;
    out.d = d;
    const float id = inverse_or_zero(d);
    // each sub-block's candidates: the ideal code first, then its neighbours
    int codes[S][8], n[S], rounds = 0;
    for (int j = 0; j < S; ++j) {
        n[j] = 0;
        codes[j][n[j]++] = code_of(s[j] * id, CLO, CHI);
        for (int dc = -effort.code_reach; dc <= effort.code_reach; ++dc) {
            const int c = codes[j][0] + dc;
            if (dc != 0 && c >= CLO && c <= CHI) codes[j][n[j]++] = c;
        }
        rounds = n[j] > rounds ? n[j] : rounds;
    }
    batch.n = rounds * S;
    for (int r = 0; r < rounds; ++r)
        for (int j = 0; j < S; ++j)
            batch.d[r * S + j] = r < n[j] ? d * static_cast<float>(codes[j][r]) : 0.0f;
    eval(b, batch);
    for (int j = 0; j < S; ++j) {
        int best = 0;
        for (int r = 1; r < n[j]; ++r)
            if (batch.err[r * S + j] < batch.err[best * S + j]) best = r;
        out.c[j] = codes[j][best];
        out.err += batch.err[best * S + j];
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
                                      uint8_t *levels, SymmetricEvalLanes eval) {
    SubblockLanes b;
    fill_subblock_lanes<S, M>(x, w, b);
    SymmetricBatch batch;
    float s[S];
    symmetric_subblock_scales<S, M, LO, HI>(b, effort, eval, batch, s);
    float big = 0.0f;
    for (int j = 0; j < S; ++j)
        if (s[j] > big || -s[j] > big) big = s[j] < 0.0f ? -s[j] : s[j];
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
            b, batch, s, storable_scale(sbig / static_cast<float>(CLO)), effort, eval);
        if (effort.super_candidates) {
            for (float v : {static_cast<float>(CLO) + 0.5f, static_cast<float>(CLO) - 0.5f,
                            static_cast<float>(CHI), static_cast<float>(CHI) - 0.5f}) {
                const SymmetricSuper<S> f = symmetric_codes<S, M, LO, HI, CLO, CHI>(
                    b, batch, s, storable_scale(sbig / v), effort, eval);
                if (f.err < best.err) best = f;
            }
        }
        for (int it = 0; it < effort.ls_iterations; ++it) {
            const float d = symmetric_super_ls<S, M, LO, HI>(x, w, best);
            if (d == best.d) break;
            const SymmetricSuper<S> f = symmetric_codes<S, M, LO, HI, CLO, CHI>(b, batch, s, d, effort, eval);
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

// Step 1: the best float (scale, offset <= 0) of every sub-block.
template <int S, int M, int NMAX>
inline void affine_subblock_fits(const SubblockLanes &b, const KEffort &effort, AffineEvalLanes eval,
                                 AffineBatch &batch, SubblockAffine *fit) {
    float lo[S], range[S], sw[S], sx[S];
    bool live[S];
    for (int s = 0; s < S; ++s) {
        const float *x = b.x + s * M, *w = b.w + s * M;
        float mn, mx;
        min_max(x, M, &mn, &mx);
        lo[s] = mn < 0.0f ? mn : 0.0f;
        live[s] = mx > lo[s];
        range[s] = live[s] ? mx - lo[s] : 0.0f;
        fit[s] = {0.0f, lo[s]};
        sw[s] = 0.0f, sx[s] = 0.0f;
        for (int i = 0; i < M; ++i) {
            sw[s] += w[i];
            sx[s] += w[i] * x[i];
        }
    }
    // round 0: the first candidates
    for (int s = 0; s < S; ++s) batch.d[s] = range[s] / static_cast<float>(NMAX), batch.m[s] = lo[s];
    if (!effort.subblock_grid) {
        batch.n = S;
        eval(b, batch);
        AffineFit f[S];
        bool active[S];
        for (int s = 0; s < S; ++s) f[s] = batch.fit(s), active[s] = live[s];
        affine_refine_rounds<S, false>(b, eval, sw, sx, 1, 2, f, active, batch);
        for (int s = 0; s < S; ++s)
            if (live[s]) fit[s] = {f[s].d, f[s].m};
        return;
    }
    // then a grid of steps and offsets, in the same batch: each evaluated
    // once; the three most promising (by error, or by the error of their
    // least-squares refit) are refined. Errors are compared without the
    // common term sum w x^2.
    constexpr int kGrid = 24;
    batch.n = (1 + kGrid) * S;
    for (int a = 0; a < 8; ++a)
        for (int s = 0; s < S; ++s) {
            const float d =
                range[s] / (static_cast<float>(NMAX) - 1.0f + (3.0f / 7.0f) * static_cast<float>(a));
            for (int c = 0; c < 3; ++c) {
                const float m = lo[s] + (static_cast<float>(c) / 3.0f) * d;
                const int i = (1 + 3 * a + c) * S + s;
                batch.d[i] = d, batch.m[i] = m < 0.0f ? m : 0.0f;
            }
        }
    eval(b, batch);
    AffineFit first[S];
    for (int s = 0; s < S; ++s) first[s] = batch.fit(s);
    CandidatePool<3> pool[S];
    for (int s = 0; s < S; ++s) {
        auto consider = [&](const AffineFit &f) {
            pool[s].add(affine_error_offset(f.d, f.m, f.sl, f.sll, f.sxl, sw[s], sx[s]), f.d, f.m);
            float d1, m1;
            if (affine_ls_nonpositive(f, sw[s], sx[s], &d1, &m1))
                pool[s].add(affine_error_offset(d1, m1, f.sl, f.sll, f.sxl, sw[s], sx[s]), d1, m1);
        };
        for (int g = 0; g <= kGrid; ++g) consider(batch.fit(g * S + s));
    }
    // refine the pools' candidates side by side
    AffineFit cur[3 * S];
    affine_refine_pools<S, false>(b, eval, sw, sx, pool, live, 2, cur, batch);
    for (int s = 0; s < S; ++s) {
        if (!live[s]) continue;
        AffineFit best = first[s];
        for (int r = 0; r < pool[s].n; ++r)
            if (cur[r * S + s].err < best.err) best = cur[r * S + s];
        fit[s] = {best.d, best.m};
    }
}

template <int S> struct AffineSuper {
    float d = 0, dmin = 0; // binary16-exact
    int c[S] = {}, m[S] = {};
    float err = 0;
};

// Candidate (scale code, min code) pairs of each sub-block, without repeats,
// and their errors once evaluated.
template <int S> struct AffineCodeLists {
    int c[S][25], m[S][25], n[S] = {};
    void add(int j, int cv, int mv, int cmax) {
        if (cv < 0 || cv > cmax || mv < 0 || mv > cmax) return;
        for (int i = 0; i < n[j]; ++i)
            if (c[j][i] == cv && m[j][i] == mv) return;
        c[j][n[j]] = cv, m[j][n[j]++] = mv;
    }
    // evaluates entries [from[j], n[j]) of every list; entry from[j] + r is
    // round r of the batch
    void evaluate(const SubblockLanes &b, float d, float dmin, const int *from, AffineEvalLanes eval,
                  AffineBatch &batch, float (*err)[25]) const {
        int rounds = 0;
        for (int j = 0; j < S; ++j) rounds = n[j] - from[j] > rounds ? n[j] - from[j] : rounds;
        batch.n = rounds * S;
        for (int r = 0; r < rounds; ++r)
            for (int j = 0; j < S; ++j) {
                const int e = from[j] + r;
                const bool real = e < n[j];
                batch.d[r * S + j] = real ? d * static_cast<float>(c[j][e]) : 0.0f;
                batch.m[r * S + j] = real ? -(dmin * static_cast<float>(m[j][e])) : 0.0f;
            }
        eval(b, batch);
        for (int r = 0; r < rounds; ++r)
            for (int j = 0; j < S; ++j)
                if (from[j] + r < n[j]) err[j][from[j] + r] = batch.err[r * S + j];
    }
};

// Step 3: for (d, dmin), each sub-block's best codes near its ideal values.
// Values are (d * c) * l - (dmin * m) with the levels nearest.
template <int S, int M, int NMAX, int CMAX>
inline AffineSuper<S> affine_codes(const SubblockLanes &b, AffineBatch &batch, const SubblockAffine *fit,
                                   float d, float dmin, const KEffort &effort, AffineEvalLanes eval) {
    AffineSuper<S> out;
    out.d = d;
    out.dmin = dmin;
    const float id = inverse_or_zero(d), idmin = inverse_or_zero(dmin);
    const int r = effort.code_reach;
    AffineCodeLists<S> lists;
    int c0[S], m0[S], from[S] = {};
    // the ideal pair first, then its neighbours: jointly, or the scale code
    // and then the min code one after the other
    for (int j = 0; j < S; ++j) {
        c0[j] = code_of(fit[j].scale * id, 0, CMAX);
        m0[j] = dmin > 0.0f ? code_of(-fit[j].offset * idmin, 0, CMAX) : 0;
        lists.add(j, c0[j], m0[j], CMAX);
        for (int dc = -r; dc <= r; ++dc) {
            if (!effort.joint_codes) {
                lists.add(j, c0[j] + dc, m0[j], CMAX);
                continue;
            }
            for (int dm = -r; dm <= r; ++dm) lists.add(j, c0[j] + dc, dmin > 0.0f ? m0[j] + dm : 0, CMAX);
        }
    }
    float err[S][25];
    lists.evaluate(b, d, dmin, from, eval, batch, err);
    float best_err[S];
    int best[S];
    for (int j = 0; j < S; ++j) {
        best[j] = 0;
        for (int i = 1; i < lists.n[j]; ++i)
            if (err[j][i] < err[j][best[j]]) best[j] = i;
        best_err[j] = err[j][best[j]];
    }
    if (!effort.joint_codes && dmin > 0.0f) {
        for (int j = 0; j < S; ++j) {
            from[j] = lists.n[j];
            const int bc = lists.c[j][best[j]];
            for (int dm = -r; dm <= r; ++dm) lists.add(j, bc, m0[j] + dm, CMAX);
        }
        lists.evaluate(b, d, dmin, from, eval, batch, err);
        for (int j = 0; j < S; ++j)
            for (int i = from[j]; i < lists.n[j]; ++i)
                if (err[j][i] < best_err[j]) best_err[j] = err[j][i], best[j] = i;
    }
    for (int j = 0; j < S; ++j) {
        out.c[j] = lists.c[j][best[j]];
        out.m[j] = lists.m[j][best[j]];
        out.err += best_err[j];
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
                                  AffineEvalLanes eval) {
    SubblockLanes b;
    fill_subblock_lanes<S, M>(x, w, b);
    SubblockAffine fit[S];
    AffineBatch batch;
    affine_subblock_fits<S, M, NMAX>(b, effort, eval, batch, fit);
    float max_scale = 0.0f, max_min = 0.0f;
    for (int j = 0; j < S; ++j) {
        max_scale = fit[j].scale > max_scale ? fit[j].scale : max_scale;
        max_min = -fit[j].offset > max_min ? -fit[j].offset : max_min;
    }
    const float cmax = static_cast<float>(CMAX);
    AffineSuper<S> best = affine_codes<S, M, NMAX, CMAX>(b, batch, fit, storable_scale(max_scale / cmax),
                                                         storable_scale(max_min / cmax), effort, eval);
    if (effort.super_candidates) {
        for (float v : {cmax - 0.5f, cmax + 0.5f, cmax - 1.0f}) {
            const AffineSuper<S> f = affine_codes<S, M, NMAX, CMAX>(
                b, batch, fit, storable_scale(max_scale / v), storable_scale(max_min / v), effort, eval);
            if (f.err < best.err) best = f;
        }
    }
    for (int it = 0; it < effort.ls_iterations; ++it) {
        float d, dmin;
        if (!affine_super_ls<S, M, NMAX>(x, w, best, &d, &dmin) || (d == best.d && dmin == best.dmin)) break;
        const AffineSuper<S> f = affine_codes<S, M, NMAX, CMAX>(b, batch, fit, d, dmin, effort, eval);
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
