// The NEON kernel set: 4-lane vectors for the block searches (as the generic
// set, built here for ARMv8.2 with the dot-product instructions, without
// contraction into FMA, so results stay identical to the scalar reference),
// the dot kernels of dot_neon.cpp and the dequantizers of
// dequantize_neon.cpp. Only used on CPUs that report the
// dot-product instructions.
#include "kernels/kernel_set.hpp"

namespace lb::kernels {

namespace {

constexpr KernelSet make_neon() {
    KernelSet k = make_kernel_set<4>("neon", neon::dot_kernels);
    k.dequantize = &neon::kDequantizers;
    return k;
}

} // namespace

const KernelSet kNeonKernels = make_neon();

} // namespace lb::kernels
