// The 256 unit weights K-quant quantizers use without an importance matrix.
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

} // namespace lb::formats
