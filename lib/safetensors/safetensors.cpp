// The safetensors reader. The header length is bounded before anything is
// read, the JSON header goes through the guarded parser (valid UTF-8, at most
// 64 deep, no duplicate keys), and every entry is checked field by field
// before its offsets are used: sizes are computed with overflow checks, and
// the tensors, sorted by offset, must tile the data section exactly.
#include "safetensors/safetensors.hpp"

#include "common/error.hpp"
#include "common/json.hpp"

#include <algorithm>
#include <cstring>
#include <limits>

namespace lb::safetensors {

namespace {

using json = nlohmann::json;
using ull = unsigned long long;

// The dtypes of the format that lowbit does not convert (the Rust crate's
// list): refused by name, as unsupported rather than malformed.
constexpr const char *kOtherDtypes[] = {"BOOL", "U8",      "I8",      "F8_E5M2", "F8_E4M3", "F8_E8M0",
                                        "F4",   "F6_E2M3", "F6_E3M2", "I16",     "U16",     "I32",
                                        "U32",  "I64",     "U64",     "F64",     "C64"};

constexpr const char *kDtype = "dtype";
constexpr const char *kShape = "shape";
constexpr const char *kOffsets = "data_offsets";

// Checked a * b.
bool mul_overflows(uint64_t a, uint64_t b, uint64_t &out) {
    return __builtin_mul_overflow(a, b, &out);
}

// A non-negative JSON integer (nlohmann keeps those above INT64_MAX as
// unsigned); false for anything else.
bool as_count(const json &v, uint64_t &out) {
    if (v.is_number_unsigned()) {
        out = v.get<uint64_t>();
        return true;
    }
    if (v.is_number_integer() && v.get<int64_t>() >= 0) {
        out = static_cast<uint64_t>(v.get<int64_t>());
        return true;
    }
    return false;
}

// A JSON value for an error message: its kind, and the value itself when it
// is a short scalar.
std::string describe(const json &v) {
    if (v.is_number_integer() || v.is_number_unsigned() || v.is_number_float()) return v.dump();
    if (v.is_string()) return strformat("the string %s", json_quoted(v.get<std::string>()).c_str());
    return json_kind(v);
}

// A shape for an error message, cut after 100 characters (a shape can
// have millions of dimensions).
std::string shape_text(const json &shape) {
    std::string s = shape.dump();
    if (s.size() > 100) s = s.substr(0, 100) + "...";
    return s;
}

struct Entry {
    Tensor tensor;
    uint64_t begin = 0, end = 0; // from the start of the data section
};

class Reader {
  public:
    Reader(const std::string &path, const uint8_t *data, uint64_t data_size)
        : path_(path), data_(data), data_size_(data_size) {}

    Entry entry(const std::string &name, const json &info) const {
        const std::string where = strformat("%s: tensor %s", path_.c_str(), json_quoted(name).c_str());
        if (name.empty()) fail(LB_E_FORMAT, "%s: a tensor has an empty name", path_.c_str());
        if (name.find('\0') != std::string::npos)
            fail(LB_E_FORMAT, "%s has a NUL character in its name", where.c_str());
        if (!info.is_object())
            fail(LB_E_FORMAT, "%s is %s, not an object with \"dtype\", \"shape\" and \"data_offsets\"",
                 where.c_str(), json_kind(info));
        for (const auto &[key, value] : info.items())
            if (key != kDtype && key != kShape && key != kOffsets)
                fail(LB_E_FORMAT,
                     "%s has an unknown field %s (a tensor has \"dtype\", \"shape\" and \"data_offsets\" "
                     "only)",
                     where.c_str(), json_quoted(key).c_str());
        for (const char *key : {kDtype, kShape, kOffsets})
            if (json_find(info, key) == nullptr)
                fail(LB_E_FORMAT, "%s has no field \"%s\"", where.c_str(), key);

        Entry e;
        e.tensor.name = name;
        e.tensor.type = dtype(where, info[kDtype]);

        const json &shape = info[kShape];
        if (!shape.is_array())
            fail(LB_E_FORMAT, "%s: \"shape\" must be an array of dimensions, not %s", where.c_str(),
                 json_kind(shape));
        uint64_t elements = 1;
        for (size_t i = 0; i < shape.size(); ++i) {
            uint64_t d = 0;
            if (!as_count(shape[i], d) || d > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()))
                fail(LB_E_FORMAT, "%s: dimension %zu of the shape must be a non-negative integer, not %s",
                     where.c_str(), i, describe(shape[i]).c_str());
            if (mul_overflows(elements, d, elements))
                fail(LB_E_FORMAT, "%s: the shape %s has more elements than 2^64", where.c_str(),
                     shape_text(shape).c_str());
            e.tensor.shape.push_back(static_cast<int64_t>(d));
        }
        uint64_t bytes = 0;
        if (mul_overflows(elements, element_size(e.tensor.type), bytes))
            fail(LB_E_FORMAT, "%s: the shape %s of %s elements takes more than 2^64 bytes", where.c_str(),
                 shape_text(shape).c_str(), dtype_name(e.tensor.type));

        const json &offsets = info[kOffsets];
        if (!offsets.is_array() || offsets.size() != 2)
            fail(LB_E_FORMAT, "%s: \"data_offsets\" must be an array [begin, end], not %s", where.c_str(),
                 offsets.is_array() ? strformat("an array of %zu", offsets.size()).c_str()
                                    : json_kind(offsets));
        for (size_t i = 0; i < 2; ++i)
            if (!as_count(offsets[i], i == 0 ? e.begin : e.end))
                fail(LB_E_FORMAT, "%s: data offset %s must be a non-negative integer, not %s", where.c_str(),
                     i == 0 ? "begin" : "end", describe(offsets[i]).c_str());
        if (e.end < e.begin)
            fail(LB_E_FORMAT, "%s: data offsets [%llu, %llu] end before they begin", where.c_str(),
                 static_cast<ull>(e.begin), static_cast<ull>(e.end));
        if (e.end > data_size_)
            fail(LB_E_FORMAT,
                 "%s: data offsets [%llu, %llu] run past the end of the data (%llu bytes after the header)",
                 where.c_str(), static_cast<ull>(e.begin), static_cast<ull>(e.end),
                 static_cast<ull>(data_size_));
        if (e.end - e.begin != bytes)
            fail(
                LB_E_FORMAT,
                "%s: data offsets [%llu, %llu] hold %llu bytes, but shape %s of %s takes %llu (%llu elements "
                "of %llu bytes)",
                where.c_str(), static_cast<ull>(e.begin), static_cast<ull>(e.end),
                static_cast<ull>(e.end - e.begin), shape_text(shape).c_str(), dtype_name(e.tensor.type),
                static_cast<ull>(bytes), static_cast<ull>(elements),
                static_cast<ull>(element_size(e.tensor.type)));
        e.tensor.size = bytes;
        e.tensor.data = data_ + e.begin;
        return e;
    }

  private:
    static lb_type dtype(const std::string &where, const json &v) {
        if (!v.is_string())
            fail(LB_E_FORMAT, "%s: \"dtype\" must be a string, not %s", where.c_str(), json_kind(v));
        const std::string s = v.get<std::string>();
        if (s == "F32") return LB_TYPE_F32;
        if (s == "F16") return LB_TYPE_F16;
        if (s == "BF16") return LB_TYPE_BF16;
        for (const char *other : kOtherDtypes)
            if (s == other)
                fail(LB_E_UNSUPPORTED,
                     "%s has dtype %s, which lowbit does not convert (only F32, F16 and BF16)", where.c_str(),
                     other);
        fail(LB_E_FORMAT, "%s has dtype %s, which is not a safetensors dtype", where.c_str(),
             json_quoted(s).c_str());
    }

    const std::string &path_;
    const uint8_t *data_;
    uint64_t data_size_;
};

} // namespace

uint64_t Tensor::n_elements() const {
    uint64_t n = 1;
    for (int64_t d : shape) n *= static_cast<uint64_t>(d);
    return n;
}

uint64_t element_size(lb_type type) {
    return type == LB_TYPE_F32 ? 4 : 2;
}

const char *dtype_name(lb_type type) {
    switch (type) {
    case LB_TYPE_F32: return "F32";
    case LB_TYPE_F16: return "F16";
    case LB_TYPE_BF16: return "BF16";
    default: return "?";
    }
}

File::File(const std::string &path) : File(std::make_unique<MappedFile>(path)) {}

File::File(std::unique_ptr<MappedFile> file) : file_(std::move(file)) {
    const std::string &path = file_->path();
    const uint8_t *bytes = file_->data();
    const uint64_t size = file_->size();
    if (size < 8)
        fail(LB_E_FORMAT, "%s: not a safetensors file: %llu bytes, too short for the 8-byte header length",
             path.c_str(), static_cast<ull>(size));
    uint64_t n = 0;
    for (int i = 7; i >= 0; --i) n = (n << 8) | bytes[i];
    if (n > kMaxHeaderBytes)
        fail(LB_E_FORMAT,
             "%s: not a safetensors file, or a damaged one: the header length %llu is over the limit of %llu "
             "bytes",
             path.c_str(), static_cast<ull>(n), static_cast<ull>(kMaxHeaderBytes));
    if (n > size - 8)
        fail(
            LB_E_FORMAT,
            "%s: not a safetensors file, or a truncated one: the header length %llu runs past the end of the "
            "file (%llu bytes)",
            path.c_str(), static_cast<ull>(n), static_cast<ull>(size));
    data_offset_ = 8 + n;
    const std::string what = path + ": the JSON header";
    const json header =
        parse_json(reinterpret_cast<const char *>(bytes + 8), static_cast<size_t>(n), what, kMaxHeaderBytes);
    if (!header.is_object()) fail(LB_E_FORMAT, "%s is %s, not an object", what.c_str(), json_kind(header));

    const Reader reader(path, bytes + data_offset_, size - data_offset_);
    std::vector<Entry> entries;
    for (const auto &[name, info] : header.items()) {
        if (name == kMetadataKey) {
            if (!info.is_object())
                fail(LB_E_FORMAT, "%s: \"%s\" must be an object of strings, not %s", path.c_str(),
                     kMetadataKey, json_kind(info));
            for (const auto &[key, value] : info.items()) {
                if (!value.is_string())
                    fail(LB_E_FORMAT, "%s: \"%s\" key %s must be a string, not %s", path.c_str(),
                         kMetadataKey, json_quoted(key).c_str(), json_kind(value));
                metadata_[key] = value.get<std::string>();
            }
            continue;
        }
        entries.push_back(reader.entry(name, info));
    }

    // The tensors tile the data section: sorted by [begin, end) (then name,
    // for empty tensors at the same offset), each begins where the one
    // before ends, and the last ends at the end of the file.
    std::sort(entries.begin(), entries.end(), [](const Entry &a, const Entry &b) {
        if (a.begin != b.begin) return a.begin < b.begin;
        if (a.end != b.end) return a.end < b.end;
        return a.tensor.name < b.tensor.name;
    });
    uint64_t at = 0;
    const std::string *before = nullptr;
    for (const Entry &e : entries) {
        if (e.begin < at)
            fail(LB_E_FORMAT,
                 "%s: tensor %s (data offsets [%llu, %llu]) overlaps tensor %s (which ends at %llu)",
                 path.c_str(), json_quoted(e.tensor.name).c_str(), static_cast<ull>(e.begin),
                 static_cast<ull>(e.end), json_quoted(*before).c_str(), static_cast<ull>(at));
        if (e.begin > at) {
            if (before == nullptr)
                fail(LB_E_FORMAT,
                     "%s: bytes [0, %llu) of the data belong to no tensor (a hole before tensor %s)",
                     path.c_str(), static_cast<ull>(e.begin), json_quoted(e.tensor.name).c_str());
            fail(LB_E_FORMAT,
                 "%s: bytes [%llu, %llu) of the data belong to no tensor (a hole between tensors %s and %s)",
                 path.c_str(), static_cast<ull>(at), static_cast<ull>(e.begin), json_quoted(*before).c_str(),
                 json_quoted(e.tensor.name).c_str());
        }
        at = e.end;
        before = &e.tensor.name;
    }
    const uint64_t data_size = size - data_offset_;
    if (at != data_size) {
        if (before == nullptr)
            fail(LB_E_FORMAT, "%s: the file has no tensors, but %llu bytes of data follow the header",
                 path.c_str(), static_cast<ull>(data_size));
        fail(LB_E_FORMAT,
             "%s: bytes [%llu, %llu) of the data belong to no tensor (a hole at the end, after tensor %s)",
             path.c_str(), static_cast<ull>(at), static_cast<ull>(data_size), json_quoted(*before).c_str());
    }

    tensors_.reserve(entries.size());
    for (Entry &e : entries) {
        e.tensor.offset = data_offset_ + e.begin;
        index_.emplace(e.tensor.name, tensors_.size());
        tensors_.push_back(std::move(e.tensor));
    }
}

File::~File() = default;

const std::string &File::path() const {
    return file_->path();
}

const Tensor *File::find(const std::string &name) const {
    const auto it = index_.find(name);
    return it == index_.end() ? nullptr : &tensors_[it->second];
}

} // namespace lb::safetensors
