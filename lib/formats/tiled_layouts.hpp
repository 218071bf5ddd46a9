// Tiled layouts: the blocks of several consecutive rows of one tensor
// interleaved, so that a matrix-product kernel reads one contiguous stream
// for a group of rows. They are lowbit's own (seeded by Ampere's llama.cpp,
// whose code is closed; defined openly here and in docs/formats.md), hold
// exactly the bytes of the standard blocks, rearranged, and convert both ways
// losslessly.
//
//   Q8R16  = Q8_0 rows in groups of 16: per block index b, block_q8_0x16.
//   Q4_K_4 = Q4_K rows in groups of 4: per super-block index b, block_q4_Kx4.
//
// In a file, a tiled tensor has the layout's extension type (LB_TYPE_Q8R16,
// LB_TYPE_Q4_K_4: ids far above ggml's) and the file the key lowbit.layout.
//
// A tiled tensor of `rows` rows (a multiple of the group's rows) of n values
// is rows / group_rows groups, each group being, for b = 0 .. n / block - 1,
// the interleaved block b of its rows.
#pragma once

#include "formats/blocks.hpp"
#include "lowbit/lowbit.h"

#include <cstddef>
#include <cstdint>

namespace lb::formats {

// Block b of 16 consecutive Q8_0 rows: x[i][4k + m] = qs[64k + 4i + m] * d[i]
// (row i, chunk k of 4 values, 0 <= k < 8): the 4-value chunk k of all 16 rows
// is 64 contiguous bytes.
struct block_q8_0x16 {
    uint16_t d[16];
    int8_t qs[16 * QK8_0];
};
static_assert(sizeof(block_q8_0x16) == 16 * sizeof(block_q8_0));

// Super-block b of 4 consecutive Q4_K rows: row i's d, dmin and 12 scale
// bytes at d[i], dmin[i], scales[12i ...]; its code byte 16c + m at
// qs[64c + 16i + m] (chunk c of 16 bytes, 0 <= c < 8): the chunk c of all 4
// rows is 64 contiguous bytes.
struct block_q4_Kx4 {
    uint16_t d[4];
    uint16_t dmin[4];
    uint8_t scales[4 * 12];
    uint8_t qs[4 * QK_K / 2];
};
static_assert(sizeof(block_q4_Kx4) == 4 * sizeof(block_q4_K));

enum class Layout : uint8_t { standard = 0, q4_k_4 = 1, q8r16 = 2 };
constexpr int kLayoutCount = 3;

struct LayoutTraits {
    const char *name;  // "standard", "q4_k_4", "q8r16"
    lb_type base;      // the standard type whose blocks are interleaved
    int64_t rows;      // rows per group (1 for standard)
    int64_t block;     // values per block of the base type
    lb_type file_type; // the extension type a file stores it as (LB_TYPE_NONE for standard)
};

const LayoutTraits &layout_traits(Layout layout);

// The tiled layout of a standard type, or Layout::standard if it has none.
Layout tiled_layout_of(uint32_t type);

// The layout a file's tensor type stores (Layout::standard for every type
// but the extension types).
Layout layout_of_file_type(uint32_t type);

// A layout by name ("standard", "q4_k_4", "q8r16"); false if there is none.
bool find_layout(const char *name, Layout *out);

// Rearranges one group: `rows` (layout_traits(l).rows consecutive standard
// rows of n values, contiguous) into `group` (the same number of bytes), and
// back. n must be a multiple of the base type's block.
void interleave(Layout l, int64_t n, const uint8_t *rows, uint8_t *group);
void deinterleave(Layout l, int64_t n, const uint8_t *group, uint8_t *rows);

} // namespace lb::formats
