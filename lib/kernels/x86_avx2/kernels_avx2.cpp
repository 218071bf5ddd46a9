// The AVX2 kernel set: 8-lane vectors. This file is compiled with -mavx2
// (and without FMA, so results stay identical to the scalar reference); it is
// only used on CPUs that report AVX2.
#include "kernels/kernel_set.hpp"

namespace lb::kernels {

namespace {

constexpr KernelSet make_avx2() {
    KernelSet k = make_kernel_set<8>("avx2", avx2::dot_kernels);
    k.dequantize = &avx2::kDequantizers;
    return k;
}

} // namespace

const KernelSet kAvx2Kernels = make_avx2();

} // namespace lb::kernels
