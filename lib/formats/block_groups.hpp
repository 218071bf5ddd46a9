// The thorough path of the 32-blocks (with an importance matrix), for a group
// of 16 blocks at once: each block makes exactly the choices that
// symmetric_blocks.hpp and affine_blocks.hpp define for it alone (the
// reference scale first, a grid of scales, the three most promising refined,
// only ever replaced by something with lower error), and the candidates of
// all 16 are evaluated side by side in batches (subblock_lanes.hpp, the
// blocks in the place of sub-blocks).
#pragma once

#include "formats/affine_blocks.hpp"
#include "formats/block_search.hpp"
#include "formats/subblock_lanes.hpp"
#include "formats/symmetric_blocks.hpp"

namespace lb::formats {

constexpr int kGroupBlocks = kLaneRow;

// Every block of a group is searched (the pools' entries all refined).
constexpr bool kAllLive[kGroupBlocks] = {true, true, true, true, true, true, true, true,
                                         true, true, true, true, true, true, true, true};

// Symmetric blocks (Q4_0, Q5_0, Q8_0): x and w hold 16 blocks of N; the
// scales go to d, the levels (plus OFFSET) to q.
template <int N, int LO, int HI, int OFFSET>
inline void symmetric_thorough_group(const float *x, const float *w, float *d, uint8_t *q,
                                     SymmetricEvalLanes eval) {
    constexpr int S = kGroupBlocks;
    SubblockLanes b;
    fill_subblock_lanes<S, N>(x, w, b);
    SymmetricBatch batch;
    // the reference scale first, then the grid, without repeats of the first
    double sxx[S];
    float ds[S][17];
    int n[S], rounds = 0;
    for (int s = 0; s < S; ++s) {
        const float *xs = x + s * N, *ws = w + s * N;
        float mn, mx;
        min_max(xs, N, &mn, &mx);
        const float big = signed_absmax(mn, mx);
        sxx[s] = 0.0;
        for (int j = 0; j < N; ++j) sxx[s] += static_cast<double>(ws[j]) * xs[j] * xs[j];
        n[s] = 0;
        ds[s][n[s]++] = storable_scale(big / static_cast<float>(LO));
        for (int k = 0; k < 8; ++k) {
            const float t = -0.5f + 0.2f * static_cast<float>(k); // -0.5 .. 0.9
            for (float v : {static_cast<float>(LO) - t, static_cast<float>(HI) + t}) {
                const float dv = storable_scale(big / v);
                if (dv != ds[s][0]) ds[s][n[s]++] = dv;
            }
        }
        rounds = n[s] > rounds ? n[s] : rounds;
    }
    batch.n = rounds * S;
    for (int r = 0; r < rounds; ++r)
        for (int s = 0; s < S; ++s) batch.d[r * S + s] = r < n[s] ? ds[s][r] : 0.0f;
    eval(b, batch);
    SymmetricFit best[S];
    CandidatePool<3> pool[S];
    for (int s = 0; s < S; ++s) {
        best[s] = batch.fit(s);
        for (int r = 0; r < n[s]; ++r) {
            const SymmetricFit f = batch.fit(r * S + s);
            pool[s].add(f.err, f.d);
            const double d1 = symmetric_ls_scale(f);
            pool[s].add(sxx[s] - 2.0 * d1 * f.sxl + d1 * d1 * f.sll, static_cast<float>(d1));
        }
    }
    // the pools' candidates, refined side by side
    SymmetricFit cur[3 * S];
    symmetric_refine_pools<S, true>(b, eval, pool, kAllLive, 4, cur, batch);
    for (int s = 0; s < S; ++s) {
        for (int r = 0; r < pool[s].n; ++r)
            if (cur[r * S + s].err < best[s].err) best[s] = cur[r * S + s];
        const float id = inverse_or_zero(best[s].d);
        for (int j = 0; j < N; ++j)
            q[s * N + j] =
                static_cast<uint8_t>(static_cast<int>(symmetric_level<LO, HI>(x[s * N + j], id)) + OFFSET);
        d[s] = best[s].d;
    }
}

// Affine blocks (Q4_1, Q5_1): the steps to d, the offsets to m, the levels to q.
template <int N, int NMAX>
inline void affine_thorough_group(const float *x, const float *w, float *d, float *m, uint8_t *q,
                                  AffineEvalLanes eval) {
    constexpr int S = kGroupBlocks;
    constexpr int kCandidates = 25;
    SubblockLanes b;
    fill_subblock_lanes<S, N>(x, w, b);
    AffineBatch batch;
    float mn[S], mx[S], sw[S], sx[S];
    for (int s = 0; s < S; ++s) {
        const float *xs = x + s * N, *ws = w + s * N;
        min_max(xs, N, &mn[s], &mx[s]);
        sw[s] = 0.0f, sx[s] = 0.0f;
        for (int j = 0; j < N; ++j) {
            sw[s] += ws[j];
            sx[s] += ws[j] * xs[j];
        }
        // the reference first, then steps that spread [min, max] over NMAX - 1
        // .. NMAX + 2 levels, starting at the minimum or a third or two above it
        batch.d[s] = storable_scale((mx[s] - mn[s]) / static_cast<float>(NMAX));
        batch.m[s] = storable_scale(mn[s]);
        for (int a = 0; a < 8; ++a) {
            const float dv =
                (mx[s] - mn[s]) / (static_cast<float>(NMAX) - 1.0f + (3.0f / 7.0f) * static_cast<float>(a));
            for (int c = 0; c < 3; ++c) {
                const int i = (1 + 3 * a + c) * S + s;
                batch.d[i] = storable_scale(dv);
                batch.m[i] = storable_scale(mn[s] + (static_cast<float>(c) / 3.0f) * dv);
            }
        }
    }
    batch.n = kCandidates * S;
    eval(b, batch);
    AffineFit best[S];
    CandidatePool<3> pool[S];
    for (int s = 0; s < S; ++s) {
        best[s] = batch.fit(s);
        for (int r = 0; r < kCandidates; ++r) {
            // errors are compared without the common term sum w x^2
            const AffineFit f = batch.fit(r * S + s);
            pool[s].add(affine_error_offset(f.d, f.m, f.sl, f.sll, f.sxl, sw[s], sx[s]), f.d, f.m);
            float d1, m1;
            if (affine_ls(f.sl, f.sll, f.sxl, sw[s], sx[s], &d1, &m1))
                pool[s].add(affine_error_offset(d1, m1, f.sl, f.sll, f.sxl, sw[s], sx[s]), d1, m1);
        }
    }
    AffineFit cur[3 * S];
    affine_refine_pools<S, true>(b, eval, sw, sx, pool, kAllLive, 4, cur, batch);
    for (int s = 0; s < S; ++s) {
        if (mx[s] == mn[s]) { // a constant block: every level 0
            for (int j = 0; j < N; ++j) q[s * N + j] = 0;
            d[s] = 0.0f;
            m[s] = storable_scale(mn[s]);
            continue;
        }
        for (int r = 0; r < pool[s].n; ++r)
            if (cur[r * S + s].err < best[s].err) best[s] = cur[r * S + s];
        const float id = inverse_or_zero(best[s].d);
        for (int j = 0; j < N; ++j)
            q[s * N + j] =
                static_cast<uint8_t>(static_cast<int>(affine_level<NMAX>(x[s * N + j], best[s].m, id)));
        d[s] = best[s].d;
        m[s] = best[s].m;
    }
}

} // namespace lb::formats
