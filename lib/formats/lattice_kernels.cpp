// The scalar reference of the lattice search's loops (lattice_kernels.hpp).
#include "formats/lattice_kernels.hpp"

#include <limits>

namespace lb::formats {

namespace {

constexpr float kInf = std::numeric_limits<float>::infinity();

} // namespace

void lattice_tabulate(const float *by_dim, int dims, int points, const float *a, const float *w, float *q,
                      float *r, float *rf) {
    for (int p = 0; p < points; ++p) {
        float sq = 0.0f, sr = 0.0f, mn = kInf;
        for (int i = 0; i < dims; ++i) {
            const float v = by_dim[points * i + p], av = a[i] * v;
            sr += av;
            sq += w[i] * v * v;
            mn = av < mn ? av : mn;
        }
        sr = 2.0f * sr;
        q[p] = sq;
        r[p] = sr;
        rf[p] = sr - 4.0f * mn;
    }
}

LatticeLowest lattice_lowest(const float *q, const float *r, int points, float s) {
    LatticeLowest best{kInf, 0};
    for (int p = 0; p < points; ++p) {
        const float k = s * q[p] - r[p];
        if (k < best.key) best = {k, p};
    }
    return best;
}

int lattice_shortlist(const float *q, const float *r, int points, float lo, float hi, uint16_t *kept) {
    const LatticeLowest a = lattice_lowest(q, r, points, lo), b = lattice_lowest(q, r, points, hi);
    const float a_hi = hi * q[a.point] - r[a.point], b_lo = lo * q[b.point] - r[b.point];
    int n = 0;
    for (int p = 0; p < points; ++p) {
        const float kl = lo * q[p] - r[p], kh = hi * q[p] - r[p];
        const bool above_a = kl > a.key && kh > a_hi, above_b = kl > b_lo && kh > b.key;
        if (!(above_a || above_b)) kept[n++] = static_cast<uint16_t>(p);
    }
    return n;
}

} // namespace lb::formats
