// A tiny GGUF writer for tests, independent of lowbit's own writer so that a
// bug in one cannot hide a bug in the other. It writes exactly what it is
// told: counts, lengths, types and offsets can all be overridden to produce
// broken files.
#pragma once

#include <cstdint>
#include <cstring>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace gguf_builder {

// GGUF metadata value type ids.
enum ValueType : uint32_t {
    kU8 = 0,
    kI8 = 1,
    kU16 = 2,
    kI16 = 3,
    kU32 = 4,
    kI32 = 5,
    kF32 = 6,
    kBool = 7,
    kString = 8,
    kArray = 9,
    kU64 = 10,
    kI64 = 11,
    kF64 = 12,
};

// Little-endian byte sink with a fluent interface.
class Bytes {
  public:
    Bytes &u8(uint8_t v) {
        data_.push_back(v);
        return *this;
    }
    Bytes &u16(uint16_t v) { return le(v, 2); }
    Bytes &u32(uint32_t v) { return le(v, 4); }
    Bytes &u64(uint64_t v) { return le(v, 8); }
    Bytes &i64(int64_t v) { return le(static_cast<uint64_t>(v), 8); }
    Bytes &f32(float v) {
        uint32_t bits;
        std::memcpy(&bits, &v, 4);
        return u32(bits);
    }
    Bytes &raw(const std::string &s) {
        data_.insert(data_.end(), s.begin(), s.end());
        return *this;
    }
    Bytes &raw(const std::vector<uint8_t> &b) {
        data_.insert(data_.end(), b.begin(), b.end());
        return *this;
    }
    // A GGUF string: u64 length, then the bytes (no NUL).
    Bytes &str(const std::string &s) { return u64(s.size()).raw(s); }
    Bytes &zeros(size_t n) {
        data_.resize(data_.size() + n, 0);
        return *this;
    }
    size_t size() const { return data_.size(); }
    const std::vector<uint8_t> &data() const { return data_; }
    operator std::vector<uint8_t>() const { return data_; } // NOLINT: implicit by design

  private:
    Bytes &le(uint64_t v, int n) {
        for (int i = 0; i < n; ++i) data_.push_back(static_cast<uint8_t>(v >> (8 * i)));
        return *this;
    }
    std::vector<uint8_t> data_;
};

// Encoded values: the type id followed by the payload, as stored after a key.
inline std::vector<uint8_t> u32_value(uint32_t v) {
    return Bytes().u32(kU32).u32(v);
}
inline std::vector<uint8_t> u64_value(uint64_t v) {
    return Bytes().u32(kU64).u64(v);
}
inline std::vector<uint8_t> bool_value(uint8_t v) {
    return Bytes().u32(kBool).u8(v);
}
inline std::vector<uint8_t> string_value(const std::string &s) {
    return Bytes().u32(kString).str(s);
}
inline std::vector<uint8_t> string_array_value(const std::vector<std::string> &items) {
    Bytes b;
    b.u32(kArray).u32(kString).u64(items.size());
    for (const std::string &s : items) b.str(s);
    return b;
}

struct KeyValue {
    std::string key;
    std::vector<uint8_t> value;              // type id + payload (see the *_value helpers)
    std::optional<uint64_t> key_length = {}; // written instead of key.size()
};

struct Tensor {
    std::string name;
    std::vector<int64_t> ne; // shape, row width first
    uint32_t type = 0;       // ggml type id
    std::vector<uint8_t> data;
    std::optional<uint64_t> offset = {};      // written instead of the computed offset
    std::optional<uint32_t> n_dims = {};      // written instead of ne.size()
    std::optional<uint64_t> name_length = {}; // written instead of name.size()
};

// A whole file. build() lays out the data of tensor i at the offset a
// correct writer would use (padded running sum) whatever `offset` says.
struct Model {
    char magic[4] = {'G', 'G', 'U', 'F'};
    uint32_t version = 3;
    std::optional<int64_t> n_tensors = {}; // written instead of tensors.size()
    std::optional<int64_t> n_kv = {};      // written instead of kvs.size()
    std::vector<KeyValue> kvs;
    std::vector<Tensor> tensors;
    uint64_t alignment = 32; // padding used for the layout
    bool pad_tensors = true; // pad each tensor's data to the alignment (never after the last)

    KeyValue &kv(const std::string &key) {
        for (KeyValue &k : kvs)
            if (k.key == key) return k;
        throw std::invalid_argument("no key " + key);
    }
    Tensor &tensor(const std::string &name) {
        for (Tensor &t : tensors)
            if (t.name == name) return t;
        throw std::invalid_argument("no tensor " + name);
    }

    // The offsets (from the start of the data section) build() lays data at.
    std::vector<uint64_t> layout() const {
        std::vector<uint64_t> offsets;
        uint64_t pos = 0;
        for (const Tensor &t : tensors) {
            offsets.push_back(pos);
            pos += t.data.size();
            if (pad_tensors) pos = pad(pos);
        }
        return offsets;
    }

    std::vector<uint8_t> build() const {
        Bytes b;
        b.raw(std::string(magic, 4)).u32(version);
        b.i64(n_tensors.value_or(static_cast<int64_t>(tensors.size())));
        b.i64(n_kv.value_or(static_cast<int64_t>(kvs.size())));
        for (const KeyValue &k : kvs) b.u64(k.key_length.value_or(k.key.size())).raw(k.key).raw(k.value);
        const std::vector<uint64_t> offsets = layout();
        for (size_t i = 0; i < tensors.size(); ++i) {
            const Tensor &t = tensors[i];
            b.u64(t.name_length.value_or(t.name.size())).raw(t.name);
            b.u32(t.n_dims.value_or(static_cast<uint32_t>(t.ne.size())));
            for (int64_t d : t.ne) b.i64(d);
            b.u32(t.type).u64(t.offset.value_or(offsets[i]));
        }
        if (tensors.empty()) return b;
        b.zeros(pad(b.size()) - b.size());
        const size_t data_start = b.size();
        for (size_t i = 0; i < tensors.size(); ++i) {
            b.zeros(data_start + offsets[i] - b.size());
            b.raw(tensors[i].data);
        }
        return b;
    }

  private:
    uint64_t pad(uint64_t x) const { return (x + alignment - 1) / alignment * alignment; }
};

// Data of an F32 tensor with n elements: small deterministic values.
inline std::vector<uint8_t> f32_data(int64_t n) {
    Bytes b;
    for (int64_t i = 0; i < n; ++i) b.f32(static_cast<float>(i % 17 - 8) * 0.125f);
    return b;
}

} // namespace gguf_builder
