// lb::first_non_finite (common/finite.hpp) on W lanes: the same answer, the
// check every row gets before it is quantized.
#pragma once

#include "common/finite.hpp"
#include "common/isa.hpp"
#include "kernels/lanes.hpp"

#include <cstdint>

namespace lb::kernels {
inline namespace LOWBIT_ISA {

template <int W> int64_t first_non_finite_lanes(const float *x, int64_t n) {
    using L = Lanes<W>;
    using U = typename L::U;
    constexpr int64_t kChunk = 256;
    for (int64_t start = 0; start < n; start += kChunk) {
        const int64_t len = n - start < kChunk ? n - start : kChunk;
        // an all-ones exponent plus 0x00800000 sets bit 31, as in the scalar code
        U bad = U{};
        int64_t j = 0;
        for (; j + W <= len; j += W) {
            const U u = (U)L::load(x + start + j);
            bad |= (u & 0x7f800000u) + 0x00800000u;
        }
        uint32_t any = 0;
        for (int k = 0; k < W; ++k) any |= bad[k];
        if ((any & 0x80000000u) != 0 || j < len) {
            const int64_t at = lb::first_non_finite(x + start, len);
            if (at >= 0) return start + at;
        }
    }
    return -1;
}

} // namespace LOWBIT_ISA
} // namespace lb::kernels
