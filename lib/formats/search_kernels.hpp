// The hot loops of the block searches, as a set of function pointers that
// the quantizers are given (formats never look a set up themselves): the
// scalar reference below defines the results, and every kernel set of
// lib/kernels reproduces them bit for bit on wider lanes.
#pragma once

#include "formats/affine_blocks.hpp"
#include "formats/lattice_kernels.hpp"
#include "formats/subblock_lanes.hpp"
#include "formats/symmetric_blocks.hpp"

#include <cstdint>

namespace lb::formats {

// A symmetric 32-block format (Q4_0, Q5_0, Q8_0).
struct SymmetricKernels {
    // The fast path over n_blocks blocks: scales to d, levels to q (32 per block).
    void (*quantize_fast)(const float *x, int64_t n_blocks, float *d, uint8_t *q);
    // candidate evaluation on groups of 16 blocks (block_groups.hpp)
    SymmetricEvalLanes eval_lanes;
};

// An affine 32-block format (Q4_1, Q5_1).
struct AffineKernels {
    void (*quantize_fast)(const float *x, int64_t n_blocks, float *d, float *m, uint8_t *q);
    AffineEvalLanes eval_lanes;
};

struct SearchKernels {
    SymmetricKernels q4_0, q5_0, q8_0;
    AffineKernels q4_1, q5_1;
    // candidate evaluation on all sub-blocks of a K-quant super-block at once
    SymmetricEvalLanes q3_k_sub, q6_k_sub;
    AffineEvalLanes q2_k_sub, q4_k_sub, q5_k_sub;
    // the lattice I-quants' point tables and searches
    LatticeKernels lattice;
};

// The scalar reference (reference_search.cpp).
extern const SearchKernels kReferenceSearch;

} // namespace lb::formats
