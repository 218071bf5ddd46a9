// The lattice search's loops (formats/lattice_kernels.hpp) on W lanes: W
// points at a time, each lane computing what the scalar reference computes
// for its point, with the same IEEE operations in the same order; the first
// point on ties, as the reference's sequential scan finds it.
#pragma once

#include "common/isa.hpp"
#include "formats/lattice_kernels.hpp"
#include "kernels/lanes.hpp"

#include <cstdint>
#include <limits>

namespace lb::kernels {
inline namespace LOWBIT_ISA {

template <int W>
void lattice_tabulate_lanes(const float *by_dim, int dims, int points, const float *a, const float *w,
                            float *q, float *r, float *rf) {
    using L = Lanes<W>;
    using F = typename L::F;
    const F zero = L::splat(0.0f), inf = L::splat(std::numeric_limits<float>::infinity());
    for (int p = 0; p < points; p += W) {
        F sq = zero, sr = zero, mn = inf;
        for (int i = 0; i < dims; ++i) {
            const F v = L::load(by_dim + points * i + p), av = L::splat(a[i]) * v;
            sr += av;
            sq += L::splat(w[i]) * v * v;
            mn = L::select(av < mn, av, mn);
        }
        sr = L::splat(2.0f) * sr;
        L::store(q + p, sq);
        L::store(r + p, sr);
        L::store(rf + p, sr - L::splat(4.0f) * mn);
    }
}

// The lowest of W running minima (point p in lane p % W), the first point
// on ties.
template <int W> formats::LatticeLowest lowest_lane(typename Lanes<W>::F key, typename Lanes<W>::U at) {
    constexpr float kInf = std::numeric_limits<float>::infinity();
    formats::LatticeLowest best{kInf, 0};
    for (int l = 0; l < W; ++l) {
        const float k = key[l];
        const int a = static_cast<int>(at[l]);
        if (k < best.key || (k == best.key && k < kInf && a < best.point)) best = {k, a};
    }
    return best;
}

// The lowest keys for scales s[0, N) in one pass over the points.
template <int W, int N>
void lowest_keys(const float *q, const float *r, int points, const float *s, formats::LatticeLowest *out) {
    using L = Lanes<W>;
    using F = typename L::F;
    using U = typename L::U;
    F sv[N], key[N];
    U at[N], idx;
    for (int j = 0; j < N; ++j) {
        sv[j] = L::splat(s[j]);
        key[j] = L::splat(std::numeric_limits<float>::infinity());
        at[j] = U{};
    }
    for (int l = 0; l < W; ++l) idx[l] = static_cast<uint32_t>(l);
    for (int p = 0; p < points; p += W) {
        const F qv = L::load(q + p), rv = L::load(r + p);
        for (int j = 0; j < N; ++j) {
            const F k = sv[j] * qv - rv;
            const auto lower = k < key[j];
            key[j] = L::select(lower, k, key[j]);
            at[j] = L::select(lower, idx, at[j]);
        }
        idx += static_cast<uint32_t>(W);
    }
    for (int j = 0; j < N; ++j) out[j] = lowest_lane<W>(key[j], at[j]);
}

template <int W>
formats::LatticeLowest lattice_lowest_lanes(const float *q, const float *r, int points, float s) {
    formats::LatticeLowest out;
    lowest_keys<W, 1>(q, r, points, &s, &out);
    return out;
}

template <int W>
int lattice_shortlist_lanes(const float *q, const float *r, int points, float lo, float hi, uint16_t *kept) {
    using L = Lanes<W>;
    using F = typename L::F;
    const float ends[2] = {lo, hi};
    formats::LatticeLowest ab[2];
    lowest_keys<W, 2>(q, r, points, ends, ab);
    const formats::LatticeLowest a = ab[0], b = ab[1];
    const float a_hi = hi * q[a.point] - r[a.point], b_lo = lo * q[b.point] - r[b.point];
    const F lov = L::splat(lo), hiv = L::splat(hi);
    const F a_lo_v = L::splat(a.key), a_hi_v = L::splat(a_hi), b_lo_v = L::splat(b_lo),
            b_hi_v = L::splat(b.key);
    int n = 0;
    for (int p = 0; p < points; p += W) {
        const F qv = L::load(q + p), rv = L::load(r + p);
        const F kl = lov * qv - rv, kh = hiv * qv - rv;
        const auto above = ((kl > a_lo_v) & (kh > a_hi_v)) | ((kl > b_lo_v) & (kh > b_hi_v));
        // the kept lanes in order (most vectors keep none)
        for (uint32_t keep = ~L::bits(above) & ((1u << W) - 1u); keep != 0; keep &= keep - 1)
            kept[n++] = static_cast<uint16_t>(p + __builtin_ctz(keep));
    }
    return n;
}

} // namespace LOWBIT_ISA
} // namespace lb::kernels
