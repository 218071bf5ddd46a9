// The loops of the quantized tiles, shared by the instruction-set
// translation units (x86_avx2/, x86_avx512/), which compile them into their
// own namespace (common/isa.hpp).
#pragma once

#include "common/isa.hpp"
#include "kernels/dot_kernels.hpp"

namespace lb::kernels {
inline namespace LOWBIT_ISA {

constexpr int kTokens = 4;

using RowPass = void (*)(int64_t n_blocks, const uint8_t *w, const uint8_t *const *a, float *sums);

template <RowPass Group, RowPass Single> void tile_by_rows(const MatmulTile &t, int64_t block_values) {
    const int64_t nb = t.n / block_values;
    for (int64_t j0 = 0; j0 < t.n_tokens; j0 += kTokens) {
        const int64_t left = t.n_tokens - j0;
        const int nt = left < kTokens ? static_cast<int>(left) : kTokens;
        const uint8_t *ar[kTokens];
        for (int j = 0; j < nt; ++j) ar[j] = t.a + static_cast<size_t>(j0 + j) * t.a_stride;
        for (int64_t r = 0; r < t.n_rows; ++r) {
            const uint8_t *w = t.w + static_cast<size_t>(r) * t.w_stride;
            float sums[kTokens];
            if (nt == kTokens)
                Group(nb, w, ar, sums);
            else
                for (int j = 0; j < nt; ++j) Single(nb, w, &ar[j], &sums[j]);
            for (int j = 0; j < nt; ++j) t.out[(j0 + j) * t.out_stride + r] = sums[j];
        }
    }
}

// R weight rows x J tokens per pass (each weight block decoded once for J
// tokens, each activation block loaded once for R rows); the last tokens R
// rows at a time, the last rows one row and one token at a time. Pass is a
// type with
//   template <int R, int J> static void run(int64_t n_blocks, const uint8_t *const *w,
//                                           const uint8_t *const *a, float (*sums)[J]);
// giving sums[i][j] = dot(w[i], a[j]).
template <typename Pass, int R, int J> void tile_by_groups(const MatmulTile &t, int64_t block_values) {
    const int64_t nb = t.n / block_values;
    for (int64_t j0 = 0; j0 < t.n_tokens; j0 += J) {
        const int64_t tokens_left = t.n_tokens - j0;
        const int nj = tokens_left < J ? static_cast<int>(tokens_left) : J;
        const uint8_t *ar[J];
        for (int j = 0; j < J; ++j)
            ar[j] = t.a + static_cast<size_t>(j0 + (j < nj ? j : nj - 1)) * t.a_stride;
        for (int64_t r0 = 0; r0 < t.n_rows; r0 += R) {
            const int64_t rows_left = t.n_rows - r0;
            const int nr = rows_left < R ? static_cast<int>(rows_left) : R;
            const uint8_t *wr[R];
            for (int i = 0; i < R; ++i)
                wr[i] = t.w + static_cast<size_t>(r0 + (i < nr ? i : nr - 1)) * t.w_stride;
            float sums[R][J];
            if (nr == R && nj == J) {
                Pass::template run<R, J>(nb, wr, ar, sums);
            } else if (nr == R) { // the last tokens (a single one when generating): R rows each
                for (int j = 0; j < nj; ++j) {
                    float column[R][1];
                    Pass::template run<R, 1>(nb, wr, &ar[j], column);
                    for (int i = 0; i < R; ++i) sums[i][j] = column[i][0];
                }
            } else {
                for (int i = 0; i < nr; ++i)
                    for (int j = 0; j < nj; ++j) {
                        float one[1][1];
                        Pass::template run<1, 1>(nb, &wr[i], &ar[j], one);
                        sums[i][j] = one[0][0];
                    }
            }
            for (int i = 0; i < nr; ++i)
                for (int j = 0; j < nj; ++j) t.out[(j0 + j) * t.out_stride + r0 + i] = sums[i][j];
        }
    }
}

} // namespace LOWBIT_ISA
} // namespace lb::kernels
