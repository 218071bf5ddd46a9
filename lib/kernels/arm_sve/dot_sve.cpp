// SVE dot kernels, vector-length agnostic: the same code runs on 128- to
// 2048-bit vectors (tests run it at 128, 256 and 512 under qemu). Compiled
// with -march=armv8.2-a+dotprod+sve and used only on CPUs that report SVE.
// The types without code here are the NEON set's.
//
// Each dot product runs one weight row against one activation row; tiles go
// through them one product at a time (SVE's vector types cannot be held in
// arrays, and no SVE CPU was at hand to measure multi-row tiles on).
// Results equal the scalar reference up to the order of float additions.
#include "formats/blocks.hpp"
#include "kernels/dot_kernels.hpp"
#include "kernels/kernels.hpp"

#include <arm_sve.h>
#include <cstring>

namespace lb::kernels::sve {

namespace {

inline float half(uint16_t h) {
    __fp16 v;
    std::memcpy(&v, &h, 2);
    return static_cast<float>(v);
}

// --- F32 / F16 / BF16 weights x F32 activations (the NEON set's layouts) --------

// weights as F32 lanes: Load(pg, row, k) for the lanes of values k, k + 1, ...
inline svfloat32_t load_f32(svbool_t pg, const void *w, int64_t k) {
    return svld1_f32(pg, static_cast<const float *>(w) + k);
}
inline svfloat32_t load_f16(svbool_t pg, const void *w, int64_t k) {
    // each binary16 zero-extended into a 32-bit lane, converted from its low half
    const svuint32_t h = svld1uh_u32(pg, static_cast<const uint16_t *>(w) + k);
    return svcvt_f32_f16_x(pg, svreinterpret_f16_u32(h));
}
inline svfloat32_t load_bf16(svbool_t pg, const void *w, int64_t k) {
    const svuint32_t h = svld1uh_u32(pg, static_cast<const uint16_t *>(w) + k);
    return svreinterpret_f32_u32(svlsl_n_u32_x(pg, h, 16));
}

template <svfloat32_t (*Load)(svbool_t, const void *, int64_t)>
float dot_float(int64_t n, const void *w, const void *a) {
    const float *y = static_cast<const float *>(a);
    svfloat32_t acc = svdup_n_f32(0.0f);
    for (int64_t k = 0; k < n; k += static_cast<int64_t>(svcntw())) {
        const svbool_t pg = svwhilelt_b32_s64(k, n);
        acc = svmla_f32_m(pg, acc, Load(pg, w, k), svld1_f32(pg, y + k));
    }
    return svaddv_f32(svptrue_b32(), acc);
}

// --- Q8_0 / Q4_0 x Q8_0 ----------------------------------------------------------
// Per block the integer sum of the 32 products (sdot into 32-bit lanes; the
// lanes past the block's bytes load as zero), converted and scaled by dw * dy
// into float lanes, added across lanes at the end.

// Q8_0 weights: their 32 bytes as they are
struct Q8_0Weights {
    static float block(const uint8_t *w, int64_t b, const int8_t *yq, svint32_t *sum) {
        const formats::block_q8_0 &x = reinterpret_cast<const formats::block_q8_0 *>(w)[b];
        for (int64_t k = 0; k < 32; k += static_cast<int64_t>(svcntb())) {
            const svbool_t pg = svwhilelt_b8_s64(k, 32);
            *sum = svdot_s32(*sum, svld1_s8(pg, x.qs + k), svld1_s8(pg, yq + k));
        }
        return half(x.d);
    }
};

// Q4_0 weights: the low nibbles are values 0..15, the high ones 16..31, minus 8
struct Q4_0Weights {
    static float block(const uint8_t *w, int64_t b, const int8_t *yq, svint32_t *sum) {
        const formats::block_q4_0 &x = reinterpret_cast<const formats::block_q4_0 *>(w)[b];
        for (int64_t k = 0; k < 16; k += static_cast<int64_t>(svcntb())) {
            const svbool_t pg = svwhilelt_b8_s64(k, 16);
            const svuint8_t packed = svld1_u8(pg, x.qs + k);
            const svint8_t lo = svsub_n_s8_x(pg, svreinterpret_s8_u8(svand_n_u8_x(pg, packed, 0x0f)), 8);
            const svint8_t hi = svsub_n_s8_x(pg, svreinterpret_s8_u8(svlsr_n_u8_x(pg, packed, 4)), 8);
            // inactive lanes are zero in the activations, so whatever lo / hi hold there adds nothing
            *sum = svdot_s32(*sum, lo, svld1_s8(pg, yq + k));
            *sum = svdot_s32(*sum, hi, svld1_s8(pg, yq + 16 + k));
        }
        return half(x.d);
    }
};

template <typename W> float dot_q8_0_pair(int64_t n, const void *w, const void *a) {
    const uint8_t *wr = static_cast<const uint8_t *>(w);
    const formats::block_q8_0 *y = static_cast<const formats::block_q8_0 *>(a);
    const svbool_t all = svptrue_b32();
    svfloat32_t acc = svdup_n_f32(0.0f);
    for (int64_t b = 0; b < n / 32; ++b) {
        svint32_t sum = svdup_n_s32(0);
        const float dw = W::block(wr, b, y[b].qs, &sum);
        acc = svmla_n_f32_x(all, acc, svcvt_f32_s32_x(all, sum), dw * half(y[b].d));
    }
    return svaddv_f32(all, acc);
}

template <formats::VecDotFn Dot> void tile_by(const MatmulTile &t) {
    tile_by_dots(t, Dot);
}

template <formats::VecDotFn Dot> void use(WeightKernels &k) {
    k.dot = Dot;
    k.tile = tile_by<Dot>;
}

DotKernels make() {
    DotKernels k = neon::dot_kernels(); // activation layouts, and the other types
    use<dot_float<load_f32>>(k.by_type[LB_TYPE_F32]);
    use<dot_float<load_f16>>(k.by_type[LB_TYPE_F16]);
    use<dot_float<load_bf16>>(k.by_type[LB_TYPE_BF16]);
    use<dot_q8_0_pair<Q8_0Weights>>(k.by_type[LB_TYPE_Q8_0]);
    use<dot_q8_0_pair<Q4_0Weights>>(k.by_type[LB_TYPE_Q4_0]);
    return k;
}

} // namespace

const DotKernels &dot_kernels() {
    static const DotKernels k = make();
    return k;
}

int vector_bytes() {
    return static_cast<int>(svcntb());
}

} // namespace lb::kernels::sve
