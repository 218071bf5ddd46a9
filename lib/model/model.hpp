// A model opened for reading: one GGUF file, all the shards of a split model
// ("name-00001-of-00003.gguf" ...) read as one, or a Hugging Face checkpoint
// folder read as the GGUF file `lowbit convert --outtype f32` would write
// (convert/checkpoint_model.hpp: no file is written).
#pragma once

#include "common/mapped_file.hpp"
#include "gguf/gguf_file.hpp"

#include <memory>
#include <string>
#include <vector>

namespace lb {

namespace convert {
class CheckpointModel;
}

class Model {
  public:
    // Opens path; when it is the first shard of a split model, opens and
    // checks every shard; when it is a folder, reads it as a Hugging Face
    // checkpoint. Throws lb::Error naming the file at fault.
    explicit Model(const std::string &path);
    ~Model();

    struct Tensor {
        const gguf::TensorInfo *info;
        size_t shard;
        const uint8_t *data;
    };

    const std::string &path() const { return path_; }
    // The metadata (of the first shard, as llama.cpp reads it).
    const gguf::Header &header() const { return *header_; }
    const std::vector<gguf::KeyValue> &kvs() const { return header().kvs; }
    // Every tensor of every shard, shard by shard in file order.
    const std::vector<Tensor> &tensors() const { return tensors_; }
    // GGUF shards, or a checkpoint's safetensors files.
    size_t shard_count() const { return mappings_.size(); }
    // The file of shard i: to check its size and release its pages.
    const MappedFile &mapping(size_t i) const { return *mappings_[i]; }
    // Whether it is a Hugging Face checkpoint folder.
    bool is_checkpoint() const { return checkpoint_ != nullptr; }
    // The offset of a tensor's data in its shard's file (0 for tensors a
    // checkpoint holds in memory: permuted, widened or computed).
    uint64_t file_offset(const Tensor &t) const;
    // The readers' warnings of every shard (see gguf::Header::warnings).
    const std::vector<std::string> &warnings() const { return warnings_; }

  private:
    void open_gguf(const std::string &path);
    std::string path_;
    const gguf::Header *header_ = nullptr;
    std::vector<const MappedFile *> mappings_;
    std::unique_ptr<convert::CheckpointModel> checkpoint_;
    std::vector<std::unique_ptr<gguf::GgufFile>> shards_;
    std::vector<Tensor> tensors_;
    std::vector<std::string> warnings_;
};

// "prefix-00002-of-00005.gguf": llama.cpp's shard naming (numbered from 1).
std::string split_path(const std::string &prefix, int index, int count);

} // namespace lb
