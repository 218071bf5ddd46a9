// The IQ1_S / IQ1_M search (iq1_search.hpp says what it does).
#include "formats/iq1_search.hpp"

#include "formats/block_search.hpp"
#include "formats/lattice_grids.hpp"

#include <cmath>

namespace lb::formats {

namespace {

constexpr int kTuples = 6561, kGroup = 8;
constexpr int kPow3[kGroup] = {1, 3, 9, 27, 81, 243, 729, 2187};

Iq1Neighbours build_neighbours() {
    Iq1Neighbours nb;
    const LatticeGrid &grid = iq1s_grid();
    nb.point_of.assign(kTuples, -1);
    nb.tuple_of.resize(static_cast<size_t>(grid.points));
    for (int p = 0; p < grid.points; ++p) {
        int t = 0;
        for (int j = 0; j < kGroup; ++j) t += (grid.value[kGroup * p + j] + 1) * kPow3[j];
        nb.point_of[static_cast<size_t>(t)] = static_cast<int16_t>(p);
        nb.tuple_of[static_cast<size_t>(p)] = static_cast<uint16_t>(t);
    }
    // L1 distance in level steps of two half-tuples (4 levels each, 81 codes)
    int half_dist[81][81];
    for (int a = 0; a < 81; ++a)
        for (int b = 0; b < 81; ++b) {
            int dist = 0;
            for (int j = 0; j < 4; ++j) dist += std::abs(a / kPow3[j] % 3 - b / kPow3[j] % 3);
            half_dist[a][b] = dist;
        }
    nb.first.resize(kTuples + 1);
    for (int t = 0; t < kTuples; ++t) {
        nb.first[static_cast<size_t>(t)] = static_cast<uint32_t>(nb.near.size());
        if (nb.point_of[static_cast<size_t>(t)] >= 0) continue;
        const int *lo = half_dist[t % 81], *hi = half_dist[t / 81];
        int best = 1 << 30;
        const size_t from = nb.near.size();
        for (int p = 0; p < grid.points; ++p) {
            const int u = nb.tuple_of[static_cast<size_t>(p)];
            const int dist = lo[u % 81] + hi[u / 81];
            if (dist > best) continue;
            if (dist < best) nb.near.resize(from), best = dist;
            nb.near.push_back(static_cast<uint16_t>(p));
        }
    }
    nb.first[kTuples] = static_cast<uint32_t>(nb.near.size());
    return nb;
}

// One group's best point for a scale and a delta.
struct GroupFit {
    float err = 0.0f, sxv = 0.0f, svv = 0.0f; // sum w x v, sum w v^2 (v = level + delta)
    uint16_t point = 0;
};

class Search {
  public:
    Search(const Iq1Format &f, const float *x, const float *w)
        : f_(f), x_(x), w_(w), nb_(iq1_neighbours()), grid_(iq1s_grid()) {}

    GroupFit fit_group(int g, float s, float delta) const {
        const float *x = x_ + kGroup * g, *w = w_ + kGroup * g;
        float e[kGroup][3];
        int t = 0;
        for (int j = 0; j < kGroup; ++j) {
            int best = 0;
            for (int c = 0; c < 3; ++c) {
                const float r = x[j] - s * (static_cast<float>(c - 1) + delta);
                e[j][c] = w[j] * r * r;
                if (e[j][c] < e[j][best]) best = c;
            }
            t += best * kPow3[j];
        }
        GroupFit fit;
        const int on = nb_.point_of[static_cast<size_t>(t)];
        if (on >= 0) {
            fit.point = static_cast<uint16_t>(on);
        } else {
            float best = 3.0e38f;
            for (uint32_t k = nb_.first[static_cast<size_t>(t)]; k < nb_.first[static_cast<size_t>(t) + 1];
                 ++k) {
                const int8_t *v = grid_.value + kGroup * nb_.near[k];
                float err = 0.0f;
                for (int j = 0; j < kGroup; ++j) err += e[j][v[j] + 1];
                if (err < best) best = err, fit.point = nb_.near[k];
            }
        }
        const int8_t *v = grid_.value + kGroup * fit.point;
        for (int j = 0; j < kGroup; ++j) {
            const float q = static_cast<float>(v[j]) + delta;
            fit.err += e[j][v[j] + 1];
            fit.sxv += w[j] * x[j] * q;
            fit.svv += w[j] * q * q;
        }
        return fit;
    }

    // A sub-block at scale s: the best delta(s) and points.
    struct SubFit {
        float err = 0.0f, sxv = 0.0f, svv = 0.0f;
        uint16_t point[4] = {};
        bool negative[4] = {};
    };
    SubFit fit_sub(int sub, float s) const {
        const int groups = f_.sub_size / kGroup;
        GroupFit fits[2][4]; // by delta +1/8, -1/8, then group
        for (int n = 0; n < 2; ++n)
            for (int k = 0; k < groups; ++k)
                fits[n][k] = fit_group(sub * groups + k, s, n ? -kIq1Delta : kIq1Delta);
        if (!f_.delta_per_group) { // IQ1_S: one delta for the sub-block
            SubFit best[2];
            for (int n = 0; n < 2; ++n)
                for (int k = 0; k < groups; ++k) {
                    const GroupFit &g = fits[n][k];
                    best[n].err += g.err, best[n].sxv += g.sxv, best[n].svv += g.svv;
                    best[n].point[k] = g.point;
                    best[n].negative[k] = n == 1;
                }
            return best[1].err < best[0].err ? best[1] : best[0];
        }
        SubFit out;
        for (int k = 0; k < groups; ++k) { // IQ1_M: one delta per group of 8
            const bool negative = fits[1][k].err < fits[0][k].err;
            const GroupFit &g = fits[negative ? 1 : 0][k];
            out.err += g.err, out.sxv += g.sxv, out.svv += g.svv;
            out.point[k] = g.point;
            out.negative[k] = negative;
        }
        return out;
    }

    float best_sub_scale(int sub) const {
        float amax = 0.0f;
        for (int i = 0; i < f_.sub_size; ++i) amax = std::fmax(amax, std::fabs(x_[sub * f_.sub_size + i]));
        if (amax == 0.0f) return 0.0f;
        float best_s = 0.0f;
        SubFit best;
        best.err = 3.0e38f;
        for (float t : {0.5f, 0.6f, 0.7f, 0.8f, 0.9f, 1.0f, 1.1f}) {
            const float s = amax / (1.0f + kIq1Delta) * t;
            const SubFit fit = fit_sub(sub, s);
            if (fit.err < best.err) best = fit, best_s = s;
        }
        for (int it = 0; it < 3 && best.svv > 0.0f; ++it) {
            const float s = best.sxv / best.svv;
            if (!(s > 0.0f) || s == best_s) break;
            const SubFit fit = fit_sub(sub, s);
            if (!(fit.err < best.err)) break;
            best = fit, best_s = s;
        }
        return best_s;
    }

    struct Candidate {
        Iq1Choice c;
        float err = 0.0f, sxcv = 0.0f, sccvv = 0.0f; // for d's refit
    };

    Candidate choose_ls(float d, const float *s) const {
        Candidate out;
        out.c.d = d;
        const int subs = 256 / f_.sub_size, groups = f_.sub_size / kGroup;
        for (int sub = 0; sub < subs; ++sub) {
            const int l0 = static_cast<int>(nearest(clamp((s[sub] / d - 1.0f) * 0.5f, 0.0f, 7.0f)));
            SubFit best;
            best.err = 3.0e38f;
            int best_l = 0;
            for (int l = l0 - 1; l <= l0 + 1; ++l) {
                if (l < 0 || l > 7) continue;
                const SubFit fit = fit_sub(sub, d * static_cast<float>(2 * l + 1));
                if (fit.err < best.err) best = fit, best_l = l;
            }
            const float c = static_cast<float>(2 * best_l + 1);
            out.c.ls[sub] = static_cast<uint8_t>(best_l);
            for (int k = 0; k < groups; ++k) {
                out.c.point[sub * groups + k] = best.point[k];
                out.c.negative_delta[sub * groups + k] = best.negative[k];
            }
            out.err += best.err;
            out.sxcv += c * best.sxv;
            out.sccvv += c * c * best.svv;
        }
        return out;
    }

    Iq1Choice run() {
        const int subs = 256 / f_.sub_size;
        float s[16] = {}, m = 0.0f;
        for (int sub = 0; sub < subs; ++sub) m = std::fmax(m, s[sub] = best_sub_scale(sub));
        Candidate best;
        bool have = false;
        if (m > 0.0f)
            for (int top : {7, 6, 5}) {
                float d = storable_scale(m / static_cast<float>(2 * top + 1));
                if (!(d > 0.0f)) continue;
                Candidate cand = choose_ls(d, s);
                for (int it = 0; it < 2 && cand.sccvv > 0.0f; ++it) {
                    d = storable_scale(cand.sxcv / cand.sccvv);
                    if (!(d > 0.0f) || d == cand.c.d) break;
                    const Candidate next = choose_ls(d, s);
                    if (!(next.err < cand.err)) break;
                    cand = next;
                }
                if (have && !(cand.err < best.err)) continue;
                best = cand;
                have = true;
            }
        return have ? best.c : Iq1Choice{}; // all zero, or too small for a binary16 scale
    }

  private:
    Iq1Format f_;
    const float *x_, *w_;
    const Iq1Neighbours &nb_;
    const LatticeGrid &grid_;
};

} // namespace

const Iq1Neighbours &iq1_neighbours() {
    static const Iq1Neighbours nb = build_neighbours();
    return nb;
}

Iq1Choice search_iq1(const Iq1Format &f, const float *x, const float *w) {
    return Search(f, x, w).run();
}

} // namespace lb::formats
