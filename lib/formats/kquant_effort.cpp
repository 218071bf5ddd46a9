// The search effort of the K-quant quantizers, and the unit weights they use
// without an importance matrix.
#include "formats/kquant_blocks.hpp"

namespace lb::formats {

const float *unit_weights() {
    static const float *const ones = [] {
        static float w[256];
        for (float &v : w) v = 1.0f;
        return w;
    }();
    return ones;
}

// Chosen by measuring error and time against llama.cpp on the quality test
// tensors (tests/unit/test_quality, bench/compare_ggml). The sub-block grid
// brings most of the gain where the levels are fine (Q4_K, Q5_K, Q6_K: without
// it Q4_K and Q6_K are no better than llama.cpp); for the coarse Q2_K and
// Q3_K the refined reference scale already beats llama.cpp clearly, at 2-3
// times the grid's speed. With an importance matrix every format searches
// widely: the wider code search pays there.
KEffort kquant_effort(lb_type type, bool with_imatrix) {
    if (with_imatrix) return KEffort{true, 1, true, true, 2};
    const bool grid = type != LB_TYPE_Q2_K && type != LB_TYPE_Q3_K;
    return KEffort{grid, 1, false, false, 1};
}

} // namespace lb::formats
