// GGUF reader. The file is untrusted: every read is bounds-checked, every
// count is checked against the bytes that remain before anything is
// allocated, and every size computation is checked for overflow.
#include "common/error.hpp"
#include "formats/tiled_layouts.hpp"
#include "formats/type_traits.hpp"
#include "gguf/gguf.hpp"

#include <cstring>
#include <limits>
#include <unordered_set>

namespace lb::gguf {

size_t value_type_size(ValueType type) {
    switch (type) {
    case ValueType::U8:
    case ValueType::I8:
    case ValueType::BOOL: return 1;
    case ValueType::U16:
    case ValueType::I16: return 2;
    case ValueType::U32:
    case ValueType::I32:
    case ValueType::F32: return 4;
    case ValueType::U64:
    case ValueType::I64:
    case ValueType::F64: return 8;
    case ValueType::STRING:
    case ValueType::ARRAY: return 0;
    }
    return 0;
}

const char *value_type_name(uint32_t type) {
    static const char *const names[kValueTypeCount] = {"u8",   "i8",  "u16", "i16", "u32", "i32", "f32",
                                                       "bool", "str", "arr", "u64", "i64", "f64"};
    return type < kValueTypeCount ? names[type] : nullptr;
}

Value Value::u32(uint32_t v) {
    Value out;
    out.type = ValueType::U32;
    out.bytes.resize(4);
    std::memcpy(out.bytes.data(), &v, 4);
    return out;
}

namespace {

template <typename T> Value scalar(ValueType type, T v) {
    Value out;
    out.type = type;
    out.bytes.resize(sizeof(T));
    std::memcpy(out.bytes.data(), &v, sizeof(T));
    return out;
}

template <typename T> Value array(ValueType elem, const std::vector<T> &v) {
    Value out;
    out.type = ValueType::ARRAY;
    out.elem_type = elem;
    out.count = v.size();
    out.bytes.resize(v.size() * sizeof(T));
    if (!v.empty()) std::memcpy(out.bytes.data(), v.data(), out.bytes.size());
    return out;
}

} // namespace

Value Value::i32(int32_t v) {
    return scalar(ValueType::I32, v);
}

Value Value::f32(float v) {
    return scalar(ValueType::F32, v);
}

Value Value::boolean(bool v) {
    return scalar(ValueType::BOOL, static_cast<uint8_t>(v ? 1 : 0));
}

Value Value::string(const std::string &s) {
    Value out;
    out.type = ValueType::STRING;
    out.strings.push_back(s);
    return out;
}

Value Value::string_array(std::vector<std::string> v) {
    Value out;
    out.type = ValueType::ARRAY;
    out.elem_type = ValueType::STRING;
    out.count = v.size();
    out.strings = std::move(v);
    return out;
}

Value Value::f32_array(const std::vector<float> &v) {
    return array(ValueType::F32, v);
}

Value Value::i32_array(const std::vector<int32_t> &v) {
    return array(ValueType::I32, v);
}

long find_key(const std::vector<KeyValue> &kvs, const std::string &key) {
    for (size_t i = 0; i < kvs.size(); ++i)
        if (kvs[i].key == key) return static_cast<long>(i);
    return -1;
}

uint32_t alignment_of(const std::vector<KeyValue> &kvs, const std::string &path) {
    const long i = find_key(kvs, kKeyAlignment);
    if (i < 0) return kDefaultAlignment;
    const Value &v = kvs[static_cast<size_t>(i)].value;
    if (v.type != ValueType::U32)
        fail(LB_E_FORMAT, "%s: key '%s' must be of type u32 but is %s", path.c_str(), kKeyAlignment,
             value_type_name(static_cast<uint32_t>(v.type)));
    uint32_t a;
    std::memcpy(&a, v.bytes.data(), 4);
    if (a == 0 || (a & (a - 1)) != 0)
        fail(LB_E_FORMAT, "%s: key '%s' is %u, which is not a power of two", path.c_str(), kKeyAlignment, a);
    return a;
}

uint64_t tensor_bytes(const TensorInfo &t, const std::string &path) {
    const formats::TypeTraits &tt = formats::traits(t.type);
    if (tt.block_size == 0)
        fail(LB_E_FORMAT, "%s: tensor '%s' has invalid type id %u", path.c_str(), t.name.c_str(), t.type);
    if (t.ne[0] % tt.block_size != 0)
        fail(LB_E_FORMAT,
             "%s: tensor '%s' of type %s has %lld elements per row, not a multiple of the block size %lld",
             path.c_str(), t.name.c_str(), tt.name, static_cast<long long>(t.ne[0]),
             static_cast<long long>(tt.block_size));
    const formats::Layout layout = formats::layout_of_file_type(t.type);
    if (layout != formats::Layout::standard) {
        const int64_t group = formats::layout_traits(layout).rows;
        if (t.n_dims != 2 || t.ne[1] % group != 0)
            fail(LB_E_FORMAT,
                 "%s: tensor '%s' of type %s must be a matrix with a multiple of %lld rows (the layout's "
                 "group)",
                 path.c_str(), t.name.c_str(), tt.name, static_cast<long long>(group));
    }
    // n_elements() does not overflow: the reader checked the product.
    const uint64_t blocks = static_cast<uint64_t>(t.n_elements() / tt.block_size);
    if (tt.block_bytes != 0 && blocks > std::numeric_limits<uint64_t>::max() / tt.block_bytes)
        fail(LB_E_FORMAT, "%s: tensor '%s' is too large", path.c_str(), t.name.c_str());
    return blocks * tt.block_bytes;
}

namespace {

// A bounds-checked little-endian cursor over the file.
class Cursor {
  public:
    Cursor(const uint8_t *data, uint64_t size, const std::string &path)
        : data_(data), size_(size), path_(path) {}

    uint64_t pos() const { return pos_; }
    uint64_t remaining() const { return size_ - pos_; }

    // Throws the "truncated" error unless n more bytes exist.
    void need(uint64_t n, const std::string &what) const {
        if (n > remaining())
            fail(LB_E_FORMAT,
                 "%s: file is truncated: %s needs %llu bytes at offset %llu but the file has %llu",
                 path_.c_str(), what.c_str(), static_cast<unsigned long long>(n),
                 static_cast<unsigned long long>(pos_), static_cast<unsigned long long>(size_));
    }

    template <typename T> T read(const std::string &what) {
        need(sizeof(T), what);
        T v;
        std::memcpy(&v, data_ + pos_, sizeof(T));
        pos_ += sizeof(T);
        return v;
    }

    void read_bytes(void *dst, uint64_t n, const std::string &what) {
        need(n, what);
        if (n > 0) std::memcpy(dst, data_ + pos_, n);
        pos_ += n;
    }

    std::string read_string(const std::string &what) {
        const uint64_t len = read<uint64_t>(what + " length");
        if (len > kMaxStringLength)
            fail(LB_E_FORMAT, "%s: %s has length %llu, more than the limit of %llu bytes", path_.c_str(),
                 what.c_str(), static_cast<unsigned long long>(len),
                 static_cast<unsigned long long>(kMaxStringLength));
        need(len, what);
        std::string s(reinterpret_cast<const char *>(data_ + pos_), len);
        pos_ += len;
        return s;
    }

  private:
    const uint8_t *data_;
    uint64_t size_;
    uint64_t pos_ = 0;
    const std::string &path_;
};

// Printable form of a key or name for error messages (they come from the file).
std::string quoted(const std::string &s) {
    std::string out;
    for (char c : s.substr(0, 80)) {
        const unsigned char u = static_cast<unsigned char>(c);
        if (u >= 0x20 && u < 0x7f)
            out += c;
        else
            out += strformat("\\x%02x", u);
    }
    if (s.size() > 80) out += "...";
    return "'" + out + "'";
}

void read_value(Cursor &cur, Value &v, const std::string &key, const std::string &path,
                std::vector<std::string> &warnings) {
    const std::string what = "value of key " + quoted(key);
    const uint32_t type = cur.read<uint32_t>("type of key " + quoted(key));
    if (type >= kValueTypeCount)
        fail(LB_E_FORMAT, "%s: key %s has invalid value type %u", path.c_str(), quoted(key).c_str(), type);
    v.type = static_cast<ValueType>(type);
    uint32_t elem = type;
    uint64_t count = 1;
    if (v.type == ValueType::ARRAY) {
        elem = cur.read<uint32_t>("array type of key " + quoted(key));
        if (elem == static_cast<uint32_t>(ValueType::ARRAY))
            fail(LB_E_FORMAT, "%s: key %s is an array of arrays, which GGUF does not allow", path.c_str(),
                 quoted(key).c_str());
        if (elem >= kValueTypeCount)
            fail(LB_E_FORMAT, "%s: key %s is an array of invalid value type %u", path.c_str(),
                 quoted(key).c_str(), elem);
        count = cur.read<uint64_t>("array length of key " + quoted(key));
        if (count > kMaxArrayElements)
            fail(LB_E_FORMAT, "%s: key %s is an array of %llu elements, more than the limit of %llu",
                 path.c_str(), quoted(key).c_str(), static_cast<unsigned long long>(count),
                 static_cast<unsigned long long>(kMaxArrayElements));
        v.elem_type = static_cast<ValueType>(elem);
        v.count = count;
    }
    const ValueType et = static_cast<ValueType>(elem);
    if (et == ValueType::STRING) {
        // each string takes at least its 8-byte length
        if (count > cur.remaining() / 8) cur.need(count * 8, what);
        v.strings.reserve(count);
        for (uint64_t j = 0; j < count; ++j) v.strings.push_back(cur.read_string(what));
        return;
    }
    const size_t esize = value_type_size(et);
    if (count > cur.remaining() / esize) cur.need(count * esize, what);
    v.bytes.resize(count * esize);
    cur.read_bytes(v.bytes.data(), count * esize, what);
    if (et == ValueType::BOOL) {
        // ggml reads any byte but 0 as true (and writes it back as 1)
        uint64_t odd = 0;
        unsigned first = 0;
        for (uint64_t j = 0; j < count; ++j)
            if (v.bytes[j] > 1) {
                if (odd++ == 0) first = v.bytes[j];
                v.bytes[j] = 1;
            }
        if (odd == 1 && !v.is_array())
            warnings.push_back(
                strformat("%s: key %s holds bool value %u, which is neither 0 nor 1; read as true, as "
                          "ggml does",
                          path.c_str(), quoted(key).c_str(), first));
        else if (odd > 0)
            warnings.push_back(
                strformat("%s: key %s holds %llu bool values that are neither 0 nor 1 (the first is "
                          "%u); read as true, as ggml does",
                          path.c_str(), quoted(key).c_str(), static_cast<unsigned long long>(odd), first));
    }
}

} // namespace

Header parse(const uint8_t *data, uint64_t size, const std::string &path) {
    Cursor cur(data, size, path);
    Header h;

    if (size < 4)
        fail(LB_E_FORMAT, "%s: not a GGUF file: it is only %llu bytes long", path.c_str(),
             static_cast<unsigned long long>(size));
    const uint32_t magic = cur.read<uint32_t>("magic");
    if (magic != kMagic) {
        std::string m;
        for (int i = 0; i < 4; ++i) {
            const unsigned char c = data[i];
            m += (c >= 0x20 && c < 0x7f) ? static_cast<char>(c) : '?';
        }
        fail(LB_E_FORMAT, "%s: not a GGUF file: magic is '%s', expected 'GGUF'", path.c_str(), m.c_str());
    }

    h.version = cur.read<uint32_t>("version");
    if (h.version != 0 && (h.version & 0xffffu) == 0)
        fail(LB_E_UNSUPPORTED,
             "%s: GGUF version %u: the file is big-endian (or corrupt); lowbit reads little-endian files",
             path.c_str(), h.version);
    if (h.version == 0) fail(LB_E_FORMAT, "%s: invalid GGUF version 0", path.c_str());
    if (h.version == 1)
        fail(LB_E_UNSUPPORTED, "%s: GGUF version 1 is no longer supported; convert the file to version 3",
             path.c_str());
    if (h.version > kVersion)
        fail(LB_E_UNSUPPORTED, "%s: GGUF version %u is newer than the versions lowbit reads (2 and 3)",
             path.c_str(), h.version);

    const int64_t n_tensors = cur.read<int64_t>("tensor count");
    const int64_t n_kv = cur.read<int64_t>("metadata count");
    // A key/value pair takes at least 13 bytes (key length, type, one byte of
    // value) and a tensor info at least 24 (name length, dims, type, offset).
    if (n_kv < 0 || static_cast<uint64_t>(n_kv) > cur.remaining() / 13)
        fail(LB_E_FORMAT,
             "%s: file is truncated or corrupt: metadata count %lld does not fit in the %llu bytes left",
             path.c_str(), static_cast<long long>(n_kv), static_cast<unsigned long long>(cur.remaining()));
    if (n_tensors < 0 || static_cast<uint64_t>(n_tensors) > cur.remaining() / 24)
        fail(LB_E_FORMAT,
             "%s: file is truncated or corrupt: tensor count %lld does not fit in the %llu bytes left",
             path.c_str(), static_cast<long long>(n_tensors),
             static_cast<unsigned long long>(cur.remaining()));

    // metadata
    std::unordered_set<std::string> keys, c_keys;
    h.kvs.reserve(static_cast<size_t>(n_kv));
    for (int64_t i = 0; i < n_kv; ++i) {
        KeyValue kv;
        kv.key = cur.read_string(strformat("key %lld", static_cast<long long>(i)));
        if (kv.key.empty())
            fail(LB_E_FORMAT, "%s: key %lld is empty", path.c_str(), static_cast<long long>(i));
        // ggml compares whole keys for duplicates (as here) ...
        if (!keys.insert(kv.key).second)
            fail(LB_E_FORMAT, "%s: duplicate key %s", path.c_str(), quoted(kv.key).c_str());
        read_value(cur, kv.value, kv.key, path, h.warnings);
        // ... but every runtime looks keys up as C strings, so a key with a
        // NUL byte is its part before the NUL, and the first such key wins
        const size_t nul = kv.key.find('\0');
        if (nul != std::string::npos) {
            const std::string whole = quoted(kv.key);
            kv.key.resize(nul);
            if (kv.key.empty() || c_keys.count(kv.key) != 0) {
                h.warnings.push_back(
                    strformat("%s: key %lld (%s) contains a NUL byte and reads as %s, %s; it is "
                              "ignored, as runtimes ignore it",
                              path.c_str(), static_cast<long long>(i), whole.c_str(), quoted(kv.key).c_str(),
                              kv.key.empty() ? "an empty key" : "a key that comes earlier"));
                continue;
            }
            h.warnings.push_back(
                strformat("%s: key %lld (%s) contains a NUL byte; read as %s, as runtimes read it",
                          path.c_str(), static_cast<long long>(i), whole.c_str(), quoted(kv.key).c_str()));
        } else if (c_keys.count(kv.key) != 0) {
            // an earlier key with a NUL byte read as this one: that one wins
            h.warnings.push_back(
                strformat("%s: key %s comes after a key with a NUL byte that reads the same; it is "
                          "ignored, as runtimes ignore it",
                          path.c_str(), quoted(kv.key).c_str()));
            continue;
        }
        c_keys.insert(kv.key);
        h.kvs.push_back(std::move(kv));
    }
    h.alignment = alignment_of(h.kvs, path);

    // tensor infos
    std::unordered_set<std::string> names;
    h.tensors.reserve(static_cast<size_t>(n_tensors));
    for (int64_t i = 0; i < n_tensors; ++i) {
        TensorInfo t;
        t.name = cur.read_string(strformat("name of tensor %lld", static_cast<long long>(i)));
        if (t.name.size() > kMaxTensorName)
            fail(LB_E_FORMAT, "%s: name of tensor %lld is %zu bytes long, more than the limit of %zu: %s",
                 path.c_str(), static_cast<long long>(i), t.name.size(), kMaxTensorName,
                 quoted(t.name).c_str());
        // ggml keeps a tensor's name as a C string: the part before a NUL byte
        const size_t nul = t.name.find('\0');
        if (nul != std::string::npos) {
            const std::string whole = quoted(t.name);
            t.name.resize(nul);
            h.warnings.push_back(
                strformat("%s: name of tensor %lld (%s) contains a NUL byte; read as %s, as ggml "
                          "reads it",
                          path.c_str(), static_cast<long long>(i), whole.c_str(), quoted(t.name).c_str()));
        }
        if (!names.insert(t.name).second)
            fail(LB_E_FORMAT, "%s: duplicate tensor name %s", path.c_str(), quoted(t.name).c_str());
        const std::string tn = "tensor " + quoted(t.name);

        t.n_dims = cur.read<uint32_t>("dimension count of " + tn);
        if (t.n_dims > kMaxDims)
            fail(LB_E_FORMAT, "%s: %s has %u dimensions; GGUF allows at most 4", path.c_str(), tn.c_str(),
                 t.n_dims);
        const uint32_t stored_dims = t.n_dims;
        // 0 dimensions is a scalar, which ggml reads (and writes back) as one
        // dimension of one element
        if (t.n_dims == 0) t.n_dims = 1;
        for (uint32_t d = 0; d < stored_dims; ++d) {
            t.ne[d] = cur.read<int64_t>("shape of " + tn);
            if (t.ne[d] < 0)
                fail(LB_E_FORMAT, "%s: %s has negative extent %lld in dimension %u", path.c_str(), tn.c_str(),
                     static_cast<long long>(t.ne[d]), d);
        }
        // the element count, and every partial product of the extents, must be
        // representable (checked without overflowing); zero extents are left out
        // so that an empty tensor cannot hide huge others
        int64_t prod = 1;
        for (uint32_t d = 0; d < kMaxDims; ++d) {
            if (t.ne[d] == 0) continue;
            if (prod > std::numeric_limits<int64_t>::max() / t.ne[d])
                fail(LB_E_FORMAT, "%s: %s has too many elements (shape %lld x %lld x %lld x %lld)",
                     path.c_str(), tn.c_str(), static_cast<long long>(t.ne[0]),
                     static_cast<long long>(t.ne[1]), static_cast<long long>(t.ne[2]),
                     static_cast<long long>(t.ne[3]));
            prod *= t.ne[d];
        }
        t.type = cur.read<uint32_t>("type of " + tn);
        if (!formats::is_valid_type(t.type))
            fail(LB_E_FORMAT, "%s: %s has type id %u, which is not a GGUF tensor type%s", path.c_str(),
                 tn.c_str(), t.type,
                 (t.type == 4 || t.type == 5 || (t.type >= 31 && t.type <= 33) ||
                  (t.type >= 36 && t.type <= 38))
                     ? " (the type was removed from the format)"
                     : "");
        t.size = tensor_bytes(t, path);
        t.offset = cur.read<uint64_t>("data offset of " + tn);
        h.tensors.push_back(std::move(t));
    }

    // data section: starts at the next multiple of the alignment
    h.data_offset = cur.pos();
    if (!h.tensors.empty()) {
        h.data_offset = pad_to(cur.pos(), h.alignment);
        if (h.data_offset > size)
            fail(LB_E_FORMAT,
                 "%s: file is truncated: the tensor data should start at offset %llu but the file has %llu "
                 "bytes",
                 path.c_str(), static_cast<unsigned long long>(h.data_offset),
                 static_cast<unsigned long long>(size));
    }
    // tensors are stored contiguously, in order, each padded to the alignment
    uint64_t expected = 0;
    const uint64_t data_size = size - std::min(size, h.data_offset);
    for (const TensorInfo &t : h.tensors) {
        if (t.offset != expected)
            fail(LB_E_FORMAT,
                 "%s: tensor %s has data offset %llu, expected %llu (tensors must be contiguous, in order, "
                 "each padded to %u bytes)",
                 path.c_str(), quoted(t.name).c_str(), static_cast<unsigned long long>(t.offset),
                 static_cast<unsigned long long>(expected), h.alignment);
        if (t.size > data_size || t.offset > data_size - t.size)
            fail(LB_E_FORMAT,
                 "%s: file is truncated: data of tensor %s (%llu bytes at offset %llu) ends past the end of "
                 "the file",
                 path.c_str(), quoted(t.name).c_str(), static_cast<unsigned long long>(t.size),
                 static_cast<unsigned long long>(h.data_offset + t.offset));
        // t.offset + t.size <= data_size, so this does not overflow
        expected = pad_to(t.offset + t.size, h.alignment);
    }
    return h;
}

} // namespace lb::gguf
