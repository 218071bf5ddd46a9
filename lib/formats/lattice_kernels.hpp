// The hot loops of the lattice search (lattice_search.hpp) over every point
// of a grid, part of the search kernel set: the scalar reference
// (lattice_kernels.cpp) defines the results, and every kernel set of
// lib/kernels reproduces them bit for bit on wider lanes
// (kernels/lattice_lanes.hpp). `points` is a multiple of 16.
#pragma once

#include <cstdint>

namespace lb::formats {

// A point and its key s q - r.
struct LatticeLowest {
    float key = 0.0f;
    int point = 0;
};

struct LatticeKernels {
    // For every point p of a grid laid out coordinate-major (by_dim[points * i
    // + p]) against `dims` values with weights w and a = w |x|: q[p] = sum w l^2,
    // r[p] = 2 sum a l and rf[p] = r[p] - 4 min a l (one value with the wrong
    // sign), the sums in coordinate order.
    void (*tabulate)(const float *by_dim, int dims, int points, const float *a, const float *w, float *q,
                     float *r, float *rf);
    // The first point with the lowest key s q[p] - r[p] below infinity, or
    // point 0 (key infinity) if there is none.
    LatticeLowest (*lowest)(const float *q, const float *r, int points, float s);
    // The points, in order, that may be lowest for some s in [lo, hi]: all but
    // those whose keys at both lo and hi exceed those of A (the lowest at lo)
    // or both exceed those of B (the lowest at hi), as a line above another at
    // both ends is above it in between. Returns their count.
    int (*shortlist)(const float *q, const float *r, int points, float lo, float hi, uint16_t *kept);
};

// The scalar reference, function by function (kReferenceSearch holds them).
void lattice_tabulate(const float *by_dim, int dims, int points, const float *a, const float *w, float *q,
                      float *r, float *rf);
LatticeLowest lattice_lowest(const float *q, const float *r, int points, float s);
int lattice_shortlist(const float *q, const float *r, int points, float lo, float hi, uint16_t *kept);

} // namespace lb::formats
