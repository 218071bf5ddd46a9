// The SVE kernel set: the block searches on 4-lane vectors built for SVE
// (what the compiler vectorizes beyond them runs at the CPU's vector length;
// without contraction into FMA, so results stay identical to the scalar
// reference at every length), the dot kernels of dot_sve.cpp and the NEON
// set's dequantizers. Only used
// on CPUs that report SVE and the NEON set's dot-product instructions.
#include "kernels/kernel_set.hpp"

namespace lb::kernels {

namespace {

// the dequantizers are the NEON set's
constexpr KernelSet make_sve() {
    KernelSet k = make_kernel_set<4>("sve", sve::dot_kernels);
    k.dequantize = &neon::kDequantizers;
    return k;
}

} // namespace

const KernelSet kSveKernels = make_sve();

} // namespace lb::kernels
