// The AVX-512 kernel set: 16-lane vectors. This file is compiled with
// -mavx512f/bw/vl/dq and without contraction into FMA, so results stay
// identical to the scalar reference; it is only used on CPUs (and operating
// systems) that report AVX-512 F, BW, VL, DQ and VNNI.
#include "kernels/kernel_set.hpp"

namespace lb::kernels {

const KernelSet kAvx512Kernels = make_kernel_set<16>("avx512", avx512::dot_kernels);

} // namespace lb::kernels
