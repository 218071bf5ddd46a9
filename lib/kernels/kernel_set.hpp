// Builds a KernelSet from the lane kernels of block_kernels.hpp for W lanes.
// Included once per instruction set, in a translation unit compiled for it.
#pragma once

#include "common/isa.hpp"
#include "kernels/block_kernels.hpp"
#include "kernels/finite_lanes.hpp"
#include "kernels/kernels.hpp"
#include "kernels/lattice_lanes.hpp"

namespace lb::kernels {
inline namespace LOWBIT_ISA {

template <int W> constexpr KernelSet make_kernel_set(const char *name, const DotKernels &(*dot)()) {
    return KernelSet{
        .name = name,
        .search =
            {
                .q4_0 = {symmetric_fast<W, 32, -8, 7, 8>, symmetric_eval_lanes<W, 16, 32, -8, 7>},
                .q5_0 = {symmetric_fast<W, 32, -16, 15, 16>, symmetric_eval_lanes<W, 16, 32, -16, 15>},
                .q8_0 = {symmetric_fast<W, 32, -127, 127, 0>, symmetric_eval_lanes<W, 16, 32, -127, 127>},
                .q4_1 = {affine_fast<W, 32, 15>, affine_eval_lanes<W, 16, 32, 15>},
                .q5_1 = {affine_fast<W, 32, 31>, affine_eval_lanes<W, 16, 32, 31>},
                .q3_k_sub = symmetric_eval_lanes<W, 16, 16, -4, 3>,
                .q6_k_sub = symmetric_eval_lanes<W, 16, 16, -32, 31>,
                .q2_k_sub = affine_eval_lanes<W, 16, 16, 3>,
                .q4_k_sub = affine_eval_lanes<W, 8, 32, 15>,
                .q5_k_sub = affine_eval_lanes<W, 8, 32, 31>,
                .lattice = {lattice_tabulate_lanes<W>, lattice_lowest_lanes<W>, lattice_shortlist_lanes<W>},
            },
        .dot = dot,
        .first_non_finite = first_non_finite_lanes<W>,
    };
}

} // namespace LOWBIT_ISA
} // namespace lb::kernels
