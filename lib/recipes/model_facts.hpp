// What the tensor-type rules need to know of a model, read from its metadata
// and checked as llama.cpp's loader checks it: the architecture, the layer
// count, head counts, experts.
#pragma once

#include "gguf/gguf.hpp"
#include "recipes/mixture.hpp"

#include <string>
#include <vector>

namespace lb::recipes {

// llama.cpp's LLAMA_MAX_LAYERS: its loader refuses more.
constexpr int kMaxLayers = 512;

// Reads the facts. Throws lb::Error (LB_E_FORMAT) naming `path` and the key
// when general.architecture is missing or not a string, or <arch>.block_count
// is missing, not an unsigned integer, or above kMaxLayers: llama.cpp cannot
// load such a model, and the rules cannot place its layers. Head and expert
// counts that are missing or odd read as 0 (the rules then do without).
ModelFacts model_facts(const std::vector<gguf::KeyValue> &kvs, const std::string &path);

// Every tensor named "blk.N." must name a layer below the layer count.
// Throws lb::Error (LB_E_FORMAT) naming the tensor.
void check_layers(const std::vector<const gguf::TensorInfo *> &tensors, const ModelFacts &facts,
                  const std::string &path);

} // namespace lb::recipes
