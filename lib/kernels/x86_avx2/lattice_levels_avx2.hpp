// The grid levels of a lattice I-quant sub-block (formats/lattice_blocks.hpp)
// in a 256-bit vector, weight 8 l + j in byte 8 l + j: its four grid rows of
// 8 bytes, or eight of 4, gathered. Shared by the AVX2 dot kernels and
// dequantizers; each translation unit compiles it into its own namespace
// (common/isa.hpp).
#pragma once

#include "common/isa.hpp"
#include "formats/lattice_blocks.hpp"

#include <cstdint>
#include <cstring>
#include <immintrin.h>

namespace lb::kernels {
inline namespace LOWBIT_ISA {

inline long long grid_row8(const int8_t *grid, unsigned point) {
    long long row;
    std::memcpy(&row, grid + 8 * point, 8);
    return row;
}

inline int grid_row4(const int8_t *grid, unsigned point) {
    int row;
    std::memcpy(&row, grid + 4 * point, 4);
    return row;
}

// grid: LatticeLayout<Block>::grid().value
template <typename Block> inline __m256i sub_levels(const int8_t *grid, const formats::LatticeSub &s) {
    if constexpr (formats::LatticeLayout<Block>::kDims == 8) {
        return _mm256_set_epi64x(grid_row8(grid, s.point[3]), grid_row8(grid, s.point[2]),
                                 grid_row8(grid, s.point[1]), grid_row8(grid, s.point[0]));
    } else {
        return _mm256_set_epi32(grid_row4(grid, s.point[7]), grid_row4(grid, s.point[6]),
                                grid_row4(grid, s.point[5]), grid_row4(grid, s.point[4]),
                                grid_row4(grid, s.point[3]), grid_row4(grid, s.point[2]),
                                grid_row4(grid, s.point[1]), grid_row4(grid, s.point[0]));
    }
}

} // namespace LOWBIT_ISA
} // namespace lb::kernels
