// IQ4_XS: super-blocks of 256 weights in 8 sub-blocks of 32, x = (d * l) *
// kIq4nlLevels[q] with a 6-bit sub-block scale l in [-32, 31], 4.25 bits per
// weight.
//
// The search, on the (importance-)weighted squared error of the super-block:
//  1. each sub-block's best unconstrained scale s_i, searched as IQ4_NL's
//     (codebook_search.hpp) without rounding, over fewer targets;
//  2. candidate super-block scales d that put the largest s_i at l = -32,
//     -31 (llama.cpp takes -32) or 31, 30, rounded to binary16;
//  3. for each d, each sub-block takes the l within one of s_i / d with the
//     lowest error, every value at its nearest level of d * l;
//  4. the least-squares d for the chosen l and levels, kept while the error
//     falls.
#include "common/fp16.hpp"
#include "formats/blocks.hpp"
#include "formats/codebook_search.hpp"
#include "formats/formats.hpp"
#include "formats/iq4_levels.hpp"
#include "formats/iq4_xs_scales.hpp"

#include <cstring>

namespace lb::formats {

namespace {

constexpr int kSub = 32, kSubs = QK_K / kSub;

// Step 1's targets: a few of IQ4_NL's around each end. s_i only places the
// sub-block's l, which step 3 searches around again, so a rough s_i does.
constexpr float kSubTargets[] = {-127, -124, -130, 113, 109, 117};
constexpr int kSubTargetCount = sizeof kSubTargets / sizeof kSubTargets[0];

// A super-block scale's outcome: each sub-block's l and level indices.
struct SuperChoice {
    float d = 0.0f, err = 0.0f;
    int l[kSubs] = {};
    uint8_t idx[QK_K] = {};
};

// Step 3 for a stored scale d.
SuperChoice choose_sub_scales(const float *x, const float *w, const float *s, float d) {
    SuperChoice c;
    c.d = d;
    for (int ib = 0; ib < kSubs; ++ib) {
        const float *xb = x + ib * kSub, *wb = w + ib * kSub;
        const int l0 = static_cast<int>(nearest(clamp(d != 0.0f ? s[ib] / d : 0.0f, -32.0f, 31.0f)));
        float best = 0.0f;
        bool have = false;
        uint8_t idx[kSub];
        for (int l = l0 - 1; l <= l0 + 1; ++l) {
            if (l < -32 || l > 31) continue;
            const float err = assign_levels(xb, wb, kSub, d * static_cast<float>(l), kIq4Codebook, idx);
            if (have && !(err < best)) continue;
            have = true;
            best = err;
            c.l[ib] = l;
            std::memcpy(c.idx + ib * kSub, idx, kSub);
        }
        c.err += best;
    }
    return c;
}

// Step 4: sum w x (l level) / sum w (l level)^2.
float refit_super_scale(const float *x, const float *w, const SuperChoice &c) {
    float sxl = 0.0f, sll = 0.0f;
    for (int j = 0; j < QK_K; ++j) {
        const float v = static_cast<float>(c.l[j / kSub]) * kIq4Codebook.level[c.idx[j]];
        sxl += w[j] * x[j] * v;
        sll += w[j] * v * v;
    }
    return sll > 0.0f ? sxl / sll : 0.0f;
}

SuperChoice search_super_block(const float *x, const float *w) {
    float s[kSubs];
    for (int ib = 0; ib < kSubs; ++ib) {
        uint8_t idx[kSub];
        s[ib] = search_scale(
                    x + ib * kSub, w + ib * kSub, kSub, kIq4Codebook, kSubTargets, kSubTargetCount, 1,
                    [](float d) { return d; }, idx)
                    .d;
    }
    SuperChoice best = choose_sub_scales(x, w, s, 0.0f);
    const float m = largest_value(s, kSubs);
    if (m == 0.0f) return best;
    for (float target : {-32.0f, -31.0f, 31.0f, 30.0f}) {
        const float d = storable_scale(m / target);
        if (d == 0.0f) continue;
        SuperChoice c = choose_sub_scales(x, w, s, d);
        for (int r = 0; r < 2; ++r) {
            const float d2 = storable_scale(refit_super_scale(x, w, c));
            if (d2 == c.d || d2 == 0.0f) break;
            SuperChoice c2 = choose_sub_scales(x, w, s, d2);
            if (!(c2.err < c.err)) break;
            c = c2;
        }
        if (c.err < best.err) best = c;
    }
    return best;
}

} // namespace

void quantize_row_iq4_xs(const float *x, void *dst, int64_t n, const float *imatrix, const SearchKernels &) {
    block_iq4_xs *y = static_cast<block_iq4_xs *>(dst);
    for (int64_t b = 0; b < n / QK_K; ++b) {
        float w[QK_K];
        block_weights(imatrix != nullptr ? imatrix + b * QK_K : nullptr, QK_K, w);
        const SuperChoice c = search_super_block(x + b * QK_K, w);
        y[b].d = scale_bits(c.d);
        y[b].scales_h = 0;
        for (int ib = 0; ib < kSubs; ++ib) {
            const int ls = c.l[ib] + 32;
            if (ib % 2 == 0)
                y[b].scales_l[ib / 2] = static_cast<uint8_t>(ls & 0xf);
            else
                y[b].scales_l[ib / 2] = static_cast<uint8_t>(y[b].scales_l[ib / 2] | (ls & 0xf) << 4);
            y[b].scales_h = static_cast<uint16_t>(y[b].scales_h | (ls >> 4) << (2 * ib));
            pack_nibbles(kIq4Codebook, c.idx + ib * kSub, 16, y[b].qs + ib * 16);
        }
    }
}

void dequantize_row_iq4_xs(const void *src, float *y, int64_t n) {
    const block_iq4_xs *x = static_cast<const block_iq4_xs *>(src);
    for (int64_t b = 0; b < n / QK_K; ++b) {
        const float d = fp16_to_fp32(x[b].d);
        for (int ib = 0; ib < kSubs; ++ib) {
            const float dl = d * static_cast<float>(iq4_xs_sub_scale(x[b], ib));
            float *yb = y + b * QK_K + ib * kSub;
            uint8_t qs[16];
            std::memcpy(qs, x[b].qs + ib * 16, sizeof qs);
            for (int j = 0; j < 16; ++j) yb[j] = dl * static_cast<float>(kIq4nlLevels[qs[j] & 0x0f]);
            for (int j = 0; j < 16; ++j) yb[j + 16] = dl * static_cast<float>(kIq4nlLevels[qs[j] >> 4]);
        }
    }
}

// sum over sub-blocks of (d_w d_a l) sum(level q8), the integer sums exact
float vec_dot_iq4_xs_q8_K(int64_t n, const void *w, const void *a) {
    const block_iq4_xs *x = static_cast<const block_iq4_xs *>(w);
    const block_q8_K *y = static_cast<const block_q8_K *>(a);
    float sum = 0.0f;
    for (int64_t b = 0; b < n / QK_K; ++b) {
        const float d = fp16_to_fp32(x[b].d) * y[b].d;
        for (int ib = 0; ib < kSubs; ++ib) {
            const uint8_t *qs = x[b].qs + ib * 16;
            const int8_t *q8 = y[b].qs + ib * kSub;
            int32_t s = 0;
            for (int j = 0; j < 16; ++j) {
                s += kIq4nlLevels[qs[j] & 0x0f] * q8[j];
                s += kIq4nlLevels[qs[j] >> 4] * q8[j + 16];
            }
            sum += d * static_cast<float>(iq4_xs_sub_scale(x[b], ib)) * static_cast<float>(s);
        }
    }
    return sum;
}

} // namespace lb::formats
