// The AVX-512 kernel set: 16-lane vectors for the fast paths (one block per
// lane). This file is compiled with -mavx512f/bw/vl/dq and without
// contraction into FMA, so results stay identical to the scalar reference; it
// is only used on CPUs (and operating systems) that report AVX-512 F, BW, VL,
// DQ and VNNI, which also run the AVX2 set.
//
// The 32-block formats' candidate evaluations (one candidate scale per lane)
// are the AVX2 set's: their lists of candidates are short, so 16 lanes leave
// many empty. Measured against ggml (bench/compare_ggml, 1 thread), on 8
// lanes built for AVX-512 they were still 5-10% slower with an importance
// matrix; the 16-lane fast paths gain 10-15% (Q8_0 2.85x -> 3.15x, Q4_1
// 0.79x -> 0.91x). The K-quants evaluate a round of candidates on all
// sub-blocks at once (formats/subblock_lanes.hpp), which fills 16 lanes:
// Q4_K 28 -> 34 Melem/s, Q6_K 30 -> 35 against the AVX2 set's 8.
#include "kernels/kernel_set.hpp"

namespace lb::kernels {

namespace {

KernelSet make_avx512() {
    KernelSet k = make_kernel_set<16>("avx512", avx512::dot_kernels);
    const formats::SearchKernels &avx2 = kAvx2Kernels.search;
    formats::SearchKernels &s = k.search;
    s.q4_0.eval_all = avx2.q4_0.eval_all;
    s.q5_0.eval_all = avx2.q5_0.eval_all;
    s.q8_0.eval_all = avx2.q8_0.eval_all;
    s.q4_1.eval_all = avx2.q4_1.eval_all;
    s.q5_1.eval_all = avx2.q5_1.eval_all;
    k.dequantize = kAvx2Kernels.dequantize;
    return k;
}

} // namespace

const KernelSet kAvx512Kernels = make_avx512();

} // namespace lb::kernels
