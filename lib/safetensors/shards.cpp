// Checkpoint folders: the single file, or the shards of the index, checked
// against each other so that every tensor has exactly one place.
#include "safetensors/shards.hpp"

#include "common/error.hpp"
#include "common/json.hpp"

#include <map>

namespace lb::safetensors {

namespace {

using json = nlohmann::json;

// A shard name from the index must name a file in the folder, nothing else.
bool plain_file_name(const std::string &s) {
    return !s.empty() && s.find('/') == std::string::npos && s.find('\\') == std::string::npos &&
           s.find("..") == std::string::npos && s.find('\0') == std::string::npos && s != ".";
}

} // namespace

Shards Shards::open(const std::string &folder) {
    return open(source::Source(folder));
}

Shards Shards::open(const source::Source &src) {
    Shards out;
    out.folder_ = src.path();
    if (src.has(kSingleFileName)) {
        out.files_.push_back(std::make_unique<File>(src.map(kSingleFileName)));
    } else if (src.has(kIndexFileName)) {
        const std::string index_path = src.where(kIndexFileName);
        out.index_path_ = index_path;
        const json index = parse_json_mapped(*src.map(kIndexFileName), kMaxIndexBytes);
        if (!index.is_object())
            fail(LB_E_FORMAT, "%s: the index is %s, not an object", index_path.c_str(), json_kind(index));
        const json &map = json_object(index, "weight_map", index_path);
        if (map.empty()) fail(LB_E_FORMAT, "%s: the weight_map names no tensor", index_path.c_str());
        // tensor -> shard, and the shards (file name order)
        std::map<std::string, size_t> shards;
        std::unordered_map<std::string, std::string> placed;
        for (const auto &[name, shard] : map.items()) {
            if (!shard.is_string())
                fail(LB_E_FORMAT, "%s: the weight_map gives tensor %s %s, not a shard file name",
                     index_path.c_str(), json_quoted(name).c_str(), json_kind(shard));
            const std::string file = shard.get<std::string>();
            if (!plain_file_name(file))
                fail(
                    LB_E_FORMAT,
                    "%s: the weight_map places tensor %s in %s, which is not a plain file name (no '/', '\\' "
                    "or '..')",
                    index_path.c_str(), json_quoted(name).c_str(), json_quoted(file).c_str());
            shards.emplace(file, 0);
            placed.emplace(name, file);
        }
        for (auto &[file, i] : shards) {
            if (!src.has(file))
                fail(LB_E_IO, "%s: the weight_map names shard %s, but %s cannot be opened: it is not there",
                     index_path.c_str(), json_quoted(file).c_str(), src.where(file).c_str());
            i = out.files_.size();
            out.files_.push_back(std::make_unique<File>(src.map(file)));
        }
        // every tensor of every shard is where the index places it
        for (const auto &[file, i] : shards)
            for (const Tensor &t : out.files_[i]->tensors()) {
                const auto it = placed.find(t.name);
                if (it == placed.end())
                    fail(LB_E_FORMAT, "%s: tensor %s is not in the weight_map of %s",
                         out.files_[i]->path().c_str(), json_quoted(t.name).c_str(), index_path.c_str());
                if (it->second != file)
                    fail(LB_E_FORMAT,
                         "%s: tensor %s is in this shard too, but the weight_map of %s places it in %s",
                         out.files_[i]->path().c_str(), json_quoted(t.name).c_str(), index_path.c_str(),
                         json_quoted(it->second).c_str());
            }
        for (const auto &[name, file] : placed)
            if (out.files_[shards.at(file)]->find(name) == nullptr)
                fail(LB_E_FORMAT,
                     "%s: the weight_map places tensor %s in %s, but that shard does not hold it",
                     index_path.c_str(), json_quoted(name).c_str(), json_quoted(file).c_str());
    } else {
        fail(LB_E_IO, "%s: not a safetensors checkpoint: it has neither %s nor %s", src.path().c_str(),
             kSingleFileName, kIndexFileName);
    }
    for (size_t i = 0; i < out.files_.size(); ++i)
        for (const Tensor &t : out.files_[i]->tensors()) out.index_.emplace(t.name, Place{&t, i});
    return out;
}

const Tensor *Shards::find(const std::string &name) const {
    const auto it = index_.find(name);
    return it == index_.end() ? nullptr : it->second.tensor;
}

std::vector<const Tensor *> Shards::tensors() const {
    std::vector<const Tensor *> out;
    out.reserve(index_.size());
    for (const auto &f : files_)
        for (const Tensor &t : f->tensors()) out.push_back(&t);
    return out;
}

std::vector<const File *> Shards::files() const {
    std::vector<const File *> out;
    for (const auto &f : files_) out.push_back(f.get());
    return out;
}

const File &Shards::file_of(const Tensor &t) const {
    const auto it = index_.find(t.name);
    if (it == index_.end() || it->second.tensor != &t)
        fail(LB_E_INVALID_ARG, "%s: tensor %s is not a tensor of this checkpoint", folder_.c_str(),
             json_quoted(t.name).c_str());
    return *files_[it->second.file];
}

} // namespace lb::safetensors
