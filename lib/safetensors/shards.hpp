// The tensors of a Hugging Face checkpoint folder: model.safetensors, or the
// shards that model.safetensors.index.json names in its "weight_map" (tensor
// name -> shard file name). Every shard the index names must be a plain file
// name in the folder, every tensor of the index must be in the shard it
// names and in no other, and every tensor of every shard must be in the
// index.
#pragma once

#include "safetensors/safetensors.hpp"
#include "source/source.hpp"

#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

namespace lb::safetensors {

constexpr const char *kSingleFileName = "model.safetensors";
constexpr const char *kIndexFileName = "model.safetensors.index.json";
// An index lists one line per tensor: even the largest checkpoints' indexes
// take a few MB.
constexpr size_t kMaxIndexBytes = 100'000'000;

class Shards {
  public:
    // Opens the checkpoint in folder: model.safetensors if it is there (as
    // transformers prefers it), else the shards of
    // model.safetensors.index.json. Throws lb::Error naming the folder, the
    // index, the shard and the tensor at fault: LB_E_IO if the folder, the
    // index or a shard the index names cannot be read, LB_E_FORMAT for an
    // invalid index or shard, or an index and shards that disagree,
    // LB_E_UNSUPPORTED for a dtype lowbit does not convert.
    static Shards open(const std::string &folder);
    // The same from a folder or an archive (source/source.hpp); the Shards
    // keep what they map, the Source need not outlive them.
    static Shards open(const source::Source &src);

    // The folder's or archive's path.
    const std::string &folder() const { return folder_; }
    // Where the index file is (source::Source::where); empty for a single
    // model.safetensors.
    const std::string &index_path() const { return index_path_; }
    // nullptr if absent.
    const Tensor *find(const std::string &name) const;
    // All tensors, shard by shard (in file name order), each shard's in the
    // order of their data offsets.
    std::vector<const Tensor *> tensors() const;
    // The shards, in file name order.
    std::vector<const File *> files() const;
    // The shard holding t (a tensor of this checkpoint): to release() its
    // pages after use.
    const File &file_of(const Tensor &t) const;

  private:
    struct Place {
        const Tensor *tensor;
        size_t file;
    };
    std::string folder_;
    std::string index_path_;
    std::vector<std::unique_ptr<File>> files_;
    std::unordered_map<std::string, Place> index_;
};

} // namespace lb::safetensors
