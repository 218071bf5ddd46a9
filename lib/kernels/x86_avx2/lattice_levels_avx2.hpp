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

// The rows of points pt[0..3] on a grid of 8 coordinates, of pt[0..7] on one
// of 4 (pt: any unsigned index type).
template <typename Index> inline __m256i rows8(const int8_t *grid, const Index *pt) {
    return _mm256_set_epi64x(grid_row8(grid, pt[3]), grid_row8(grid, pt[2]), grid_row8(grid, pt[1]),
                             grid_row8(grid, pt[0]));
}

template <typename Index> inline __m256i rows4(const int8_t *grid, const Index *pt) {
    return _mm256_set_epi32(grid_row4(grid, pt[7]), grid_row4(grid, pt[6]), grid_row4(grid, pt[5]),
                            grid_row4(grid, pt[4]), grid_row4(grid, pt[3]), grid_row4(grid, pt[2]),
                            grid_row4(grid, pt[1]), grid_row4(grid, pt[0]));
}

// grid: LatticeLayout<Block>::grid().value
template <typename Block> inline __m256i sub_levels(const int8_t *grid, const formats::LatticeSub &s) {
    if constexpr (formats::LatticeLayout<Block>::kDims == 8)
        return rows8(grid, s.point);
    else
        return rows4(grid, s.point);
}

} // namespace LOWBIT_ISA
} // namespace lb::kernels
