// A model opened for reading: one GGUF file, or all the shards of a split
// model ("name-00001-of-00003.gguf" ...) read as one.
#pragma once

#include "gguf/gguf_file.hpp"

#include <memory>
#include <string>
#include <vector>

namespace lb {

class Model {
  public:
    // Opens path; when it is the first shard of a split model, opens and
    // checks every shard. Throws lb::Error naming the file at fault.
    explicit Model(const std::string &path);

    struct Tensor {
        const gguf::TensorInfo *info;
        size_t shard;
        const uint8_t *data;
    };

    const std::string &path() const { return shards_.front()->path(); }
    // The metadata (of the first shard, as llama.cpp reads it).
    const gguf::Header &header() const { return shards_.front()->header(); }
    const std::vector<gguf::KeyValue> &kvs() const { return header().kvs; }
    // Every tensor of every shard, shard by shard in file order.
    const std::vector<Tensor> &tensors() const { return tensors_; }
    size_t shard_count() const { return shards_.size(); }
    // The readers' warnings of every shard (see gguf::Header::warnings).
    const std::vector<std::string> &warnings() const { return warnings_; }
    const gguf::GgufFile &shard(size_t i) const { return *shards_[i]; }

  private:
    std::vector<std::unique_ptr<gguf::GgufFile>> shards_;
    std::vector<Tensor> tensors_;
    std::vector<std::string> warnings_;
};

// "prefix-00002-of-00005.gguf": llama.cpp's shard naming (numbered from 1).
std::string split_path(const std::string &prefix, int index, int count);

} // namespace lb
