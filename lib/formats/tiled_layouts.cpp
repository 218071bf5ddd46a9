#include "formats/tiled_layouts.hpp"

#include <cstddef>
#include <cstring>

namespace lb::formats {

namespace {

constexpr LayoutTraits kLayouts[kLayoutCount] = {
    {.name = "standard", .base = LB_TYPE_F32, .rows = 1, .block = 1, .file_type = LB_TYPE_NONE},
    {.name = "q4_k_4", .base = LB_TYPE_Q4_K, .rows = 4, .block = QK_K, .file_type = LB_TYPE_Q4_K_4},
    {.name = "q8r16", .base = LB_TYPE_Q8_0, .rows = 16, .block = QK8_0, .file_type = LB_TYPE_Q8R16},
};

// Calls piece(row_offset, group_offset, bytes) for every run of bytes the
// layout moves: row_offset counts from the first of the group's standard
// rows (stored one after another), group_offset from the tiled group.
template <typename Piece> void for_each_piece(Layout l, int64_t n, Piece &&piece) {
    const int64_t nb = n / layout_traits(l).block;
    if (l == Layout::q8r16) {
        const size_t row = static_cast<size_t>(nb) * sizeof(block_q8_0);
        for (int64_t b = 0; b < nb; ++b) {
            const size_t g = static_cast<size_t>(b) * sizeof(block_q8_0x16);
            for (size_t i = 0; i < 16; ++i) {
                const size_t x = i * row + static_cast<size_t>(b) * sizeof(block_q8_0);
                piece(x + offsetof(block_q8_0, d), g + offsetof(block_q8_0x16, d) + 2 * i, 2);
                for (size_t k = 0; k < 8; ++k)
                    piece(x + offsetof(block_q8_0, qs) + 4 * k,
                          g + offsetof(block_q8_0x16, qs) + 64 * k + 4 * i, 4);
            }
        }
    } else if (l == Layout::q4_k_4) {
        const size_t row = static_cast<size_t>(nb) * sizeof(block_q4_K);
        for (int64_t b = 0; b < nb; ++b) {
            const size_t g = static_cast<size_t>(b) * sizeof(block_q4_Kx4);
            for (size_t i = 0; i < 4; ++i) {
                const size_t x = i * row + static_cast<size_t>(b) * sizeof(block_q4_K);
                piece(x + offsetof(block_q4_K, d), g + offsetof(block_q4_Kx4, d) + 2 * i, 2);
                piece(x + offsetof(block_q4_K, dmin), g + offsetof(block_q4_Kx4, dmin) + 2 * i, 2);
                piece(x + offsetof(block_q4_K, scales), g + offsetof(block_q4_Kx4, scales) + 12 * i, 12);
                for (size_t c = 0; c < 8; ++c)
                    piece(x + offsetof(block_q4_K, qs) + 16 * c,
                          g + offsetof(block_q4_Kx4, qs) + 64 * c + 16 * i, 16);
            }
        }
    }
}

} // namespace

const LayoutTraits &layout_traits(Layout layout) {
    return kLayouts[static_cast<int>(layout)];
}

Layout tiled_layout_of(uint32_t type) {
    for (int i = 1; i < kLayoutCount; ++i)
        if (static_cast<uint32_t>(kLayouts[i].base) == type) return static_cast<Layout>(i);
    return Layout::standard;
}

Layout layout_of_file_type(uint32_t type) {
    for (int i = 1; i < kLayoutCount; ++i)
        if (static_cast<uint32_t>(kLayouts[i].file_type) == type) return static_cast<Layout>(i);
    return Layout::standard;
}

bool find_layout(const char *name, Layout *out) {
    for (int i = 0; i < kLayoutCount; ++i)
        if (std::strcmp(kLayouts[i].name, name) == 0) {
            *out = static_cast<Layout>(i);
            return true;
        }
    return false;
}

void interleave(Layout l, int64_t n, const uint8_t *rows, uint8_t *group) {
    for_each_piece(l, n, [&](size_t x, size_t g, size_t bytes) { std::memcpy(group + g, rows + x, bytes); });
}

void deinterleave(Layout l, int64_t n, const uint8_t *group, uint8_t *rows) {
    for_each_piece(l, n, [&](size_t x, size_t g, size_t bytes) { std::memcpy(rows + x, group + g, bytes); });
}

} // namespace lb::formats
