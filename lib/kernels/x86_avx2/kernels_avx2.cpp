// The AVX2 kernel set: 8-lane vectors. This file is compiled with -mavx2
// (and without FMA, so results stay identical to the scalar reference); it is
// only used on CPUs that report AVX2.
#include "kernels/kernel_set.hpp"

namespace lb::kernels {

const KernelSet kAvx2Kernels = make_kernel_set<8>("avx2", avx2::dot_kernels);

} // namespace lb::kernels
