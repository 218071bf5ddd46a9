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
// tensors: the sub-block grid brings most of the gain; with an importance
// matrix the wider code search pays too.
KEffort kquant_effort(bool with_imatrix) {
    if (with_imatrix) return KEffort{true, 1, true, true, 2};
    return KEffort{true, 1, false, false, 1};
}

} // namespace lb::formats
