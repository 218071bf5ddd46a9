// The AVX-512 kernel set: 16-lane vectors for the fast paths (one block per
// lane). This file is compiled with -mavx512f/bw/vl/dq and without
// contraction into FMA, so results stay identical to the scalar reference; it
// is only used on CPUs (and operating systems) that report AVX-512 F, BW, VL,
// DQ and VNNI, which also run the AVX2 set.
//
// The searches evaluate rounds of candidates on 16 blocks or sub-blocks at
// once (formats/subblock_lanes.hpp), which fills 16 lanes. (When they took
// one block's candidates, one per lane, the AVX2 set's 8 lanes were faster:
// the lists are short.) The 16-lane fast paths gain 10-15% over 8 (Q8_0
// 2.85x -> 3.15x ggml, Q4_1 0.79x -> 0.91x, bench/compare_ggml).
#include "kernels/kernel_set.hpp"

namespace lb::kernels {

namespace {

// Constant-initialized, as every set: no code of this file runs at load time
// (a dynamic initializer would be AVX-512 code run on every CPU).
constexpr KernelSet make_avx512() {
    KernelSet k = make_kernel_set<16>("avx512", avx512::dot_kernels);
    k.dequantize = &avx2::kDequantizers;
    return k;
}

} // namespace

constinit const KernelSet kAvx512Kernels = make_avx512();

} // namespace lb::kernels
