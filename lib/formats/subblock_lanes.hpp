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

} // namespace LOWBIT_ISA
} // namespace lb::formats
