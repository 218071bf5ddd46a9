// The scalar reference as a kernel set: what every other set must reproduce.
#include "formats/affine_blocks.hpp"
#include "formats/symmetric_blocks.hpp"
#include "kernels/kernels.hpp"

namespace lb::kernels {

namespace {

template <int N, int LO, int HI, int OFFSET> void symmetric_fast(const float *x, int64_t n_blocks, float *d, uint8_t *q) {
    for (int64_t b = 0; b < n_blocks; ++b) d[b] = formats::symmetric_quantize_fast<N, LO, HI, OFFSET>(x + b * N, q + b * N);
}

template <int N, int NMAX> void affine_fast(const float *x, int64_t n_blocks, float *d, float *m, uint8_t *q) {
    for (int64_t b = 0; b < n_blocks; ++b)
        formats::affine_quantize_fast<N, NMAX>(x + b * N, q + b * N, d + b, m + b);
}

} // namespace

const KernelSet kScalarKernels = {
    "scalar",
    {symmetric_fast<32, -8, 7, 8>, formats::symmetric_eval_all<32, -8, 7>},
    {symmetric_fast<32, -16, 15, 16>, formats::symmetric_eval_all<32, -16, 15>},
    {symmetric_fast<32, -127, 127, 0>, formats::symmetric_eval_all<32, -127, 127>},
    {affine_fast<32, 15>, formats::affine_eval_all<32, 15>},
    {affine_fast<32, 31>, formats::affine_eval_all<32, 31>},
    formats::symmetric_eval_all<16, -4, 3>,
    formats::symmetric_eval_all<16, -32, 31>,
    formats::affine_eval_all<16, 3>,
    formats::affine_eval_all<32, 15>,
    formats::affine_eval_all<32, 31>,
};

} // namespace lb::kernels
