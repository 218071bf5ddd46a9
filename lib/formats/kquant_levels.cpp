#include "formats/kquant_levels.hpp"

namespace lb::formats {

float dot_levels_q8_K(const KLevels &w, const block_q8_K &a) {
    int32_t sum_scaled = 0, sum_mins = 0;
    for (int g = 0; g < QK_K / 16; ++g) {
        int32_t s = 0;
        for (int i = 16 * g; i < 16 * g + 16; ++i) s += static_cast<int32_t>(w.level[i]) * a.qs[i];
        sum_scaled += w.scale[g] * s;
        sum_mins += w.min[g] * a.bsums[g];
    }
    const float d = a.d * w.d, dmin = a.d * w.dmin;
    return d * static_cast<float>(sum_scaled) - dmin * static_cast<float>(sum_mins);
}

} // namespace lb::formats
