#include "kernels/matmul.hpp"

#include "common/error.hpp"
#include "common/thread_pool.hpp"

#include <algorithm>

namespace lb::kernels {

namespace {

// Rows per task and tokens per tile: a band of weight rows stays in cache
// while the tokens stream past it.
constexpr int64_t kBandRows = 48;
constexpr int64_t kTileTokens = 32;

} // namespace

void matmul(const DotKernels &dot, const WeightMatrix &w, const float *x, int64_t n_tokens, float *y,
            int n_threads, MatmulScratch &scratch) {
    const WeightKernels &k = dot.by_type[static_cast<uint32_t>(w.type) < formats::kTypeCount ? w.type : 0];
    if (static_cast<uint32_t>(w.type) >= formats::kTypeCount || k.tile == nullptr)
        fail(LB_E_UNSUPPORTED, "no matrix product for weights of type %s", formats::traits(w.type).name);
    const bool tiled = w.layout != formats::Layout::standard;
    const TileFn tile_fn = tiled ? dot.tiled[static_cast<int>(w.layout)] : k.tile;
    const int64_t group = formats::layout_traits(w.layout).rows;
    if (tiled &&
        (tile_fn == nullptr || w.rows % group != 0 || w.type != formats::layout_traits(w.layout).base))
        fail(LB_E_UNSUPPORTED, "no matrix product for weights in the %s layout",
             formats::layout_traits(w.layout).name);
    static_assert(kBandRows % 16 == 0 && kBandRows % 4 == 0, "bands hold whole groups of tiled rows");
    const size_t a_row = k.activation_row_bytes(w.n);
    scratch.activations.resize(a_row * static_cast<size_t>(n_tokens) + 64);
    // 64-byte aligned start for the activation rows
    uint8_t *a = scratch.activations.data();
    a += (64 - reinterpret_cast<uintptr_t>(a) % 64) % 64;
    if (n_tokens > 1) {
        parallel_for(n_threads, n_tokens, 4, [&](int64_t t0, int64_t t1) {
            for (int64_t t = t0; t < t1; ++t)
                k.quantize_activations(x + t * w.n, a + static_cast<size_t>(t) * a_row, w.n);
        });
    } else if (n_tokens == 1) {
        k.quantize_activations(x, a, w.n);
    }
    const int64_t n_bands = (w.rows + kBandRows - 1) / kBandRows;
    parallel_for(n_threads, n_bands, 1, [&](int64_t b0, int64_t b1) {
        for (int64_t band = b0; band < b1; ++band) {
            const int64_t r0 = band * kBandRows, nr = std::min(kBandRows, w.rows - r0);
            for (int64_t t0 = 0; t0 < n_tokens; t0 += kTileTokens) {
                const MatmulTile tile{
                    .n = w.n,
                    .w = w.data + static_cast<size_t>(r0) * w.row_bytes,
                    .w_stride = w.row_bytes * static_cast<size_t>(group),
                    .n_rows = nr,
                    .a = a + static_cast<size_t>(t0) * a_row,
                    .a_stride = a_row,
                    .n_tokens = std::min(kTileTokens, n_tokens - t0),
                    .out = y + t0 * w.rows + r0,
                    .out_stride = w.rows,
                };
                tile_fn(tile);
            }
        }
    });
}

} // namespace lb::kernels
