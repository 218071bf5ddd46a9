// The scalar reference of the search loops: what every kernel set reproduces.
#include "formats/search_kernels.hpp"

namespace lb::formats {

namespace {

template <int N, int LO, int HI, int OFFSET>
void symmetric_fast(const float *x, int64_t n_blocks, float *d, uint8_t *q) {
    for (int64_t b = 0; b < n_blocks; ++b)
        d[b] = symmetric_quantize_fast<N, LO, HI, OFFSET>(x + b * N, q + b * N);
}

template <int N, int NMAX>
void affine_fast(const float *x, int64_t n_blocks, float *d, float *m, uint8_t *q) {
    for (int64_t b = 0; b < n_blocks; ++b) affine_quantize_fast<N, NMAX>(x + b * N, q + b * N, d + b, m + b);
}

} // namespace

const SearchKernels kReferenceSearch = {
    .q4_0 = {symmetric_fast<32, -8, 7, 8>, symmetric_eval_subblocks<16, 32, -8, 7>},
    .q5_0 = {symmetric_fast<32, -16, 15, 16>, symmetric_eval_subblocks<16, 32, -16, 15>},
    .q8_0 = {symmetric_fast<32, -127, 127, 0>, symmetric_eval_subblocks<16, 32, -127, 127>},
    .q4_1 = {affine_fast<32, 15>, affine_eval_subblocks<16, 32, 15>},
    .q5_1 = {affine_fast<32, 31>, affine_eval_subblocks<16, 32, 31>},
    .q3_k_sub = symmetric_eval_subblocks<16, 16, -4, 3>,
    .q6_k_sub = symmetric_eval_subblocks<16, 16, -32, 31>,
    .q2_k_sub = affine_eval_subblocks<16, 16, 3>,
    .q4_k_sub = affine_eval_subblocks<8, 32, 15>,
    .q5_k_sub = affine_eval_subblocks<8, 32, 31>,
    .lattice = {lattice_tabulate, lattice_lowest, lattice_shortlist},
};

} // namespace lb::formats
