// Kernel sets: the hot loops of the block quantizers (and, later, of dot
// products) for one instruction set. Every set computes exactly what the
// scalar reference computes (tests check the bytes); the fastest set this
// CPU supports is chosen at run time, and handed to the code that needs it.
#pragma once

#include "common/finite.hpp"
#include "formats/search_kernels.hpp"
#include "kernels/dot_kernels.hpp"

namespace lb::kernels {

// Dequantizers of a set, by type: each writes exactly the floats of the
// format's reference (formats::traits(type).dequantize); nullptr where the
// set has none of its own.
struct Dequantizers {
    formats::DequantizeRowFn by_type[formats::kTypeCount];
};

struct KernelSet {
    const char *name; // "scalar", "generic", "avx2", "avx512", "neon", "sve"
    formats::SearchKernels search;
    const DotKernels &(*dot)();       // the dot kernels (built on first use)
    const Dequantizers *dequantize{}; // nullptr: the formats' own for every type
    // lb::first_non_finite, as fast as the set allows: the index of the first
    // NaN or infinity in x[0, n), or -1
    int64_t (*first_non_finite)(const float *x, int64_t n) = lb::first_non_finite;
};

// The set's dequantizer of a type, or the format's reference (nullptr if
// lowbit cannot read the type).
formats::DequantizeRowFn dequantizer(const KernelSet &set, uint32_t type);

#if defined(__x86_64__)
namespace avx2 {
const DotKernels &dot_kernels();
extern const Dequantizers kDequantizers;
} // namespace avx2
namespace avx512 {
const DotKernels &dot_kernels();
}
#elif defined(__aarch64__)
namespace neon {
const DotKernels &dot_kernels();
extern const Dequantizers kDequantizers;
} // namespace neon
namespace sve {
const DotKernels &dot_kernels();
// the SVE vector length of this thread, in bytes (only where SVE runs)
int vector_bytes();
} // namespace sve
#endif

// The scalar reference, the portable vector set, and the AVX2 and AVX-512
// sets on x86-64, the NEON (with dotprod) and SVE sets on AArch64.
extern const KernelSet kScalarKernels;
extern const KernelSet kGenericKernels;
#if defined(__x86_64__)
extern const KernelSet kAvx2Kernels;
extern const KernelSet kAvx512Kernels;
#elif defined(__aarch64__)
extern const KernelSet kNeonKernels;
extern const KernelSet kSveKernels;
#endif

// The sets of this build, slowest first: every name find() may accept.
int set_count();
const char *set_name(int i); // 0 <= i < set_count()

// The set to use: the fastest this CPU supports, or the one named by the
// environment variable LOWBIT_KERNELS (scalar, generic, avx2, avx512, neon,
// sve) if it runs here.
const KernelSet &active();

// The instruction-set extensions this CPU (and its operating system) offers
// that the sets use, space-separated: "sse2 avx2 fma f16c avx512f ..." or
// "neon dotprod fp16 i8mm sve sve2".
const char *cpu_features();

// A set by name if it exists in this build and runs on this CPU, else nullptr.
const KernelSet *find(const char *name);

} // namespace lb::kernels
