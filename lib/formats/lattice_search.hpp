// The search of the lattice I-quants with binary16 super-block scales and
// 4-bit sub-block scales (IQ2_XXS, IQ2_XS, IQ2_S, IQ3_XXS, IQ3_S): lowbit's
// own, on the (importance-)weighted squared error of exactly the values the
// decoder produces.
//
// A super-block of 256 weights is 32 groups of 8. Each group is one point of
// an 8-wide grid or two points of a 4-wide one, times signs; sub-blocks of
// `sub_size` weights share a scale s = unit * d * (2 ls + 1), ls in [0, 15],
// d the binary16 super-block scale. With even_signs only 7 sign bits are
// stored per group and the count of negatives is even: a group whose values
// have an odd count of negatives gives one value the wrong sign, the one that
// costs least (w |x| level, the cheapest of the chosen point).
//
// For a scale s the error of a group on point p is, up to a constant,
// s^2 Q_p - s R_p with Q_p = sum w l^2 and R_p = 2 sum w |x| l (less
// 4 min w |x| l for a wrong sign): both are tabled once per group for every
// point, so a group's best point for any s is an exhaustive, exact search.
// The keys s Q - R are lines in s: before each step, each group keeps only
// the points that can be lowest somewhere in the range of s the step will
// try (lattice_kernels.hpp's shortlist), and a scale outside it searches
// every point.
//  1. each sub-block's best unconstrained s: a scan of s = amax / lmax * t,
//     the best refitted by least squares (s = sum R / 2 sum Q) while the
//     error falls;
//  2. candidate d that put the largest s at ls = 15 or 14; for each,
//     every sub-block takes the ls within one of s / (unit d) with the lowest
//     error; d refitted by least squares on the chosen points and ls while
//     the error falls;
//  3. the candidate with the lowest error wins.
#pragma once

#include "formats/lattice_grids.hpp"
#include "formats/lattice_kernels.hpp"

#include <cstdint>
#include <vector>

namespace lb::formats {

struct LatticeFormat {
    const LatticeGrid *grid = nullptr; // 8 or 4 coordinates per point
    bool even_signs = false;           // 7 stored sign bits per 8 weights
    int sub_size = 32;                 // weights per 4-bit scale: 16 or 32
    float unit = 0.0f;                 // s = unit * d * (2 ls + 1)
};

constexpr int kLatticeGroups = 32; // groups of 8 in a super-block of 256

// A super-block's outcome: d, each sub-block's ls, each group's point(s) and
// the signs of its 8 values (bit j: value j negative).
struct LatticeChoice {
    float d = 0.0f;
    uint8_t ls[16] = {};
    uint16_t point[kLatticeGroups][2] = {};
    uint8_t signs[kLatticeGroups] = {};
};

// The tables of one super-block's search, reused from block to block.
class LatticeSearch {
  public:
    // k: the kernel set's loops over the points
    LatticeSearch(const LatticeFormat &f, const LatticeKernels &k);
    // x and w: the super-block's 256 values and their weights.
    LatticeChoice search(const float *x, const float *w);

    // A group's best point(s) for one scale s.
    struct Pick {
        float key = 0.0f; // s Q - R: the error is s * key, up to a constant
        float q = 0.0f, r = 0.0f;
        uint16_t point[2] = {};
        int8_t wrong_half = -1; // the half holding the wrong sign, or -1
    };
    // A complete candidate: the choice, its error and its groups' picks.
    struct Candidate {
        LatticeChoice c;
        float err = 0.0f;
        Pick pick[kLatticeGroups];
    };

  private:
    // The points of one table (group g, half h, r or rf) kept for s in
    // [lo, hi]; an empty range keeps none.
    struct Shortlist {
        float lo = 1.0f, hi = 0.0f;
        int count = 0;
    };
    static int table_of(int g, int h, int halves, bool wrong) {
        return (g * halves + h) * 2 + (wrong ? 1 : 0);
    }
    void tabulate(const float *x, const float *w);
    void shortlist_sub(int sub, float lo, float hi);
    void shortlist_step2(const float *s, float m);
    LatticeLowest find(int g, int h, bool wrong, float s) const;
    Pick best_in_group(int g, float s) const;
    float sub_error(int sub, float s, Pick *picks, float *sum_q, float *sum_r) const;
    float best_sub_scale(int sub, const float *x);
    void choose_ls(float d, const float *s, Candidate &out) const;
    void refit_d(const float *s, Candidate &best) const;
    void set_signs(const float *x, const float *w, Candidate &cand) const;

    LatticeFormat f_;
    LatticeKernels k_;
    int points_ = 0, halves_ = 1; // grid points; points per group (1 or 2)
    int subs_ = 8, groups_per_sub_ = 4;
    float top_level_ = 0.0f;
    bool odd_[kLatticeGroups] = {};
    // per group and half, per point p: q = sum w l^2, r = 2 sum w|x| l, and
    // rf = r - 4 min w|x| l (one value with the wrong sign)
    std::vector<float> q_, r_, rf_;
    Shortlist lists_[kLatticeGroups * 4];
    std::vector<uint16_t> kept_;         // points_ per table
    std::vector<float> kept_q_, kept_r_; // the kept points' q and r
};

} // namespace lb::formats
