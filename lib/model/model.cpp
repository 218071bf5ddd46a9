#include "model/model.hpp"

#include "common/error.hpp"
#include "convert/checkpoint_model.hpp"
#include "source/source.hpp"

#include <cstdio>
#include <cstring>
#include <sys/stat.h>
#include <unordered_set>

namespace lb {

namespace {

// An integer key of a shard's split metadata, or -1 if absent.
int64_t split_key(const gguf::GgufFile &f, const char *key) {
    const long i = gguf::find_key(f.header().kvs, key);
    if (i < 0) return -1;
    const gguf::Value &v = f.header().kvs[static_cast<size_t>(i)].value;
    if (v.is_array() || v.bytes.empty())
        fail(LB_E_FORMAT, "%s: key '%s' is not an integer", f.path().c_str(), key);
    switch (v.type) {
    case gguf::ValueType::U16: {
        uint16_t x;
        std::memcpy(&x, v.bytes.data(), 2);
        return x;
    }
    case gguf::ValueType::I32: {
        int32_t x;
        std::memcpy(&x, v.bytes.data(), 4);
        return x;
    }
    case gguf::ValueType::U32: {
        uint32_t x;
        std::memcpy(&x, v.bytes.data(), 4);
        return x;
    }
    default: fail(LB_E_FORMAT, "%s: key '%s' must be an integer (u16)", f.path().c_str(), key);
    }
}

// The prefix of a shard path "prefix-0000i-of-0000n.gguf", or "" if the path
// is not named that way.
std::string split_prefix(const std::string &path, int index, int count) {
    char tail[64];
    std::snprintf(tail, sizeof tail, "-%05d-of-%05d.gguf", index, count);
    const size_t n = std::strlen(tail);
    if (path.size() <= n || path.compare(path.size() - n, n, tail) != 0) return "";
    return path.substr(0, path.size() - n);
}

} // namespace

std::string split_path(const std::string &prefix, int index, int count) {
    char tail[64];
    std::snprintf(tail, sizeof tail, "-%05d-of-%05d.gguf", index, count);
    return prefix + tail;
}

Model::Model(const std::string &path) : path_(path) {
    struct stat st;
    if ((::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) || source::is_archive_path(path)) {
        const source::Source src(path);
        if (!src.has("config.json"))
            fail(LB_E_IO,
                 "%s: a folder, and not a Hugging Face checkpoint (it has no config.json); give a GGUF file",
                 path.c_str());
        checkpoint_ = std::make_unique<convert::CheckpointModel>(src);
        header_ = &checkpoint_->header();
        for (const safetensors::File *f : checkpoint_->shards().files()) mappings_.push_back(&f->mapped());
        for (size_t i = 0; i < header_->tensors.size(); ++i)
            tensors_.push_back(
                {&header_->tensors[i], checkpoint_->tensors()[i].shard, checkpoint_->tensors()[i].data});
        return;
    }
    open_gguf(path);
    header_ = &shards_.front()->header();
    for (const auto &s : shards_) mappings_.push_back(&s->mapping());
}

Model::~Model() = default;

uint64_t Model::file_offset(const Tensor &t) const {
    const MappedFile &m = mapping(t.shard);
    if (t.data < m.data() || t.data >= m.data() + m.size()) return 0;
    return static_cast<uint64_t>(t.data - m.data());
}

void Model::open_gguf(const std::string &path) {
    shards_.push_back(std::make_unique<gguf::GgufFile>(path));
    const gguf::GgufFile &first = *shards_.front();
    const int64_t count = split_key(first, "split.count");
    if (count > 1) {
        const int64_t no = split_key(first, "split.no");
        if (no != 0)
            fail(LB_E_INVALID_ARG, "%s: this is shard %lld of a split model; open the first shard",
                 path.c_str(), static_cast<long long>(no + 1));
        if (count > 9999)
            fail(LB_E_FORMAT, "%s: split.count %lld is too large", path.c_str(),
                 static_cast<long long>(count));
        const std::string prefix = split_prefix(path, 1, static_cast<int>(count));
        if (prefix.empty())
            fail(LB_E_INVALID_ARG,
                 "%s: the first shard of a %lld-shard model must be named <name>-00001-of-%05lld.gguf",
                 path.c_str(), static_cast<long long>(count), static_cast<long long>(count));
        for (int64_t i = 1; i < count; ++i) {
            const std::string shard = split_path(prefix, static_cast<int>(i + 1), static_cast<int>(count));
            try {
                shards_.push_back(std::make_unique<gguf::GgufFile>(shard));
            } catch (const Error &e) {
                if (e.status() == LB_E_IO)
                    fail(LB_E_IO, "%s: shard %lld of %lld of the split model is missing or unreadable: %s",
                         shard.c_str(), static_cast<long long>(i + 1), static_cast<long long>(count),
                         e.what());
                throw;
            }
            const gguf::GgufFile &s = *shards_.back();
            if (split_key(s, "split.no") != i || split_key(s, "split.count") != count)
                fail(LB_E_FORMAT, "%s: split.no / split.count say this is not shard %lld of %lld",
                     shard.c_str(), static_cast<long long>(i + 1), static_cast<long long>(count));
        }
    }
    std::unordered_set<std::string> names;
    for (size_t s = 0; s < shards_.size(); ++s) {
        const gguf::GgufFile &f = *shards_[s];
        warnings_.insert(warnings_.end(), f.header().warnings.begin(), f.header().warnings.end());
        for (size_t i = 0; i < f.header().tensors.size(); ++i) {
            const gguf::TensorInfo &t = f.header().tensors[i];
            if (!names.insert(t.name).second)
                fail(LB_E_FORMAT, "%s: tensor '%s' appears in more than one shard", f.path().c_str(),
                     t.name.c_str());
            tensors_.push_back({&t, s, f.tensor_data(i)});
        }
    }
    const int64_t expected = split_key(first, "split.tensors.count");
    if (count > 1 && expected >= 0 && static_cast<size_t>(expected) != tensors_.size())
        fail(LB_E_FORMAT, "%s: split.tensors.count is %lld but the %lld shards hold %zu tensors",
             path.c_str(), static_cast<long long>(expected), static_cast<long long>(count), tensors_.size());
}

} // namespace lb
