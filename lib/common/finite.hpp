// Checking float data for NaN and infinity, fast enough to run on every
// tensor row.
#pragma once

#include <cstdint>
#include <cstring>

namespace lb {

// Index of the first NaN or infinity in x[0, n), or -1 if all are finite.
inline int64_t first_non_finite(const float *x, int64_t n) {
    constexpr int64_t kChunk = 256;
    for (int64_t start = 0; start < n; start += kChunk) {
        const int64_t len = n - start < kChunk ? n - start : kChunk;
        // an all-ones exponent (0x7f800000) plus 0x00800000 sets bit 31;
        // every other exponent leaves it clear
        uint32_t bad = 0;
        for (int64_t j = 0; j < len; ++j) {
            uint32_t u;
            std::memcpy(&u, x + start + j, 4);
            bad |= (u & 0x7f800000u) + 0x00800000u;
        }
        if ((bad & 0x80000000u) != 0)
            for (int64_t j = 0; j < len; ++j) {
                uint32_t u;
                std::memcpy(&u, x + start + j, 4);
                if ((u & 0x7f800000u) == 0x7f800000u) return start + j;
            }
    }
    return -1;
}

} // namespace lb
