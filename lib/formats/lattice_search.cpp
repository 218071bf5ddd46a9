// The lattice I-quants' search (lattice_search.hpp says what it does).
#include "formats/lattice_search.hpp"

#include "formats/block_search.hpp"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <stdexcept>

namespace lb::formats {

namespace {

constexpr int kGroup = 8;

// Step 1's scan: s = amax / lmax * t.
constexpr float kScan[] = {0.6f, 0.72f, 0.84f, 0.96f, 1.08f};

// Step 2's candidate ls of the largest sub-block scale.
constexpr int kTopLs[] = {15, 14};

constexpr float kHuge = 3.0e38f;

} // namespace

LatticeSearch::LatticeSearch(const LatticeFormat &f)
    : f_(f), points_(f.grid->points), halves_(kGroup / f.grid->dims), subs_(256 / f.sub_size),
      groups_per_sub_(f.sub_size / kGroup) {
    if (points_ < 8 || points_ % 8 != 0) throw std::logic_error("lattice grid: points not a multiple of 8");
    const size_t n = static_cast<size_t>(kLatticeGroups * halves_ * points_);
    q_.resize(n);
    r_.resize(n);
    rf_.resize(n);
    // (an integer maximum: aarch64 GCC 12 crashes vectorising the float one)
    int top = 0;
    for (int i = 0; i < points_ * f.grid->dims; ++i)
        top = std::max(top, std::abs(static_cast<int>(f.grid->value[i])));
    top_level_ = static_cast<float>(top);
}

void LatticeSearch::tabulate(const float *x, const float *w) {
    const int dims = f_.grid->dims;
    for (int g = 0; g < kLatticeGroups; ++g) {
        int negatives = 0;
        for (int i = 0; i < kGroup; ++i) negatives += x[kGroup * g + i] < 0.0f;
        odd_[g] = f_.even_signs && negatives % 2 == 1;
        for (int h = 0; h < halves_; ++h) {
            const float *xh = x + kGroup * g + dims * h, *wh = w + kGroup * g + dims * h;
            const size_t base = static_cast<size_t>((g * halves_ + h) * points_);
            float *q = q_.data() + base, *r = r_.data() + base, *mn = rf_.data() + base;
            for (int p = 0; p < points_; ++p) q[p] = 0.0f, r[p] = 0.0f, mn[p] = kHuge;
            // coordinate by coordinate, every point at once (the loops vectorise)
            for (int i = 0; i < dims; ++i) {
                const float a = wh[i] * std::fabs(xh[i]), wi = wh[i];
                const float *l = f_.grid->by_dim + i * points_;
                for (int p = 0; p < points_; ++p) {
                    const float v = l[p], av = a * v;
                    r[p] += av;
                    q[p] += wi * v * v;
                    mn[p] = av < mn[p] ? av : mn[p];
                }
            }
            for (int p = 0; p < points_; ++p) {
                r[p] = 2.0f * r[p];
                mn[p] = r[p] - 4.0f * mn[p];
            }
        }
    }
}

namespace {

// The point with the lowest s q - r, the first on ties.
struct Best {
    float key = kHuge;
    int p = 0;
};

// Four floats or ints (GCC/Clang vector extensions: SSE2 or NEON, the base of
// every build, with no instruction-set flags).
typedef float F4 __attribute__((vector_size(16)));
typedef int32_t I4 __attribute__((vector_size(16)));

F4 load4(const float *p) {
    F4 v;
    std::memcpy(&v, p, sizeof v);
    return v;
}

I4 select(I4 mask, I4 a, I4 b) {
    return (a & mask) | (b & ~mask);
}

Best lowest(const float *q, const float *r, int points, float s) {
    // 8 running minima (point p in lane p % 8), then the lowest of them, the
    // first point on ties; points is a multiple of 8
    const F4 sv = {s, s, s, s};
    F4 key[2] = {{kHuge, kHuge, kHuge, kHuge}, {kHuge, kHuge, kHuge, kHuge}};
    I4 at[2] = {{0, 1, 2, 3}, {4, 5, 6, 7}}, idx[2] = {{0, 1, 2, 3}, {4, 5, 6, 7}};
    const I4 eight = {8, 8, 8, 8};
    for (int p = 0; p < points; p += 8)
        for (int h = 0; h < 2; ++h) {
            const F4 k = sv * load4(q + p + 4 * h) - load4(r + p + 4 * h);
            const I4 lower = k < key[h];
            key[h] =
                reinterpret_cast<F4>(select(lower, reinterpret_cast<I4>(k), reinterpret_cast<I4>(key[h])));
            at[h] = select(lower, idx[h], at[h]);
            idx[h] += eight;
        }
    Best b;
    b.p = points; // above every lane's index, so that lane 0 always wins a tie here
    for (int l = 0; l < 8; ++l) {
        const float k = key[l / 4][l % 4];
        const int a = at[l / 4][l % 4];
        if (k < b.key || (k == b.key && a < b.p)) b.key = k, b.p = a;
    }
    return b; // (with every key infinite or NaN: lane 0's start, point 0)
}

} // namespace

LatticeSearch::Pick LatticeSearch::best_in_group(int g, float s) const {
    Pick pick;
    const size_t b0 = static_cast<size_t>(g * halves_ * points_);
    if (halves_ == 1) {
        const float *r = (odd_[g] ? rf_.data() : r_.data()) + b0;
        const Best b = lowest(q_.data() + b0, r, points_, s);
        pick.key = b.key;
        pick.point[0] = static_cast<uint16_t>(b.p);
        pick.q = q_[b0 + b.p];
        pick.r = r[b.p];
        pick.wrong_half = odd_[g] ? 0 : -1;
        return pick;
    }
    const size_t b1 = b0 + static_cast<size_t>(points_);
    const Best h0 = lowest(q_.data() + b0, r_.data() + b0, points_, s);
    const Best h1 = lowest(q_.data() + b1, r_.data() + b1, points_, s);
    Best p0 = h0, p1 = h1;
    int wrong = -1;
    if (odd_[g]) { // the wrong sign in half 0 or in half 1, whichever costs less
        const Best f0 = lowest(q_.data() + b0, rf_.data() + b0, points_, s);
        const Best f1 = lowest(q_.data() + b1, rf_.data() + b1, points_, s);
        if (f0.key + h1.key <= h0.key + f1.key)
            p0 = f0, wrong = 0;
        else
            p1 = f1, wrong = 1;
    }
    pick.key = p0.key + p1.key;
    pick.point[0] = static_cast<uint16_t>(p0.p);
    pick.point[1] = static_cast<uint16_t>(p1.p);
    pick.q = q_[b0 + p0.p] + q_[b1 + p1.p];
    pick.r = (wrong == 0 ? rf_ : r_)[b0 + p0.p] + (wrong == 1 ? rf_ : r_)[b1 + p1.p];
    pick.wrong_half = static_cast<int8_t>(wrong);
    return pick;
}

float LatticeSearch::sub_error(int sub, float s, Pick *picks, float *sum_q, float *sum_r) const {
    float key = 0.0f, q = 0.0f, r = 0.0f;
    for (int k = 0; k < groups_per_sub_; ++k) {
        const int g = sub * groups_per_sub_ + k;
        picks[g] = best_in_group(g, s);
        key += picks[g].key;
        q += picks[g].q;
        r += picks[g].r;
    }
    *sum_q = q;
    *sum_r = r;
    return s * key;
}

float LatticeSearch::best_sub_scale(int sub, const float *x) const {
    float amax = 0.0f;
    for (int i = 0; i < f_.sub_size; ++i) amax = std::fmax(amax, std::fabs(x[sub * f_.sub_size + i]));
    if (amax == 0.0f) return 0.0f;
    Pick picks[kLatticeGroups];
    float best_s = 0.0f, best = kHuge, q = 0.0f, r = 0.0f;
    for (float t : kScan) {
        const float s = amax / top_level_ * t;
        float sq, sr;
        const float e = sub_error(sub, s, picks, &sq, &sr);
        if (e < best) best = e, best_s = s, q = sq, r = sr;
    }
    for (int it = 0; it < 3 && q > 0.0f; ++it) {
        const float s = r / (2.0f * q);
        if (!(s > 0.0f) || s == best_s) break;
        float sq, sr;
        const float e = sub_error(sub, s, picks, &sq, &sr);
        if (!(e < best)) break;
        best = e, best_s = s, q = sq, r = sr;
    }
    return best_s;
}

void LatticeSearch::choose_ls(float d, const float *s, Candidate &out) const {
    out.c.d = d;
    out.err = 0.0f;
    const float base = f_.unit * d;
    for (int sub = 0; sub < subs_; ++sub) {
        const int l0 = static_cast<int>(nearest(clamp((s[sub] / base - 1.0f) * 0.5f, 0.0f, 15.0f)));
        float best = kHuge;
        Pick picks[kLatticeGroups], keep[kLatticeGroups];
        for (int l = l0 - 1; l <= l0 + 1; ++l) {
            if (l < 0 || l > 15) continue;
            float sq, sr;
            const float e = sub_error(sub, base * static_cast<float>(2 * l + 1), picks, &sq, &sr);
            if (!(e < best)) continue;
            best = e;
            out.c.ls[sub] = static_cast<uint8_t>(l);
            std::memcpy(keep + sub * groups_per_sub_, picks + sub * groups_per_sub_,
                        sizeof(Pick) * static_cast<size_t>(groups_per_sub_));
        }
        std::memcpy(out.pick + sub * groups_per_sub_, keep + sub * groups_per_sub_,
                    sizeof(Pick) * static_cast<size_t>(groups_per_sub_));
        out.err += best;
    }
}

// d = sum c R / (2 sum c^2 Q) over sub-blocks, c = unit (2 ls + 1), for the
// chosen points; kept while the error falls.
void LatticeSearch::refit_d(const float *s, Candidate &best) const {
    for (int it = 0; it < 2; ++it) {
        float num = 0.0f, den = 0.0f;
        for (int sub = 0; sub < subs_; ++sub) {
            const float c = f_.unit * static_cast<float>(2 * best.c.ls[sub] + 1);
            for (int k = 0; k < groups_per_sub_; ++k) {
                const Pick &p = best.pick[sub * groups_per_sub_ + k];
                num += c * p.r;
                den += c * c * p.q;
            }
        }
        if (!(den > 0.0f)) return;
        const float d = storable_scale(num / (2.0f * den));
        if (!(d > 0.0f) || d == best.c.d) return;
        Candidate next;
        choose_ls(d, s, next);
        if (!(next.err < best.err)) return;
        best = next;
    }
}

// Each group's signs are its values' signs; with even_signs and an odd count
// of negatives, the value of the wrong half with the least w |x| l takes the
// wrong one (the first on ties).
void LatticeSearch::set_signs(const float *x, const float *w, Candidate &cand) const {
    const int dims = f_.grid->dims;
    for (int g = 0; g < kLatticeGroups; ++g) {
        uint8_t signs = 0;
        for (int i = 0; i < kGroup; ++i)
            signs = static_cast<uint8_t>(signs | (x[kGroup * g + i] < 0.0f) << i);
        const Pick &p = cand.pick[g];
        cand.c.point[g][0] = p.point[0];
        cand.c.point[g][1] = p.point[1];
        if (odd_[g]) {
            const int h = p.wrong_half;
            const int8_t *l = f_.grid->value + p.point[h] * dims;
            int at = 0;
            float mn = kHuge;
            for (int i = 0; i < dims; ++i) {
                const int j = kGroup * g + dims * h + i;
                const float cost = w[j] * std::fabs(x[j]) * static_cast<float>(l[i]);
                if (cost < mn) mn = cost, at = dims * h + i;
            }
            signs = static_cast<uint8_t>(signs ^ (1u << at));
        }
        cand.c.signs[g] = signs;
    }
}

LatticeChoice LatticeSearch::search(const float *x, const float *w) {
    tabulate(x, w);
    float s[16] = {}, m = 0.0f;
    for (int sub = 0; sub < subs_; ++sub) {
        s[sub] = best_sub_scale(sub, x);
        m = std::fmax(m, s[sub]);
    }
    Candidate best;
    bool have = false;
    if (m > 0.0f)
        for (int top : kTopLs) {
            const float d = storable_scale(m / (f_.unit * static_cast<float>(2 * top + 1)));
            if (!(d > 0.0f)) continue;
            Candidate cand;
            choose_ls(d, s, cand);
            refit_d(s, cand);
            if (have && !(cand.err < best.err)) continue;
            best = cand;
            have = true;
        }
    if (!have) { // all zero, or too small for a binary16 scale
        best = Candidate{};
        for (int g = 0; g < kLatticeGroups; ++g) best.pick[g] = best_in_group(g, 0.0f);
    }
    set_signs(x, w, best);
    return best.c;
}

} // namespace lb::formats
