#include "safetensors/writer.hpp"

#include "common/error.hpp"
#include "common/json.hpp"
#include "safetensors/safetensors.hpp"

#include <algorithm>

namespace lb::safetensors {

namespace {

uint64_t byte_size(const WriteTensor &t, const std::string &path) {
    if (t.type != LB_TYPE_F32 && t.type != LB_TYPE_F16 && t.type != LB_TYPE_BF16)
        fail(LB_E_INVALID_ARG, "%s: tensor %s: safetensors holds F32, F16 or BF16 here", path.c_str(),
             t.name.c_str());
    uint64_t n = element_size(t.type);
    for (int64_t d : t.shape) {
        if (d < 0)
            fail(LB_E_INVALID_ARG, "%s: tensor %s has a negative extent", path.c_str(), t.name.c_str());
        n *= static_cast<uint64_t>(d);
    }
    return n;
}

} // namespace

Writer::Writer(const std::string &path, std::vector<WriteTensor> tensors,
               const std::map<std::string, std::string> &metadata)
    : path_(path), tensors_(std::move(tensors)), file_(path) {
    std::sort(tensors_.begin(), tensors_.end(),
              [](const WriteTensor &a, const WriteTensor &b) { return a.name < b.name; });
    nlohmann::ordered_json header = nlohmann::ordered_json::object();
    if (!metadata.empty()) header[kMetadataKey] = metadata;
    uint64_t offset = 0;
    for (size_t i = 0; i < tensors_.size(); ++i) {
        const WriteTensor &t = tensors_[i];
        if (i > 0 && t.name == tensors_[i - 1].name)
            fail(LB_E_INVALID_ARG, "%s: tensor %s given twice", path.c_str(), t.name.c_str());
        const uint64_t size = byte_size(t, path);
        header[t.name] = {
            {"dtype", dtype_name(t.type)}, {"shape", t.shape}, {"data_offsets", {offset, offset + size}}};
        sizes_.push_back(size);
        offset += size;
    }
    std::string text = header.dump();
    text.append((8 - text.size() % 8) % 8, ' ');
    uint8_t length[8];
    for (int i = 0; i < 8; ++i)
        length[i] = static_cast<uint8_t>(static_cast<uint64_t>(text.size()) >> (8 * i));
    file_.write(length, sizeof length);
    file_.write(text.data(), text.size());
}

void Writer::write(const void *data, size_t size) {
    if (current_ >= tensors_.size() || size > sizes_[current_] - written_)
        fail(LB_E_INVALID_ARG, "%s: more data than the tensors hold", path_.c_str());
    file_.write(data, size);
    written_ += size;
}

void Writer::end_tensor() {
    if (current_ >= tensors_.size() || written_ != sizes_[current_])
        fail(LB_E_INVALID_ARG, "%s: tensor %s ended short of its size", path_.c_str(),
             current_ < tensors_.size() ? tensors_[current_].name.c_str() : "?");
    ++current_;
    written_ = 0;
}

uint64_t Writer::commit() {
    if (current_ != tensors_.size())
        fail(LB_E_INVALID_ARG, "%s: tensor %s was not written", path_.c_str(),
             tensors_[current_].name.c_str());
    const uint64_t size = file_.bytes_written();
    file_.commit();
    return size;
}

} // namespace lb::safetensors
