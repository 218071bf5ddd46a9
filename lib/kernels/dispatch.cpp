// Choosing the kernel set at run time.
#include "kernels/kernels.hpp"

#include <cstdlib>
#include <cstring>

namespace lb::kernels {

const KernelSet *find(const char *name) {
    if (name == nullptr) return nullptr;
    if (std::strcmp(name, "scalar") == 0) return &kScalarKernels;
    if (std::strcmp(name, "generic") == 0) return &kGenericKernels;
#if defined(__x86_64__)
    if (std::strcmp(name, "avx2") == 0) return __builtin_cpu_supports("avx2") ? &kAvx2Kernels : nullptr;
#endif
    return nullptr;
}

const KernelSet kScalarKernels = {.name = "scalar", .search = formats::kReferenceSearch};

const KernelSet &active() {
    static const KernelSet *const set = [] {
        if (const KernelSet *forced = find(std::getenv("LOWBIT_KERNELS"))) return forced;
#if defined(__x86_64__)
        if (__builtin_cpu_supports("avx2")) return &kAvx2Kernels;
#endif
        return &kGenericKernels;
    }();
    return *set;
}

} // namespace lb::kernels
