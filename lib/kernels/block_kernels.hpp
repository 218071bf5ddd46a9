// The block quantizers' hot loops on W lanes. Each lane computes exactly
// what the scalar reference (formats/symmetric_blocks.hpp,
// formats/affine_blocks.hpp) computes, operation for operation:
//  - the fast paths put one block in each lane (W blocks at a time);
//  - the eval_lanes kernels put W consecutive candidates of a batch in the
//    lanes: candidates on the sub-blocks of a K-quant super-block, or on a
//    group of 16 blocks (formats/subblock_lanes.hpp).
// Included by one translation unit per instruction set (generic/, x86_avx2/).
#pragma once

#include "common/isa.hpp"
#include "formats/affine_blocks.hpp"
#include "formats/subblock_lanes.hpp"
#include "formats/symmetric_blocks.hpp"
#include "kernels/lanes.hpp"

namespace lb::kernels {
inline namespace LOWBIT_ISA {

// Element j of block b of W consecutive blocks goes to xt[j * W + b], so that
// element j of all W blocks is one contiguous vector.
template <int W, int N> inline void transpose_in(const float *x, float *xt) {
    static_assert(N % W == 0, "blocks must be whole tiles");
    using L = Lanes<W>;
    for (int t = 0; t < N; t += W) { // W x W tiles: blocks by elements t .. t + W - 1
        typename L::F rows[W];
        for (int b = 0; b < W; ++b) rows[b] = L::load(x + b * N + t);
        L::transpose(rows);
        for (int j = 0; j < W; ++j) L::store(xt + (t + j) * W, rows[j]);
    }
}

// Fast path of symmetric_quantize_fast for W consecutive blocks of N values.
template <int W, int N, int LO, int HI, int OFFSET>
inline void symmetric_fast_lanes(const float *x, float *d, uint8_t *q) {
    using L = Lanes<W>;
    using F = typename L::F;
    float xt[N * W];
    transpose_in<W, N>(x, xt);
    F mn = L::load(xt), mx = mn;
    for (int j = 1; j < N; ++j) {
        const F v = L::load(xt + j * W);
        mn = L::select(v < mn, v, mn);
        mx = L::select(v > mx, v, mx);
    }
    const F big = L::select(mx >= -mn, mx, mn);
    const F d0 = L::storable_scale(big / L::splat(static_cast<float>(LO)));
    const F id = L::inverse_or_zero(d0);
    const F lo = L::splat(static_cast<float>(LO)), hi = L::splat(static_cast<float>(HI));
    F sxl = L::splat(0.0f), sll = L::splat(0.0f);
    for (int j = 0; j < N; ++j) {
        const F v = L::load(xt + j * W);
        const F l = L::nearest(L::clamp(v * id, lo, hi));
        sxl += v * l;
        sll += l * l;
    }
    // the same levels again, block by block, in the blocks' own layout (W
    // values at a time, each as formats::symmetric_level)
    for (int b = 0; b < W; ++b) {
        const F idb = L::splat(id[b]);
        for (int j = 0; j < N; j += W) {
            const typename L::I li = L::to_int(L::nearest(L::clamp(L::load(x + b * N + j) * idb, lo, hi)));
            for (int k = 0; k < W; ++k) q[b * N + j + k] = static_cast<uint8_t>(li[k] + OFFSET);
        }
    }
    const typename L::I positive = sll > L::splat(0.0f);
    const F d1 = L::select(positive, L::storable_scale(sxl / L::select(positive, sll, L::splat(1.0f))), d0);
    const F delta = (d1 - d0) * ((d1 + d0) * sll - L::splat(2.0f) * sxl);
    const F out = L::select(delta < L::splat(0.0f), d1, d0);
    for (int b = 0; b < W; ++b) d[b] = out[b];
}

// symmetric_quantize_fast over n_blocks blocks: W at a time, the rest scalar.
template <int W, int N, int LO, int HI, int OFFSET>
void symmetric_fast(const float *x, int64_t n_blocks, float *d, uint8_t *q) {
    int64_t b = 0;
    for (; b + W <= n_blocks; b += W) symmetric_fast_lanes<W, N, LO, HI, OFFSET>(x + b * N, d + b, q + b * N);
    for (; b < n_blocks; ++b)
        d[b] = formats::symmetric_quantize_fast<N, LO, HI, OFFSET>(x + b * N, q + b * N);
}

// Fast path of affine_quantize_fast for W consecutive blocks of N values.
template <int W, int N, int NMAX>
inline void affine_fast_lanes(const float *x, float *d, float *m, uint8_t *q) {
    using L = Lanes<W>;
    using F = typename L::F;
    float xt[N * W];
    transpose_in<W, N>(x, xt);
    F mn = L::load(xt), mx = mn, sx = L::splat(0.0f) + mn;
    for (int j = 1; j < N; ++j) {
        const F v = L::load(xt + j * W);
        mn = L::select(v < mn, v, mn);
        mx = L::select(v > mx, v, mx);
        sx += v;
    }
    const F d0 = L::storable_scale((mx - mn) / L::splat(static_cast<float>(NMAX)));
    const F m0 = L::storable_scale(mn);
    const F id = L::inverse_or_zero(d0);
    const F zero = L::splat(0.0f), nmax = L::splat(static_cast<float>(NMAX));
    F sl = zero, sll = zero, sxl = zero;
    for (int j = 0; j < N; ++j) {
        const F v = L::load(xt + j * W);
        const F l = L::nearest(L::clamp((v - m0) * id, zero, nmax));
        sl += l;
        sll += l * l;
        sxl += v * l;
    }
    // the same levels again, block by block, in the blocks' own layout (W
    // values at a time, each as formats::affine_level)
    for (int b = 0; b < W; ++b) {
        const F idb = L::splat(id[b]), mb = L::splat(m0[b]);
        for (int j = 0; j < N; j += W) {
            const typename L::I li =
                L::to_int(L::nearest(L::clamp((L::load(x + b * N + j) - mb) * idb, zero, nmax)));
            for (int k = 0; k < W; ++k) q[b * N + j + k] = static_cast<uint8_t>(li[k]);
        }
    }
    // formats::affine_ls and formats::affine_error_offset, lane-wise
    const F sw = L::splat(static_cast<float>(N)), two = L::splat(2.0f);
    const F det = sll * sw - sl * sl;
    const typename L::I solvable = det > zero;
    const F inv = L::splat(1.0f) / L::select(solvable, det, L::splat(1.0f));
    const F d1 = L::storable_scale((sw * sxl - sl * sx) * inv);
    const F m1 = L::storable_scale((sll * sx - sl * sxl) * inv);
    const F e1 = d1 * (d1 * sll - two * sxl) + m1 * (m1 * sw - two * sx) + two * d1 * m1 * sl;
    const F e0 = d0 * (d0 * sll - two * sxl) + m0 * (m0 * sw - two * sx) + two * d0 * m0 * sl;
    const typename L::I better = solvable & (d1 > zero) & (e1 < e0);
    const F dd = L::select(better, d1, d0), mm = L::select(better, m1, m0);
    for (int b = 0; b < W; ++b) {
        d[b] = dd[b];
        m[b] = mm[b];
    }
}

template <int W, int N, int NMAX>
void affine_fast(const float *x, int64_t n_blocks, float *d, float *m, uint8_t *q) {
    int64_t b = 0;
    for (; b + W <= n_blocks; b += W) affine_fast_lanes<W, N, NMAX>(x + b * N, d + b, m + b, q + b * N);
    for (; b < n_blocks; ++b) formats::affine_quantize_fast<N, NMAX>(x + b * N, q + b * N, d + b, m + b);
}

// The candidates [i0, i0 + W) of a batch's inputs; lanes past n read 0.
template <int W> inline typename Lanes<W>::F batch_lanes(const float *v, int i0, int n) {
    if (i0 + W <= n) return Lanes<W>::load(v + i0);
    float tail[W] = {};
    for (int k = 0; i0 + k < n; ++k) tail[k] = v[i0 + k];
    return Lanes<W>::load(tail);
}

// symmetric_eval_subblocks on W lanes.
template <int W, int S, int M, int LO, int HI>
void symmetric_eval_lanes(const formats::SubblockLanes &b, formats::SymmetricBatch &batch) {
    static_assert(formats::kLaneRow % W == 0 && formats::kLaneRow % S == 0, "lanes must tile the rows");
    using L = Lanes<W>;
    using F = typename L::F;
    const F lo = L::splat(static_cast<float>(LO)), hi = L::splat(static_cast<float>(HI));
    for (int i0 = 0; i0 < batch.n; i0 += W) {
        const F d = batch_lanes<W>(batch.d, i0, batch.n);
        const F id = L::inverse_or_zero(d);
        const int off = i0 % formats::kLaneRow;
        const float *xt = b.xt + off, *wt = b.wt + off, *wxt = b.wxt + off;
        F err = L::splat(0.0f), sxl = L::splat(0.0f), sll = L::splat(0.0f);
        for (int j = 0; j < M; ++j) {
            const F v = L::load(xt + j * formats::kLaneRow), wk = L::load(wt + j * formats::kLaneRow);
            const F wv = L::load(wxt + j * formats::kLaneRow);
            const F l = L::nearest(L::clamp(v * id, lo, hi));
            const F r = v - l * d;
            err += wk * r * r;
            sxl += wv * l;
            sll += wk * l * l;
        }
        L::store(batch.err + i0, err);
        L::store(batch.sxl + i0, sxl);
        L::store(batch.sll + i0, sll);
    }
}

// affine_eval_subblocks on W lanes.
template <int W, int S, int M, int NMAX>
void affine_eval_lanes(const formats::SubblockLanes &b, formats::AffineBatch &batch) {
    static_assert(formats::kLaneRow % W == 0 && formats::kLaneRow % S == 0, "lanes must tile the rows");
    using L = Lanes<W>;
    using F = typename L::F;
    const F zero = L::splat(0.0f), nmax = L::splat(static_cast<float>(NMAX));
    for (int i0 = 0; i0 < batch.n; i0 += W) {
        const F d = batch_lanes<W>(batch.d, i0, batch.n), m = batch_lanes<W>(batch.m, i0, batch.n);
        const F id = L::inverse_or_zero(d);
        const int off = i0 % formats::kLaneRow;
        const float *xt = b.xt + off, *wt = b.wt + off, *wxt = b.wxt + off;
        F err = zero, sl = zero, sll = zero, sxl = zero;
        for (int j = 0; j < M; ++j) {
            const F v = L::load(xt + j * formats::kLaneRow), wk = L::load(wt + j * formats::kLaneRow);
            const F wv = L::load(wxt + j * formats::kLaneRow);
            const F l = L::nearest(L::clamp((v - m) * id, zero, nmax));
            const F r = v - (l * d + m);
            err += wk * r * r;
            sl += wk * l;
            sll += wk * l * l;
            sxl += wv * l;
        }
        L::store(batch.err + i0, err);
        L::store(batch.sl + i0, sl);
        L::store(batch.sll + i0, sll);
        L::store(batch.sxl + i0, sxl);
    }
}

} // namespace LOWBIT_ISA
} // namespace lb::kernels
