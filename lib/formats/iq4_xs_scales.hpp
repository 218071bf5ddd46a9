// IQ4_XS's sub-block scales, shared by the format (iq4_xs.cpp) and the dot
// kernels: sub-block ib's 6-bit scale has its low 4 bits in nibble ib % 2 of
// scales_l[ib / 2] and its high 2 bits at bit 2 ib of scales_h; the value
// used is that scale minus 32.
#pragma once

#include "common/isa.hpp"
#include "formats/blocks.hpp"

namespace lb::formats {
inline namespace LOWBIT_ISA {

inline int iq4_xs_sub_scale(const block_iq4_xs &b, int ib) {
    return (((b.scales_l[ib / 2] >> 4 * (ib % 2)) & 0xf) | (((b.scales_h >> 2 * ib) & 3) << 4)) - 32;
}

} // namespace LOWBIT_ISA
} // namespace lb::formats
