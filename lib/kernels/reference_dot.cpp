// The reference dot kernels: the formats' scalar dot products over the pairing
// llama.cpp uses.
#include "kernels/dot_kernels.hpp"

#include <utility>

namespace lb::kernels {

void tile_by_dots(const MatmulTile &t, formats::VecDotFn dot) {
    for (int64_t j = 0; j < t.n_tokens; ++j) {
        const uint8_t *a = t.a + static_cast<size_t>(j) * t.a_stride;
        float *out = t.out + j * t.out_stride;
        for (int64_t r = 0; r < t.n_rows; ++r)
            out[r] = dot(t.n, t.w + static_cast<size_t>(r) * t.w_stride, a);
    }
}

namespace {

// The tile of weight type T by its reference dot product.
template <uint32_t T> void reference_tile(const MatmulTile &t) {
    tile_by_dots(t, formats::traits(T).vec_dot);
}

template <uint32_t T> size_t activation_row_bytes(int64_t n) {
    return formats::row_bytes(static_cast<uint32_t>(formats::traits(T).vec_dot_type), n);
}

template <uint32_t T> void add(DotKernels &k) {
    const formats::TypeTraits &w = formats::traits(T);
    if (w.vec_dot == nullptr) return;
    k.by_type[T] = {
        .quantize_activations = formats::traits(static_cast<uint32_t>(w.vec_dot_type)).quantize_activations,
        .activation_row_bytes = activation_row_bytes<T>,
        .dot = w.vec_dot,
        .tile = reference_tile<T>,
    };
}

template <uint32_t... Ts> DotKernels make(std::integer_sequence<uint32_t, Ts...>) {
    DotKernels k{};
    (add<Ts>(k), ...);
    return k;
}

} // namespace

const DotKernels &reference_dot() {
    static const DotKernels k = make(std::make_integer_sequence<uint32_t, formats::kTypeCount>{});
    return k;
}

} // namespace lb::kernels
