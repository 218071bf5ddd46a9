// Choosing the kernel set at run time.
#include "kernels/kernels.hpp"

#include <cstdlib>
#include <cstring>
#if defined(__x86_64__)
#include <cpuid.h>
#endif

namespace lb::kernels {

namespace {

#if defined(__x86_64__)
// F16C: CPUID leaf 1, ECX bit 29 (not every compiler's __builtin_cpu_supports knows it)
bool has_f16c() {
    unsigned a, b, c, d;
    return __get_cpuid(1, &a, &b, &c, &d) != 0 && (c & (1u << 29)) != 0;
}

// the AVX2 set's dot kernels also use FMA and F16C (every AVX2 CPU has them)
bool has_avx2() {
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && has_f16c();
}
#endif

} // namespace

const KernelSet *find(const char *name) {
    if (name == nullptr) return nullptr;
    if (std::strcmp(name, "scalar") == 0) return &kScalarKernels;
    if (std::strcmp(name, "generic") == 0) return &kGenericKernels;
#if defined(__x86_64__)
    if (std::strcmp(name, "avx2") == 0) return has_avx2() ? &kAvx2Kernels : nullptr;
#endif
    return nullptr;
}

const KernelSet kScalarKernels = {
    .name = "scalar", .search = formats::kReferenceSearch, .dot = reference_dot};

const KernelSet &active() {
    static const KernelSet *const set = [] {
        if (const KernelSet *forced = find(std::getenv("LOWBIT_KERNELS"))) return forced;
#if defined(__x86_64__)
        if (has_avx2()) return &kAvx2Kernels;
#endif
        return &kGenericKernels;
    }();
    return *set;
}

} // namespace lb::kernels
