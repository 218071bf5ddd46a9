// Kernel sets: the hot loops of the block quantizers for one instruction set.
// Every set computes exactly what the scalar reference computes (tests check
// the bytes); the fastest set this CPU supports is chosen at run time.
#pragma once

#include "formats/affine_blocks.hpp"
#include "formats/symmetric_blocks.hpp"

#include <cstdint>

namespace lb::kernels {

// A symmetric 32-block format (Q4_0, Q5_0, Q8_0).
struct SymmetricKernels {
    // The fast path over n_blocks blocks: scales to d, levels to q (32 per block).
    void (*quantize_fast)(const float *x, int64_t n_blocks, float *d, uint8_t *q);
    formats::SymmetricEvalAll eval_all;
};

// An affine 32-block format (Q4_1, Q5_1).
struct AffineKernels {
    void (*quantize_fast)(const float *x, int64_t n_blocks, float *d, float *m, uint8_t *q);
    formats::AffineEvalAll eval_all;
};

struct KernelSet {
    const char *name; // "scalar", "generic", "avx2"
    SymmetricKernels q4_0, q5_0, q8_0;
    AffineKernels q4_1, q5_1;
    // candidate evaluation on the sub-blocks of the K-quants
    formats::SymmetricEvalAll q3_k_sub, q6_k_sub;
    formats::AffineEvalAll q2_k_sub, q4_k_sub, q5_k_sub;
};

// The scalar reference, the portable vector set, and (on x86-64) the AVX2 set.
extern const KernelSet kScalarKernels;
extern const KernelSet kGenericKernels;
#if defined(__x86_64__)
extern const KernelSet kAvx2Kernels;
#endif

// The set in use: the fastest this CPU supports, or the one named by the
// environment variable LOWBIT_KERNELS (scalar, generic, avx2).
const KernelSet &active();

// A set by name if it exists in this build and runs on this CPU, else nullptr.
const KernelSet *find(const char *name);

// Makes active() return `set` on this thread while in scope (tests compare
// the sets through the public row functions this way).
class ScopedKernels {
  public:
    explicit ScopedKernels(const KernelSet &set);
    ~ScopedKernels();
    ScopedKernels(const ScopedKernels &) = delete;
    ScopedKernels &operator=(const ScopedKernels &) = delete;

  private:
    const KernelSet *previous_;
};

} // namespace lb::kernels
