// The sub-blocks of one K-quant super-block laid out so that candidate scales
// for all of them are evaluated side by side (the searches of
// kquant_blocks.hpp), and the batches of candidates they are evaluated in.
//
// A batch holds n candidates; candidate i belongs to sub-block i % S, so
// candidates r * S .. r * S + S - 1 are "round r": one candidate for each
// sub-block. Each candidate's sums are exactly those of the scalar
// symmetric_eval / affine_eval on its sub-block (elements in order, from the
// first to the last), whatever the order or width in which a kernel takes the
// candidates: a kernel on W lanes (W = 4, 8 or 16) takes candidates
// i0 .. i0 + W - 1 together, lane k reading row element (i0 % 16) + k of the
// transposed sub-blocks.
#pragma once

#include "formats/affine_blocks.hpp"
#include "formats/block_search.hpp"
#include "formats/symmetric_blocks.hpp"

namespace lb::formats {

constexpr int kLaneRow = 16;     // lanes of one transposed row
constexpr int kMaxSubblock = 32; // values per sub-block, at most
constexpr int kBatchMax = 400;   // 25 candidates for each of 16 sub-blocks
constexpr int kBatchRoom = 416;  // kBatchMax rounded up to whole rows: kernels store whole vectors

// A super-block of S sub-blocks of M values (S divides 16).
struct SubblockLanes {
    const float *x, *w; // as stored: sub-block s at x + s * M
    // element j of sub-block k % S at [j * kLaneRow + k]
    alignas(64) float xt[kMaxSubblock * kLaneRow];
    alignas(64) float wt[kMaxSubblock * kLaneRow];
    alignas(64) float wxt[kMaxSubblock * kLaneRow]; // w * x, the same product the sums take
};

template <int S, int M> inline void fill_subblock_lanes(const float *x, const float *w, SubblockLanes &b) {
    static_assert(kLaneRow % S == 0 && M <= kMaxSubblock, "sub-blocks must fill whole rows");
    b.x = x;
    b.w = w;
    for (int j = 0; j < M; ++j)
        for (int k = 0; k < kLaneRow; ++k) {
            b.xt[j * kLaneRow + k] = x[(k % S) * M + j];
            b.wt[j * kLaneRow + k] = w[(k % S) * M + j];
            b.wxt[j * kLaneRow + k] = w[(k % S) * M + j] * x[(k % S) * M + j];
        }
}

// Candidates x = d * l on the sub-blocks; d in, the sums out.
struct SymmetricBatch {
    int n = 0;
    alignas(64) float d[kBatchRoom];
    alignas(64) float err[kBatchRoom], sxl[kBatchRoom], sll[kBatchRoom];
    SymmetricFit fit(int i) const {
        return SymmetricFit{.d = d[i], .err = err[i], .sxl = sxl[i], .sll = sll[i]};
    }
};

// Candidates x = d * l + m on the sub-blocks; d and m in, the sums out.
struct AffineBatch {
    int n = 0;
    alignas(64) float d[kBatchRoom], m[kBatchRoom];
    alignas(64) float err[kBatchRoom], sl[kBatchRoom], sll[kBatchRoom], sxl[kBatchRoom];
    AffineFit fit(int i) const {
        return AffineFit{.d = d[i], .m = m[i], .err = err[i], .sl = sl[i], .sll = sll[i], .sxl = sxl[i]};
    }
};

// Evaluates a batch's n candidates.
using SymmetricEvalLanes = void (*)(const SubblockLanes &b, SymmetricBatch &batch);
using AffineEvalLanes = void (*)(const SubblockLanes &b, AffineBatch &batch);

inline namespace LOWBIT_ISA {

// The scalar reference: one candidate after the other.
template <int S, int M, int LO, int HI>
void symmetric_eval_subblocks(const SubblockLanes &b, SymmetricBatch &batch) {
    for (int i = 0; i < batch.n; ++i) {
        const int s = i % S;
        const SymmetricFit f = symmetric_eval<M, LO, HI>(b.x + s * M, b.w + s * M, batch.d[i]);
        batch.err[i] = f.err, batch.sxl[i] = f.sxl, batch.sll[i] = f.sll;
    }
}

template <int S, int M, int NMAX> void affine_eval_subblocks(const SubblockLanes &b, AffineBatch &batch) {
    for (int i = 0; i < batch.n; ++i) {
        const int s = i % S;
        const AffineFit f = affine_eval<M, NMAX>(b.x + s * M, b.w + s * M, batch.d[i], batch.m[i]);
        batch.err[i] = f.err, batch.sl[i] = f.sl, batch.sll[i] = f.sll, batch.sxl[i] = f.sxl;
    }
}

// Least squares for a fit's levels with the offset held at or below 0 (the
// K-quants' sub-blocks, whose offsets are stored as mins).
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

// Each active fit that the batch's candidate in its place improves on is
// replaced by it; the others stop.
template <typename Batch, typename Fit>
inline void keep_improved(const Batch &batch, int n, Fit *f, bool *active) {
    for (int i = 0; i < n; ++i) {
        if (!active[i]) continue;
        if (batch.err[i] < f[i].err)
            f[i] = batch.fit(i);
        else
            active[i] = false;
    }
}

// Alternates, for every active fit of a batch's rounds (index r * S + s),
// the least-squares scale for its levels with rounding to the nearest levels
// of that scale, while its error strictly decreases; kBinary16: the scale as
// stored (storable_scale), else as computed.
template <int S, bool kBinary16>
inline void symmetric_refine_rounds(const SubblockLanes &b, SymmetricEvalLanes eval, int rounds,
                                    int iterations, SymmetricFit *f, bool *active, SymmetricBatch &batch) {
    for (int it = 0; it < iterations; ++it) {
        bool any = false;
        for (int i = 0; i < rounds * S; ++i) {
            batch.d[i] = 0.0f;
            if (!active[i]) continue;
            float d = f[i].d;
            if (f[i].sll > 0.0f) d = kBinary16 ? storable_scale(f[i].sxl / f[i].sll) : f[i].sxl / f[i].sll;
            if (!(f[i].sll > 0.0f) || d == f[i].d) {
                active[i] = false;
                continue;
            }
            batch.d[i] = d;
            any = true;
        }
        if (!any) return;
        batch.n = rounds * S;
        eval(b, batch);
        keep_improved(batch, rounds * S, f, active);
    }
}

// The same for (d, m): kBinary16, affine_ls (both stored as binary16),
// else affine_ls_nonpositive.
template <int S, bool kBinary16>
inline void affine_refine_rounds(const SubblockLanes &b, AffineEvalLanes eval, const float *sw,
                                 const float *sx, int rounds, int iterations, AffineFit *f, bool *active,
                                 AffineBatch &batch) {
    for (int it = 0; it < iterations; ++it) {
        bool any = false;
        for (int i = 0; i < rounds * S; ++i) {
            batch.d[i] = 0.0f, batch.m[i] = 0.0f;
            if (!active[i]) continue;
            float d, m;
            const bool solved = kBinary16
                                    ? affine_ls(f[i].sl, f[i].sll, f[i].sxl, sw[i % S], sx[i % S], &d, &m)
                                    : affine_ls_nonpositive(f[i], sw[i % S], sx[i % S], &d, &m);
            if (!solved || (d == f[i].d && m == f[i].m)) {
                active[i] = false;
                continue;
            }
            batch.d[i] = d, batch.m[i] = m;
            any = true;
        }
        if (!any) return;
        batch.n = rounds * S;
        eval(b, batch);
        keep_improved(batch, rounds * S, f, active);
    }
}

// The entries of every sub-block's pool of three, evaluated and then refined
// side by side: cur[r * S + s] is entry r of sub-block s (where it has one
// and live[s]), refined for up to `iterations` rounds.
template <int S, bool kBinary16>
inline void symmetric_refine_pools(const SubblockLanes &b, SymmetricEvalLanes eval,
                                   const CandidatePool<3> *pool, const bool *live, int iterations,
                                   SymmetricFit *cur, SymmetricBatch &batch) {
    bool active[3 * S];
    batch.n = 3 * S;
    for (int r = 0; r < 3; ++r)
        for (int s = 0; s < S; ++s) {
            const int i = r * S + s;
            active[i] = live[s] && r < pool[s].n;
            batch.d[i] = active[i] ? pool[s].d[r] : 0.0f;
        }
    eval(b, batch);
    for (int i = 0; i < 3 * S; ++i) cur[i] = batch.fit(i);
    symmetric_refine_rounds<S, kBinary16>(b, eval, 3, iterations, cur, active, batch);
}

template <int S, bool kBinary16>
inline void affine_refine_pools(const SubblockLanes &b, AffineEvalLanes eval, const float *sw,
                                const float *sx, const CandidatePool<3> *pool, const bool *live,
                                int iterations, AffineFit *cur, AffineBatch &batch) {
    bool active[3 * S];
    batch.n = 3 * S;
    for (int r = 0; r < 3; ++r)
        for (int s = 0; s < S; ++s) {
            const int i = r * S + s;
            active[i] = live[s] && r < pool[s].n;
            batch.d[i] = active[i] ? pool[s].d[r] : 0.0f;
            batch.m[i] = active[i] ? pool[s].m[r] : 0.0f;
        }
    eval(b, batch);
    for (int i = 0; i < 3 * S; ++i) cur[i] = batch.fit(i);
    affine_refine_rounds<S, kBinary16>(b, eval, sw, sx, 3, iterations, cur, active, batch);
}

} // namespace LOWBIT_ISA
} // namespace lb::formats
