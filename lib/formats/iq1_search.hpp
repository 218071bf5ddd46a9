// The search of IQ1_S and IQ1_M: lowbit's own, on the (importance-)weighted
// squared error of exactly the values the decoder produces.
//
// A group of 8 weights is a point p of the 2048-point grid of {-1, 0, 1}^8
// (iq1s_grid, lattice_grids.hpp), shifted by delta = +-1/8 and scaled by
// s = d (2 ls + 1), ls in [0, 7]: x = s (p + delta). IQ1_S shares ls and
// delta over each 32 weights; IQ1_M has ls per 16 and delta per group.
//
// For a scale s and a delta, each value's best level is its nearest; where
// that tuple is a grid point it is the best point, elsewhere the best of the
// grid points nearest to it (the fewest level steps away; Iq1Neighbours).
//  1. each sub-block's best unconstrained s: a scan of s = amax / (1 + 1/8) * t,
//     the best refitted by least squares while the error falls;
//  2. candidate d that put the largest s at ls = 7, 6 or 5; for each, every
//     sub-block takes the ls within one of s / d (and delta) with the lowest
//     error; d refitted by least squares while the error falls;
//  3. the candidate with the lowest error wins.
#pragma once

#include "formats/iq1_blocks.hpp"
#include <cstdint>
#include <vector>

namespace lb::formats {

// For each of the 3^8 tuples of levels (code c = level + 1, tuple index
// sum c_j 3^j): the grid point it is, or the grid points fewest steps away.
struct Iq1Neighbours {
    std::vector<int16_t> point_of;  // 3^8: grid point, or -1
    std::vector<uint32_t> first;    // 3^8 + 1: range of `near` of an off-grid tuple
    std::vector<uint16_t> near;     // grid points
    std::vector<uint16_t> tuple_of; // 2048: each point's tuple index
};
const Iq1Neighbours &iq1_neighbours(); // built once (thread-safe), in milliseconds

struct Iq1Format {
    int sub_size = 32;            // weights per ls: 32 (IQ1_S) or 16 (IQ1_M)
    bool delta_per_group = false; // IQ1_M: one delta per 8; IQ1_S: per 32
};

struct Iq1Choice {
    float d = 0.0f;
    uint8_t ls[16] = {};
    uint16_t point[32] = {};
    bool negative_delta[32] = {}; // per group (equal within an IQ1_S sub-block)
};

Iq1Choice search_iq1(const Iq1Format &f, const float *x, const float *w);

} // namespace lb::formats
