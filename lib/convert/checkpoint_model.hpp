// A Hugging Face checkpoint (a folder or an archive of one) opened as a model: the metadata and the
// tensors `lowbit convert --outtype f32` writes (the same keys, names, order
// and shapes), with the weights served in place from the mapped safetensors
// files in the checkpoint's own type (F32, F16 or BF16) where they can be;
// Q/K rows permuted into llama.cpp's rotary order, 1-D tensors widened to
// F32 and computed tensors (rope_freqs) are held in memory. The quantizer and
// the session then run on a checkpoint with no intermediate file, and
// quantizing it gives the bytes convert --outtype f32 then quantize gives
// (F16 and BF16 widen to F32 exactly).
#pragma once

#include "gguf/gguf.hpp"
#include "safetensors/shards.hpp"
#include "source/source.hpp"

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace lb::convert {

class CheckpointModel {
  public:
    // Throws lb::Error as convert_checkpoint() does (naming the file, field
    // or tensor at fault).
    explicit CheckpointModel(const std::string &path);
    // The Source need not outlive the model (what it maps is kept here).
    explicit CheckpointModel(const source::Source &src);

    const std::string &folder() const { return folder_; }
    // The GGUF header the conversion would write (tensor offsets are those of
    // the data in its safetensors file, 0 for tensors held in memory).
    const gguf::Header &header() const { return header_; }
    struct Tensor {
        size_t shard;        // the safetensors file it comes from (files() order)
        const uint8_t *data; // in that file's mapping, or in memory held here
    };
    // One per header().tensors entry.
    const std::vector<Tensor> &tensors() const { return tensors_; }
    const safetensors::Shards &shards() const { return shards_; }

  private:
    std::string folder_;
    safetensors::Shards shards_;
    gguf::Header header_;
    std::vector<Tensor> tensors_;
    std::vector<std::unique_ptr<uint8_t[]>> held_;
};

} // namespace lb::convert
