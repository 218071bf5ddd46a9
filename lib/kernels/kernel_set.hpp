// Builds a KernelSet from the lane kernels of block_kernels.hpp for W lanes.
// Included once per instruction set, in a translation unit compiled for it.
#pragma once

#include "kernels/block_kernels.hpp"
#include "kernels/kernels.hpp"

namespace lb::kernels {

template <int W> constexpr KernelSet make_kernel_set(const char *name) {
    return KernelSet{
        name,
        {symmetric_fast<W, 32, -8, 7, 8>, symmetric_eval_all<W, 32, -8, 7>},
        {symmetric_fast<W, 32, -16, 15, 16>, symmetric_eval_all<W, 32, -16, 15>},
        {symmetric_fast<W, 32, -127, 127, 0>, symmetric_eval_all<W, 32, -127, 127>},
        {affine_fast<W, 32, 15>, affine_eval_all<W, 32, 15>},
        {affine_fast<W, 32, 31>, affine_eval_all<W, 32, 31>},
        symmetric_eval_all<W, 16, -4, 3>,
        symmetric_eval_all<W, 16, -32, 31>,
        affine_eval_all<W, 16, 3>,
        affine_eval_all<W, 32, 15>,
        affine_eval_all<W, 32, 31>,
    };
}

} // namespace lb::kernels
