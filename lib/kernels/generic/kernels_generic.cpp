// The portable kernel set: 4-lane vectors (SSE2 on x86-64, NEON on ARM).
#include "kernels/kernel_set.hpp"

namespace lb::kernels {

const KernelSet kGenericKernels = make_kernel_set<4>("generic", reference_dot);

} // namespace lb::kernels
