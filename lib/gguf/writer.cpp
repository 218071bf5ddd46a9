#include "gguf/writer.hpp"

#include "common/error.hpp"

#include <cstring>

namespace lb::gguf {

namespace {

class Buffer {
  public:
    template <typename T> void put(T v) {
        const size_t n = out.size();
        out.resize(n + sizeof(T));
        std::memcpy(out.data() + n, &v, sizeof(T));
    }
    void put_bytes(const void *p, size_t n) {
        const uint8_t *b = static_cast<const uint8_t *>(p);
        out.insert(out.end(), b, b + n);
    }
    void put_string(const std::string &s) {
        put<uint64_t>(s.size());
        put_bytes(s.data(), s.size());
    }
    std::vector<uint8_t> out;
};

void put_value(Buffer &b, const Value &v) {
    b.put<uint32_t>(static_cast<uint32_t>(v.type));
    if (v.is_array()) {
        b.put<uint32_t>(static_cast<uint32_t>(v.elem_type));
        b.put<uint64_t>(v.count);
    }
    if (v.element_type() == ValueType::STRING) {
        for (const std::string &s : v.strings) b.put_string(s);
    } else {
        b.put_bytes(v.bytes.data(), v.bytes.size());
    }
}

} // namespace

std::vector<uint8_t> serialize_header(const std::vector<KeyValue> &kvs, std::vector<TensorInfo> &tensors,
                                      const std::string &path) {
    const uint32_t alignment = alignment_of(kvs, path);
    Buffer b;
    b.put<uint32_t>(kMagic);
    b.put<uint32_t>(kVersion);
    b.put<int64_t>(static_cast<int64_t>(tensors.size()));
    b.put<int64_t>(static_cast<int64_t>(kvs.size()));
    for (const KeyValue &kv : kvs) {
        b.put_string(kv.key);
        put_value(b, kv.value);
    }
    uint64_t offset = 0;
    for (TensorInfo &t : tensors) {
        t.offset = offset;
        offset = pad_to(offset + t.size, alignment);
        b.put_string(t.name);
        b.put<uint32_t>(t.n_dims);
        for (uint32_t d = 0; d < t.n_dims; ++d) b.put<int64_t>(t.ne[d]);
        b.put<uint32_t>(t.type);
        b.put<uint64_t>(t.offset);
    }
    if (!tensors.empty()) b.out.resize(pad_to(b.out.size(), alignment), 0);
    return b.out;
}

Writer::Writer(const std::string &path, const std::vector<KeyValue> &kvs, std::vector<TensorInfo> tensors)
    : file_(path), tensors_(std::move(tensors)), alignment_(alignment_of(kvs, path)) {
    const std::vector<uint8_t> header = serialize_header(kvs, tensors_, path);
    file_.write(header.data(), header.size());
    data_start_ = header.size();
}

void Writer::write(const void *data, size_t size) {
    if (current_ >= tensors_.size() || current_written_ + size > tensors_[current_].size)
        fail(LB_E_INTERNAL, "%s: more tensor data written than declared", file_.path().c_str());
    file_.write(data, size);
    current_written_ += size;
}

void Writer::end_tensor() {
    const TensorInfo &t = tensors_.at(current_);
    if (current_written_ != t.size)
        fail(LB_E_INTERNAL, "%s: tensor '%s' declared %llu bytes but %llu were written", file_.path().c_str(),
             t.name.c_str(), static_cast<unsigned long long>(t.size),
             static_cast<unsigned long long>(current_written_));
    const uint64_t end = data_start_ + t.offset + t.size;
    file_.write_zeros(pad_to(end, alignment_) - end);
    ++current_;
    current_written_ = 0;
}

uint64_t Writer::finish() {
    if (current_ != tensors_.size())
        fail(LB_E_INTERNAL, "%s: %zu of %zu tensors written", file_.path().c_str(), current_,
             tensors_.size());
    const uint64_t size = file_.bytes_written();
    file_.finish();
    return size;
}

} // namespace lb::gguf
