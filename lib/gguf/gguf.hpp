// The GGUF file format: metadata key/value pairs, tensor infos, and the
// limits lowbit enforces when reading untrusted files.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace lb::gguf {

constexpr uint32_t kMagic = 0x46554747; // "GGUF" read as a little-endian u32
constexpr uint32_t kVersion = 3;        // version lowbit writes
constexpr uint32_t kDefaultAlignment = 32;
constexpr uint64_t kMaxStringLength = 1ull << 30; // as ggml's GGUF_MAX_STRING_LENGTH
constexpr uint64_t kMaxArrayElements = 1ull << 30;
constexpr size_t kMaxTensorName = 63; // ggml's GGML_MAX_NAME (64) minus the NUL
constexpr uint32_t kMaxDims = 4;

constexpr const char *kKeyAlignment = "general.alignment";
constexpr const char *kKeyFileType = "general.file_type";
constexpr const char *kKeyQuantizationVersion = "general.quantization_version";

enum class ValueType : uint32_t {
    U8 = 0,
    I8 = 1,
    U16 = 2,
    I16 = 3,
    U32 = 4,
    I32 = 5,
    F32 = 6,
    BOOL = 7,
    STRING = 8,
    ARRAY = 9,
    U64 = 10,
    I64 = 11,
    F64 = 12,
};
constexpr uint32_t kValueTypeCount = 13;

// Bytes per element of a fixed-size value type; 0 for STRING and ARRAY.
size_t value_type_size(ValueType type);
// "u8", "str", "arr", ...; nullptr for ids that are not value types.
const char *value_type_name(uint32_t type);

// One metadata value: a scalar, a string, or an array of either.
struct Value {
    ValueType type = ValueType::U8;      // ARRAY for arrays
    ValueType elem_type = ValueType::U8; // element type, arrays only
    uint64_t count = 1;                  // elements, arrays only (1 otherwise)
    std::vector<uint8_t> bytes;          // fixed-size elements, little-endian, packed
    std::vector<std::string> strings;    // STRING, or the elements of a string array

    static Value u32(uint32_t v);
    static Value i32(int32_t v);
    static Value f32(float v);
    static Value boolean(bool v);
    static Value string(const std::string &s);
    static Value string_array(std::vector<std::string> v);
    static Value f32_array(const std::vector<float> &v);
    static Value i32_array(const std::vector<int32_t> &v);
    bool is_array() const { return type == ValueType::ARRAY; }
    // The type of the stored elements: type, or elem_type for arrays.
    ValueType element_type() const { return is_array() ? elem_type : type; }
};

struct KeyValue {
    std::string key;
    Value value;
};

struct TensorInfo {
    std::string name;
    uint32_t n_dims = 0;
    int64_t ne[kMaxDims] = {1, 1, 1, 1};
    uint32_t type = 0;   // lb_type id
    uint64_t offset = 0; // from the start of the data section
    uint64_t size = 0;   // bytes of data

    int64_t n_elements() const { return ne[0] * ne[1] * ne[2] * ne[3]; }
};

// Everything in a GGUF file but the tensor data.
struct Header {
    uint32_t version = kVersion;
    uint32_t alignment = kDefaultAlignment;
    std::vector<KeyValue> kvs;
    std::vector<TensorInfo> tensors;
    uint64_t data_offset = 0; // file offset of the data section
    // What the reader accepted as ggml does but did not like (a bool byte
    // other than 0 or 1, a NUL byte in a key or name), one line each, naming
    // the file and the key or tensor.
    std::vector<std::string> warnings;
};

// Parses and validates the GGUF file held in data[0, size). Every count,
// length, type, shape and offset is checked before use; tensor data must lie
// inside the file. Throws lb::Error naming `path` and the key or tensor at
// fault: LB_E_FORMAT for malformed files, LB_E_UNSUPPORTED for valid files
// lowbit does not read (version 1, versions after 3, big-endian).
Header parse(const uint8_t *data, uint64_t size, const std::string &path);

// Index of key in kvs, or -1.
long find_key(const std::vector<KeyValue> &kvs, const std::string &key);

// The alignment the metadata asks for: general.alignment or the default.
// Throws lb::Error (LB_E_FORMAT) if the key has the wrong type or value.
uint32_t alignment_of(const std::vector<KeyValue> &kvs, const std::string &path);

// Bytes taken by a tensor of this type and shape; throws lb::Error
// (LB_E_FORMAT) naming the tensor if the type is invalid, the row width is
// not a multiple of the block size, or the size overflows.
uint64_t tensor_bytes(const TensorInfo &t, const std::string &path);

// Round x up to a multiple of alignment (a power of two).
inline uint64_t pad_to(uint64_t x, uint64_t alignment) {
    return (x + alignment - 1) & ~(alignment - 1);
}

} // namespace lb::gguf
