// Writes a model's GGUF file again with its matrices in another layout
// (formats/tiled_layouts.hpp): `lowbit repack`, and `lowbit quantize` to a
// tiled type. Lossless both ways; every other byte of the file is kept.
#pragma once

#include "formats/tiled_layouts.hpp"
#include "model/model.hpp"

#include <cstdint>
#include <string>

namespace lb {

// The key a file with tiled tensors carries: the layout's name (absent in a
// standard file).
constexpr const char *kKeyLayout = "lowbit.layout";

struct RepackResult {
    uint64_t tensors_tiled = 0; // tensors in the tiled layout in the output
    uint64_t bytes = 0;         // the output file's size
};

// Writes model to path (atomically) with, for `layout` = a tiled layout,
// every matrix of its base type whose row count is a multiple of the group
// (token_embd.weight excepted: its rows are read one by one) in that layout
// and every other tensor standard; for Layout::standard, every tensor
// standard. Throws lb::Error: LB_E_UNSUPPORTED for a split model or a
// Hugging Face checkpoint, LB_E_IO.
RepackResult write_repacked(const Model &model, const std::string &path, formats::Layout layout);

} // namespace lb
