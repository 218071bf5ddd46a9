// The lattice I-quants' search (lattice_search.hpp says what it does).
#include "formats/lattice_search.hpp"

#include "formats/block_search.hpp"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <iterator>
#include <limits>
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

LatticeSearch::LatticeSearch(const LatticeFormat &f, const LatticeKernels &k)
    : f_(f), k_(k), points_(f.grid->points), halves_(kGroup / f.grid->dims), subs_(256 / f.sub_size),
      groups_per_sub_(f.sub_size / kGroup) {
    if (points_ < 16 || points_ % 16 != 0)
        throw std::logic_error("lattice grid: points not a multiple of 16");
    const size_t n = static_cast<size_t>(kLatticeGroups * halves_ * points_);
    q_.resize(n);
    r_.resize(n);
    rf_.resize(n);
    kept_.resize(2 * n);
    kept_q_.resize(2 * n);
    kept_r_.resize(2 * n);
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
            const int at = kGroup * g + dims * h;
            float a[kGroup];
            for (int i = 0; i < dims; ++i) a[i] = w[at + i] * std::fabs(x[at + i]);
            const size_t base = static_cast<size_t>((g * halves_ + h) * points_);
            k_.tabulate(f_.grid->by_dim, dims, points_, a, w + at, q_.data() + base, r_.data() + base,
                        rf_.data() + base);
        }
    }
    for (Shortlist &l : lists_) l = Shortlist{};
}

// The tables group g's picks read (lattice_search.hpp): with halves of 4, r
// for both and, where the group's count of negatives is odd, rf for both.
void LatticeSearch::shortlist_sub(int sub, float lo, float hi) {
    for (int k = 0; k < groups_per_sub_; ++k) {
        const int g = sub * groups_per_sub_ + k;
        for (int h = 0; h < halves_; ++h)
            for (const bool wrong : {false, true}) {
                if (wrong ? !odd_[g] : (halves_ == 1 && odd_[g])) continue;
                const int t = table_of(g, h, halves_, wrong);
                const size_t base = static_cast<size_t>((g * halves_ + h) * points_);
                Shortlist &l = lists_[t];
                l.lo = lo;
                l.hi = hi;
                const float *q = q_.data() + base, *r = (wrong ? rf_ : r_).data() + base;
                const size_t at = static_cast<size_t>(t * points_);
                l.count = k_.shortlist(q, r, points_, lo, hi, kept_.data() + at);
                for (int i = 0; i < l.count; ++i) { // their q and r side by side, for find
                    kept_q_[at + static_cast<size_t>(i)] = q[kept_[at + static_cast<size_t>(i)]];
                    kept_r_[at + static_cast<size_t>(i)] = r[kept_[at + static_cast<size_t>(i)]];
                }
            }
    }
}

// The first point with the lowest s q - r: among the shortlist where s is
// in its range, else among every point.
LatticeLowest LatticeSearch::find(int g, int h, bool wrong, float s) const {
    const size_t base = static_cast<size_t>((g * halves_ + h) * points_);
    const float *q = q_.data() + base, *r = (wrong ? rf_ : r_).data() + base;
    const int t = table_of(g, h, halves_, wrong);
    const Shortlist &l = lists_[t];
    if (!(s >= l.lo && s <= l.hi)) return k_.lowest(q, r, points_, s);
    const size_t at = static_cast<size_t>(t * points_);
    const float *kq = kept_q_.data() + at, *kr = kept_r_.data() + at;
    float key = std::numeric_limits<float>::infinity();
    int first = 0;
    for (int i = 0; i < l.count; ++i) {
        const float k = s * kq[i] - kr[i];
        const bool lower = k < key;
        key = lower ? k : key;
        first = lower ? i : first;
    }
    // (no key below infinity: point 0, as the search of every point gives)
    const bool found = key < std::numeric_limits<float>::infinity();
    const LatticeLowest best{key, found ? kept_[at + static_cast<size_t>(first)] : 0};
    return best;
}

LatticeSearch::Pick LatticeSearch::best_in_group(int g, float s) const {
    Pick pick;
    const size_t b0 = static_cast<size_t>(g * halves_ * points_);
    if (halves_ == 1) {
        const LatticeLowest b = find(g, 0, odd_[g], s);
        pick.key = b.key;
        pick.point[0] = static_cast<uint16_t>(b.point);
        pick.q = q_[b0 + b.point];
        pick.r = (odd_[g] ? rf_ : r_)[b0 + b.point];
        pick.wrong_half = odd_[g] ? 0 : -1;
        return pick;
    }
    const size_t b1 = b0 + static_cast<size_t>(points_);
    const LatticeLowest h0 = find(g, 0, false, s), h1 = find(g, 1, false, s);
    LatticeLowest p0 = h0, p1 = h1;
    int wrong = -1;
    if (odd_[g]) { // the wrong sign in half 0 or in half 1, whichever costs less
        const LatticeLowest f0 = find(g, 0, true, s), f1 = find(g, 1, true, s);
        if (f0.key + h1.key <= h0.key + f1.key)
            p0 = f0, wrong = 0;
        else
            p1 = f1, wrong = 1;
    }
    pick.key = p0.key + p1.key;
    pick.point[0] = static_cast<uint16_t>(p0.point);
    pick.point[1] = static_cast<uint16_t>(p1.point);
    pick.q = q_[b0 + p0.point] + q_[b1 + p1.point];
    pick.r = (wrong == 0 ? rf_ : r_)[b0 + p0.point] + (wrong == 1 ? rf_ : r_)[b1 + p1.point];
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

float LatticeSearch::best_sub_scale(int sub, const float *x) {
    float amax = 0.0f;
    for (int i = 0; i < f_.sub_size; ++i) amax = std::fmax(amax, std::fabs(x[sub * f_.sub_size + i]));
    if (amax == 0.0f) return 0.0f;
    Pick picks[kLatticeGroups];
    float best_s = 0.0f, best = kHuge, q = 0.0f, r = 0.0f;
    shortlist_sub(sub, amax / top_level_ * kScan[0], amax / top_level_ * kScan[std::size(kScan) - 1]);
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

// Before step 2: each sub-block's shortlists cover the scales choose_ls
// tries for every candidate d, 3% wider for the refits of d.
void LatticeSearch::shortlist_step2(const float *s, float m) {
    for (int sub = 0; sub < subs_; ++sub) {
        float lo = std::numeric_limits<float>::infinity(), hi = 0.0f;
        for (int top : kTopLs) {
            const float base = f_.unit * storable_scale(m / (f_.unit * static_cast<float>(2 * top + 1)));
            if (!(base > 0.0f)) continue;
            const int l0 = static_cast<int>(nearest(clamp((s[sub] / base - 1.0f) * 0.5f, 0.0f, 15.0f)));
            lo = std::fmin(lo, base * static_cast<float>(2 * std::max(l0 - 1, 0) + 1));
            hi = std::fmax(hi, base * static_cast<float>(2 * std::min(l0 + 1, 15) + 1));
        }
        if (hi > 0.0f) shortlist_sub(sub, 0.97f * lo, 1.03f * hi);
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
    if (m > 0.0f) shortlist_step2(s, m);
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
